/**
 * Benjamini-Hochberg over discrete tests, counting only the tests that could be significant.
 *
 * A count test has a smallest p-value it can give at all: a drop of a line expected 2 times in a
 * window is at best "0 against 2", p = e^-2 = 0.14, whatever happens. Such a test can never be
 * discovered, yet in the plain step-up rule it still counts in m and raises every other test's
 * bar. Tarone's modified Bonferroni (Biometrics 1990) leaves those tests out: with K the smallest
 * k such that at most k tests can reach a p-value of alpha / k, only the tests that can are
 * tested, at alpha / K; Gilbert (2005) does the same for the false discovery rate, running the
 * step-up rule over those tests with K in place of m. The smallest attainable p-value of a test
 * depends only on what the test conditions on (the window's requests, the pair's total, the
 * expected count), not on the count it tests, so under the null the procedure keeps its level.
 *
 * Sibling-pair mix tests (pattern-mix.ts) are the case in point: a service has hundreds of pairs,
 * most of them written a few times a minute, and they made a lone pair that lost every one of 20
 * lines (p 2e-6) wait for a second slice of evidence that a case's data may not hold.
 */
export interface DiscreteTest {
  /** The test's p-value. */
  p: number;
  /** The smallest p-value the test could have given in this window (0 when unbounded). */
  minP: number;
}

/** Indices of the discoveries (p at or below the step-up bar), in no particular order. */
export function attainableStepUp(tests: readonly DiscreteTest[], fdr: number): number[] {
  const k = taroneCount(
    tests.map((t) => t.minP),
    fdr,
  );
  const eligible: number[] = [];
  for (let i = 0; i < tests.length; i++) if (tests[i]!.minP <= fdr / k) eligible.push(i);
  eligible.sort((a, b) => tests[a]!.p - tests[b]!.p);
  let cutoff = -1;
  for (let r = 0; r < eligible.length; r++) if (tests[eligible[r]!]!.p <= ((r + 1) / k) * fdr) cutoff = r;
  return eligible.slice(0, cutoff + 1);
}

/**
 * Tarone's K: the smallest k >= 1 such that at most k of the tests can attain a p-value of
 * fdr / k (with only unbounded tests it is their number, and the rule is the plain step-up).
 */
export function taroneCount(minPs: readonly number[], fdr: number): number {
  const sorted = [...minPs].sort((a, b) => a - b);
  // M(k), the tests whose smallest p-value is at most fdr / k, only shrinks as k grows.
  let m = sorted.length;
  for (let k = 1; ; k++) {
    while (m > 0 && sorted[m - 1]! > fdr / k) m--;
    if (m <= k) return k;
  }
}
