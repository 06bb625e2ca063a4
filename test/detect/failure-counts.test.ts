import { describe, expect, it } from 'vitest';
import { FailureCounts, failureCountTail } from '../../src/detect/failure-counts.js';

function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
  return c;
}

/** Fisher's one-sided tail by its definition: P(X >= k), X ~ Hypergeometric(N + m requests, F + k failed, m drawn). */
function fisher(k: number, m: number, n: number, f: number): number {
  const failures = f + k;
  let p = 0;
  for (let x = k; x <= Math.min(m, failures); x++) p += (choose(m, x) * choose(n, failures - x)) / choose(n + m, failures);
  return p;
}

describe('failureCountTail', () => {
  it("is Fisher's exact one-sided test of the recent failures against the pooled ones", () => {
    for (const [k, m, n, f] of [
      [7, 7, 33, 0],
      [3, 5, 20, 1],
      [4, 11, 40, 2],
      [1, 3, 12, 0],
      [2, 2, 10, 5],
    ] as const) {
      expect(failureCountTail(k, m, n, f)).toBeCloseTo(fisher(k, m, n, f), 12);
    }
    // Every recent request failed after 33 pooled ones that did not: 1 / C(40, 7).
    expect(failureCountTail(7, 7, 33, 0)).toBeCloseTo(1 / choose(40, 7), 15);
  });

  it('gives one failed request among a few no weight, and no evidence without failures or pooled successes', () => {
    // About m / (N + m): one of 3 recent requests failed after 30 that did not.
    expect(failureCountTail(1, 3, 30, 0)).toBeCloseTo(3 / 33, 10);
    expect(failureCountTail(0, 5, 30, 0)).toBe(1);
    // The pool failed every time: nothing recent can be worse.
    expect(failureCountTail(4, 4, 10, 10)).toBe(1);
  });
});

describe('FailureCounts', () => {
  it('tests the recent slices and pools only the slices that leave them while the key looks normal', () => {
    const counts = new FailureCounts(512);
    for (let i = 1; i <= 10; i++) counts.add(i * 10, 3, 0);
    counts.settle(60, true);
    expect(counts.pooledRequests).toBe(18);
    expect(counts.pooledFailed).toBe(0);
    counts.add(110, 2, 2);
    counts.add(120, 0, 0);
    counts.add(130, 1, 1);
    const t = counts.test(100);
    expect(t).toMatchObject({ requests: 3, failed: 3, failingSlices: 2 });
    expect(t.p).toBeCloseTo(fisher(3, 3, 18, 0), 12);
    // Leaving while the key is abnormal: dropped, not learned (slices 70-110); slice 130 stays recent.
    counts.settle(120, false);
    expect(counts.pooledRequests).toBe(18);
    expect(counts.test(0)).toMatchObject({ requests: 1, failed: 1, failingSlices: 1 });
  });

  it('halves a full pool, keeping its failure rate', () => {
    const counts = new FailureCounts(100);
    for (let i = 1; i <= 12; i++) counts.add(i, 10, 1);
    counts.settle(12, true);
    expect(counts.pooledRequests).toBeLessThanOrEqual(100);
    expect(counts.pooledFailed / counts.pooledRequests).toBeCloseTo(0.1, 1);
  });
});
