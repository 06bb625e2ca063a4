import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProposeInput } from '../../src/heal/deploy.js';
import { Git } from '../../src/heal/git.js';
import { LocalBackend } from '../../src/heal/local-backend.js';
import { diffFor, initRepo, sh } from './fixtures/git-repo.js';
import { passedValidation, sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from './fixtures/samples.js';

describe('LocalBackend', () => {
  let repo: { dir: string; cleanup(): void };
  let t: TempDb;
  let backend: LocalBackend;
  let git: Git;
  let input: ProposeInput;

  beforeEach(() => {
    repo = initRepo({ 'src/a.ts': 'export const a = 1;\n' });
    t = tempDb();
    git = new Git(repo.dir);
    backend = new LocalBackend(t.db, git, () => 1_000);
    input = {
      jobId: 'job-1',
      anomaly: sampleAnomaly(),
      diagnosis: sampleDiagnosis(),
      fix: { kind: 'guard', title: 'Make a two', description: 'a must be 2', diff: diffFor(repo.dir, 'main', { 'src/a.ts': 'export const a = 2;\n' }), files: ['src/a.ts'], claims: {} },
      validation: passedValidation,
      baseBranch: 'main',
    };
  });
  afterEach(() => {
    t.close();
    repo.cleanup();
  });

  it('proposes a branch with a descriptive commit, idempotently', async () => {
    const p = await backend.propose(input);
    expect(p).toMatchObject({ backend: 'local', branch: 'self-healing/an-1-createcomponent', baseBranch: 'main', state: 'open', number: 1, jobId: 'job-1' });
    const msg = sh(repo.dir, ['log', '-1', '--format=%an%n%B', p.branch]);
    expect(msg).toContain('self-healing\nfix(createComponent): Make a two');
    expect(msg).toContain('Anomaly an-1');
    expect(msg).toContain('4 passed, 0 failed');
    expect(await backend.propose(input)).toEqual(p);
    expect(backend.list()).toHaveLength(1);
    expect(await backend.checks(p)).toBe('success');
    // The checkout is untouched.
    expect(readFileSync(join(repo.dir, 'src/a.ts'), 'utf8')).toBe('export const a = 1;\n');
  });

  it('builds the branch on the commit validation tested, then merges into the moved base', async () => {
    const tested = sh(repo.dir, ['rev-parse', 'main']).trim();
    // Someone else commits to main after validation.
    const wt = await git.addWorktree('main');
    await git.applyPatch(wt.dir, diffFor(repo.dir, 'main', { 'README.md': 'hello\n' }));
    const moved = await git.commitAll(wt.dir, 'docs');
    await wt.remove();
    await git.updateBranch('main', moved, tested);
    const p = await backend.propose({ ...input, validation: { ...input.validation, baseSha: tested } });
    expect(sh(repo.dir, ['rev-parse', `${p.branch}^`]).trim()).toBe(tested);
    const m = await backend.merge(p);
    expect(sh(repo.dir, ['rev-parse', `${m.mergeSha!}^1`]).trim()).toBe(moved);
    expect(sh(repo.dir, ['show', 'main:README.md'])).toBe('hello\n');
    expect(sh(repo.dir, ['show', 'main:src/a.ts'])).toBe('export const a = 2;\n');
  });

  it('recovers a branch created before a crash lost the record', async () => {
    const first = await backend.propose(input);
    t.db.prepare('DELETE FROM prs').run();
    const again = await backend.propose(input);
    expect(again.headSha).toBe(first.headSha);
  });

  it('merges --no-ff once, and a re-run reports the existing merge', async () => {
    const p = await backend.propose(input);
    const m = await backend.merge(p);
    expect(m).toMatchObject({ merged: true, alreadyMerged: false });
    expect(sh(repo.dir, ['rev-parse', 'main']).trim()).toBe(m.mergeSha);
    expect(sh(repo.dir, ['log', '--merges', '--format=%s', 'main']).trim()).toBe('Merge self-healing/an-1-createcomponent: fix(createComponent): Make a two');
    expect(sh(repo.dir, ['show', 'main:src/a.ts'])).toBe('export const a = 2;\n');
    expect(await backend.merge(p)).toEqual({ merged: true, mergeSha: m.mergeSha, alreadyMerged: true });
    // Crash between the ref update and the record: git says it is merged, the record does not.
    t.db.prepare(`UPDATE prs SET state = 'open', merge_sha = NULL`).run();
    expect(await backend.merge(p)).toEqual({ merged: true, mergeSha: m.mergeSha, alreadyMerged: true });
    expect(sh(repo.dir, ['rev-list', '--merges', '--count', 'main']).trim()).toBe('1');
  });

  it('opens and merges a revert of a merged fix', async () => {
    const p = await backend.propose(input);
    await expect(backend.revert(p, 'x')).rejects.toThrow(/never merged/);
    await backend.merge(p);
    const r = await backend.revert(p, 'p95 got worse');
    expect(r).toMatchObject({ branch: 'self-healing/revert-an-1-createcomponent', revertOf: p.id, state: 'open' });
    expect(sh(repo.dir, ['log', '-1', '--format=%B', r.branch])).toContain('p95 got worse');
    expect(await backend.revert(p, 'again')).toEqual(r);
    const m = await backend.merge(r);
    expect(m.merged).toBe(true);
    expect(sh(repo.dir, ['show', 'main:src/a.ts'])).toBe('export const a = 1;\n');
    expect(backend.byId(p.id)?.state).toBe('reverted');
    expect(backend.byId(r.id)?.state).toBe('merged');
  });

  it('fails checks when the branch is gone and refuses closed proposals', async () => {
    const p = await backend.propose(input);
    sh(repo.dir, ['branch', '-D', p.branch]);
    expect(await backend.checks(p)).toBe('failure');
    t.db.prepare(`UPDATE prs SET state = 'closed'`).run();
    expect(await backend.merge(p)).toMatchObject({ merged: false, reason: 'proposal is closed' });
  });

  it('refuses a patch that does not apply and leaves no branch', async () => {
    await expect(backend.propose({ ...input, fix: { ...input.fix, diff: 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-no\n+yes\n' } })).rejects.toThrow();
    expect(await git.branchExists('self-healing/an-1-createcomponent')).toBe(false);
    expect(backend.list()).toEqual([]);
  });
});
