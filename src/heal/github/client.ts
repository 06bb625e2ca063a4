import { Octokit } from '@octokit/rest';
import { GitHubError, retryDelayMs, toFailedRequest, toGitHubError, type RetryPolicy } from './errors.js';

export type Sleep = (ms: number) => Promise<void>;

export interface GitHubClientOptions {
  apiUrl: string;
  token: string;
  retry: RetryPolicy;
  fetch?: typeof globalThis.fetch;
  sleep?: Sleep;
  nowMs?: () => number;
  /** Told about each retry (operation, attempt, wait); never sees request details. */
  onRetry?: (info: { operation: string; attempt: number; waitMs: number; status: number | undefined }) => void;
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Octokit plus our own retry and rate-limit handling (the retry/throttling plugins are not used):
 * every call is named by an operation so errors say what was being done, and fails with a
 * GitHubError whose message cannot contain the token.
 */
export class GitHubClient {
  readonly octokit: Octokit;
  private readonly sleep: Sleep;
  private readonly nowMs: () => number;

  constructor(private readonly opts: GitHubClientOptions) {
    this.octokit = new Octokit({
      auth: opts.token,
      baseUrl: opts.apiUrl.replace(/\/+$/, ''),
      userAgent: 'self-healing-sidecar',
      // Octokit's logger would print deprecation notices with URLs; we report through errors.
      log: silent,
      request: { fetch: opts.fetch ?? globalThis.fetch },
    });
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** Runs `fn`, retrying network errors, 5xx and rate limits within the policy. */
  async call<T>(operation: string, fn: (octokit: Octokit) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(this.octokit);
      } catch (err) {
        const failed = toFailedRequest(err);
        const wait = retryDelayMs(failed, attempt, this.opts.retry, this.nowMs());
        if (wait === undefined) throw toGitHubError(operation, failed, [this.opts.token], this.nowMs());
        this.opts.onRetry?.({ operation, attempt, waitMs: wait, status: failed.status });
        await this.sleep(wait);
      }
    }
  }

  /** Like call, but a 404 resolves to undefined. */
  async find<T>(operation: string, fn: (octokit: Octokit) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(operation, fn);
    } catch (err) {
      if (err instanceof GitHubError && err.kind === 'not-found') return undefined;
      throw err;
    }
  }
}
