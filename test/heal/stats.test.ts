import { describe, expect, it } from 'vitest';
import { mannWhitneyU, normalCdf, twoProportionTest } from '../../src/heal/stats.js';

describe('normalCdf', () => {
  it('matches known values of the standard normal', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 4);
    expect(normalCdf(-1.644854)).toBeCloseTo(0.05, 4);
    expect(normalCdf(3)).toBeCloseTo(0.99865, 4);
  });
});

describe('mannWhitneyU', () => {
  it('computes U as the number of pairs where a beats b', () => {
    // a = [1,2,3], b = [4,5]: no a exceeds any b.
    expect(mannWhitneyU([1, 2, 3], [4, 5], 'greater').u).toBe(0);
    expect(mannWhitneyU([4, 5], [1, 2, 3], 'greater').u).toBe(6);
  });

  it('is significant for clearly shifted samples, in the right direction only', () => {
    const before = Array.from({ length: 30 }, (_, i) => 100 + i);
    const after = Array.from({ length: 30 }, (_, i) => 50 + i);
    expect(mannWhitneyU(before, after, 'greater').p).toBeLessThan(0.001);
    expect(mannWhitneyU(before, after, 'less').p).toBeGreaterThan(0.99);
  });

  it('matches the textbook normal approximation with continuity correction', () => {
    // n1 = n2 = 10, U = 80: mean 50, sd sqrt(10*10*21/12) = 13.2288; z = (80-50-0.5)/13.2288
    const a = [11, 12, 13, 14, 15, 16, 17, 18, 3, 4];
    const b = [1, 2, 5, 6, 7, 8, 9, 10, 19, 20];
    const r = mannWhitneyU(a, b, 'greater');
    // count pairs: a values 11..18 beat 8 b values each (1,2,5..10) = 64, 3 beats 2, 4 beats 2 -> 68
    expect(r.u).toBe(68);
    const z = (68 - 50 - 0.5) / Math.sqrt((10 * 10 * 21) / 12);
    expect(r.z).toBeCloseTo(z, 8);
    expect(r.p).toBeCloseTo(1 - normalCdf(z), 8);
  });

  it('applies the tie correction (variance shrinks with ties)', () => {
    const a = [1, 1, 1, 2, 2, 2, 3, 3];
    const b = [1, 1, 2, 2, 2, 2, 2, 2];
    const r = mannWhitneyU(a, b, 'greater');
    // ranks: six 1s -> 3.5, ten 2s? compute the expected z by hand
    const all = [...a, ...b].sort((x, y) => x - y);
    const n = all.length;
    const groups = [5, 9, 2]; // five 1s, nine 2s, two 3s
    expect(all.filter((v) => v === 1).length).toBe(groups[0]);
    const tie = groups.reduce((s, t) => s + t ** 3 - t, 0);
    const variance = (64 / 12) * (n + 1 - tie / (n * (n - 1)));
    expect(r.z).toBeCloseTo((r.u - 32 - 0.5) / Math.sqrt(variance), 8);
  });

  it('returns p = 1 for empty or constant samples', () => {
    expect(mannWhitneyU([], [1, 2], 'greater').p).toBe(1);
    expect(mannWhitneyU([5, 5, 5], [5, 5], 'less').p).toBe(1);
  });
});

describe('twoProportionTest', () => {
  it('detects a drop in error rate', () => {
    const r = twoProportionTest(30, 100, 5, 100, 'greater');
    expect(r.p1).toBeCloseTo(0.3);
    expect(r.p2).toBeCloseTo(0.05);
    const pooled = 35 / 200;
    const z = (0.3 - 0.05) / Math.sqrt(pooled * (1 - pooled) * (2 / 100));
    expect(r.z).toBeCloseTo(z, 8);
    expect(r.p).toBeLessThan(0.001);
    expect(twoProportionTest(30, 100, 5, 100, 'less').p).toBeGreaterThan(0.99);
  });

  it('returns p = 1 without data or variance', () => {
    expect(twoProportionTest(0, 0, 1, 10, 'greater').p).toBe(1);
    expect(twoProportionTest(0, 50, 0, 50, 'greater').p).toBe(1);
  });
});
