import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareSnapshots, insightsMarkdown, LearningStore, SENSITIVITY_MAX, takeSnapshot } from '../../src/heal/learn.js';
import type { TelemetrySnapshot } from '../../src/model/heal.js';
import { tempDb, type TempDb } from './fixtures/samples.js';

/** Deterministic pseudo-random durations around `center`. */
function durations(n: number, center: number, spread: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return center + ((s / 2147483648) * 2 - 1) * spread;
  });
}

function snap(d: number[], errors: number, count = d.length): TelemetrySnapshot {
  return { takenMs: 0, durationsMs: d, errors, count, version: '1.1.0' };
}

const OPTS = { alpha: 0.05, minSamples: 8 };

describe('compareSnapshots', () => {
  it('ignores statistically clear but negligible shifts (microseconds on many samples)', () => {
    const tiny = (shift: number) => Array.from({ length: 400 }, (_, i) => 0.0046 + shift + (i % 7) * 0.0001);
    const strict = { ...OPTS, alpha: 0.01, minRelativeChange: 0.1, minAbsoluteMs: 1, minErrorRateChange: 0.01 };
    // Errors fall from 8.5 % to 0 while latency creeps up by 0.8 µs: that is an improvement.
    const out = compareSnapshots(snap(tiny(0), 34), snap(tiny(0.0008), 0), strict);
    expect(out.latencyPWorse).toBeLessThan(0.01);
    expect(out.verdict).toBe('improved');
    // Without the practical thresholds the same data reads as worse.
    expect(compareSnapshots(snap(tiny(0), 34), snap(tiny(0.0008), 0), { alpha: 0.01, minSamples: 8 }).verdict).toBe('worse');
    // A small error-rate wobble below one percentage point is no change.
    expect(compareSnapshots(snap(tiny(0), 4, 4000), snap(tiny(0), 0, 4000), { ...strict, alpha: 0.5 }).verdict).toBe('no-change');
  });

  it('calls a clear latency drop improved, with percentages', () => {
    const out = compareSnapshots(snap(durations(60, 200, 20), 0), snap(durations(60, 100, 10, 7), 0), OPTS);
    expect(out.verdict).toBe('improved');
    expect(out.p50ImprovementPct!).toBeGreaterThan(40);
    expect(out.p50ImprovementPct!).toBeLessThan(60);
    expect(out.p95ImprovementPct!).toBeGreaterThan(40);
    expect(out.latencyPImproved!).toBeLessThan(0.001);
    expect(out.samplesBefore).toBe(60);
  });

  it('calls an error-rate drop improved even when latency is unchanged', () => {
    const d = durations(80, 50, 5);
    const out = compareSnapshots(snap(d, 30, 100), snap(durations(80, 50, 5, 3), 1, 100), OPTS);
    expect(out.verdict).toBe('improved');
    expect(out.errorRateBefore).toBeCloseTo(0.3);
    expect(out.errorRateAfter).toBeCloseTo(0.01);
    expect(out.errorRateImprovementPct!).toBeCloseTo(96.67, 1);
  });

  it('calls the same distribution no-change and a slowdown worse', () => {
    expect(compareSnapshots(snap(durations(60, 100, 10), 0), snap(durations(60, 100, 10, 9), 0), OPTS).verdict).toBe('no-change');
    const worse = compareSnapshots(snap(durations(60, 100, 10), 0), snap(durations(60, 180, 10, 5), 0), OPTS);
    expect(worse.verdict).toBe('worse');
    expect(worse.p95ImprovementPct!).toBeLessThan(0);
  });

  it('needs enough samples', () => {
    expect(compareSnapshots(snap([1, 2, 3], 0), snap(durations(60, 100, 10), 0), OPTS)).toEqual({ verdict: 'insufficient-data', samplesBefore: 3, samplesAfter: 60 });
  });
});

describe('takeSnapshot', () => {
  it('copies the telemetry figures', () => {
    const d = [1, 2];
    const s = takeSnapshot({ snapshot: (svc, h) => ({ durationsMs: d, errors: svc === 'a' && h === 'b' ? 1 : 9, count: 2, version: 'v' }) }, 'a', 'b', 5);
    d.push(3);
    expect(s).toEqual({ takenMs: 5, durationsMs: [1, 2], errors: 1, count: 2, version: 'v' });
  });
});

describe('LearningStore', () => {
  let t: TempDb;
  let store: LearningStore;
  beforeEach(() => {
    t = tempDb();
    store = new LearningStore(t.db, () => 77);
  });
  afterEach(() => t.close());

  const subject = (jobId: string, fixKind = 'guard', anomalyType = 'error', handler: string | undefined = 'createComponent') => ({ jobId, fixKind, anomalyType, service: 'canvas-app', handler });

  it('ranks strategies by smoothed success rate, once per job', () => {
    expect(store.record(subject('j1'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10 })).toBe(true);
    expect(store.record(subject('j1'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10 })).toBe(false);
    store.record(subject('j2'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10 });
    store.record(subject('j3', 'memoize'), { verdict: 'no-change', samplesBefore: 10, samplesAfter: 10 });
    store.record(subject('j4', 'memoize', 'performance'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10 });
    store.record(subject('j5', 'llm'), { verdict: 'not-deployed', samplesBefore: 0, samplesAfter: 0 });
    expect(store.strategyRanking('error')).toEqual({ guard: 3 / 4, memoize: 1 / 3 });
    expect(store.strategyRanking()).toEqual({ guard: 3 / 4, memoize: 2 / 4 });
    expect(store.stats().find((s) => s.fixKind === 'guard')).toMatchObject({ attempts: 2, successes: 2 });
  });

  it('loosens a handler after no-change and moves back towards 1 after an improvement', () => {
    expect(store.sensitivity('canvas-app', 'createComponent')).toBe(1);
    store.record(subject('j1'), { verdict: 'no-change', samplesBefore: 10, samplesAfter: 10 });
    expect(store.sensitivity('canvas-app', 'createComponent')).toBeCloseTo(1.1);
    store.record(subject('j2'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10 });
    expect(store.sensitivity('canvas-app', 'createComponent')).toBeCloseTo(1.05);
    for (let i = 0; i < 30; i++) store.record(subject(`n${i}`), { verdict: 'no-change', samplesBefore: 10, samplesAfter: 10 });
    expect(store.sensitivity('canvas-app', 'createComponent')).toBe(SENSITIVITY_MAX);
    store.record(subject('w', 'guard', 'error', undefined), { verdict: 'worse', samplesBefore: 10, samplesAfter: 10 });
    expect(store.sensitivityAdjustments()).toEqual([{ service: 'canvas-app', handler: 'createComponent', factor: SENSITIVITY_MAX }]);
  });

  it('produces insights as JSON and Markdown', () => {
    expect(store.learningInsights().markdown).toContain('No outcomes recorded yet.');
    store.record(subject('job-abcdef123'), { verdict: 'improved', samplesBefore: 10, samplesAfter: 10, p95ImprovementPct: 42.5, errorRateImprovementPct: -3 });
    const { json, markdown } = store.learningInsights();
    expect(json.verdicts).toEqual({ improved: 1 });
    expect(json.recent[0]).toMatchObject({ jobId: 'job-abcdef123', verdict: 'improved', p95ImprovementPct: 42.5 });
    expect(markdown).toContain('| guard | error | 1 | 1 | 0.67 |');
    expect(markdown).toContain('| canvas-app | createComponent | 0.95 |'.replace('0.95', json.sensitivity[0]!.factor.toFixed(2)));
    expect(markdown).toContain('| job-abcd | createComponent | guard | improved | +42.5 % | -3.0 % |');
    expect(store.outcomes()[0]!.recordedMs).toBe(77);
    expect(insightsMarkdown({ verdicts: {}, strategies: [], sensitivity: [], recent: [] })).toContain('No adjustments.');
  });
});
