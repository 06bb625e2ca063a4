import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/detect/ddsketch.js';
import { lognormal, pareto, seededRandom } from './beat-factory.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function expectWithin1Pct(sketch: DDSketch, values: number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of QS) {
    const exact = exactQuantile(sorted, q);
    const approx = sketch.quantile(q);
    expect(Math.abs(approx - exact) / exact, `q=${q} exact=${exact} approx=${approx}`).toBeLessThanOrEqual(0.01);
  }
}

describe('DDSketch', () => {
  it('is within 1 % of exact quantiles on lognormal data', () => {
    const rand = seededRandom(1);
    const s = new DDSketch();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = lognormal(rand, 40, 1.2);
      values.push(v);
      s.add(v);
    }
    expect(s.count).toBe(50_000);
    expectWithin1Pct(s, values);
  });

  it('is within 1 % of exact quantiles on heavy-tailed pareto data', () => {
    const rand = seededRandom(2);
    const s = new DDSketch();
    const values: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = pareto(rand, 0.2, 1.1);
      values.push(v);
      s.add(v);
    }
    expectWithin1Pct(s, values);
    expect(s.max).toBe(Math.max(...values));
  });

  it('handles zero and sub-millisecond durations', () => {
    const s = new DDSketch();
    for (let i = 0; i < 10; i++) s.add(0);
    for (let i = 1; i <= 90; i++) s.add(i * 0.001);
    expect(s.quantile(0)).toBe(0);
    expect(s.quantile(0.05)).toBe(0);
    const p50 = s.quantile(0.5);
    expect(Math.abs(p50 - 0.04) / 0.04).toBeLessThanOrEqual(0.01);
    expect(s.min).toBe(0);
    expect(s.max).toBeCloseTo(0.09, 10);
  });

  it('merges to the same quantiles as one sketch of all values', () => {
    const rand = seededRandom(3);
    const a = new DDSketch({ integerCounts: true });
    const b = new DDSketch({ integerCounts: true });
    const all = new DDSketch();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = i % 2 === 0 ? lognormal(rand, 5, 0.5) : lognormal(rand, 500, 0.3);
      values.push(v);
      (i % 2 === 0 ? a : b).add(v);
      all.add(v);
    }
    const merged = new DDSketch();
    merged.merge(a);
    merged.merge(b);
    expect(merged.count).toBe(20_000);
    for (const q of QS) expect(merged.quantile(q)).toBe(all.quantile(q));
    expectWithin1Pct(merged, values);
    expect(() => merged.merge(new DDSketch({ alpha: 0.01 }))).toThrow(RangeError);
  });

  it('keeps the bucket span bounded by folding the lowest buckets', () => {
    const s = new DDSketch({ maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) s.add(Math.pow(1.05, i % 400) * 0.01);
    expect(s.bucketSpan).toBeLessThanOrEqual(100);
    // The top quantiles stay accurate: folding only touches the low end.
    const exactMax = Math.pow(1.05, 399) * 0.01;
    expect(Math.abs(s.quantile(1) - exactMax) / exactMax).toBeLessThanOrEqual(0.01);
    const sorted = Array.from({ length: 1000 }, (_, i) => Math.pow(1.05, i % 400) * 0.01).sort((x, y) => x - y);
    const p99 = exactQuantile(sorted, 0.99);
    expect(Math.abs(s.quantile(0.99) - p99) / p99).toBeLessThanOrEqual(0.01);
    // A value far below the folded floor lands in the lowest bucket instead of growing the span.
    s.add(1e-5);
    expect(s.bucketSpan).toBeLessThanOrEqual(100);
    expect(s.count).toBe(1001);
  });

  it('folds everything when a new value is far above the whole span', () => {
    const s = new DDSketch({ maxBuckets: 16 });
    s.add(1);
    s.add(2);
    s.add(1e6);
    expect(s.bucketSpan).toBeLessThanOrEqual(16);
    expect(Math.abs(s.quantile(1) - 1e6) / 1e6).toBeLessThanOrEqual(0.01);
    expect(s.count).toBe(3);
  });

  it('counts values above a threshold', () => {
    const s = new DDSketch();
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.countAbove(90.5)).toBe(10);
    expect(s.countAbove(0)).toBe(100);
    expect(s.countAbove(1000)).toBe(0);
    expect(new DDSketch().countAbove(1)).toBe(0);
  });

  it('scales counts for decay and clears without losing accuracy on reuse', () => {
    const s = new DDSketch();
    for (let i = 1; i <= 100; i++) s.add(i);
    s.scale(0.5);
    expect(s.count).toBeCloseTo(50, 10);
    expect(s.quantile(0.5)).toBeCloseTo(50, -0.5);
    s.scale(0);
    expect(s.count).toBe(0);
    expect(Number.isNaN(s.quantile(0.5))).toBe(true);
    for (let i = 1; i <= 10; i++) s.add(i * 1000);
    expect(Math.abs(s.quantile(1) - 10_000) / 10_000).toBeLessThanOrEqual(0.01);
    expect(s.sum).toBe(55_000);
    s.clear();
    expect(s.count).toBe(0);
    expect(Number.isNaN(s.min)).toBe(true);
    expect(Number.isNaN(s.max)).toBe(true);
  });

  it('rejects invalid settings and ignores invalid values', () => {
    expect(() => new DDSketch({ alpha: 0 })).toThrow(RangeError);
    expect(() => new DDSketch({ integerCounts: true }).scale(0.5)).toThrow(TypeError);
    expect(() => new DDSketch().scale(-1)).toThrow(RangeError);
    const s = new DDSketch();
    s.add(Number.NaN);
    s.add(5, 0);
    expect(s.count).toBe(0);
    s.add(-3);
    expect(s.quantile(0.5)).toBe(0);
    expect(s.quantile(2)).toBe(0);
  });
});
