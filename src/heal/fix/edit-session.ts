import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { repoPath } from '../text/repo-path.js';
import { git } from './git-run.js';
import { assertSyntax } from './syntax-check.js';
import type { GeneratedFix } from './strategy.js';

export interface SessionDiff {
  diff: string;
  files: string[];
}

/**
 * Edits to a repository worktree that can be turned into a unified diff and then undone.
 * The diff is computed against HEAD through a private index file (GIT_INDEX_FILE), so new files
 * are included without touching the repository's own index.
 */
export class EditSession {
  /** Original content per repo-relative path; undefined when the file did not exist. */
  private readonly originals = new Map<string, string | undefined>();

  readonly repoDir: string;

  constructor(repoDir: string) {
    this.repoDir = resolve(repoDir);
  }

  /** Paths can come from telemetry (stack frames): repoPath refuses any that leave the repository. */
  private abs(rel: string): string {
    return repoPath(this.repoDir, rel);
  }

  exists(rel: string): boolean {
    return existsSync(this.abs(rel));
  }

  read(rel: string): Promise<string> {
    return readFile(this.abs(rel), 'utf8');
  }

  async write(rel: string, text: string): Promise<void> {
    const path = this.abs(rel);
    if (!this.originals.has(rel)) this.originals.set(rel, existsSync(path) ? await readFile(path, 'utf8') : undefined);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }

  get changedFiles(): string[] {
    return [...this.originals.keys()].sort();
  }

  /** Throws SyntaxCheckError when any written file does not parse. */
  async checkSyntax(): Promise<void> {
    const files = await Promise.all(this.changedFiles.map(async (file) => ({ file, text: await this.read(file) })));
    assertSyntax(files);
  }

  async diff(): Promise<SessionDiff> {
    const files = this.changedFiles;
    if (files.length === 0) return { diff: '', files };
    return diffAgainstHead(this.repoDir, files);
  }

  /** Puts every touched file back as it was and removes directories the session created. */
  async restore(): Promise<void> {
    for (const [rel, original] of this.originals) {
      const path = this.abs(rel);
      if (original !== undefined) {
        await writeFile(path, original);
        continue;
      }
      await rm(path, { force: true });
      for (let dir = dirname(path); dir !== this.repoDir && dir.startsWith(this.repoDir); dir = dirname(dir)) {
        try {
          await rmdir(dir);
        } catch {
          break;
        }
      }
    }
    this.originals.clear();
  }
}

const DIFF_FLAGS = ['--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', '--full-index', '--binary'];

/** Diff of the given worktree files (new ones included) against HEAD, via a throwaway index. */
export async function diffAgainstHead(repoDir: string, files: string[]): Promise<SessionDiff> {
  const tmp = await mkdtemp(join(tmpdir(), 'heal-index-'));
  try {
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    await git(repoDir, ['read-tree', 'HEAD'], { env });
    await git(repoDir, ['add', '-A', '--', ...files], { env });
    const diff = await git(repoDir, ['diff', '--cached', ...DIFF_FLAGS, 'HEAD', '--', ...files], { env });
    const names = await git(repoDir, ['diff', '--cached', '--name-only', 'HEAD', '--', ...files], { env });
    return { diff, files: names.split('\n').filter((n) => n.length > 0) };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `git apply --check` of a diff in a directory (the worktree must be at the diff's base). */
export async function checkApplies(dir: string, diff: string): Promise<void> {
  await git(dir, ['apply', '--check', '--whitespace=nowarn', '-'], { input: diff });
}

export function repoRelative(repoDir: string, path: string): string {
  return relative(repoDir, path).split(sep).join('/');
}

/**
 * Ends an edit session: syntax-checks every changed file, takes the diff, restores the worktree
 * and confirms the diff applies to the restored (clean) worktree. Restores even on failure.
 */
export async function finishEdits(
  session: EditSession,
  meta: Omit<GeneratedFix, 'diff' | 'files'>,
): Promise<GeneratedFix | undefined> {
  let produced: { diff: string; files: string[] };
  try {
    await session.checkSyntax();
    produced = await session.diff();
  } finally {
    await session.restore();
  }
  if (produced.diff.trim() === '') return undefined;
  await checkApplies(session.repoDir, produced.diff);
  return { ...meta, diff: produced.diff, files: produced.files };
}
