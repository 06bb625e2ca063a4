import { exceedanceUpperTail } from './exceedance.js';

/**
 * The failure rate of a low-rate key (a service or endpoint with a few requests a minute) judged
 * request by request: the failed requests among its recent ones against the requests and failures
 * it has pooled from slices that looked normal.
 *
 * A window rate of such a key rests on 1-4 requests, so its baseline takes minutes to fill (it
 * needs windows of at least 3 requests) and its spread floor, 0.5 / sqrt(requests), holds 100 %
 * failures against 0 % to z 4 or less however long they last. Counting requests instead, the
 * question is Fisher's: with F of N pooled requests failed and k of m recent ones, how likely is
 * it that k or more of the F + k failures fall among the m recent requests when every request is
 * equally likely to fail? Conditioned on the total number of failures the split is hypergeometric
 * and needs no rate: 0 of 33 pooled and 7 of 7 recent has a chance of 1 / C(40, 7) = 5e-8, while
 * one failed request among a few has a chance of about m / (N + m) and is no evidence at all.
 * That is the rank tail of exceedance.ts with the pooled failures as the values above the limit
 * (a failed request ranks above every successful one, ties split at random).
 *
 * Requests enter the pool only when they leave the recent window and only if the key looks normal
 * then, so a fault's first failed requests are tested for a whole window before they could be
 * learned. The pool is halved once it holds more than `maxPooled` requests, which keeps its rate
 * and lets it follow slow changes.
 */
export class FailureCounts {
  pooledRequests = 0;
  pooledFailed = 0;
  private readonly recent: Array<{ endMs: number; requests: number; failed: number }> = [];

  constructor(private readonly maxPooled: number) {}

  /** The counts of the slice that ends at `endMs`. */
  add(endMs: number, requests: number, failed: number): void {
    if (requests > 0) this.recent.push({ endMs, requests, failed });
  }

  /**
   * The recent requests (slices ending after `sinceMs`), their failures, the slices that had any
   * (a burst inside one slice is one piece of evidence, failure-spread.ts) and the tail of the split.
   */
  test(sinceMs: number): { requests: number; failed: number; failingSlices: number; p: number } {
    let requests = 0;
    let failed = 0;
    let failingSlices = 0;
    for (const r of this.recent) {
      if (r.endMs <= sinceMs) continue;
      requests += r.requests;
      failed += r.failed;
      if (r.failed > 0) failingSlices++;
    }
    return { requests, failed, failingSlices, p: failureCountTail(failed, requests, this.pooledRequests, this.pooledFailed) };
  }

  /** Slices ending at or before `sinceMs` leave the recent window; they join the pool if `learn`. */
  settle(sinceMs: number, learn: boolean): void {
    while (this.recent.length > 0 && this.recent[0]!.endMs <= sinceMs) {
      const r = this.recent.shift()!;
      if (!learn) continue;
      this.pooledRequests += r.requests;
      this.pooledFailed += r.failed;
      if (this.pooledRequests > this.maxPooled) {
        this.pooledRequests = Math.round(this.pooledRequests / 2);
        this.pooledFailed = Math.round(this.pooledFailed / 2);
      }
    }
  }
}

/**
 * P(k or more of m recent requests failed) given that `pooledFailed` of `pooledRequests` earlier
 * ones did, every request alike (Fisher's exact test, one-sided).
 */
export function failureCountTail(k: number, m: number, pooledRequests: number, pooledFailed: number): number {
  return exceedanceUpperTail(k, m, pooledRequests, pooledFailed + 1);
}
