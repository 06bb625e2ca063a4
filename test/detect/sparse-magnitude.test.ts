import { describe, expect, it } from 'vitest';
import { magnitudeTail } from '../../src/detect/sparse-magnitude.js';
import { lognormal, pareto, seededRandom } from './beat-factory.js';

const ln = (ms: number[]): number[] => ms.map(Math.log1p);

describe('magnitudeTail', () => {
  it('weighs how far recent values lie above a short history, not only that they are above it', () => {
    const pooled = ln([4.2, 5.1, 3.8, 4.9, 6.0, 4.4, 5.5]);
    const near = magnitudeTail(pooled, ln([6.5, 6.8, 7.0]), 0.25);
    const far = magnitudeTail(pooled, ln([2005, 1998, 2010]), 0.25);
    expect(far).toBeLessThan(1e-5);
    expect(near).toBeGreaterThan(0.05);
    expect(far).toBeLessThan(near);
  });

  it('is 1 without history or recent values, and for values at or below the pooled mean', () => {
    expect(magnitudeTail([], ln([100]), 0.25)).toBe(1);
    expect(magnitudeTail(ln([5]), ln([100]), 0.25)).toBe(1);
    expect(magnitudeTail(ln([5, 6, 7]), [], 0.25)).toBe(1);
    expect(magnitudeTail(ln([5, 6, 7, 5, 6]), ln([5, 6]), 0.25)).toBe(1);
  });

  it('rarely calls recent values of an unchanged heavy-tailed key far out (the bound holds for any distribution)', () => {
    const rand = seededRandom(3);
    let small = 0;
    const trials = 2000;
    for (let i = 0; i < trials; i++) {
      const draw = (): number => (i % 2 === 0 ? Math.min(550, pareto(rand, 2, 1.1)) : lognormal(rand, 10, 0.5));
      const pooled = ln(Array.from({ length: 5 + (i % 20) }, draw));
      const recent = ln(Array.from({ length: 1 + (i % 4) }, draw));
      if (magnitudeTail(pooled, recent, 0.25) < 0.01) small++;
    }
    expect(small / trials).toBeLessThan(0.01);
  });
});
