import { describe, expect, it } from 'vitest';
import { exceedanceUpperTail } from '../../src/detect/exceedance.js';
import { binomialUpperTail } from '../../src/detect/stats.js';

/** P(K >= k) by enumerating every way the m new values can sit among the n + m ranks. */
function enumerated(k: number, m: number, n: number, r: number): number {
  let hits = 0;
  let all = 0;
  const total = n + m;
  for (let mask = 0; mask < 1 << total; mask++) {
    let bits = 0;
    for (let b = 0; b < total; b++) if (mask & (1 << b)) bits++;
    if (bits !== m) continue;
    all++;
    // Rank 0 is the largest value; a set bit marks a new value.
    let earlierSeen = 0;
    let above = 0;
    for (let rank = 0; rank < total; rank++) {
      if (mask & (1 << rank)) {
        if (earlierSeen < r) above++;
      } else earlierSeen++;
    }
    if (above >= k) hits++;
  }
  return hits / all;
}

describe('exceedanceUpperTail', () => {
  it('equals the share of rank orders in which k new values lie above the r-th largest earlier one', () => {
    for (const [m, n] of [
      [5, 6],
      [7, 4],
      [3, 9],
    ] as const) {
      for (let r = 1; r <= 3; r++) {
        for (let k = 0; k <= m + 1; k++) expect(exceedanceUpperTail(k, m, n, r)).toBeCloseTo(enumerated(k, m, n, r), 12);
      }
    }
  });

  it('gives far weaker evidence than the binomial when the history is short (27 earlier requests, 37 new, 14 above the maximum)', () => {
    const exact = exceedanceUpperTail(14, 37, 27, 1);
    // C(37, 14) / C(64, 14)
    let closed = 1;
    for (let i = 0; i < 14; i++) closed *= (37 - i) / (64 - i);
    expect(exact).toBeCloseTo(closed, 15);
    expect(exact).toBeGreaterThan(1e-4);
    expect(binomialUpperTail(14, 37, 1 / 28)).toBeLessThan(1e-10);
  });

  it('tends to the binomial with a long history', () => {
    const exact = exceedanceUpperTail(6, 50, 200_000, 2_000);
    const binomial = binomialUpperTail(6, 50, 2_000 / 200_001);
    expect(exact / binomial).toBeGreaterThan(0.95);
    expect(exact / binomial).toBeLessThan(1.05);
  });

  it('is 1 for nothing asked or a limit below every earlier value, 0 for more than there are', () => {
    expect(exceedanceUpperTail(0, 10, 10, 1)).toBe(1);
    expect(exceedanceUpperTail(3, 10, 5, 6)).toBe(1);
    expect(exceedanceUpperTail(11, 10, 10, 1)).toBe(0);
  });
});
