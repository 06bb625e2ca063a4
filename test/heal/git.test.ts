import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Git, GitError } from '../../src/heal/git.js';
import { diffFor, initRepo, sh } from './fixtures/git-repo.js';

describe('Git', () => {
  let repo: { dir: string; cleanup(): void };
  let git: Git;
  beforeEach(() => {
    repo = initRepo({ 'a.txt': 'one\n', 'b.txt': 'bee\n' });
    git = new Git(repo.dir);
  });
  afterEach(() => repo.cleanup());

  it('applies a patch in a worktree, commits as self-healing, leaves the checkout alone', async () => {
    const patch = diffFor(repo.dir, 'main', { 'a.txt': 'one\ntwo\n' });
    const wt = await git.addWorktree('main');
    await git.applyPatch(wt.dir, patch);
    expect(readFileSync(join(wt.dir, 'a.txt'), 'utf8')).toBe('one\ntwo\n');
    expect(readFileSync(join(repo.dir, 'a.txt'), 'utf8')).toBe('one\n');
    const sha = await git.commitAll(wt.dir, 'add two\n\nbody');
    expect(sh(repo.dir, ['log', '-1', '--format=%an <%ae>|%s', sha]).trim()).toBe('self-healing <self-healing@localhost>|add two');
    expect(await git.createBranch('self-healing/x', sha)).toBe(true);
    expect(await git.createBranch('self-healing/x', sha)).toBe(false);
    expect(await git.branchExists('self-healing/x')).toBe(true);
    await wt.remove();
    expect(existsSync(wt.dir)).toBe(false);
    expect(sh(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
    expect(sh(repo.dir, ['status', '--porcelain'])).toBe('');
  });

  it('creates a work directory that does not exist yet', async () => {
    const work = mkdtempSync(join(tmpdir(), 'heal-git-work-'));
    try {
      const wt = await new Git(repo.dir, join(work, 'not', 'yet')).addWorktree('main');
      expect(wt.dir.startsWith(join(work, 'not', 'yet'))).toBe(true);
      expect(readFileSync(join(wt.dir, 'a.txt'), 'utf8')).toBe('one\n');
      await wt.remove();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('refuses a patch that does not apply (check before apply)', async () => {
    const patch = diffFor(repo.dir, 'main', { 'a.txt': 'changed\n' });
    const wt = await git.addWorktree('main');
    try {
      writeFileSync(join(wt.dir, 'a.txt'), 'diverged\n');
      await expect(git.applyPatch(wt.dir, patch)).rejects.toBeInstanceOf(GitError);
      expect(readFileSync(join(wt.dir, 'a.txt'), 'utf8')).toBe('diverged\n');
    } finally {
      await wt.remove();
    }
  });

  it('applies only included paths when asked', async () => {
    const patch = diffFor(repo.dir, 'main', { 'a.txt': 'A\n', 'b.txt': 'B\n' });
    const wt = await git.addWorktree('main');
    await git.applyPatch(wt.dir, patch, { include: ['b.txt'] });
    expect(readFileSync(join(wt.dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(wt.dir, 'b.txt'), 'utf8')).toBe('B\n');
    await wt.remove();
  });

  it('merges --no-ff, finds the merge again, reverts it, and moves refs with compare-and-swap', async () => {
    const wt = await git.addWorktree('main');
    await git.applyPatch(wt.dir, diffFor(repo.dir, 'main', { 'a.txt': 'fixed\n' }));
    const tip = await git.commitAll(wt.dir, 'fix');
    await wt.remove();
    await git.createBranch('feature', tip);
    const base = await git.revParse('main');
    expect(await git.isAncestor(tip, base)).toBe(false);
    expect(await git.findMergeOf(tip, 'main')).toBeUndefined();

    const mw = await git.addWorktree(base);
    const merge = await git.mergeNoFf(mw.dir, tip, 'Merge feature');
    await mw.remove();
    await expect(git.updateBranch('main', merge, tip)).rejects.toBeInstanceOf(GitError); // wrong old value
    await git.updateBranch('main', merge, base);
    expect(await git.revParse('main')).toBe(merge);
    expect(await git.isAncestor(tip, 'main')).toBe(true);
    expect(await git.findMergeOf(tip, 'main')).toBe(merge);
    expect(sh(repo.dir, ['log', '--merges', '--format=%s', 'main']).trim()).toBe('Merge feature');

    const rw = await git.addWorktree('main');
    const rev = await git.revert(rw.dir, merge, { mainline: 1, message: 'Revert the fix\n\nbecause' });
    expect(readFileSync(join(rw.dir, 'a.txt'), 'utf8')).toBe('one\n');
    await rw.remove();
    expect(sh(repo.dir, ['log', '-1', '--format=%s', rev]).trim()).toBe('Revert the fix');
    expect(await git.changedFiles(base, merge)).toEqual(['a.txt']);
  });

  it('lists tags and the log between them', async () => {
    const wt = await git.addWorktree('main');
    await git.applyPatch(wt.dir, diffFor(repo.dir, 'main', { 'b.txt': 'bee2\n' }));
    const sha = await git.commitAll(wt.dir, 'second');
    await wt.remove();
    sh(repo.dir, ['tag', 'v2', sha]);
    expect(await git.tags()).toEqual(['v1', 'v2']);
    expect(await git.logBetween('v1', 'v2')).toEqual([{ sha, subject: 'second' }]);
    expect(await git.refExists('v2')).toBe(true);
    expect(await git.refExists('nope')).toBe(false);
  });

  it('reports git failures with the command', async () => {
    const err = await git.run(['rev-parse', '--verify', 'no-such-ref']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitError);
    expect((err as GitError).args[0]).toBe('rev-parse');
    await expect(git.addWorktree('no-such-ref')).rejects.toBeInstanceOf(GitError);
    await expect(new Git('/nonexistent-dir-for-heal').run(['status'])).rejects.toBeInstanceOf(GitError);
  });

  it('removes worktrees left by ended processes and keeps those in use', async () => {
    const work = mkdtempSync(join(tmpdir(), 'heal-git-stale-'));
    const sleeper = spawn('sleep', ['60']);
    try {
      const before = new Git(repo.dir, work);
      const crashed = await before.addWorktree('main');
      const otherLive = await before.addWorktree('main');
      const reusedPid = await before.addWorktree('main');
      // The first was made by a process that has exited, the second by one still running, the
      // third by "this" pid in an earlier life (a restarted container reuses pids).
      const dead = spawnSync('true').pid!;
      writeFileSync(join(crashed.dir, '..', 'owner.pid'), String(dead));
      writeFileSync(join(otherLive.dir, '..', 'owner.pid'), String(sleeper.pid));
      // Not ours at all: no owner file.
      const foreign = mkdtempSync(join(work, 'heal-wt-'));

      const after = new Git(repo.dir, work);
      const mine = await after.addWorktree('main');
      expect(await after.removeStaleWorktrees()).toBe(2);
      expect(existsSync(crashed.dir)).toBe(false);
      expect(existsSync(reusedPid.dir)).toBe(false);
      expect(existsSync(otherLive.dir)).toBe(true);
      expect(existsSync(mine.dir)).toBe(true);
      expect(existsSync(foreign)).toBe(true);
      const listed = sh(repo.dir, ['worktree', 'list', '--porcelain']);
      expect(listed).not.toContain(crashed.dir);
      expect(listed).toContain(mine.dir);
      await mine.remove();
      await otherLive.remove();
      expect(await after.removeStaleWorktrees()).toBe(0);
      expect(await new Git(repo.dir, join(work, 'missing')).removeStaleWorktrees()).toBe(0);
    } finally {
      sleeper.kill();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
