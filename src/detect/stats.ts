/**
 * Small statistics toolkit for the detectors: tail probabilities of the normal and binomial
 * distributions, the two-proportion z-test, Wilson score intervals, quantiles and robust
 * location/spread. All functions are pure and allocation-free except `medianMad` and `quantile`,
 * which sort a copy.
 */

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z >= z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** log Gamma(x) for x > 0 (Lanczos approximation, g = 7). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const xx = x - 1;
  let a = c[0]!;
  const t = xx + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (xx + i);
  return 0.5 * Math.log(2 * Math.PI) + (xx + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Above this n the binomial tail uses the normal approximation with continuity correction. */
const EXACT_BINOMIAL_MAX_N = 5000;

/**
 * P(X >= k) for X ~ Binomial(n, p): exact summation for n <= 5000, otherwise the normal
 * approximation with continuity correction.
 */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  if (n > EXACT_BINOMIAL_MAX_N) {
    const mean = n * p;
    const sd = Math.sqrt(n * p * (1 - p));
    return normalUpperTail((k - 0.5 - mean) / sd);
  }
  const logPmf = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let term = Math.exp(logPmf);
  let sum = term;
  const ratio = p / (1 - p);
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * ratio;
    sum += term;
    if (term < sum * 1e-15 && i > n * p) break;
  }
  return Math.min(1, sum);
}

/**
 * One-sided two-proportion z-test that rate x1/n1 exceeds rate x2/n2 (pooled variance).
 * Returns the z statistic; 0 when either sample is empty or the pooled rate is degenerate.
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): number {
  if (n1 <= 0 || n2 <= 0) return 0;
  const p = (x1 + x2) / (n1 + n2);
  if (p <= 0 || p >= 1) return 0;
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return (x1 / n1 - x2 / n2) / se;
}

/** Wilson score interval for a proportion x/n at normal quantile z (default 1.96, i.e. 95 %). */
export function wilsonInterval(x: number, n: number, z = 1.96): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const phat = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (phat + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Linear-interpolated quantile (q in 0..1) of unsorted values; NaN for an empty input. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Scale factor that makes the MAD a consistent estimator of a normal standard deviation. */
export const MAD_TO_SIGMA = 1.4826;

/** Median and MAD (not rescaled) of the first `n` values of `values`; NaN when n is 0. */
export function medianMad(values: ArrayLike<number>, n = values.length): { median: number; mad: number } {
  if (n <= 0) return { median: NaN, mad: NaN };
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = values[i]!;
  a.sort();
  const med = middle(a);
  for (let i = 0; i < n; i++) a[i] = Math.abs(a[i]! - med);
  a.sort();
  return { median: med, mad: middle(a) };
}

function middle(sorted: Float64Array): number {
  const n = sorted.length;
  const m = n >> 1;
  return n % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** Clamps x into [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export type SeverityLevel = 'low' | 'medium' | 'high' | 'critical';
const LEVELS: SeverityLevel[] = ['low', 'medium', 'high', 'critical'];

/**
 * Severity from a magnitude level (0 low .. 3 critical) adjusted by the key's traffic share
 * within its service: a quarter or more of the traffic raises it one step, under 2 % lowers it
 * one step.
 */
export function severityOf(magnitudeLevel: number, trafficShare: number): SeverityLevel {
  let level = magnitudeLevel;
  if (trafficShare >= 0.25) level++;
  else if (trafficShare < 0.02) level--;
  return LEVELS[clamp(Math.round(level), 0, 3)]!;
}

/** Rank of a severity, for comparisons. */
export function severityRank(s: SeverityLevel): number {
  return LEVELS.indexOf(s);
}

/** Index of the first element >= v in an ascending array. */
export function lowerBound(sorted: ArrayLike<number>, v: number, length = sorted.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}
