import { describe, expect, it } from 'vitest';
import { quasiPoissonTail } from '../../src/detect/event-patterns.js';
import { onsetHeld } from '../../src/detect/onset-hold.js';

const upper = (k: number, lambda: number): number => quasiPoissonTail(k, lambda, true);

describe('onsetHeld', () => {
  it('holds a slice whose count alone is beyond the bar, and only then', () => {
    // Two lines against 0.02 expected: p about 2e-4, beyond z 3 (p 1.3e-3).
    expect(onsetHeld(2, 0.02, 1, 3, upper)).toBe(true);
    // One line against 0.02: p 0.02, an ordinary rare line.
    expect(onsetHeld(1, 0.02, 1, 3, upper)).toBe(false);
    // Five lines against 0.3 for a pattern that bursts (dispersion 3): within its bursts.
    expect(onsetHeld(5, 0.3, 3, 3, upper)).toBe(false);
    expect(onsetHeld(5, 0.3, 1, 3, upper)).toBe(true);
    // Fewer than expected is never an onset.
    expect(onsetHeld(2, 4, 1, 3, upper)).toBe(false);
  });

  it('holds a slice of an unchanged Poisson line no more often than the level of the bar', () => {
    let held = 0;
    const lambda = 0.8;
    // Exact: sum over k of P(k) for the held k.
    let pk = Math.exp(-lambda);
    for (let k = 0; k < 40; k++) {
      if (onsetHeld(k, lambda, 1, 3, upper)) held += pk;
      pk *= lambda / (k + 1);
    }
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(0.00135);
  });
});
