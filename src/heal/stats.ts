/**
 * Small, dependency-free statistics for the before/after comparison of a deployed fix.
 * Normal approximations only: samples come from reservoirs of tens to thousands of beats.
 */
import { normalUpperTail } from '../detect/stats.js';

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return normalUpperTail(-z);
}

export interface MannWhitneyResult {
  /** U statistic of the first sample. */
  u: number;
  z: number;
  /** One-sided p-value for the requested alternative. */
  p: number;
}

/**
 * Mann-Whitney U test, normal approximation with tie correction and continuity correction.
 * alternative 'greater': values of `a` tend to be larger than those of `b`; 'less': smaller.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[], alternative: 'greater' | 'less'): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, p: 1 };
  const all: Array<{ v: number; first: boolean }> = [];
  for (const v of a) all.push({ v, first: true });
  for (const v of b) all.push({ v, first: false });
  all.sort((x, y) => x.v - y.v);
  // Average ranks over ties; collect tie group sizes for the variance correction.
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const avgRank = (i + j + 2) / 2;
    const size = j - i + 1;
    if (size > 1) tieTerm += size * size * size - size;
    for (let k = i; k <= j; k++) if (all[k]!.first) rankSumA += avgRank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, z: 0, p: 1 };
  const sd = Math.sqrt(variance);
  const diff = u - mean;
  // Continuity correction towards the null.
  const z = alternative === 'greater' ? (diff - 0.5) / sd : (diff + 0.5) / sd;
  const p = alternative === 'greater' ? 1 - normalCdf(z) : normalCdf(z);
  return { u, z, p };
}

export interface ProportionTestResult {
  p1: number;
  p2: number;
  z: number;
  /** One-sided p-value for the requested alternative. */
  p: number;
}

/**
 * Two-proportion z-test with a pooled proportion. alternative 'greater': x1/n1 > x2/n2.
 * Returns p = 1 when either sample is empty or there is no variance (all or none failing).
 */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number, alternative: 'greater' | 'less'): ProportionTestResult {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  if (n1 === 0 || n2 === 0) return { p1, p2, z: 0, p: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return { p1, p2, z: 0, p: 1 };
  const z = (p1 - p2) / se;
  const p = alternative === 'greater' ? 1 - normalCdf(z) : normalCdf(z);
  return { p1, p2, z, p };
}
