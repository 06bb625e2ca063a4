import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath, UnsafePathError } from '../../../src/heal/text/repo-path.js';

describe('repoPath (paths from stack frames and handler names)', () => {
  const root = mkdtempSync(join(tmpdir(), 'repo-path-'));
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  writeFileSync(join(repo, 'src/a.ts'), '');
  mkdirSync(join(root, 'outside'));
  symlinkSync(join(root, 'outside'), join(repo, 'link'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves paths inside the repository, new ones included', () => {
    expect(repoPath(repo, 'src/a.ts')).toBe(join(repo, 'src/a.ts'));
    expect(repoPath(repo, 'src/new/b.ts')).toBe(join(repo, 'src/new/b.ts'));
  });

  it.each([
    ['../../../../etc/passwd', 'leaves the repository'],
    ['src/../../x', 'leaves the repository'],
    ['/etc/passwd', 'is absolute'],
    ['src/a.ts\0.png', 'NUL'],
    ['link/evil.ts', 'symlink'],
    ['link/deeper/new.ts', 'symlink'],
  ])('refuses %j (%s)', (rel, why) => {
    expect(() => repoPath(repo, rel)).toThrow(UnsafePathError);
    expect(() => repoPath(repo, rel)).toThrow(why);
  });
});
