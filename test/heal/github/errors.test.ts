import { describe, expect, it } from 'vitest';
import { classify, GitHubError, rateLimitWaitMs, retryDelayMs, scrub, toFailedRequest, toGitHubError, type FailedRequest } from '../../../src/heal/github/errors.js';

const policy = { maxRetries: 3, maxWaitMs: 60_000, baseDelayMs: 100 };
const f = (status: number | undefined, headers: Record<string, string> = {}, message = 'x'): FailedRequest => ({ status, headers, message, network: status === undefined });

describe('GitHub error handling', () => {
  it('normalises octokit errors, fetch failures and odd values', () => {
    expect(
      toFailedRequest({ status: 422, message: 'ignored', response: { status: 422, headers: { 'Retry-After': 3 }, data: { message: 'Validation Failed', errors: [{ message: 'bad' }, 'worse', {}] } } }),
    ).toEqual({ status: 422, headers: { 'retry-after': '3' }, message: 'Validation Failed: bad; worse', network: false });
    expect(toFailedRequest({ response: { status: 502, headers: {}, data: 'Bad gateway' } })).toMatchObject({ status: 502, message: 'Bad gateway' });
    expect(toFailedRequest({ status: 404, response: { headers: {}, data: { other: 1 } }, message: 'Not Found' })).toMatchObject({ status: 404, message: 'Not Found' });
    expect(toFailedRequest({ status: 500, message: 'connect ECONNREFUSED' })).toEqual({ status: undefined, headers: {}, message: 'connect ECONNREFUSED', network: true });
    expect(toFailedRequest('boom')).toMatchObject({ message: 'boom', network: true });
  });

  it('classifies by status and rate-limit signals', () => {
    expect(classify(f(undefined))).toBe('network');
    expect(classify(f(401))).toBe('auth');
    expect(classify(f(403, {}, 'Resource not accessible'))).toBe('auth');
    expect(classify(f(403, { 'retry-after': '1' }))).toBe('rate-limited');
    expect(classify(f(403, { 'x-ratelimit-remaining': '0' }))).toBe('rate-limited');
    expect(classify(f(403, {}, 'You have exceeded a secondary rate limit'))).toBe('rate-limited');
    expect(classify(f(429))).toBe('rate-limited');
    expect(classify(f(404))).toBe('not-found');
    expect(classify(f(405))).toBe('not-mergeable');
    expect(classify(f(409))).toBe('conflict');
    expect(classify(f(422))).toBe('validation');
    expect(classify(f(503))).toBe('server');
    expect(classify(f(418))).toBe('unknown');
  });

  it('computes rate-limit waits from retry-after, the reset time, or the one-minute default', () => {
    expect(rateLimitWaitMs(f(403, { 'retry-after': '5' }), 0)).toBe(5_000);
    expect(rateLimitWaitMs(f(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '100' }), 40_000)).toBe(61_000);
    expect(rateLimitWaitMs(f(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '10' }), 40_000)).toBe(1_000);
    expect(rateLimitWaitMs(f(403, {}, 'secondary rate limit'), 0)).toBe(60_000);
  });

  it('retries only transient failures, boundedly, with doubling backoff', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(f(undefined), a, policy, 0))).toEqual([100, 200, 400, undefined]);
    expect(retryDelayMs(f(502), 1, policy, 0)).toBe(100);
    expect(retryDelayMs(f(501), 1, policy, 0)).toBeUndefined();
    expect(retryDelayMs(f(404), 1, policy, 0)).toBeUndefined();
    expect(retryDelayMs(f(422), 1, policy, 0)).toBeUndefined();
    expect(retryDelayMs(f(403, { 'retry-after': '30' }), 1, policy, 0)).toBe(30_000);
    expect(retryDelayMs(f(403, { 'retry-after': '61' }), 1, policy, 0)).toBeUndefined();
  });

  it('scrubs secrets and token-shaped strings, and bounds the length', () => {
    expect(scrub('bad token s3cr3t-value here', ['s3cr3t-value'])).toBe('bad token [redacted] here');
    expect(scrub('leaked ghp_abcdefghijklmnopqrstuvwxyz0123 and github_pat_11ABCDEFGHIJKLMNOPQRSTUV_x', [])).toBe('leaked [redacted] and [redacted]');
    expect(scrub('abc', ['ab'])).toBe('abc');
    expect(scrub('x'.repeat(400), [])).toHaveLength(303);
  });

  it('builds safe typed errors', () => {
    const e = toGitHubError('open pull request', f(403, { 'retry-after': '2' }, 'limit for tok-123456'), ['tok-123456'], 0);
    expect(e).toBeInstanceOf(GitHubError);
    expect(e).toMatchObject({ name: 'GitHubError', kind: 'rate-limited', retryable: true, retryAfterMs: 2_000, status: 403 });
    expect(e.message).toBe('GitHub open pull request failed (403): rate-limited - limit for [redacted]');
    const n = toGitHubError('read ref', f(undefined, {}, ''), [], 0);
    expect(n.message).toBe('GitHub read ref failed: network');
    expect(n.retryAfterMs).toBeUndefined();
  });
});
