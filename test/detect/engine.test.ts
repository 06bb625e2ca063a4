import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLcov } from '../../src/detect/coverage-report.js';
import type { Sequence } from '../../src/model/sequence.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { DetectConfig } from '../../src/config/sections/detect.js';
import { DetectionEngine, isRunSpan } from '../../src/detect/engine.js';
import { AnomalySchema, type AnomalyChange } from '../../src/model/anomaly.js';
import { STATUS_ERROR } from '../../src/model/beat.js';
import { makeBeat, makeError, seededRandom, traffic, type TrafficSpec } from './beat-factory.js';

const SLICE = 10_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

function config(over: Record<string, unknown> = {}): DetectConfig {
  return ConfigSchema.parse({ detect: { sliceMs: SLICE, windowSlices: 30, baselineSlices: 360, ...over } }).detect;
}

const A: TrafficSpec = { handler: 'chargeCard', rate: 5, medianMs: 40, sigma: 0.35, errorRate: 0.01 };
const B: TrafficSpec = { handler: 'reserveStock', rate: 5, medianMs: 12, sigma: 0.35, errorRate: 0.01 };

interface Phase {
  /** Duration in slices. */
  slices: number;
  specs: TrafficSpec[];
  /** Median multiplier per handler name. */
  scale?: Record<string, number>;
}

/** Feeds the phases slice by slice, evaluating at each slice end; returns every change. */
function run(engine: DetectionEngine, rand: () => number, phases: Phase[], startMs = T0): { changes: AnomalyChange[]; endMs: number } {
  const changes: AnomalyChange[] = [];
  let t = startMs;
  for (const phase of phases) {
    for (let s = 0; s < phase.slices; s++) {
      const beats = phase.specs.flatMap((spec) => traffic(rand, spec, t, t + SLICE, phase.scale?.[spec.handler] ?? 1));
      beats.sort((x, y) => x.startMs - y.startMs);
      engine.observe(beats);
      t += SLICE;
      const now = engine.evaluate(t);
      // Every emitted anomaly must satisfy the shared model schema (finite numbers, <= 10 exemplars).
      for (const c of now) AnomalySchema.parse(c.anomaly);
      changes.push(...now);
    }
  }
  return { changes, endMs: t };
}

describe('DetectionEngine', () => {
  it('opens one performance anomaly for a regression, keeps it ongoing and resolves it after recovery', () => {
    const engine = new DetectionEngine({ config: config() });
    const rand = seededRandom(100);
    const warm = run(engine, rand, [{ slices: 360, specs: [A, B] }]);
    expect(warm.changes).toEqual([]);
    const bad = run(engine, rand, [{ slices: 60, specs: [A, B], scale: { chargeCard: 4 } }], warm.endMs);
    const opened = bad.changes.filter((c) => c.kind === 'opened' && c.anomaly.type === 'performance');
    expect(opened).toHaveLength(1);
    const a = opened[0]!.anomaly;
    expect(a.handler).toBe('chargeCard');
    expect(a.subtype).toBe('latency-regression');
    // It opens on whichever tail quantile crosses first (p99 sees a fresh shift first).
    const figure = String(a.details.figure);
    expect(['p95', 'p99']).toContain(figure);
    expect(a.observed[`${figure}Ms`]! / a.expected[`${figure}Ms`]!).toBeGreaterThan(1.3);
    expect(a.details.pValue).toBeLessThan(1e-4);
    expect(a.exemplars.length).toBeGreaterThan(0);
    expect(a.exemplars[0]!.durationMs).toBeGreaterThan(100);
    // Detected within a few slices of the change.
    expect(a.firstSeenMs - warm.endMs).toBeLessThanOrEqual(4 * SLICE);
    expect(bad.changes.some((c) => c.kind === 'resolved')).toBe(false);
    const open = engine.openAnomalies().filter((x) => x.type === 'performance');
    expect(open).toHaveLength(1);
    expect(open[0]!.state).toBe('ongoing');
    expect(open[0]!.id).toBe(a.id);
    expect(open[0]!.observed.p95Ms! / open[0]!.expected.p95Ms!).toBeGreaterThan(2.5);
    // Figures for the dashboard show the regression against the (frozen) baseline.
    const fig = engine.handlerFigures().find((f) => f.handler === 'chargeCard')!;
    expect(fig.p95Ms / fig.baselineP95Ms!).toBeGreaterThan(2.5);
    expect(fig.slices.length).toBe(30);
    expect(fig.trafficShare).toBeGreaterThan(0.3);
    expect(fig.trafficShare).toBeLessThan(0.7);
    // Recovery: the window drains, then K clean evaluations resolve it.
    const good = run(engine, rand, [{ slices: 60, specs: [A, B] }], bad.endMs);
    const resolved = good.changes.filter((c) => c.kind === 'resolved');
    expect(resolved.map((c) => c.anomaly.id)).toEqual([a.id]);
    expect(good.changes.filter((c) => c.kind === 'opened')).toEqual([]);
    expect(engine.openAnomalies()).toEqual([]);
  });

  it('detects a regression on a low-traffic handler (about 60 beats per window)', () => {
    const engine = new DetectionEngine({ config: config() });
    const rand = seededRandom(105);
    const rare: TrafficSpec = { handler: 'sendReceipt', rate: 0.2, medianMs: 200, sigma: 0.3, errorRate: 0.01 };
    const warm = run(engine, rand, [{ slices: 720, specs: [rare, A] }]);
    expect(warm.changes).toEqual([]);
    const bad = run(engine, rand, [{ slices: 30, specs: [rare, A], scale: { sendReceipt: 3 } }], warm.endMs);
    const opened = bad.changes.filter((c) => c.kind === 'opened');
    expect(opened.map((c) => `${c.anomaly.type} ${c.anomaly.handler}`)).toEqual(['performance sendReceipt']);
    // Low traffic share lowers severity by one step; a 3x p95 is still at least medium.
    expect(['medium', 'high']).toContain(opened[0]!.anomaly.severity);
  });

  it('learns a daily slow hour after two days but still catches other regressions', () => {
    const cfg = ConfigSchema.parse({ detect: { sliceMs: 60_000, windowSlices: 5, baselineSlices: 60, baselineMinSlices: 5 } }).detect;
    const engine = new DetectionEngine({ config: cfg });
    const rand = seededRandom(106);
    const spec: TrafficSpec = { handler: 'nightlyReport', rate: 0.3, medianMs: 50, sigma: 0.3, errorRate: 0 };
    const H = 3_600_000;
    const opened: Array<{ day: number; hour: number }> = [];
    for (let t = T0; t < T0 + 3 * 24 * H; t += 60_000) {
      const day = Math.floor((t - T0) / (24 * H));
      const hour = Math.floor((t - T0) / H) % 24;
      // Every day 02:00-03:00 a batch job makes the handler 2.5x slower; on day 3 an unrelated
      // regression hits at 14:00.
      const scale = hour === 2 ? 2.5 : day === 2 && hour === 14 ? 3 : 1;
      engine.observe(traffic(rand, spec, t, t + 60_000, scale));
      for (const c of engine.evaluate(t + 60_000)) if (c.kind === 'opened' && c.anomaly.type === 'performance') opened.push({ day, hour });
    }
    expect(opened.filter((o) => o.day === 0 && o.hour === 2)).toHaveLength(1);
    expect(opened.filter((o) => o.day === 2 && o.hour === 2)).toEqual([]);
    expect(opened.filter((o) => o.day === 2 && o.hour === 14)).toHaveLength(1);
  });

  it('detects an error-rate spike and names the top fingerprint', () => {
    const engine = new DetectionEngine({ config: config() });
    const rand = seededRandom(101);
    const warm = run(engine, rand, [{ slices: 200, specs: [A, B] }]);
    const boom = makeError('TimeoutError', 'upstream timed out');
    const spiky = { ...A, errorRate: 0.25, errors: [boom] };
    const bad = run(engine, rand, [{ slices: 10, specs: [spiky, B] }], warm.endMs);
    const spike = bad.changes.find((c) => c.kind === 'opened' && c.anomaly.subtype === 'error-rate-spike' && c.anomaly.handler === 'chargeCard');
    expect(spike).toBeDefined();
    expect(spike!.anomaly.observed.errorRate).toBeGreaterThan(0.02);
    expect(spike!.anomaly.details.topFingerprint).toBe(boom.fingerprint);
    expect(spike!.anomaly.exemplars[0]!.errorFingerprint).toBe(boom.fingerprint);
    expect(engine.recentErrors('shop', 'chargeCard').length).toBe(50);
    // The sequence key (all beats of 'checkout') sees the spike too, but defers to the handler.
    expect(engine.openAnomalies().filter((x) => x.type === 'error').map((x) => x.handler)).toEqual(['chargeCard']);
    // No new-fingerprint finding: the timeout was already known from the baseline.
    expect(bad.changes.some((c) => c.anomaly.subtype === 'new-error-fingerprint')).toBe(false);
  });

  it('reports a new error fingerprint after warm-up, once, and ages it into the baseline', () => {
    const engine = new DetectionEngine({ config: config() });
    const rand = seededRandom(102);
    const warm = run(engine, rand, [{ slices: 200, specs: [A, B] }]);
    const fresh = makeError('TypeError', "Cannot read properties of undefined (reading 'id')", 'src/cart.ts:42');
    const t = warm.endMs + 1000;
    engine.observe([
      makeBeat({ handler: 'chargeCard', startMs: t, durationMs: 30, error: fresh, status: STATUS_ERROR, traceId: 'tnew', spanId: 'snew' }),
      makeBeat({ handler: 'chargeCard', startMs: t + 10, durationMs: 30, error: fresh, status: STATUS_ERROR }),
    ]);
    const after = run(engine, rand, [{ slices: 40, specs: [A, B] }], warm.endMs);
    const found = after.changes.filter((c) => c.anomaly.subtype === 'new-error-fingerprint');
    expect(found.map((c) => c.kind)).toEqual(['opened', 'resolved']);
    const a = found[0]!.anomaly;
    expect(a.details).toMatchObject({
      fingerprint: fresh.fingerprint,
      errorType: 'TypeError',
      errorMessage: fresh.message,
      topFrame: 'src/cart.ts:42',
    });
    expect(a.exemplars[0]).toMatchObject({ traceId: 'tnew', spanId: 'snew' });
    expect(a.summary).toContain('TypeError');
    expect(found[1]!.anomaly.id).toBe(a.id);
  });

  it('flags an SLO breach from configuration', () => {
    const engine = new DetectionEngine({ config: config({ slo: { handlers: { reserveStock: { p95Ms: 15 } } } }) });
    const rand = seededRandom(103);
    const { changes } = run(engine, rand, [{ slices: 5, specs: [A, B] }]);
    const breach = changes.find((c) => c.anomaly.subtype === 'slo-breach');
    expect(breach).toBeDefined();
    expect(breach!.anomaly.handler).toBe('reserveStock');
    expect(breach!.anomaly.expected.p95Ms).toBe(15);
    expect(breach!.anomaly.summary).toContain('SLO');
  });

  it('flags an SLO breach that the sequence file states in words, unless configuration overrides it', () => {
    const declared = [
      {
        id: 'checkout',
        name: 'checkout',
        movements: [{ name: 'pay', beats: [{ beat: 1, event: 'stock.reserve', handler: 'reserveStock', userStory: { goal: 'reserve stock within < 5ms' } }] }],
      },
    ] as Sequence[];
    const stated = new DetectionEngine({ config: config(), sequences: declared });
    const breach = run(stated, seededRandom(103), [{ slices: 5, specs: [A, B] }]).changes.find((c) => c.anomaly.subtype === 'slo-breach');
    expect(breach?.anomaly.handler).toBe('reserveStock');
    expect(breach?.anomaly.expected.p95Ms).toBe(5);
    const overridden = new DetectionEngine({ config: config({ slo: { handlers: { reserveStock: { p95Ms: 1000 } } } }), sequences: declared });
    expect(run(overridden, seededRandom(103), [{ slices: 5, specs: [A, B] }]).changes.filter((c) => c.anomaly.subtype === 'slo-breach')).toEqual([]);
  });

  it('reports declared-vs-played drift of a declared sequence, low severity', () => {
    const declared = [
      {
        id: 'checkout',
        name: 'checkout',
        movements: [{ name: 'pay', beats: [{ beat: 1, event: 'pay', handler: 'chargeCard' }, { beat: 2, event: 'refund', handler: 'refundCard' }] }],
      },
    ] as Sequence[];
    const engine = new DetectionEngine({ config: config(), sequences: declared });
    const { changes } = run(engine, seededRandom(104), [{ slices: 5, specs: [A, B] }]);
    const drift = changes.filter((c) => c.kind === 'opened' && c.anomaly.subtype === 'declared-drift').map((c) => c.anomaly);
    expect(drift.map((a) => [a.details.direction, a.details.handlers, a.severity, a.sequence]).sort()).toEqual([
      ['declared-not-played', 'refundCard', 'low', 'checkout'],
      ['played-not-declared', 'reserveStock', 'low', 'checkout'],
    ]);
  });

  it('keeps memory bounded by maxKeys with 1e5 distinct handler names', () => {
    const engine = new DetectionEngine({ config: config({ maxKeys: 1000 }) });
    const batch = [];
    for (let i = 0; i < 100_000; i++) {
      batch.push(makeBeat({ handler: `h${i}`, sequence: '', startMs: T0 + i, durationMs: 1 }));
      if (batch.length === 1000) engine.observe(batch.splice(0));
    }
    engine.evaluate(T0 + 100_000);
    const stats = engine.stats();
    expect(stats.keys).toBeLessThanOrEqual(1000);
    // All within keyActiveMs of each other: the first 1000 keep their state, the rest are refused.
    expect(stats.evicted).toBe(0);
    expect(stats.refusedBeats).toBeGreaterThanOrEqual(99_000);
    expect(engine.handlerFigures().length).toBeLessThanOrEqual(1000);
    expect(engine.handlerFigures().some((f) => f.handler === 'h0')).toBe(true);
  });

  it('evicts the least recently used key for a new one once it is quiet for keyActiveMs', () => {
    const engine = new DetectionEngine({ config: config({ maxKeys: 2, keyActiveMs: 10_000 }) });
    engine.observe([makeBeat({ handler: 'a', sequence: '', startMs: T0, durationMs: 1 })]);
    engine.observe([makeBeat({ handler: 'b', sequence: '', startMs: T0 + 5_000, durationMs: 1 })]);
    engine.observe([makeBeat({ handler: 'c', sequence: '', startMs: T0 + 9_000, durationMs: 1 })]);
    expect(engine.stats()).toMatchObject({ keys: 2, evicted: 0, refusedBeats: 1 });
    engine.observe([makeBeat({ handler: 'c', sequence: '', startMs: T0 + 10_001, durationMs: 1 })]);
    expect(engine.stats()).toMatchObject({ keys: 2, evicted: 1, refusedBeats: 1 });
    engine.evaluate(T0 + 20_000);
    expect(engine.handlerFigures().map((f) => f.handler).sort()).toEqual(['b', 'c']);
  });

  it('evicts idle keys by data time and counts late beats', () => {
    const engine = new DetectionEngine({ config: config({ idleEvictMs: 60_000 }) });
    engine.observe([makeBeat({ handler: 'old', startMs: T0, durationMs: 1 })]);
    engine.observe([makeBeat({ handler: 'new', startMs: T0 + 600_000, durationMs: 1 })]);
    engine.observe([makeBeat({ handler: 'new', startMs: T0, durationMs: 1 })]); // older than the window
    engine.evaluate(T0 + 610_000);
    const figures = engine.handlerFigures();
    expect(figures.map((f) => f.handler)).toEqual(['new']);
    // The heatmap row has one cell per window slot, empty ones included.
    expect(figures[0]!.slices).toHaveLength(30);
    expect(figures[0]!.slices.filter((s) => s.count > 0)).toHaveLength(1);
    expect(figures[0]!.slices[29]!.startMs).toBe(T0 + 600_000);
    expect(figures[0]!.count).toBe(1);
    expect(engine.stats().lateBeats).toBe(1);
    expect(engine.recentBeats('shop', 'old')).toEqual([]);
  });

  it('serves evidence: recent and baseline beats, versions, traffic share, trace beats', () => {
    const engine = new DetectionEngine({ config: config() });
    const rand = seededRandom(104);
    const v1 = run(engine, rand, [{ slices: 60, specs: [A, B] }]);
    const v2 = run(engine, rand, [{ slices: 60, specs: [{ ...A, serviceVersion: '1.1.0' }, { ...B, serviceVersion: '1.1.0' }] }], v1.endMs);
    const recent = engine.recentBeats('shop', 'chargeCard');
    expect(recent).toHaveLength(200);
    expect(recent.every((b) => b.handler === 'chargeCard')).toBe(true);
    const windowStart = v2.endMs - 30 * SLICE;
    const baseline = engine.baselineBeats('shop', 'chargeCard');
    expect(baseline.length).toBeGreaterThan(50);
    expect(baseline.every((b) => b.startMs < windowStart)).toBe(true);
    expect(engine.versions('shop').map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
    expect(engine.versions('shop')[1]!.firstSeenMs).toBeGreaterThanOrEqual(v1.endMs);
    expect(engine.versions('nope')).toEqual([]);
    const share = engine.trafficShare('shop', 'chargeCard') + engine.trafficShare('shop', 'reserveStock');
    expect(share).toBeCloseTo(1, 6);
    expect(engine.trafficShare('shop', 'nope')).toBe(0);
    expect(engine.traceBeats(recent[recent.length - 1]!.traceId)).toBeDefined();
    expect(engine.traceBeats('unknown')).toBeUndefined();
  });

  it('resolves a missing sequence name from the trace root', () => {
    const engine = new DetectionEngine({ config: config() });
    const rootSpan = makeBeat({ handler: 'startCheckout', sequence: 'checkout', parentSpanId: '', traceId: 'trace1', spanId: 'root', startMs: T0, durationMs: 5 });
    const child = makeBeat({ handler: 'chargeCard', sequence: '', parentSpanId: 'root', traceId: 'trace1', spanId: 'c1', startMs: T0 + 1, durationMs: 2 });
    const orphan = makeBeat({ handler: 'lonely', sequence: '', parentSpanId: '', traceId: 'trace2', spanId: 'o1', startMs: T0 + 2, durationMs: 2 });
    engine.observe([rootSpan, child, orphan]);
    engine.evaluate(T0 + SLICE);
    expect(engine.sequenceFigures().find((f) => f.sequence === 'checkout')).toMatchObject({ count: 2, errors: 0 });
  });

  it('treats a root span named after its sequence as the run, not as a handler', () => {
    const engine = new DetectionEngine({ config: config() });
    const run = makeBeat({ handler: 'checkout', sequence: 'checkout', parentSpanId: '', beatNumber: 0, traceId: 't1', spanId: 'root', startMs: T0, durationMs: 9 });
    const beat = makeBeat({ handler: 'chargeCard', sequence: 'checkout', parentSpanId: 'root', traceId: 't1', spanId: 'c1', startMs: T0 + 1, durationMs: 4, beatNumber: 1 });
    // A plain root whose handler name comes from code.function stays a handler.
    const named = makeBeat({ handler: 'handleLogin', sequence: 'POST /login', parentSpanId: '', beatNumber: 0, traceId: 't2', spanId: 'r2', startMs: T0 + 2, durationMs: 3 });
    engine.observe([run, beat, named]);
    engine.evaluate(T0 + SLICE);
    expect(isRunSpan(run)).toBe(true);
    expect(isRunSpan(beat)).toBe(false);
    expect(isRunSpan(named)).toBe(false);
    expect(engine.handlerFigures().map((h) => h.handler).sort()).toEqual(['chargeCard', 'handleLogin']);
    expect(engine.sequenceFigures().find((f) => f.sequence === 'checkout')).toMatchObject({ count: 2 });
  });

  it('raises a handler sensitivity on false-positive feedback and lowers it on true-positive', () => {
    const engine = new DetectionEngine({ config: config({ slo: { global: { maxMs: 100 } } }) });
    engine.observe([makeBeat({ handler: 'chargeCard', startMs: T0, durationMs: 500 })]);
    const [opened] = engine.evaluate(T0 + SLICE);
    expect(opened!.anomaly.subtype).toBe('slo-breach');
    engine.feedback(opened!.anomaly.id, 'false-positive');
    expect(engine.sensitivity('shop', 'chargeCard')).toBeCloseTo(1.5, 10);
    engine.feedback(opened!.anomaly.id, 'false-positive');
    engine.feedback(opened!.anomaly.id, 'false-positive');
    engine.feedback(opened!.anomaly.id, 'false-positive');
    expect(engine.sensitivity('shop', 'chargeCard')).toBe(4);
    engine.feedback(opened!.anomaly.id, 'true-positive');
    expect(engine.sensitivity('shop', 'chargeCard')).toBeCloseTo(4 / 1.5, 10);
    engine.feedback('an_unknown', 'false-positive');
    expect(engine.sensitivity('shop', 'nobody')).toBe(1);
  });

  describe('coverage wiring', () => {
    const dirs: string[] = [];
    afterEach(() => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });
    const flow: Sequence = {
      id: 'Booking.flow',
      name: 'bookingFlow',
      movements: [{ name: 'hold', beats: [{ beat: 1, event: 'seat:hold', handler: 'holdSeat', testFile: 'test/hold-seat.test.js' }] }],
    };
    // The report knows another function only: holdSeat's evidence is its declared test file.
    const report = parseLcov(['SF:src/other.js', 'FN:1,other', 'FNDA:1,other', 'end_of_record'].join('\n'));
    function untestedAlerts(engine: DetectionEngine): string[] {
      const rand = seededRandom(3);
      const { changes } = run(engine, rand, [{ slices: 5, specs: [{ handler: 'holdSeat', sequence: 'bookingFlow', rate: 5, medianMs: 10, sigma: 0.3, errorRate: 0 }] }]);
      return changes.filter((c) => c.kind === 'opened' && c.anomaly.type === 'coverage').map((c) => c.anomaly.subtype);
    }

    it('resolves declared test files against repoRoot, not the process working directory', () => {
      const repo = mkdtempSync(join(tmpdir(), 'engine-repo-'));
      dirs.push(repo);
      mkdirSync(join(repo, 'test'));
      writeFileSync(join(repo, 'test', 'hold-seat.test.js'), 'test("holds", () => {});\n');
      const withRoot = new DetectionEngine({ config: config(), sequences: [flow], coverage: report, repoRoot: repo });
      expect(untestedAlerts(withRoot)).toEqual([]);
      // Without it the file is looked up under the cwd, where it does not exist: "untested".
      const withoutRoot = new DetectionEngine({ config: config(), sequences: [flow], coverage: report });
      expect(untestedAlerts(withoutRoot)).toEqual(['untested-handler']);
    });
  });

  describe('short horizons and version lanes', () => {
    const busy: TrafficSpec = { handler: 'priceCart', rate: 6, medianMs: 9, sigma: 0.35, errorRate: 0.003, serviceVersion: '1.0.0' };

    /** Feeds slices of `busy`, transforming each slice's beats; returns the opened anomalies. */
    function feed(engine: DetectionEngine, rand: () => number, slices: number, startMs: number, edit?: (beats: ReturnType<typeof traffic>) => void) {
      const opened: AnomalyChange[] = [];
      let t = startMs;
      for (let s = 0; s < slices; s++) {
        const beats = traffic(rand, busy, t, t + SLICE);
        edit?.(beats);
        engine.observe(beats);
        t += SLICE;
        for (const c of engine.evaluate(t)) {
          AnomalySchema.parse(c.anomaly);
          if (c.kind === 'opened') opened.push(c);
        }
      }
      return { opened, endMs: t };
    }

    it('catches a x1.6 shift in the newest slice, which the window test needs many slices for', () => {
      const engine = new DetectionEngine({ config: config() });
      const rand = seededRandom(300);
      const warm = feed(engine, rand, 200, T0);
      expect(warm.opened).toEqual([]);
      const slow = (beats: ReturnType<typeof traffic>): void => {
        for (const b of beats) b.durationMs *= 1.6;
      };
      const bad = feed(engine, rand, 2, warm.endMs, slow);
      const perf = bad.opened.filter((c) => c.anomaly.type === 'performance');
      expect(perf).toHaveLength(1);
      const a = perf[0]!.anomaly;
      expect(a.handler).toBe('priceCart');
      expect(a.details.test).toBe('short-horizon-exceedance');
      expect([1, 3]).toContain(a.details.horizonSlices);
      expect(a.details.pValue).toBeLessThan(5e-7);
      expect(a.summary).toContain('in the last');
      // Figures and exemplars describe the slices tested, not the mostly healthy window.
      expect(a.observed.count).toBeLessThanOrEqual(3 * 80);
      expect(a.exemplars.every((e) => e.durationMs! > busy.medianMs)).toBe(true);
      expect(a.observed.p50Ms! / a.expected.p50Ms!).toBeGreaterThan(1.3);

      // Without the short look (significance out of reach) the same shift is not found that fast.
      const strict = new DetectionEngine({ config: config({ latency: { shortSignificance: 1e-300 } }) });
      const r2 = seededRandom(300);
      feed(strict, r2, 200, T0);
      expect(feed(strict, r2, 2, warm.endMs, slow).opened.filter((c) => c.anomaly.type === 'performance')).toEqual([]);
    });

    it('catches a 6 % error burst on the short horizon within a few slices', () => {
      const engine = new DetectionEngine({ config: config() });
      const rand = seededRandom(301);
      const warm = feed(engine, rand, 200, T0);
      const boom = makeError('TimeoutError', 'upstream timed out');
      const bad = feed(engine, rand, 6, warm.endMs, (beats) => {
        for (const b of beats) {
          if (rand() < 0.06) {
            b.status = STATUS_ERROR;
            b.error = boom;
          }
        }
      });
      const spike = bad.opened.find((c) => c.anomaly.subtype === 'error-rate-spike');
      expect(spike).toBeDefined();
      expect(spike!.anomaly.details.horizonSlices).toBeDefined();
      expect(spike!.anomaly.summary).toContain('in the last');
      // The 30-slice window test alone needs the window rate 2 points above baseline: ~10 slices.
      expect(spike!.anomaly.firstSeenMs - warm.endMs).toBeLessThanOrEqual(6 * SLICE);
    });

    /** Puts a share of each slice's beats on `version`, `factor` times slower. */
    function rollout(rand: () => number, version: string, share: number, factor: number) {
      return (beats: ReturnType<typeof traffic>): void => {
        for (const b of beats) {
          if (rand() >= share) continue;
          b.serviceVersion = version;
          b.durationMs *= factor;
        }
      };
    }

    it('tests a new version on a quarter of the instances on its own and names it', () => {
      const engine = new DetectionEngine({ config: config() });
      const rand = seededRandom(302);
      const warm = feed(engine, rand, 200, T0);
      const bad = feed(engine, rand, 4, warm.endMs, rollout(rand, '1.1.0', 0.25, 1.8));
      const perf = bad.opened.filter((c) => c.anomaly.type === 'performance');
      expect(perf).toHaveLength(1);
      const a = perf[0]!.anomaly;
      expect(a.subtype).toBe('latency-regression');
      expect(a.details.test).toBe('version-exceedance');
      expect(a.details.version).toBe('1.1.0');
      expect(a.details.versionShare).toBeGreaterThan(0.1);
      expect(a.details.versionShare).toBeLessThan(0.4);
      expect(a.summary).toContain('on version 1.1.0');
      expect(engine.versions('shop').map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);

      // 15 new-version beats per slice: the lane has its 30 beats (minSamples) in the 2nd or 3rd.
      expect(a.firstSeenMs - warm.endMs).toBeLessThanOrEqual(3 * SLICE);
      // Switched off: the diluted shift is not seen in those slices.
      const off = new DetectionEngine({ config: config({ versionSplit: false }) });
      const r2 = seededRandom(302);
      feed(off, r2, 200, T0);
      expect(feed(off, r2, 4, warm.endMs, rollout(r2, '1.1.0', 0.25, 1.8)).opened.filter((c) => c.anomaly.type === 'performance')).toEqual([]);
    });

    it("tests the new version's error rate on its own too", () => {
      const engine = new DetectionEngine({ config: config() });
      const rand = seededRandom(304);
      const warm = feed(engine, rand, 200, T0);
      const boom = makeError('TypeError', 'x is undefined');
      const bad = feed(engine, rand, 4, warm.endMs, (beats) => {
        for (const b of beats) {
          if (rand() >= 0.25) continue;
          b.serviceVersion = '2.0.0';
          if (rand() < 0.15) {
            b.status = STATUS_ERROR;
            b.error = boom;
          }
        }
      });
      const spike = bad.opened.find((c) => c.anomaly.subtype === 'error-rate-spike');
      expect(spike).toBeDefined();
      expect(spike!.anomaly.details.version).toBe('2.0.0');
      expect(spike!.anomaly.summary).toContain('on version 2.0.0');
    });

    it('stays quiet for a same-speed release, an old version still running, and a lane that grows up', () => {
      const engine = new DetectionEngine({ config: config({ baselineSlices: 60 }) });
      const rand = seededRandom(303);
      // An old version on a tenth of the instances from the start: it is not a release.
      const mixed = (beats: ReturnType<typeof traffic>): void => {
        for (const b of beats) if (rand() < 0.1) b.serviceVersion = '0.9.0';
      };
      const warm = feed(engine, rand, 200, T0, mixed);
      expect(warm.opened).toEqual([]);
      const same = rollout(rand, '1.1.0', 0.25, 1);
      const release = feed(engine, rand, 150, warm.endMs, (beats) => {
        mixed(beats);
        same(beats);
      });
      expect(release.opened).toEqual([]);
      // Past the baseline horizon the lane is over: 1.1.0 is the reference now, and 1.0.0 (long
      // seen) does not open a lane when the rollout is complete.
      const done = feed(engine, rand, 60, release.endMs, rollout(rand, '1.1.0', 0.9, 1));
      expect(done.opened).toEqual([]);
      // A release that stops (rolled back) closes its lane; a later slower one is tested afresh.
      feed(engine, rand, 40, done.endMs, rollout(rand, '1.2.0', 0.2, 1));
      const later = feed(engine, rand, 4, done.endMs + 40 * SLICE, rollout(rand, '1.3.0', 0.25, 2));
      expect(later.opened.filter((c) => c.anomaly.type === 'performance').map((c) => c.anomaly.details.version)).toEqual(['1.3.0']);
    });
  });
});
