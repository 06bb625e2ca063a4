import { describe, expect, it } from 'vitest';
import { episodes, matches, median, score, type Report } from './scoring.js';
import type { Scenario } from './scenario.js';

const scenario: Scenario = {
  seed: 1,
  sliceMs: 1000,
  startMs: 0,
  slices: 100,
  warmupSlices: 10,
  graceSlices: 3,
  faults: [
    { id: 'f1', kind: 'missing-beat', startSlice: 20, endSlice: 30, service: 's', sequence: 'q', handler: 'h', expect: [{ type: 'behavioral', subtype: 'missing-beat', handler: 'h' }], related: [{ type: 'performance', sequence: 'q' }] },
    { id: 'f2', kind: 'error-burst', startSlice: 50, endSlice: 60, service: 's', handler: 'e', expect: [{ type: 'error', handler: 'e' }], related: [] },
  ],
};

const rep = (slice: number, key: string, f: Partial<Report['finding']>): Report => ({ slice, finding: { key, type: 'behavioral', subtype: 'missing-beat', service: 's', ...f } });

describe('fault scoring', () => {
  it('matches on every field a matcher names', () => {
    expect(matches({ type: 'error', handler: 'e' }, { key: 'k', type: 'error', subtype: 'error-rate-spike', service: 's', handler: 'e' })).toBe(true);
    expect(matches({ type: 'error', handler: 'e' }, { key: 'k', type: 'error', subtype: 'error-rate-spike', service: 's', handler: 'x' })).toBe(false);
    expect(matches({ type: 'error', sequence: 'q' }, { key: 'k', type: 'performance', subtype: 'slo-breach', service: 's' })).toBe(false);
  });

  it('merges a key reported on nearby slices into one episode', () => {
    const eps = episodes([rep(5, 'a', {}), rep(6, 'a', {}), rep(9, 'a', {}), rep(20, 'a', {}), rep(6, 'b', {})]);
    expect(eps.map((e) => [e.key, e.firstSlice, e.lastSlice])).toEqual([['a', 5, 9], ['b', 6, 6], ['a', 20, 20]]);
  });

  it('scores precision, recall and time to detect', () => {
    const r = score(scenario, [
      rep(3, 'warm', {}),
      rep(21, 'miss', { handler: 'h' }),
      rep(22, 'perf', { type: 'performance', subtype: 'latency-regression', sequence: 'q' }),
      rep(40, 'noise', { handler: 'z' }),
    ]);
    expect(r.warmupEpisodes).toBe(1);
    expect(r.truePositives).toBe(2);
    expect(r.relatedPositives).toBe(1);
    expect(r.falsePositives.map((e) => e.key)).toEqual(['noise']);
    expect(r.precision).toBeCloseTo(2 / 3);
    expect(r.recall).toBe(0.5);
    expect(r.faults[0]).toMatchObject({ id: 'f1', detected: true, ttdSlices: 2, detectedBy: 'miss' });
    expect(r.faults[1]!.detected).toBe(false);
    expect(r.medianTtdSlices).toBe(2);
  });

  it('takes the median of odd and even lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
