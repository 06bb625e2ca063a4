import { describe, expect, it } from 'vitest';
import { DDSketch } from '../../src/detect/ddsketch.js';
import { detectLatencyRegression, detectSloBreach, HourProfile, LatencyBaseline, SHIFT_QUANTILES, type LatencyParams } from '../../src/detect/latency-detector.js';
import { SliceWindow, type Slice, type SliceSink } from '../../src/detect/slice-window.js';
import { lognormal, makeBeat, seededRandom } from './beat-factory.js';

const PARAMS: LatencyParams = {
  significance: 1e-4,
  minRelativeEffect: 0.3,
  minAbsoluteMs: 1,
  minSamples: 30,
  baselineMinSlices: 10,
  baselineSlices: 360,
};

function trainedBaseline(rand: () => number, slices: number, perSlice: number, median: number, sigma = 0.3): LatencyBaseline {
  const baseline = new LatencyBaseline(PARAMS);
  const sink: SliceSink = {
    closeSlice: (s: Slice) => baseline.learn(s),
    skipSlices: (n: number) => baseline.skip(n),
  };
  const w = new SliceWindow(1000, 1);
  for (let s = 0; s <= slices; s++) {
    for (let i = 0; i < perSlice; i++) w.add(makeBeat({ startMs: s * 1000 + i, durationMs: lognormal(rand, median, sigma) }), false, sink);
  }
  return baseline;
}

function windowOf(values: number[]): { count: number; sketch: DDSketch; endMs: number } {
  const sketch = new DDSketch();
  for (const v of values) sketch.add(v);
  return { count: values.length, sketch, endMs: 1e6 };
}

function draw(rand: () => number, n: number, median: number, sigma = 0.3): number[] {
  return Array.from({ length: n }, () => lognormal(rand, median, sigma));
}

describe('LatencyBaseline', () => {
  it('warms up after enough slices and samples, and decays over empty slices', () => {
    const rand = seededRandom(10);
    const cold = trainedBaseline(rand, 5, 50, 40);
    expect(cold.warm).toBe(false);
    expect(cold.confidence).toBe(0);
    const b = trainedBaseline(rand, 40, 50, 40);
    expect(b.warm).toBe(true);
    expect(b.slices).toBe(40);
    expect(b.confidence).toBe(1);
    const p50 = b.quantile(0.5);
    expect(Math.abs(p50 - 40) / 40).toBeLessThan(0.05);
    expect(b.robustZ(40 * Math.exp(0.3 * 1.645))).toBeLessThan(2);
    expect(b.robustZ(400)).toBeGreaterThan(5);
    // The novelty scorer needs 50 slice p95s before it speaks.
    expect(b.seriesScore(400).score).toBe(0);
    const grown = trainedBaseline(rand, 60, 50, 40);
    // A p95 far above every slice p95 so far is an alarm; a typical one is not.
    expect(grown.seriesScore(400).alarm).toBe(true);
    expect(grown.seriesScore(400).novelty).toBeGreaterThan(1);
    expect(grown.seriesScore(40 * Math.exp(0.3 * 1.645)).alarm).toBe(false);
    const before = b.weight;
    b.skip(360);
    expect(b.weight).toBeLessThan(before * 0.4);
  });
});

describe('detectLatencyRegression', () => {
  const rand = seededRandom(11);
  const baseline = trainedBaseline(rand, 60, 40, 40);

  it('does not fire on a window drawn from the baseline distribution', () => {
    for (let i = 0; i < 20; i++) expect(detectLatencyRegression(windowOf(draw(rand, 500, 40)), baseline, PARAMS, 0.5)).toBeUndefined();
  });

  it('fires on a p95 regression with severity and confidence', () => {
    const v = detectLatencyRegression(windowOf(draw(rand, 300, 120)), baseline, PARAMS, 0.5)!;
    expect(v).toBeDefined();
    expect(v.subtype).toBe('latency-regression');
    expect(v.figure).toBe('p95');
    expect(v.observedMs / v.expectedMs).toBeGreaterThan(2);
    expect(v.pValue).toBeLessThan(1e-10);
    expect(v.exceedances).toBeGreaterThan(200);
    expect(v.severity).toBe('critical'); // ratio >= 2 -> high, +1 for a large traffic share
    expect(v.confidence).toBeGreaterThan(0.7);
    expect(v.robustZ).toBeGreaterThan(3);
  });

  it('catches a tail-only regression on p99', () => {
    const values = draw(rand, 3000, 40);
    for (let i = 0; i < 90; i++) values[i] = 600;
    const v = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.1)!;
    expect(v).toBeDefined();
    expect(v.figure).toBe('p99');
  });

  it('ignores small effects even when significant, and thin windows', () => {
    expect(detectLatencyRegression(windowOf(draw(rand, 5000, 46)), baseline, PARAMS, 0.5)).toBeUndefined();
    expect(detectLatencyRegression(windowOf(draw(rand, 10, 400)), baseline, PARAMS, 0.5)).toBeUndefined();
  });

  it('needs a warm baseline', () => {
    const cold = trainedBaseline(seededRandom(12), 3, 40, 40);
    expect(detectLatencyRegression(windowOf(draw(rand, 300, 400)), cold, PARAMS, 0.5)).toBeUndefined();
  });

  it('is harder to trigger with a raised sensitivity factor', () => {
    const w = windowOf(draw(rand, 400, 64));
    expect(detectLatencyRegression(w, baseline, PARAMS, 0.5, 1)).toBeDefined();
    expect(detectLatencyRegression(w, baseline, PARAMS, 0.5, 4)).toBeUndefined();
  });

  it('tests the median on a short horizon: a whole-distribution shift in 60 beats', () => {
    const values = draw(rand, 60, 64); // x1.6
    const shift = { quantiles: SHIFT_QUANTILES, significance: 5e-7 };
    const v = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, shift)!;
    expect(v).toBeDefined();
    expect(['p50', 'p95']).toContain(v.figure);
    expect(v.pValue).toBeLessThan(5e-7);
    // The median carries more evidence per beat than the tail: its p-value is the smaller one.
    const p95Only = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: [SHIFT_QUANTILES[1]!], significance: 1 });
    const p50Only = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: [SHIFT_QUANTILES[0]!], significance: 1 });
    expect(p50Only!.pValue).toBeLessThan(p95Only?.pValue ?? 1);
    // The same shift in 60 beats drawn from the baseline: nothing.
    for (let i = 0; i < 20; i++) expect(detectLatencyRegression(windowOf(draw(rand, 60, 40)), baseline, PARAMS, 0.5, 1, shift)).toBeUndefined();
  });

  it('with requireAll, needs every quantile: a median shift whose tail did not move is not a shift', () => {
    // 60 % of beats move up to about the baseline p90, none beyond: the median shifts, p95 not.
    const values = draw(rand, 200, 40).map((x, i) => (i % 5 < 3 ? Math.min(Math.max(x * 1.6, 58), 58) : x));
    const either = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: SHIFT_QUANTILES, significance: 1e-6 });
    expect(either?.figure).toBe('p50');
    expect(
      detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: SHIFT_QUANTILES, significance: 1e-6, requireAll: true }),
    ).toBeUndefined();
    // A real shift passes both and reports the stronger evidence.
    const shifted = detectLatencyRegression(windowOf(draw(rand, 200, 80)), baseline, PARAMS, 0.5, 1, {
      quantiles: SHIFT_QUANTILES,
      significance: 1e-6,
      requireAll: true,
    })!;
    expect(shifted).toBeDefined();
    expect(shifted.observedMs / shifted.expectedMs).toBeGreaterThan(1.6);
  });

  it('applies a stricter significance to another look', () => {
    const values = draw(rand, 120, 60);
    const loose = detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: SHIFT_QUANTILES })!;
    expect(loose).toBeDefined();
    expect(detectLatencyRegression(windowOf(values), baseline, PARAMS, 0.5, 1, { quantiles: SHIFT_QUANTILES, significance: loose.pValue / 2 })).toBeUndefined();
  });
});

describe('detectSloBreach', () => {
  const rand = seededRandom(13);

  it('flags p95 above the target and reports the ratio', () => {
    const v = detectSloBreach(windowOf(draw(rand, 200, 100)), { p95Ms: 80 }, PARAMS, 0.3)!;
    expect(v.subtype).toBe('slo-breach');
    expect(v.figure).toBe('p95');
    expect(v.expectedMs).toBe(80);
    expect(v.observedMs).toBeGreaterThan(80);
    expect(v.confidence).toBeGreaterThan(0.5);
  });

  it('flags a single beat above maxMs and picks the worst breach', () => {
    const values = draw(rand, 200, 10, 0.1);
    values[0] = 5000;
    const v = detectSloBreach(windowOf(values), { p95Ms: 5, maxMs: 1000 }, PARAMS, 0.3)!;
    expect(v.figure).toBe('max');
    expect(Math.abs(v.observedMs - 5000)).toBeLessThan(1);
    expect(v.severity).toBe('critical');
  });

  it('needs enough beats for p99 and stays quiet within target', () => {
    expect(detectSloBreach(windowOf(draw(rand, 50, 100)), { p99Ms: 10 }, PARAMS, 0.3)).toBeUndefined();
    expect(detectSloBreach(windowOf(draw(rand, 150, 100)), { p99Ms: 10 }, PARAMS, 0.3)?.figure).toBe('p99');
    expect(detectSloBreach(windowOf(draw(rand, 200, 10, 0.1)), { p95Ms: 100, p99Ms: 100, maxMs: 1000 }, PARAMS, 0.3)).toBeUndefined();
    expect(detectSloBreach(windowOf([]), { maxMs: 1 }, PARAMS, 0.3)).toBeUndefined();
    expect(detectSloBreach(windowOf([5]), undefined, PARAMS, 0.3)).toBeUndefined();
  });
});

describe('HourProfile', () => {
  const H = 3_600_000;
  const D = 24 * H;

  it('reports the ratio between two hours once both have two days of history', () => {
    const p = new HourProfile();
    const day0 = Date.UTC(2026, 0, 5);
    for (const day of [0, 1]) {
      for (let m = 0; m < 60; m++) {
        p.learn(day0 + day * D + 1 * H + m * 60_000, Math.log(10));
        p.learn(day0 + day * D + 2 * H + m * 60_000, Math.log(25));
      }
      if (day === 0) expect(p.factor(day0 + 2 * H + 5, day0 + 1 * H)).toBe(1); // one day only
    }
    expect(p.days(day0 + 2 * H)).toBe(2);
    expect(p.factor(day0 + 2 * D + 2 * H + 600_000, day0 + 2 * D + 1 * H + 1_800_000)).toBeCloseTo(2.5, 6);
    // Never below 1, and the same hour is never corrected.
    expect(p.factor(day0 + 1 * H, day0 + 2 * H)).toBe(1);
    expect(p.factor(day0 + 2 * H, day0 + 2 * H + 60_000)).toBe(1);
    // Unseen hours are not trusted.
    expect(p.factor(day0 + 5 * H, day0 + 1 * H)).toBe(1);
  });

  it('averages each hour over its last `memory` points and counts days past 255 without wrapping', () => {
    const p = new HourProfile(4);
    const day0 = Date.UTC(2026, 0, 5);
    // Hour 1 learns 0.25 four times, then 1.45 with weight 1/4 (memory 4): 0.55; hour 2 stays at 0.
    for (let i = 0; i < 4; i++) p.learn(day0 + H + i, 0.25);
    p.learn(day0 + H + 10, 1.45);
    p.learn(day0 + D + H, 0.55);
    for (let day = 0; day < 2; day++) p.learn(day0 + day * D + 2 * H, 0);
    expect(p.factor(day0 + 2 * D + H, day0 + 2 * D + 2 * H)).toBeCloseTo(Math.exp(0.55), 9);
    for (let day = 0; day < 300; day++) p.learn(day0 + day * D + 3 * H, 0);
    expect(p.days(day0 + 3 * H)).toBe(255);
  });

  it('is applied to the baseline by the regression test', () => {
    const rand = seededRandom(14);
    const b = new LatencyBaseline({ ...PARAMS, baselineSlices: 60, sliceMs: 60_000 });
    const sink: SliceSink = { closeSlice: (s: Slice) => { b.learnSeason(s); b.learn(s); }, skipSlices: (n: number) => b.skip(n) };
    const w = new SliceWindow(60_000, 1);
    const day0 = Date.UTC(2026, 0, 5);
    // Two days: 01:00-02:00 at 10 ms, 02:00-03:00 at 25 ms; then day 3 up to 02:00.
    const end = day0 + 2 * D + 2 * H;
    for (let t = day0; t < end; t += 60_000) {
      const hour = Math.floor((t - day0) / H) % 24;
      if (hour < 1 || hour > 2) continue;
      for (let i = 0; i < 20; i++) w.add(makeBeat({ startMs: t + i * 1000, durationMs: lognormal(rand, hour === 2 ? 25 : 10, 0.2) }), false, sink);
    }
    w.advanceTo(end + 60_000, sink);
    expect(b.seasonalFactor(end, end + 300_000)).toBeGreaterThan(2);
    const slowHour = windowOf(draw(rand, 100, 25, 0.2));
    expect(detectLatencyRegression(slowHour, b, PARAMS, 0.5)).toBeDefined();
    const verdict = detectLatencyRegression({ ...slowHour, startMs: end, endMs: end + 300_000 }, b, PARAMS, 0.5);
    expect(verdict).toBeUndefined();
    const worse = detectLatencyRegression({ ...windowOf(draw(rand, 100, 80, 0.2)), startMs: end, endMs: end + 300_000 }, b, PARAMS, 0.5)!;
    expect(worse.seasonalFactor).toBeGreaterThan(2);
  });
});
