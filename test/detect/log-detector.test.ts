import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { Finding } from '../../src/model/anomaly.js';
import { STATUS_ERROR, STATUS_UNSET } from '../../src/model/beat.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { LogDetector, poissonLowerTail } from '../../src/detect/log-detector.js';
import { makeBeat, pareto, seededRandom } from './beat-factory.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;

function detectConfig(logs: Record<string, unknown> = {}, over: Record<string, unknown> = {}) {
  return ConfigSchema.parse({ detect: { sliceMs: SLICE, windowSlices: 30, baselineMinSlices: 10, logs, ...over } }).detect;
}

function detector(logs: Record<string, unknown> = {}): LogDetector {
  const cfg = detectConfig(logs);
  return new LogDetector({ config: cfg.logs, sliceMs: cfg.sliceMs, windowSlices: cfg.windowSlices, baselineSlices: cfg.baselineSlices, baselineMinSlices: cfg.baselineMinSlices });
}

function log(over: Partial<LogEvent> & { timeMs: number; body: string }): LogEvent {
  return { service: 'orders', serviceVersion: '1', severityNumber: 9, severityText: 'INFO', traceId: '', spanId: '', attributes: {}, ...over };
}

/** Feeds `slices` slices of steady logs (per slice: `perSlice` lines of each body) and evaluates at each boundary. */
function steady(d: LogDetector, fromSlice: number, slices: number, lines: Array<[string, number, number?]>, findings: Finding[] = []): Finding[] {
  for (let s = fromSlice; s < fromSlice + slices; s++) {
    const events: LogEvent[] = [];
    for (const [body, perSlice, severity] of lines) {
      for (let i = 0; i < perSlice; i++) events.push(log({ timeMs: T0 + s * SLICE + (i * SLICE) / (perSlice + 1), body: body.replace('#', String(s * 100 + i)), severityNumber: severity ?? 9 }));
    }
    d.observe(events);
    findings.push(...d.evaluate(T0 + (s + 1) * SLICE));
  }
  return findings;
}

describe('LogDetector', () => {
  it('reports a new ERROR template after warm-up with its text, severity and exemplar traces', () => {
    const d = detector();
    const quietWarmUp = steady(d, 0, 5, [['user # logged in', 4], ['failed to load cache entry #', 1, 17]]);
    // During warm-up everything is new: nothing is reported.
    expect(quietWarmUp).toEqual([]);
    steady(d, 5, 10, [['user # logged in', 4]]);
    d.observe([
      log({ timeMs: T0 + 15 * SLICE + 5, body: 'payment 991 rejected: card <img src=x onerror=alert(document.cookie)> declined', severityNumber: 17, severityText: 'ERROR', traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }),
      log({ timeMs: T0 + 15 * SLICE + 9, body: 'slow query took 8 ms', severityNumber: 9 }),
    ]);
    const findings = d.evaluate(T0 + 16 * SLICE);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ type: 'error', subtype: 'new-log-template', severity: 'high', service: 'orders', exemplars: [{ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }] });
    // The text stays as sent (masked): escaping is each sink's job.
    expect(f.details['template']).toBe('payment <NUM> rejected: card <img src=x onerror=alert(document.cookie)> declined');
    expect(f.details['logSeverityText']).toBe('ERROR');
    // It keeps being reported while it keeps appearing, then stops.
    d.observe([log({ timeMs: T0 + 16 * SLICE + 1, body: 'payment 992 rejected: card <img src=x onerror=alert(document.cookie)> declined', severityNumber: 17 })]);
    expect(d.evaluate(T0 + 17 * SLICE).map((x) => x.key)).toEqual([f.key]);
    // ...reported while its last sighting is within the horizon (3 slices), then no more.
    expect(steady(d, 17, 2, [['user # logged in', 4]]).filter((x) => x.key === f.key)).toHaveLength(2);
    expect(steady(d, 19, 3, [['user # logged in', 4]]).filter((x) => x.key === f.key)).toHaveLength(0);
  });

  it('reports an ERROR template surge sooner than an INFO one, and a drop of a regular line while the service keeps logging', () => {
    const d = detector();
    const base: Array<[string, number, number?]> = [['heartbeat ok from worker #', 5], ['order # stored', 6], ['retrying upstream call #', 1, 17]];
    expect(steady(d, 0, 40, base)).toEqual([]);
    // Error line: 1 -> 4 per slice (x4 over the horizon) surges; an INFO line doubling does not.
    const surge = steady(d, 40, 3, [['heartbeat ok from worker #', 5], ['order # stored', 12], ['retrying upstream call #', 4, 17]]);
    expect(surge.map((f) => [f.subtype, f.details['template']])).toContainEqual(['log-rate-surge', 'retrying upstream call <NUM>']);
    expect(surge.filter((f) => f.details['template'] === 'order <NUM> stored')).toEqual([]);
    const s = surge.find((f) => f.subtype === 'log-rate-surge')!;
    expect(s.type).toBe('error');
    expect(s.observed['count']).toBeGreaterThan(s.expected['count']! * 2);
    // Heartbeat stops, the rest goes on.
    const drop = steady(d, 43, 8, [['order # stored', 6], ['retrying upstream call #', 1, 17]]);
    const dropped = drop.filter((f) => f.subtype === 'log-rate-drop');
    expect(dropped.map((f) => f.details['template'])).toContain('heartbeat ok from worker <NUM>');
    expect(dropped[0]!.observed['count']).toBeLessThanOrEqual(6);
    expect(dropped[dropped.length - 1]).toMatchObject({ type: 'behavioral', observed: { count: 0 } });
  });

  it('counts each record to its own service when services alternate record by record and in runs', () => {
    const d = detector();
    const batch = (s: number, bStops: boolean): LogEvent[] => {
      const events: LogEvent[] = [];
      for (let i = 0; i < 6; i++) {
        const timeMs = T0 + s * SLICE + i * 100;
        // Record by record: a, b, a, b ...; then a run of a's and a run of b's.
        events.push(log({ service: 'a', timeMs, body: `order ${s * 10 + i} stored` }));
        if (!bStops) events.push(log({ service: 'b', timeMs, body: `order ${s * 10 + i} stored` }));
      }
      for (let i = 0; i < 4; i++) events.push(log({ service: 'a', timeMs: T0 + s * SLICE + 5000 + i, body: 'heartbeat ok' }));
      for (let i = 0; i < 4; i++) events.push(log({ service: 'b', timeMs: T0 + s * SLICE + 5000 + i, body: 'heartbeat ok' }));
      return events;
    };
    const findings: Finding[] = [];
    for (let s = 0; s < 40; s++) {
      d.observe(batch(s, false));
      findings.push(...d.evaluate(T0 + (s + 1) * SLICE));
    }
    expect(findings).toEqual([]);
    // b's order line stops while b keeps logging heartbeats: a drop on b, nothing on a.
    for (let s = 40; s < 48; s++) {
      d.observe(batch(s, true));
      findings.push(...d.evaluate(T0 + (s + 1) * SLICE));
    }
    expect(findings.length).toBeGreaterThan(0);
    expect(new Set(findings.map((f) => `${f.service} ${f.subtype} ${String(f.details['template'])}`))).toEqual(new Set(['b log-rate-drop order <NUM> stored']));
  });

  it('stays quiet when a whole service stops logging (the end of a replay)', () => {
    const d = detector();
    steady(d, 0, 30, [['heartbeat ok', 5], ['order # stored', 6]]);
    const after: Finding[] = [];
    for (let s = 30; s < 40; s++) after.push(...d.evaluate(T0 + (s + 1) * SLICE));
    expect(after).toEqual([]);
  });

  it('stays quiet over a long steady period of heavy-tailed, bursty log traffic', () => {
    const d = detector();
    const rand = seededRandom(7);
    const findings: Finding[] = [];
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    for (let s = 0; s < 720; s++) {
      const events: LogEvent[] = [];
      // Bursty INFO lines (Pareto counts), a WARN line at ~0.5 per slice, errors at ~0.2 per slice.
      for (const w of words) {
        const n = Math.min(200, Math.floor(pareto(rand, 2, 1.8)));
        for (let i = 0; i < n; i++) events.push(log({ timeMs: T0 + s * SLICE + rand() * SLICE, body: `${w} request ${Math.floor(rand() * 1e6)} done in ${Math.floor(rand() * 300)} ms` }));
      }
      if (rand() < 0.5) events.push(log({ timeMs: T0 + s * SLICE + 1, body: `pool nearly full ${Math.floor(rand() * 100)}`, severityNumber: 13 }));
      if (rand() < 0.2) events.push(log({ timeMs: T0 + s * SLICE + 2, body: `upstream timeout after ${Math.floor(rand() * 5000)} ms`, severityNumber: 17 }));
      events.sort((a, b) => a.timeMs - b.timeMs);
      d.observe(events);
      findings.push(...d.evaluate(T0 + (s + 1) * SLICE));
    }
    expect(findings.map((f) => `${f.windowEndMs - T0} ${f.subtype} ${String(f.details['template'])} ${JSON.stringify(f.observed)} ${JSON.stringify(f.expected)}`)).toEqual([]);
    expect(d.trackedTemplates).toBeLessThan(20);
  });

  it('bounds template rate state and counts late records', () => {
    const d = detector({ maxTrackedTemplates: 5 });
    for (let i = 0; i < 50; i++) d.observe([log({ timeMs: T0 + i, body: `${'x'.repeat(i + 1)} unique line ${'y'.repeat(i)}` })]);
    expect(d.trackedTemplates).toBe(5);
    expect(d.evictedTemplates).toBe(45);
    d.evaluate(T0 + 100 * SLICE);
    d.observe([log({ timeMs: T0 + 1, body: 'x unique line' }), log({ timeMs: Number.NaN, body: 'x' })]);
    expect(d.lateRecords).toBe(2);
  });
});

describe('LogDetector.bindErrorLogs: error logs mark their span failed', () => {
  it('marks a span without error status failed when an ERROR log bound to it arrived first, within the horizon', () => {
    const d = detector({ joinHorizonMs: 5_000, maxJoinEntries: 3 });
    const beat = makeBeat({ startMs: T0 + 100, durationMs: 20, status: STATUS_UNSET });
    const other = makeBeat({ startMs: T0 + 100, durationMs: 20, status: STATUS_UNSET });
    const late = makeBeat({ startMs: T0 + 60_000, durationMs: 20, status: STATUS_UNSET });
    d.observe([
      log({ timeMs: T0 + 100, body: 'evicted', severityNumber: 17, traceId: 'e'.repeat(32), spanId: 'e'.repeat(16) }),
      log({ timeMs: T0 + 110, body: 'too early', severityNumber: 17, traceId: late.traceId, spanId: late.spanId }),
      // Same span id but another trace: not the same span.
      log({ timeMs: T0 + 110, body: 'x failed', severityNumber: 17, traceId: 'f'.repeat(32), spanId: other.spanId }),
      log({ timeMs: T0 + 110, body: 'charge 17 failed: insufficient funds', severityNumber: 17, traceId: beat.traceId, spanId: beat.spanId }),
    ]);
    d.bindErrorLogs([beat, other, late]);
    expect(beat.error).toMatchObject({ type: 'ErrorLog', message: 'charge <NUM> failed: insufficient funds' });
    expect(beat.error!.fingerprint).toMatch(/^log-[0-9a-f]{8}$/);
    expect(other.error).toBeUndefined();
    expect(late.error).toBeUndefined();
    expect(d.spansMarkedFailed).toBe(1);
    // maxJoinEntries 3: four waiting logs keep the newest three.
    expect(d.waitingErrorLogs).toBe(3);
    // Waiting logs expire after the horizon.
    d.evaluate(T0 + 30_000);
    expect(d.waitingErrorLogs).toBe(0);
  });

  it('turns an exception that only shows in the logs into an error-rate anomaly of its handler (engine)', () => {
    const engine = new DetectionEngine({ config: detectConfig() });
    const rand = seededRandom(3);
    const opened: string[] = [];
    for (let s = 0; s < 60; s++) {
      const beats = [];
      const logs: LogEvent[] = [];
      for (let i = 0; i < 20; i++) {
        const b = makeBeat({ startMs: T0 + s * SLICE + i * 400, durationMs: 10 + rand() * 5, status: STATUS_UNSET, service: 'orders' });
        beats.push(b);
        logs.push(log({ timeMs: b.startMs + 1, body: `charging order ${i}`, traceId: b.traceId, spanId: b.spanId }));
        // From slice 40 on, 30 % of calls log an exception; the spans carry no status.
        if (s >= 40 && rand() < 0.3) logs.push(log({ timeMs: b.startMs + 5, body: `NullPointerException in OrderService line ${i}`, severityNumber: 17, traceId: b.traceId, spanId: b.spanId }));
      }
      engine.observeLogs(logs);
      engine.observe(beats);
      for (const c of engine.evaluate(T0 + (s + 1) * SLICE)) if (c.kind === 'opened') opened.push(`${c.anomaly.subtype}:${c.anomaly.handler ?? c.anomaly.service}`);
    }
    expect(opened).toContain('error-rate-spike:chargeCard');
    expect(opened).toContain('new-log-template:orders');
    expect(engine.logs!.spansMarkedFailed).toBeGreaterThan(50);
    expect(opened.filter((o) => o.startsWith('latency'))).toEqual([]);
  });

  it('leaves spans alone when disabled', () => {
    const d = detector({ markSpansFailed: false });
    const beat = makeBeat({ startMs: T0, durationMs: 5, status: STATUS_UNSET });
    d.observe([log({ timeMs: T0, body: 'boom', severityNumber: 17, traceId: beat.traceId, spanId: beat.spanId })]);
    d.bindErrorLogs([beat]);
    expect(beat.error).toBeUndefined();
    expect(beat.status).not.toBe(STATUS_ERROR);
  });
});

describe('LogDetector.templatesOf: the templates of the records it mined last', () => {
  it('gives each record of the last observed batch its template, and nothing for any other batch', () => {
    const engine = new DetectionEngine({ config: detectConfig() });
    const first = [log({ timeMs: T0, body: 'order 17 stored' }), log({ timeMs: T0 + 1, body: 'payment 3 declined', severityNumber: 17 }), log({ timeMs: T0 + 2, body: 'order 42 stored' })];
    engine.observeLogs(first);
    const got = engine.logTemplatesOf(first)!;
    expect(got.map((m) => [m.template, m.created])).toEqual([
      ['order <NUM> stored', true],
      ['payment <NUM> declined', true],
      ['order <NUM> stored', false],
    ]);
    expect(got[2]!.templateId).toBe(got[0]!.templateId);
    // Handed out once; an equal but different array, or an earlier batch, was not what observe() mined last.
    expect(engine.logTemplatesOf(first)).toBeUndefined();
    engine.observeLogs(first);
    expect(engine.logTemplatesOf([...first])).toBeUndefined();
    const second = [log({ timeMs: T0 + 3, body: 'order 99 stored' })];
    engine.observeLogs(second);
    expect(engine.logTemplatesOf(first)).toBeUndefined();
    expect(engine.logTemplatesOf(second)!.map((m) => m.templateId)).toEqual([got[0]!.templateId]);
  });
});

describe('DetectionEngine with detect.logs.enabled = false', () => {
  it('has no log detector and ignores log records', () => {
    const engine = new DetectionEngine({ config: detectConfig({ enabled: false }) });
    expect(engine.logs).toBeUndefined();
    const events = [log({ timeMs: T0, body: 'x', severityNumber: 17 })];
    engine.observeLogs(events);
    expect(engine.logTemplatesOf(events)).toBeUndefined();
    expect(engine.evaluate(T0 + SLICE)).toEqual([]);
  });
});

describe('poissonLowerTail', () => {
  it('matches known values', () => {
    expect(poissonLowerTail(0, 2)).toBeCloseTo(Math.exp(-2), 12);
    expect(poissonLowerTail(2, 3)).toBeCloseTo(Math.exp(-3) * (1 + 3 + 4.5), 12);
    expect(poissonLowerTail(5, 0)).toBe(1);
  });
});
