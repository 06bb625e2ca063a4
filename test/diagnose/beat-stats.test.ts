import { describe, expect, it } from 'vitest';
import { baselineFigures, distinctCount, median, mostCommon, quantile, round } from '../../src/diagnose/beat-stats.js';
import { beat, failing } from './fixtures.js';

describe('beat stats', () => {
  it('interpolates quantiles and handles empty input', () => {
    expect(quantile([], 0.5)).toBeUndefined();
    expect(quantile([10, 0, 20], 0.5)).toBe(10);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([1, 2, 3], 2)).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('computes baseline figures including the error rate', () => {
    expect(baselineFigures([])).toEqual({ samples: 0 });
    const beats = [...Array.from({ length: 99 }, (_, i) => beat({ durationMs: i + 1 })), failing({}, { durationMs: 100 })];
    const f = baselineFigures(beats);
    expect(f.samples).toBe(100);
    expect(f.p50Ms).toBe(50.5);
    expect(f.p95Ms).toBeCloseTo(95.05, 2);
    expect(f.errorRate).toBe(0.01);
  });

  it('finds the most common non-empty value and counts distinct ones', () => {
    expect(mostCommon(['', 'a', 'b', 'b', ''])).toBe('b');
    expect(mostCommon(['', ''])).toBeUndefined();
    expect(distinctCount(['x', 'y', 'x', ''])).toBe(2);
    expect(round(1.23456, 3)).toBe(1.235);
  });
});
