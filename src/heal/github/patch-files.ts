import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Git } from '../git.js';

/** One file as the patch leaves it, ready to become a git tree entry on GitHub. */
export interface FileChange {
  path: string;
  /** Mode after the patch (before it, for a deletion). */
  mode: '100644' | '100755' | '120000';
  /** Blob sha of the file before the patch (undefined for an added file). */
  oldSha: string | undefined;
  /** Blob sha after the patch (undefined for a deletion): git computes the same one GitHub does. */
  newSha: string | undefined;
  /** Full content after the patch, base64 (undefined for a deletion). */
  contentBase64: string | undefined;
}

const ZERO = /^0+$/;

function fileMode(mode: string): FileChange['mode'] {
  if (mode === '100755' || mode === '120000') return mode;
  return '100644';
}

/**
 * `git diff --cached --raw -z --no-renames` records: ":old new oldSha newSha status\0path\0".
 * Exported for tests; renames are disabled so every record has exactly one path.
 */
export function parseRawDiff(out: string): Array<{ oldMode: string; newMode: string; oldSha: string; newSha: string; status: string; path: string }> {
  const parts = out.split('\0');
  const records = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!.replace(/^:/, '').split(' ');
    if (meta.length < 5) break;
    records.push({ oldMode: meta[0]!, newMode: meta[1]!, oldSha: meta[2]!, newSha: meta[3]!, status: meta[4]!, path: parts[i + 1]! });
  }
  return records;
}

/**
 * Applies the unified diff in a temporary worktree of `baseRef` and reads back every changed file
 * in full: the git data API wants whole blobs, not patches. The repository's checkout is untouched.
 */
export async function patchToFileChanges(git: Git, baseRef: string, patch: string): Promise<FileChange[]> {
  const wt = await git.addWorktree(baseRef);
  try {
    await git.applyPatch(wt.dir, patch);
    await git.run(['add', '-A'], { cwd: wt.dir });
    const raw = await git.run(['diff', '--cached', '--raw', '-z', '--no-renames', '--no-abbrev', 'HEAD'], { cwd: wt.dir });
    const changes: FileChange[] = [];
    for (const r of parseRawDiff(raw)) {
      const deleted = r.status === 'D';
      let contentBase64: string | undefined;
      if (!deleted) {
        const abs = join(wt.dir, r.path);
        contentBase64 = r.newMode === '120000' ? Buffer.from(await readlink(abs)).toString('base64') : (await readFile(abs)).toString('base64');
      }
      changes.push({
        path: r.path,
        mode: fileMode(deleted ? r.oldMode : r.newMode),
        oldSha: ZERO.test(r.oldSha) ? undefined : r.oldSha,
        newSha: deleted ? undefined : r.newSha,
        contentBase64,
      });
    }
    return changes;
  } finally {
    await wt.remove();
  }
}
