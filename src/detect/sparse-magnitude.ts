import { binomialUpperTail } from './stats.js';

/**
 * How far a sparse key's recent requests lie above its pooled earlier ones, as a tail probability
 * that needs no distribution: Cantelli's inequality bounds the chance that one value lies t
 * standard deviations above the mean by 1 / (1 + t^2), whatever the distribution (only its
 * variance must exist). A rank test can say no more than "above all n earlier values" (chance
 * 1/(n+1) each), so with ten pooled requests a network delay that turns a 5 ms gap into 2 s
 * weighs no more than one 6 ms gap above the earlier maximum; here it weighs as far as it is.
 *
 * Values are compared as ln(1+ms). The mean and standard deviation come from the pooled values
 * (the standard deviation, not a robust spread, so a heavy tail in the pool widens it), the
 * deviation is widened for small pools (its estimate is uncertain) and never below `floor`.
 * The k-th highest recent value gives the chance that k of m values lie that far out (binomial,
 * each with Cantelli's bound); the smallest over k, times m (one test per k), is returned.
 */
export function magnitudeTail(pooled: readonly number[], recent: readonly number[], floor: number): number {
  const n = pooled.length;
  const m = recent.length;
  if (n < 2 || m === 0) return 1;
  let mean = 0;
  for (const v of pooled) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of pooled) ss += (v - mean) ** 2;
  const sd = Math.max(floor, Math.sqrt(ss / (n - 1)) * (1 + 2 / Math.sqrt(n)));
  const t = recent.map((v) => (v - mean) / sd).sort((a, b) => b - a);
  let best = 1;
  for (let k = 1; k <= m; k++) {
    const tk = t[k - 1]!;
    if (tk <= 1) break;
    best = Math.min(best, binomialUpperTail(k, m, 1 / (1 + tk * tk)));
  }
  return Math.min(1, best * m);
}
