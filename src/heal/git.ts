import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HEAL_AUTHOR_NAME = 'self-healing';
export const HEAL_AUTHOR_EMAIL = 'self-healing@localhost';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly code: number | string | undefined,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface Worktree {
  dir: string;
  remove(): Promise<void>;
}

/**
 * A thin wrapper over the git CLI (execFile, never a shell). All history-changing work happens in
 * separate worktrees under a temporary directory, so the repository's own checkout is not touched.
 */
const WORKTREE_PREFIX = 'heal-wt-';
const OWNER_FILE = 'owner.pid';
/** The worktree inside its own temporary parent directory (which also holds the owner file). */
const TREE_DIR = 'tree';

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Git {
  /** Parent directories of the worktrees this instance has open. */
  private readonly live = new Set<string>();

  constructor(
    readonly repoDir: string,
    private readonly workDir: string = tmpdir(),
  ) {}

  /** Runs git in `cwd` (the repository by default) and returns stdout. */
  run(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        'git',
        args,
        {
          cwd: opts.cwd ?? this.repoDir,
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            GIT_TERMINAL_PROMPT: '0',
            GIT_AUTHOR_NAME: HEAL_AUTHOR_NAME,
            GIT_AUTHOR_EMAIL: HEAL_AUTHOR_EMAIL,
            GIT_COMMITTER_NAME: HEAL_AUTHOR_NAME,
            GIT_COMMITTER_EMAIL: HEAL_AUTHOR_EMAIL,
          },
        },
        (err, stdout, stderr) => {
          if (err) {
            const code = (err as NodeJS.ErrnoException & { code?: number | string }).code;
            reject(new GitError(`git ${args[0]} failed: ${stderr.trim() || err.message}`, args, code, stderr));
          } else resolve(stdout);
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  /** Like run, but resolves false instead of throwing when git exits non-zero. */
  private async succeeds(args: string[], cwd?: string): Promise<boolean> {
    try {
      await this.run(args, cwd === undefined ? {} : { cwd });
      return true;
    } catch (err) {
      if (err instanceof GitError && typeof err.code === 'number') return false;
      throw err;
    }
  }

  async revParse(ref: string, cwd?: string): Promise<string> {
    return (await this.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], cwd === undefined ? {} : { cwd })).trim();
  }

  async refExists(ref: string): Promise<boolean> {
    return this.succeeds(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  }

  async branchExists(branch: string): Promise<boolean> {
    return this.succeeds(['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
  }

  /** A detached worktree at `ref` in a fresh temporary directory. */
  async addWorktree(ref: string): Promise<Worktree> {
    // A configured heal.workDir that does not exist yet would otherwise fail every fix.generate.
    await mkdir(this.workDir, { recursive: true });
    const parent = await mkdtemp(join(this.workDir, WORKTREE_PREFIX));
    const dir = join(parent, TREE_DIR);
    this.live.add(parent);
    try {
      // Who uses it, so a later process can tell a worktree left by a crash from one in use.
      await writeFile(join(parent, OWNER_FILE), String(process.pid));
      await this.run(['worktree', 'add', '--detach', '--quiet', dir, ref]);
    } catch (err) {
      await rm(parent, { recursive: true, force: true });
      this.live.delete(parent);
      throw err;
    }
    return {
      dir,
      remove: async () => {
        await this.discardWorktree(parent);
        this.live.delete(parent);
        await this.pruneWorktrees();
      },
    };
  }

  /**
   * Removes the worktree directories under the work directory that a process which has ended
   * left behind (a crash or kill -9 mid-stage; the durable queue re-runs the stage in a new one).
   * A directory is stale when the process named in its owner file is gone, or is this process
   * but this Git did not create it (a restarted container can reuse the pid). Directories of
   * other live processes, and anything without an owner file, are left alone. Returns how many
   * were removed.
   */
  async removeStaleWorktrees(): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.workDir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(WORKTREE_PREFIX)) continue;
      const parent = join(this.workDir, name);
      if (this.live.has(parent)) continue;
      let pid: number;
      try {
        pid = Number((await readFile(join(parent, OWNER_FILE), 'utf8')).trim());
      } catch {
        continue;
      }
      if (!Number.isInteger(pid) || pid <= 0) continue;
      if (pid !== process.pid && processAlive(pid)) continue;
      await this.discardWorktree(parent);
      removed++;
    }
    if (removed > 0) await this.pruneWorktrees();
    return removed;
  }

  /** Unregisters the worktree in `parent` (if git still knows it) and deletes the directory. */
  private async discardWorktree(parent: string): Promise<void> {
    await this.run(['worktree', 'remove', '--force', join(parent, TREE_DIR)]).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
  }

  /** Forgets worktrees whose directories are gone (e.g. after a crash). */
  async pruneWorktrees(): Promise<void> {
    await this.run(['worktree', 'prune']).catch(() => undefined);
  }

  /** `git apply --check`, then apply; throws GitError when the patch does not apply. */
  async applyPatch(worktreeDir: string, patch: string, opts: { include?: string[] } = {}): Promise<void> {
    const file = join(worktreeDir, '..', 'heal.patch');
    await writeFile(file, patch.endsWith('\n') ? patch : patch + '\n');
    const include = (opts.include ?? []).map((p) => `--include=${p}`);
    await this.run(['apply', '--check', '--whitespace=nowarn', ...include, file], { cwd: worktreeDir });
    await this.run(['apply', '--whitespace=nowarn', ...include, file], { cwd: worktreeDir });
  }

  /** Stages everything and commits as the self-healing author; returns the new commit sha. */
  async commitAll(worktreeDir: string, message: string): Promise<string> {
    await this.run(['add', '-A'], { cwd: worktreeDir });
    await this.run(['-c', 'commit.gpgsign=false', 'commit', '-q', '--no-verify', '-F', '-'], { cwd: worktreeDir, input: message });
    return this.revParse('HEAD', worktreeDir);
  }

  /** Creates branch `name` at `sha`; false when it already exists. */
  async createBranch(name: string, sha: string): Promise<boolean> {
    if (await this.branchExists(name)) return false;
    await this.run(['branch', name, sha]);
    return true;
  }

  /** Moves refs/heads/<branch> from `expectedOld` to `sha`; fails if someone else moved it meanwhile. */
  async updateBranch(branch: string, sha: string, expectedOld: string): Promise<void> {
    await this.run(['update-ref', '-m', 'self-healing', `refs/heads/${branch}`, sha, expectedOld]);
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return this.succeeds(['merge-base', '--is-ancestor', ancestor, descendant]);
  }

  /** `merge --no-ff` of `ref` into the worktree's HEAD; returns the merge commit sha. */
  async mergeNoFf(worktreeDir: string, ref: string, message: string): Promise<string> {
    await this.run(['-c', 'commit.gpgsign=false', 'merge', '--no-ff', '--no-edit', '-m', message, ref], { cwd: worktreeDir });
    return this.revParse('HEAD', worktreeDir);
  }

  /** The first merge commit on `base` that brought `tip` in, if any. */
  async findMergeOf(tip: string, base: string): Promise<string | undefined> {
    const out = await this.run(['rev-list', '--merges', '--ancestry-path', '--reverse', `${tip}..${base}`]);
    const first = out.split('\n').find((l) => l.trim() !== '');
    return first?.trim();
  }

  /** Reverts `sha` in the worktree (mainline 1 for merge commits); returns the new commit sha. */
  async revert(worktreeDir: string, sha: string, opts: { mainline?: number; message?: string } = {}): Promise<string> {
    const args = ['-c', 'commit.gpgsign=false', 'revert', '--no-edit'];
    if (opts.mainline !== undefined) args.push('-m', String(opts.mainline));
    args.push(sha);
    await this.run(args, { cwd: worktreeDir });
    if (opts.message !== undefined) {
      await this.run(['-c', 'commit.gpgsign=false', 'commit', '--amend', '-q', '--no-verify', '-F', '-'], { cwd: worktreeDir, input: opts.message });
    }
    return this.revParse('HEAD', worktreeDir);
  }

  /** Tags sorted by creation order of their commits, oldest first. */
  async tags(): Promise<string[]> {
    const out = await this.run(['tag', '--list', '--sort=creatordate']);
    return out.split('\n').map((t) => t.trim()).filter(Boolean);
  }

  /** Commits in (from, to], newest first. */
  async logBetween(from: string, to: string): Promise<Array<{ sha: string; subject: string }>> {
    const out = await this.run(['log', '--format=%H%x09%s', `${from}..${to}`]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        return { sha: line.slice(0, tab), subject: line.slice(tab + 1) };
      });
  }

  /** Paths changed between two refs. */
  async changedFiles(from: string, to: string): Promise<string[]> {
    const out = await this.run(['diff', '--name-only', from, to]);
    return out.split('\n').filter(Boolean);
  }
}
