/** What went wrong with a GitHub request, in terms an operator can act on. */
export type GitHubErrorKind =
  | 'auth'
  | 'rate-limited'
  | 'not-found'
  | 'conflict'
  | 'validation'
  | 'not-mergeable'
  | 'server'
  | 'network'
  | 'unknown';

/**
 * A failed GitHub call. The message names the operation, the status and GitHub's own message
 * with any secret scrubbed out, so it is safe for logs, spans, events and the database. The
 * original octokit error is deliberately not kept as `cause`: it carries request options.
 */
export class GitHubError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number | undefined,
    readonly kind: GitHubErrorKind,
    /** GitHub's message (scrubbed, bounded), empty when there was no response. */
    readonly githubMessage: string,
    /** A later attempt (e.g. the queue's retry) may succeed. */
    readonly retryable: boolean,
    /** For rate limits: how long GitHub asked us to wait. */
    readonly retryAfterMs?: number,
  ) {
    super(`GitHub ${operation} failed${status === undefined ? '' : ` (${status})`}: ${kind}${githubMessage ? ` - ${githubMessage}` : ''}`);
    this.name = 'GitHubError';
  }
}

/** The parts of an octokit RequestError (or a fetch failure) this module looks at. */
export interface FailedRequest {
  status: number | undefined;
  headers: Record<string, string | undefined>;
  message: string;
  /** True when no HTTP response arrived (connection refused, reset, DNS). */
  network: boolean;
}

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown; headers?: Record<string, unknown>; data?: unknown };
}

function responseMessage(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data && typeof data === 'object' && 'message' in data && typeof (data as { message: unknown }).message === 'string') {
    const d = data as { message: string; errors?: unknown };
    const details = Array.isArray(d.errors)
      ? d.errors
          .map((e) => (e && typeof e === 'object' && 'message' in e ? String((e as { message: unknown }).message) : typeof e === 'string' ? e : ''))
          .filter(Boolean)
      : [];
    return details.length > 0 ? `${d.message}: ${details.join('; ')}` : d.message;
  }
  return undefined;
}

/** Normalises whatever octokit threw. */
export function toFailedRequest(err: unknown): FailedRequest {
  const e = (err && typeof err === 'object' ? err : {}) as ErrorLike;
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(e.response?.headers ?? {})) headers[k.toLowerCase()] = v === undefined ? undefined : String(v);
  const network = e.response === undefined;
  const status = network ? undefined : typeof e.response!.status === 'number' ? e.response!.status : typeof e.status === 'number' ? e.status : undefined;
  const message = responseMessage(e.response?.data) ?? (typeof e.message === 'string' ? e.message : String(err));
  return { status, headers, message, network };
}

/** Removes every occurrence of each secret, then bounds the length. */
export function scrub(text: string, secrets: readonly string[], max = 300): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  // Tokens of the usual GitHub shapes, in case one that is not ours shows up in a message.
  out = out.replace(/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, '[redacted]');
  return out.length > max ? `${out.slice(0, max)}...` : out;
}

function isRateLimit(f: FailedRequest): boolean {
  if (f.status !== 403 && f.status !== 429) return false;
  return f.status === 429 || f.headers['retry-after'] !== undefined || f.headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(f.message);
}

export function classify(f: FailedRequest): GitHubErrorKind {
  if (f.network) return 'network';
  if (isRateLimit(f)) return 'rate-limited';
  switch (f.status) {
    case 401:
    case 403:
      return 'auth';
    case 404:
      return 'not-found';
    case 405:
      return 'not-mergeable';
    case 409:
      return 'conflict';
    case 422:
      return 'validation';
    default:
      return f.status !== undefined && f.status >= 500 ? 'server' : 'unknown';
  }
}

export interface RetryPolicy {
  maxRetries: number;
  maxWaitMs: number;
  /** First backoff for network errors and 5xx; doubled each retry. */
  baseDelayMs: number;
}

/**
 * How long GitHub asked us to wait: `retry-after` seconds, else the `x-ratelimit-reset` epoch
 * second when the remaining quota is 0, else a minute for a secondary limit without headers
 * (GitHub's documented minimum).
 */
export function rateLimitWaitMs(f: FailedRequest, nowMs: number): number {
  const retryAfter = Number(f.headers['retry-after']);
  if (f.headers['retry-after'] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  const reset = Number(f.headers['x-ratelimit-reset']);
  if (f.headers['x-ratelimit-remaining'] === '0' && Number.isFinite(reset)) return Math.max(0, reset * 1000 - nowMs) + 1000;
  return 60_000;
}

/** Milliseconds to wait before retry number `attempt` (1-based), or undefined to give up. */
export function retryDelayMs(f: FailedRequest, attempt: number, policy: RetryPolicy, nowMs: number): number | undefined {
  if (attempt > policy.maxRetries) return undefined;
  const kind = classify(f);
  if (kind === 'rate-limited') {
    const wait = rateLimitWaitMs(f, nowMs);
    return wait <= policy.maxWaitMs ? wait : undefined;
  }
  if (kind === 'network' || (kind === 'server' && f.status !== 501)) return policy.baseDelayMs * 2 ** (attempt - 1);
  return undefined;
}

/** The typed error for a request that will not be retried (any more). */
export function toGitHubError(operation: string, f: FailedRequest, secrets: readonly string[], nowMs: number): GitHubError {
  const kind = classify(f);
  const retryable = kind === 'rate-limited' || kind === 'network' || kind === 'server';
  const wait = kind === 'rate-limited' ? rateLimitWaitMs(f, nowMs) : undefined;
  return new GitHubError(operation, f.status, kind, scrub(f.message, secrets), retryable, wait);
}
