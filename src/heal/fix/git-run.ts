import { execFile } from 'node:child_process';

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed: ${stderr.trim()}`);
    this.name = 'GitCommandError';
  }
}

/** Runs git without a shell; `env` adds variables (e.g. GIT_INDEX_FILE for a private index). */
export function git(cwd: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          ...process.env,
          GIT_TERMINAL_PROMPT: '0',
          GIT_AUTHOR_NAME: 'self-healing',
          GIT_AUTHOR_EMAIL: 'self-healing@localhost',
          GIT_COMMITTER_NAME: 'self-healing',
          GIT_COMMITTER_EMAIL: 'self-healing@localhost',
          ...opts.env,
        },
      },
      (err, stdout, stderr) => {
        if (err) reject(new GitCommandError(args, stderr || err.message));
        else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
