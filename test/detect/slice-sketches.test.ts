import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/detect/ddsketch.js';
import { SliceSketches } from '../../src/detect/slice-sketches.js';
import { lognormal, pareto, seededRandom } from './beat-factory.js';

const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function expectSame(packed: SliceSketches, slot: number, plain: DDSketch): void {
  expect(packed.count(slot)).toBe(plain.count);
  expect(packed.sum(slot)).toBe(plain.sum);
  expect(Number.isNaN(packed.min(slot)) ? NaN : packed.min(slot)).toBe(plain.min);
  expect(Number.isNaN(packed.max(slot)) ? NaN : packed.max(slot)).toBe(plain.max);
  for (const q of QUANTILES) expect(packed.quantile(slot, q)).toBe(plain.quantile(q));
  // Merged into a float sketch, both give the same buckets.
  const a = new DDSketch();
  const b = new DDSketch();
  packed.mergeInto(slot, a);
  a.merge(new DDSketch()); // an empty DDSketch merge is a no-op
  b.merge(plain);
  expect(a.toState()).toEqual(b.toState());
}

describe('SliceSketches', () => {
  it('answers every quantile exactly as a DDSketch of the same values, slot by slot', () => {
    const rand = seededRandom(7);
    const slots = 30;
    const packed = new SliceSketches(slots);
    const plain = Array.from({ length: slots }, () => new DDSketch({ integerCounts: true }));
    // Interleaved adds across slots with very different spreads force regions to move and the
    // pool to compact many times.
    for (let i = 0; i < 20_000; i++) {
      const slot = Math.floor(rand() * slots);
      const v = slot % 3 === 0 ? lognormal(rand, 20, 1.5) : slot % 3 === 1 ? pareto(rand, 1, 1.2) : rand() < 0.05 ? 0 : 5 + rand();
      packed.add(slot, v);
      plain[slot]!.add(v);
    }
    for (let s = 0; s < slots; s++) expectSame(packed, s, plain[s]!);
    expect(packed.poolCells).toBeGreaterThan(0);
  });

  it('reuses a cleared slot without stale counts and gives the pool back once every slot is released', () => {
    const packed = new SliceSketches(3);
    for (let i = 1; i <= 100; i++) packed.add(0, i);
    packed.add(1, 7);
    packed.clear(0);
    expect(packed.count(0)).toBe(0);
    expect(packed.quantile(0, 0.5)).toBeNaN();
    packed.add(0, 3);
    const plain = new DDSketch({ integerCounts: true });
    plain.add(3);
    expectSame(packed, 0, plain);
    packed.release(0);
    expect(packed.poolCells).toBeGreaterThan(0);
    packed.release(1);
    expect(packed.poolCells).toBe(0);
    packed.add(2, Number.NaN);
    expect(packed.count(2)).toBe(0);
  });

  it('widens its counts past 65 535 in a bucket instead of wrapping', () => {
    const packed = new SliceSketches(2);
    const plain = new DDSketch({ integerCounts: true });
    for (let i = 0; i < 70_000; i++) {
      packed.add(1, 12);
      plain.add(12);
    }
    packed.add(1, 500);
    plain.add(500);
    expectSame(packed, 1, plain);
  });

  it('folds its lowest buckets like a DDSketch when the range passes maxBuckets', () => {
    const packed = new SliceSketches(2, 0.005, 32);
    const plain = new DDSketch({ integerCounts: true, maxBuckets: 32 });
    const rand = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const v = pareto(rand, 1, 0.8);
      packed.add(0, v);
      plain.add(v);
    }
    expectSame(packed, 0, plain);
  });

  it('refuses an alpha outside (0, 1) and a merge across different alphas', () => {
    expect(() => new SliceSketches(1, 1)).toThrow(RangeError);
    const packed = new SliceSketches(1, 0.01);
    packed.add(0, 5);
    expect(() => packed.mergeInto(0, new DDSketch({ alpha: 0.005 }))).toThrow(RangeError);
  });
});
