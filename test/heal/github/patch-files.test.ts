import { chmodSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Git } from '../../../src/heal/git.js';
import { parseRawDiff, patchToFileChanges } from '../../../src/heal/github/patch-files.js';
import { initRepo, sh } from '../fixtures/git-repo.js';
import { gitBlobSha } from './fake-github.js';
import { patchFor } from './harness.js';

describe('patchToFileChanges', () => {
  let repo: { dir: string; cleanup(): void };
  beforeEach(() => {
    repo = initRepo({ 'a.txt': 'one\n', 'b.txt': 'bee\n', 'bin/run.sh': 'echo hi\n' });
  });
  afterEach(() => repo.cleanup());

  it('turns a unified diff into whole files with blob shas, modes and deletions', async () => {
    const patch = patchFor(repo.dir, 'main', { 'a.txt': 'two\n', 'dir/c.txt': 'sea\n' }, ['b.txt']);
    const changes = await patchToFileChanges(new Git(repo.dir), 'main', patch);
    expect(changes).toEqual([
      { path: 'a.txt', mode: '100644', oldSha: gitBlobSha('one\n'), newSha: gitBlobSha('two\n'), contentBase64: Buffer.from('two\n').toString('base64') },
      { path: 'b.txt', mode: '100644', oldSha: gitBlobSha('bee\n'), newSha: undefined, contentBase64: undefined },
      { path: 'dir/c.txt', mode: '100644', oldSha: undefined, newSha: gitBlobSha('sea\n'), contentBase64: Buffer.from('sea\n').toString('base64') },
    ]);
    // The checkout is untouched and no worktree is left behind.
    expect(sh(repo.dir, ['status', '--porcelain'])).toBe('');
    expect(sh(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
  });

  it('keeps executable and symlink modes', async () => {
    // Made in the test repo's own checkout, which is then restored.
    const patch = (() => {
      chmodSync(join(repo.dir, 'bin/run.sh'), 0o755);
      symlinkSync('a.txt', join(repo.dir, 'link'));
      sh(repo.dir, ['add', '-A']);
      const diff = sh(repo.dir, ['diff', '--cached', '--binary']);
      sh(repo.dir, ['reset', '-q', '--hard']);
      sh(repo.dir, ['clean', '-fdq']);
      return diff;
    })();
    const changes = await patchToFileChanges(new Git(repo.dir), 'main', patch);
    expect(changes.map((c) => [c.path, c.mode])).toEqual([
      ['bin/run.sh', '100755'],
      ['link', '120000'],
    ]);
    expect(Buffer.from(changes[1]!.contentBase64!, 'base64').toString()).toBe('a.txt');
  });

  it('parses raw diff records and stops at garbage', () => {
    expect(parseRawDiff(':100644 100644 aaa bbb M\0x.ts\0')).toEqual([{ oldMode: '100644', newMode: '100644', oldSha: 'aaa', newSha: 'bbb', status: 'M', path: 'x.ts' }]);
    expect(parseRawDiff('')).toEqual([]);
    expect(parseRawDiff('junk\0y\0')).toEqual([]);
  });
});
