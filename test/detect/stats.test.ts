import { describe, expect, it } from 'vitest';
import {
  binomialUpperTail,
  clamp,
  erfc,
  logGamma,
  medianMad,
  normalUpperTail,
  quantile,
  severityOf,
  severityRank,
  twoProportionZ,
  wilsonInterval,
} from '../../src/detect/stats.js';

/** Brute-force binomial tail for checking. */
function bruteTail(k: number, n: number, p: number): number {
  let sum = 0;
  for (let i = k; i <= n; i++) {
    let c = 1;
    for (let j = 0; j < i; j++) c = (c * (n - j)) / (j + 1);
    sum += c * Math.pow(p, i) * Math.pow(1 - p, n - i);
  }
  return sum;
}

describe('stats', () => {
  it('computes normal tails', () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 6);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 5);
    expect(normalUpperTail(3.719016)).toBeCloseTo(1e-4, 6);
    expect(normalUpperTail(-1.959964)).toBeCloseTo(0.975, 5);
    expect(erfc(0)).toBeCloseTo(1, 6);
  });

  it('computes log gamma', () => {
    expect(logGamma(1)).toBeCloseTo(0, 8);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 8);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 8);
    expect(logGamma(0.25)).toBeCloseTo(Math.log(3.6256099082), 6);
  });

  it('computes exact binomial upper tails', () => {
    for (const [k, n, p] of [
      [3, 10, 0.1],
      [8, 30, 0.05],
      [1, 20, 0.3],
      [15, 40, 0.2],
      [25, 40, 0.5],
    ] as const) {
      expect(binomialUpperTail(k, n, p)).toBeCloseTo(bruteTail(k, n, p), 10);
    }
    expect(binomialUpperTail(0, 10, 0.1)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.1)).toBe(0);
    expect(binomialUpperTail(1, 10, 0)).toBe(0);
    expect(binomialUpperTail(1, 10, 1)).toBe(1);
  });

  it('uses a continuity-corrected normal approximation for large n', () => {
    const n = 100_000;
    const p = 0.05;
    const mean = n * p;
    const sd = Math.sqrt(n * p * (1 - p));
    const tail = binomialUpperTail(Math.round(mean + 3 * sd), n, p);
    expect(tail).toBeGreaterThan(0.0009);
    expect(tail).toBeLessThan(0.0017);
  });

  it('runs the two-proportion z-test', () => {
    const z = twoProportionZ(30, 300, 100, 10_000);
    expect(z).toBeGreaterThan(8);
    expect(twoProportionZ(1, 100, 100, 10_000)).toBeCloseTo(0, 1);
    expect(twoProportionZ(0, 0, 1, 10)).toBe(0);
    expect(twoProportionZ(0, 10, 0, 10)).toBe(0);
  });

  it('computes Wilson intervals', () => {
    const w = wilsonInterval(10, 100);
    expect(w.low).toBeCloseTo(0.0552, 3);
    expect(w.high).toBeCloseTo(0.1744, 3);
    const zero = wilsonInterval(0, 1000);
    expect(zero.low).toBe(0);
    expect(zero.high).toBeGreaterThan(0.003);
    expect(zero.high).toBeLessThan(0.005);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('computes median and MAD', () => {
    expect(medianMad([1, 2, 3, 4, 100])).toEqual({ median: 3, mad: 1 });
    expect(medianMad([1, 2, 3, 4])).toEqual({ median: 2.5, mad: 1 });
    expect(medianMad([5, 1, 9], 2)).toEqual({ median: 3, mad: 2 });
    expect(Number.isNaN(medianMad([]).median)).toBe(true);
  });

  it('derives severity from magnitude and traffic share', () => {
    expect(severityOf(1, 0.1)).toBe('medium');
    expect(severityOf(1, 0.5)).toBe('high');
    expect(severityOf(1, 0.01)).toBe('low');
    expect(severityOf(3, 0.9)).toBe('critical');
    expect(severityOf(0, 0.001)).toBe('low');
    expect(severityRank('high')).toBeGreaterThan(severityRank('medium'));
    expect(clamp(5, 0, 1)).toBe(1);
    expect(clamp(-5, 0, 1)).toBe(0);
  });
});

describe('quantile', () => {
  it('interpolates between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 6);
    expect(quantile([7], 0.95)).toBe(7);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
  });
});
