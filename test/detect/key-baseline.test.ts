import { describe, expect, it } from 'vitest';
import { KeyBaseline } from '../../src/detect/key-baseline.js';
import { seededRandom } from './beat-factory.js';

describe('KeyBaseline', () => {
  it('says "learning (k/n)" until warm and scores 0 meanwhile', () => {
    const b = new KeyBaseline(10, 3);
    expect(b.learning()).toBe('learning (0/3)');
    b.add(5);
    b.add(Number.NaN); // ignored
    expect(b.learning()).toBe('learning (1/3)');
    expect(b.z(100, 0, 1)).toBe(0);
    b.add(5);
    b.add(5);
    expect(b.warm).toBe(true);
    expect(b.learning()).toBe('');
    expect(b.count).toBe(3);
  });

  it('scales by the key\'s own variability: a wildly swinging key needs far more than 3x', () => {
    const rand = seededRandom(3);
    const swinging = new KeyBaseline(90, 12);
    const steady = new KeyBaseline(90, 12);
    for (let i = 0; i < 90; i++) {
      // p95 of a DB query swinging 2-550 ms between minutes
      swinging.add(Math.log1p(2 + 548 * rand() ** 3));
      steady.add(Math.log1p(20 + rand()));
    }
    const median = swinging.centre(0, 0.05).median;
    expect(swinging.z(median + Math.log(3), 0, 0.05)).toBeLessThan(5);
    expect(steady.z(Math.log1p(60), 0, 0.05)).toBeGreaterThan(5);
  });

  it('never scales below the relative and absolute floors', () => {
    const b = new KeyBaseline(10, 1);
    for (let i = 0; i < 10; i++) b.add(100);
    expect(b.centre(0.1, 1).scale).toBe(10);
    expect(b.centre(0, 1).scale).toBe(1);
    expect(b.z(120, 0.1, 1)).toBe(2);
  });

  it('forgets the oldest values beyond its capacity', () => {
    const b = new KeyBaseline(3, 1);
    for (const v of [1, 1, 1, 9, 9, 9]) b.add(v);
    expect(b.centre(0, 0).median).toBe(9);
  });
});
