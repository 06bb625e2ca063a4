import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/detect/ddsketch.js';
import { SLICE_SKETCH_DOUBLES, SLICE_SKETCH_INTS, SliceSketches } from '../../src/detect/slice-sketches.js';
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

  it('answers like a DDSketch while slices keep leaving and new ones take their slots (regions given up, the pool compacted in place)', () => {
    const rand = seededRandom(11);
    const slots = 30;
    const packed = new SliceSketches(slots);
    const plain = Array.from({ length: slots }, () => new DDSketch({ integerCounts: true }));
    const peak: number[] = [];
    for (let round = 0; round < 600; round++) {
      // The oldest slice leaves (its region is given up) and a new one fills its slot, with a
      // range that drifts, so regions differ in size and keep moving.
      const slot = round % slots;
      packed.release(slot);
      plain[slot] = new DDSketch({ integerCounts: true });
      const base = 1 + (round % 50);
      for (let i = 0; i < 40; i++) {
        const v = rand() < 0.1 ? pareto(rand, base, 1.1) : base * (1 + rand());
        packed.add(slot, v);
        plain[slot]!.add(v);
      }
      if (round >= slots) peak.push(packed.poolCells);
      if (round % 97 === 0) for (let s = 0; s < slots; s++) expectSame(packed, s, plain[s]!);
    }
    for (let s = 0; s < slots; s++) expectSame(packed, s, plain[s]!);
    // The pool stays of the order of what the slots hold: it does not creep up with every move.
    expect(Math.max(...peak)).toBeLessThan(4 * Math.min(...peak));
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

  it('widens its counts past 255 and past 65 535 in a bucket instead of wrapping', () => {
    const packed = new SliceSketches(2);
    const plain = new DDSketch({ integerCounts: true });
    packed.add(0, 40);
    for (let i = 0; i < 70_000; i++) {
      if (i === 255) expect(packed.cellBytes).toBe(1);
      if (i === 256) expect(packed.cellBytes).toBe(2);
      if (i === 65_535) expect(packed.cellBytes).toBe(2);
      packed.add(1, 12);
      plain.add(12);
    }
    expect(packed.cellBytes).toBe(4);
    // The other slot's count survived both widenings.
    const other = new DDSketch({ integerCounts: true });
    other.add(40);
    expectSame(packed, 0, other);
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

  it('keeps its figures in arrays its owner hands it, and refuses arrays too small for the slots', () => {
    const ints = new Int32Array(2 * SLICE_SKETCH_INTS);
    const doubles = new Float64Array(2 * SLICE_SKETCH_DOUBLES);
    const packed = new SliceSketches(2, 0.005, 2048, 1e-6, { ints, doubles });
    const plain = new DDSketch({ integerCounts: true });
    for (const v of [3, 9, 27]) {
      packed.add(1, v);
      plain.add(v);
    }
    expectSame(packed, 1, plain);
    expect(doubles[SLICE_SKETCH_DOUBLES + 2]).toBe(39);
    expect(() => new SliceSketches(3, 0.005, 2048, 1e-6, { ints, doubles })).toThrow(RangeError);
  });

  it('refuses an alpha outside (0, 1) and a merge across different alphas', () => {
    expect(() => new SliceSketches(1, 1)).toThrow(RangeError);
    const packed = new SliceSketches(1, 0.01);
    packed.add(0, 5);
    expect(() => packed.mergeInto(0, new DDSketch({ alpha: 0.005 }))).toThrow(RangeError);
  });
});
