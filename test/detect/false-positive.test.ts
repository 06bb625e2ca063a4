import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { AnomalyChange } from '../../src/model/anomaly.js';
import { makeError, seededRandom, traffic, type TrafficSpec } from './beat-factory.js';

const SLICE = 10_000;
const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);

const timeout = makeError('TimeoutError', 'upstream timed out', 'src/http.ts:88');
const conflict = makeError('ConflictError', 'version conflict', 'src/db.ts:12');
const smtp = makeError('SmtpError', 'connection reset', 'src/mail.ts:30');

/** Several handlers with different speeds, spreads and volumes; each beat is a one-span run. */
const HANDLERS: TrafficSpec[] = [
  { handler: 'chargeCard', sequence: 'chargeFlow', rate: 1, medianMs: 40, sigma: 0.4, errorRate: 0.01, errors: [timeout, conflict] },
  { handler: 'reserveStock', sequence: 'stockFlow', rate: 0.8, medianMs: 12, sigma: 0.5, errorRate: 0.01, errors: [timeout, conflict] },
  { handler: 'renderCart', sequence: 'cartFlow', rate: 0.5, medianMs: 5, sigma: 0.6, errorRate: 0.005, errors: [timeout] },
  { handler: 'sendReceipt', sequence: 'mailFlow', rate: 0.15, medianMs: 200, sigma: 0.3, errorRate: 0.01, errors: [smtp] },
].map((h) => ({ ...h, parentSpanId: '' }));

/**
 * Two handlers of one sequence name, each exported as its own one-span run (no common root), at
 * equal rates: the heaviest run shape keeps changing, and neither shape is a violation.
 */
const SHARED: TrafficSpec[] = [
  { handler: 'holdSeat', sequence: 'bookingFlow', rate: 0.4, medianMs: 15, sigma: 0.4, errorRate: 0.005, errors: [timeout] },
  { handler: 'holdRoom', sequence: 'bookingFlow', rate: 0.4, medianMs: 20, sigma: 0.4, errorRate: 0.005, errors: [timeout] },
].map((h) => ({ ...h, parentSpanId: '' }));

/** 24 h of noisy, diurnally drifting traffic through the engine; every change it reports. */
function steadyDay(seed: number): { changes: AnomalyChange[]; engine: DetectionEngine; beats: number } {
  const config = ConfigSchema.parse({ detect: { sliceMs: SLICE } }).detect;
  const engine = new DetectionEngine({ config });
  const rand = seededRandom(seed);
  // A separate stream, so the four original handlers see the same traffic as before.
  const sharedRand = seededRandom(seed + 1_000_003);
  const changes: AnomalyChange[] = [];
  let beats = 0;
  for (let t = T0; t < T0 + DAY; t += SLICE) {
    // Diurnal drift: traffic swings +-50 %, latency medians +-25 %, out of phase.
    const phase = (2 * Math.PI * (t - T0)) / DAY;
    const load = 1 + 0.5 * Math.sin(phase);
    const slow = 1 + 0.25 * Math.sin(phase - 0.8);
    const batch = HANDLERS.flatMap((spec) => traffic(rand, { ...spec, rate: spec.rate * load }, t, t + SLICE, slow));
    for (const spec of SHARED) batch.push(...traffic(sharedRand, { ...spec, rate: spec.rate * load }, t, t + SLICE, slow));
    batch.sort((a, b) => a.startMs - b.startMs);
    beats += batch.length;
    engine.observe(batch);
    changes.push(...engine.evaluate(t + SLICE));
  }
  return { changes, engine, beats };
}

describe('false positives on steady traffic', () => {
  // 4242 and 1 are the seeds whose Poisson flukes once raised count-surge alerts.
  it.each([4242, 1, 2, 3, 4, 5, 6, 7])('raises no anomaly of any type over 24 h of noisy, drifting traffic (seed %i)', (seed) => {
    const { changes, engine, beats } = steadyDay(seed);
    expect(beats).toBeGreaterThan(240_000);
    expect(changes.map((c) => `${c.kind} ${c.anomaly.type}/${c.anomaly.subtype} ${c.anomaly.summary}`)).toEqual([]);
    expect(engine.openAnomalies()).toEqual([]);
    // The engine did judge these handlers: baselines are warm and figures present.
    const figures = engine.handlerFigures();
    expect(figures).toHaveLength(6);
    for (const f of figures) expect(f.baselineP95Ms).toBeDefined();
    expect(engine.stats().lateBeats).toBe(0);
  }, 180_000);

  it('raises no anomaly on a busy handler whose window holds thousands of beats', () => {
    // Large windows make tiny shifts statistically significant; the minimum effect must hold.
    const config = ConfigSchema.parse({ detect: { sliceMs: SLICE } }).detect;
    const engine = new DetectionEngine({ config });
    const rand = seededRandom(7);
    const spec: TrafficSpec = { handler: 'search', sequence: 'searchFlow', rate: 6, medianMs: 25, sigma: 0.5, errorRate: 0.01, errors: [timeout], parentSpanId: '' };
    const period = 8 * 3600_000;
    const changes: AnomalyChange[] = [];
    for (let t = T0; t < T0 + period; t += SLICE) {
      const phase = (2 * Math.PI * (t - T0)) / period;
      const batch = traffic(rand, { ...spec, rate: spec.rate * (1 + 0.3 * Math.sin(phase)) }, t, t + SLICE, 1 + 0.2 * Math.sin(phase));
      engine.observe(batch);
      changes.push(...engine.evaluate(t + SLICE));
    }
    const fig = engine.handlerFigures()[0]!;
    expect(fig.count).toBeGreaterThan(1000);
    expect(changes.filter((c) => c.anomaly.type === 'performance' || c.anomaly.type === 'error').map((c) => c.anomaly.summary)).toEqual([]);
  });
});
