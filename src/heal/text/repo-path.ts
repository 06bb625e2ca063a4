import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export class UnsafePathError extends Error {
  constructor(path: string, why: string) {
    super(`refusing path ${JSON.stringify(path)}: ${why}`);
    this.name = 'UnsafePathError';
  }
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

/** The nearest existing ancestor (or the path itself), resolved through symlinks. */
function realExisting(path: string): string {
  let p = path;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) return p;
    p = up;
  }
  return resolve(realpathSync(p), relative(p, path));
}

/**
 * The absolute path of a repository-relative path that may come from telemetry (stack frames,
 * handler names): NUL bytes, absolute paths, `..` escapes and symlinks leading out of the
 * repository are refused, so an edit can only ever touch files inside it.
 */
export function repoPath(repoDir: string, rel: string): string {
  if (rel.includes('\0')) throw new UnsafePathError(rel, 'contains a NUL byte');
  if (isAbsolute(rel)) throw new UnsafePathError(rel, 'is absolute');
  const root = resolve(repoDir);
  const path = resolve(root, rel);
  if (!inside(root, path)) throw new UnsafePathError(rel, 'leaves the repository');
  if (!inside(realExisting(root), realExisting(path))) throw new UnsafePathError(rel, 'leads out of the repository through a symlink');
  return path;
}
