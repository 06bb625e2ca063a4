import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/detect/ddsketch.js';
import { newRollupSketch } from '../../src/detect/rollup-buckets.js';
import { decodeSketch, encodeSketch, SketchDecodeError } from '../../src/store/sketch-codec.js';
import { seededRandom, lognormal } from '../detect/beat-factory.js';

describe('stored sketch codec', () => {
  it('round-trips counts, zero bucket, min, max, sum and every quantile', () => {
    const rand = seededRandom(3);
    const s = newRollupSketch();
    for (let i = 0; i < 2000; i++) s.add(lognormal(rand, 40, 0.8));
    s.add(0);
    s.add(0.2); // below 1 ms: a negative bucket index
    const back = decodeSketch(encodeSketch(s));
    expect(back.count).toBe(s.count);
    expect(back.min).toBe(s.min);
    expect(back.max).toBe(s.max);
    expect(back.sum).toBeCloseTo(s.sum, 6);
    for (const q of [0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) expect(back.quantile(q)).toBe(s.quantile(q));
  });

  it('stores an empty sketch and a sparse one in a few bytes', () => {
    const empty = decodeSketch(encodeSketch(newRollupSketch()));
    expect(empty.count).toBe(0);
    expect(Number.isNaN(empty.quantile(0.5))).toBe(true);
    const s = newRollupSketch();
    for (const v of [3, 5, 8, 13, 21, 34, 55, 89, 144, 233]) s.add(v);
    // Header 33 bytes + a few varints per non-empty bucket, never a dense array.
    expect(encodeSketch(s).length).toBeLessThan(33 + 10 * 4 + 4);
    expect(decodeSketch(encodeSketch(s)).quantile(0.5)).toBe(s.quantile(0.5));
  });

  it('merges after decoding exactly like the originals', () => {
    const a = newRollupSketch();
    const b = newRollupSketch();
    for (let i = 1; i <= 100; i++) (i % 2 === 0 ? a : b).add(i);
    const merged = decodeSketch(encodeSketch(a));
    merged.merge(decodeSketch(encodeSketch(b)));
    const direct = newRollupSketch();
    direct.merge(a);
    direct.merge(b);
    expect(merged.count).toBe(100);
    expect(merged.quantile(0.95)).toBe(direct.quantile(0.95));
  });

  it('refuses fractional counts (decayed sketches are not stored)', () => {
    const s = new DDSketch({ alpha: 0.01 });
    s.add(10, 0.5);
    expect(() => encodeSketch(s)).toThrow(RangeError);
  });

  it('rejects bytes that are not a stored sketch with a clear error', () => {
    expect(() => decodeSketch(Buffer.from([]))).toThrow(SketchDecodeError);
    expect(() => decodeSketch(Buffer.alloc(40, 0xff))).toThrow(/unknown format/);
    const good = encodeSketch(((): DDSketch => {
      const s = newRollupSketch();
      for (let i = 1; i < 50; i++) s.add(i);
      return s;
    })());
    expect(() => decodeSketch(good.subarray(0, good.length - 3))).toThrow(/truncated/);
    const badAlpha = Buffer.from(good);
    badAlpha.writeDoubleLE(7, 1);
    expect(() => decodeSketch(badAlpha)).toThrow(/alpha/);
    const huge = Buffer.concat([good.subarray(0, 33), Buffer.alloc(12, 0xff)]);
    expect(() => decodeSketch(huge)).toThrow(SketchDecodeError);
  });
});
