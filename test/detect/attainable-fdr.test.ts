import { describe, expect, it } from 'vitest';
import { attainableStepUp, taroneCount } from '../../src/detect/attainable-fdr.js';

/** The plain Benjamini-Hochberg step-up over every test (what ServiceSignals did before). */
function plainStepUp(ps: readonly number[], fdr: number): number[] {
  const order = ps.map((_, i) => i).sort((a, b) => ps[a]! - ps[b]!);
  let cutoff = -1;
  for (let r = 0; r < order.length; r++) if (ps[order[r]!]! <= ((r + 1) / order.length) * fdr) cutoff = r;
  return order.slice(0, cutoff + 1);
}

/** Lower tail at 0 of a Poisson count with mean lambda: the best a drop test of that count can do. */
const zeroTail = (lambda: number): number => Math.exp(-lambda);

describe('taroneCount', () => {
  it('is the number of tests when every test is unbounded, so the rule is the plain step-up', () => {
    expect(taroneCount([0, 0, 0, 0, 0], 1e-4)).toBe(5);
    expect(taroneCount([], 1e-4)).toBe(1);
  });

  it('leaves out the tests that cannot reach fdr / K', () => {
    // Two tests can reach any level, three can reach 1e-6, the rest never get below 0.01.
    const minPs = [0, 0, 1e-9, 1e-9, 1e-9, 0.01, 0.05, 0.2, 1, 1];
    // k = 5: 1e-4 / 5 = 2e-5, and the 5 tests at or below it are not more than 5.
    expect(taroneCount(minPs, 1e-4)).toBe(5);
    // The smallest such k: at k = 4 the bar 2.5e-5 still admits 5 tests.
    const m4 = minPs.filter((p) => p <= 1e-4 / 4).length;
    expect(m4).toBe(5);
  });
});

describe('attainableStepUp', () => {
  it('finds a lone strong drop among hundreds of sparse count tests that the plain step-up misses', () => {
    // 300 sibling-pair drop tests of a service fleet: most pairs write a few lines a window, so
    // even losing all of them is weak evidence (e^-2 .. e^-6); they look ordinary (p 0.3-0.9).
    const tests = Array.from({ length: 300 }, (_, i) => ({ p: 0.3 + (i % 7) * 0.1, minP: zeroTail(2 + (i % 5)) }));
    // One pair lost every one of its ~20 lines: p 2.3e-6 (the 10:04 travel-service case's figure).
    tests.push({ p: 2.3e-6, minP: 1e-10 });
    const fdr = 1e-4;
    expect(plainStepUp(tests.map((t) => t.p), fdr)).toEqual([]);
    expect(attainableStepUp(tests, fdr)).toEqual([300]);
  });

  it('is the plain step-up when every test is unbounded', () => {
    const ps = [1e-7, 3e-6, 2e-5, 0.01, 0.5, 1e-6, 0.9];
    const tests = ps.map((p) => ({ p, minP: 0 }));
    expect(attainableStepUp(tests, 1e-3).sort()).toEqual(plainStepUp(ps, 1e-3).sort());
    expect(attainableStepUp(tests, 1e-3).length).toBeGreaterThan(0);
  });

  it('never discovers a test that could not reach the bar, however small its reported p', () => {
    // A test whose smallest attainable p is above the level cannot be one of the discoveries.
    const tests = [
      { p: 1e-9, minP: 0.5 },
      { p: 1e-6, minP: 1e-8 },
    ];
    expect(attainableStepUp(tests, 1e-4)).toEqual([1]);
  });

  it('keeps the false discovery rate of unchanged discrete tests: drop tests of Poisson counts, simulated', () => {
    // Every test is null: a count with its true mean, tested for a drop by its exact lower tail.
    // Mostly small means (few lines a window), a few large ones. The level is loose (0.05) so
    // that discoveries happen at all; with every hypothesis null, FDR = P(any discovery).
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const poisson = (lambda: number): number => {
      let k = 0;
      let p = Math.exp(-lambda);
      let s = p;
      const u = rnd();
      while (u > s && k < 1000) {
        k++;
        p *= lambda / k;
        s += p;
      }
      return k;
    };
    const lowerTail = (k: number, lambda: number): number => {
      let p = Math.exp(-lambda);
      let s = p;
      for (let i = 1; i <= k; i++) s += p *= lambda / i;
      return Math.min(1, s);
    };
    const runs = 2000;
    let withDiscovery = 0;
    for (let r = 0; r < runs; r++) {
      const tests = Array.from({ length: 60 }, (_, i) => {
        const lambda = i < 50 ? 1 + (i % 4) : 15 + i;
        return { p: lowerTail(poisson(lambda), lambda), minP: lowerTail(0, lambda) };
      });
      if (attainableStepUp(tests, 0.05).length > 0) withDiscovery++;
    }
    // Within the level, with room for the simulation's own noise (sd about 0.005 at 2000 runs).
    expect(withDiscovery / runs).toBeLessThanOrEqual(0.05 + 0.015);
  });
});
