import { logGamma } from './stats.js';

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/**
 * P(K >= k), where K counts how many of `m` new values lie above the `r`-th largest of `n` earlier
 * values, all n + m exchangeable (nothing changed) and without ties.
 *
 * The limit is itself one of the earlier values, so the new values are not independent trials
 * against a known rate: K >= k exactly when the k + r - 1 largest of all n + m values hold at
 * least k new ones, and the ranks of the new values are a uniformly random m-subset, which makes
 * that a hypergeometric tail. Binomial(m, r / (n + 1)) is its limit for large n; with a short
 * history it takes the history's maximum for a known 1/(n+1) quantile and overstates the
 * evidence by orders of magnitude (27 earlier values, 37 new, 14 above the maximum: 1.5e-11
 * against the exact 1.3e-4).
 */
export function exceedanceUpperTail(k: number, m: number, n: number, r: number): number {
  if (k <= 0) return 1;
  if (k > m) return 0;
  if (r > n) return 1;
  const draws = k + r - 1;
  const total = logChoose(n + m, draws);
  let sum = 0;
  // x new among the draws leaves draws - x <= r - 1 < n earlier ones: every term exists.
  for (let x = k; x <= Math.min(draws, m); x++) sum += Math.exp(logChoose(m, x) + logChoose(n, draws - x) - total);
  return Math.min(1, sum);
}
