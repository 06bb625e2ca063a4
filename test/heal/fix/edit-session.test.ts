import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkApplies, EditSession, finishEdits, repoRelative } from '../../../src/heal/fix/edit-session.js';
import { SyntaxCheckError } from '../../../src/heal/fix/syntax-check.js';
import { createFixtureRepo, FIXTURE_BUG, type FixtureRepo } from '../../fixtures/app-repo.js';
import { gitStatus, sh, withClone } from './fix-context.js';

describe('EditSession', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('diffs modified and new files against HEAD and restores the worktree', async () => {
    repo = await createFixtureRepo();
    const session = new EditSession(repo.dir);
    const original = await session.read('docs/handlers.md');
    await session.write('docs/handlers.md', original + '\nMore.\n');
    await session.write('docs/handlers.md', original + '\nMore text.\n');
    await session.write('src/new/deep/file.ts', 'export const x = 1;\n');
    expect(session.changedFiles).toEqual(['docs/handlers.md', 'src/new/deep/file.ts']);
    const { diff, files } = await session.diff();
    expect(files).toEqual(['docs/handlers.md', 'src/new/deep/file.ts']);
    expect(diff).toContain('+More text.');
    expect(diff).toContain('diff --git a/src/new/deep/file.ts b/src/new/deep/file.ts\nnew file mode 100644');
    // the repository's own index is untouched
    expect(await gitStatus(repo.dir)).toBe(' M docs/handlers.md\n?? src/new/\n');
    await session.restore();
    expect(await gitStatus(repo.dir)).toBe('');
    expect(await readFile(join(repo.dir, 'docs/handlers.md'), 'utf8')).toBe(original);
    await withClone(repo.dir, async (dir) => {
      await checkApplies(dir, diff);
      await sh(dir, 'git', ['apply', '-'], diff);
      // already applied: the same diff no longer applies
      await expect(checkApplies(dir, diff)).rejects.toThrow('git apply --check');
    });
  });

  it('refuses paths outside the repository and yields an empty diff without edits', async () => {
    repo = await createFixtureRepo();
    const session = new EditSession(repo.dir);
    await expect(session.write('../escape.txt', 'x')).rejects.toThrow('leaves the repository');
    expect(await session.diff()).toEqual({ diff: '', files: [] });
    expect(repoRelative(repo.dir, join(repo.dir, 'a', 'b.ts'))).toBe('a/b.ts');
  });
});

describe('finishEdits', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  const meta = { kind: 'guard' as const, title: 't', description: 'd', claims: {} };

  it('rejects a broken TypeScript edit and still restores the worktree', async () => {
    repo = await createFixtureRepo();
    const session = new EditSession(repo.dir);
    const text = await session.read(FIXTURE_BUG.file);
    await session.write(FIXTURE_BUG.file, text.replace('payload.component.name;', 'payload.component?.;'));
    await expect(finishEdits(session, meta)).rejects.toBeInstanceOf(SyntaxCheckError);
    expect(await gitStatus(repo.dir)).toBe('');
  });

  it('returns undefined when the edits change nothing and a fix with the diff otherwise', async () => {
    repo = await createFixtureRepo();
    const same = new EditSession(repo.dir);
    await same.write('package.json', await same.read('package.json'));
    expect(await finishEdits(same, meta)).toBeUndefined();
    const session = new EditSession(repo.dir);
    await session.write('docs/extra.md', '# Extra\n');
    const fix = await finishEdits(session, meta);
    expect(fix).toMatchObject({ kind: 'guard', files: ['docs/extra.md'] });
    expect(fix?.diff).toContain('+# Extra');
  });
});
