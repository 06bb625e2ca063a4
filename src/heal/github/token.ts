import { readFileSync } from 'node:fs';

export interface TokenSource {
  tokenEnv: string;
  tokenFile?: string | undefined;
}

/**
 * The GitHub token from tokenFile (when set) or the tokenEnv variable. Errors name where the
 * token was looked for, never its value.
 */
export function resolveGitHubToken(
  source: TokenSource,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): string {
  if (source.tokenFile) {
    let text: string;
    try {
      text = readFile(source.tokenFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new Error(`GitHub token file ${source.tokenFile} cannot be read (${code})`);
    }
    const token = text.trim();
    if (!token) throw new Error(`GitHub token file ${source.tokenFile} is empty`);
    return token;
  }
  const token = env[source.tokenEnv]?.trim();
  if (!token) throw new Error(`GitHub token missing: set the ${source.tokenEnv} environment variable or heal.repository.github.tokenFile`);
  return token;
}
