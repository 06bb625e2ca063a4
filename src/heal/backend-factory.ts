import type { HealConfig } from '../config/sections/heal.js';
import type { SqliteDatabase } from '../store/database.js';
import type { DeploymentBackend } from './deploy.js';
import type { Git } from './git.js';
import { GitHubBackend } from './github-backend.js';
import type { Sleep } from './github/client.js';
import { resolveGitHubToken } from './github/token.js';
import { LocalBackend } from './local-backend.js';

export interface BackendDeps {
  db: SqliteDatabase;
  /** The local clone (heal.repository.path). */
  git: Git;
  /** emit.jaegerUrl, for trace links in pull request bodies. */
  jaegerUrl?: string;
  /** Where tokenEnv is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof globalThis.fetch;
  sleep?: Sleep;
  nowMs?: () => number;
}

/**
 * GitHub when heal.repository.github is configured, else the embedded local backend. The GitHub
 * token is resolved here, once: a missing token fails start-up instead of the first deploy.
 */
export function createDeploymentBackend(config: HealConfig, deps: BackendDeps): DeploymentBackend {
  const github = config.repository.github;
  if (!github) return new LocalBackend(deps.db, deps.git, deps.nowMs);
  return new GitHubBackend({
    github,
    token: resolveGitHubToken(github, deps.env ?? process.env),
    git: deps.git,
    ...(deps.jaegerUrl ? { jaegerUrl: deps.jaegerUrl } : {}),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.nowMs ? { nowMs: deps.nowMs } : {}),
  });
}
