import { realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { slashPath } from './sequence-document.js';

/** The file-system questions test-file resolution asks (injectable for tests). */
export interface TestFileFs {
  isDirectory(path: string): boolean;
  realpath(path: string): string;
}

const nodeFs: TestFileFs = {
  isDirectory: (path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
  realpath: (path) => realpathSync(path),
};

/**
 * Where a declared `testFile` really is. Sequence files are often written on Windows and point
 * into `node_modules` (`node_modules\@renderx-plugins\canvas-component\__tests__\x.spec.ts`):
 * separators become `/`, and a node_modules path is resolved the way Node finds the package
 * (`node_modules/<pkg>` in the repository root or any folder above it), through symlinks, so a
 * workspace package resolves to its source folder, where tests and fixes belong.
 * The result is relative to `repoRoot` when inside it, else absolute; a path that cannot be
 * resolved is returned with `/` separators (and then counts as a missing test file).
 */
export function resolveTestFile(declared: string, repoRoot: string, fs: TestFileFs = nodeFs): string {
  const path = slashPath(declared).replace(/^(\.\/)+/, '');
  if (!path.startsWith('node_modules/')) return path;
  const parts = path.split('/');
  const scoped = parts[1]?.startsWith('@') ?? false;
  const pkgParts = parts.slice(1, scoped ? 3 : 2);
  if (pkgParts.length === 0 || pkgParts.some((p) => p === '' || p === '.' || p === '..')) return path;
  const rest = parts.slice(1 + pkgParts.length);
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...pkgParts);
    if (fs.isDirectory(candidate)) {
      const real = join(fs.realpath(candidate), ...rest);
      const rel = relative(repoRoot, real);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : real;
    }
    if (dirname(dir) === dir) return path;
  }
}
