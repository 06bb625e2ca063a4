import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { AnomalyChange } from '../../src/model/anomaly.js';
import { seededRandom, traffic, type TrafficSpec } from './beat-factory.js';

const SLICE = 10_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
// 20 beats/s per handler: the rate of one child handler of a 200 requests/s app.
const LOAD: TrafficSpec = { handler: 'loadOrder', rate: 20, medianMs: 20, sigma: 0.25, errorRate: 0 };
const RENDER: TrafficSpec = { handler: 'renderOrder', rate: 20, medianMs: 6, sigma: 0.3, errorRate: 0 };

function feed(engine: DetectionEngine, rand: () => number, from: number, slices: number, scale: Record<string, number> = {}): AnomalyChange[] {
  const changes: AnomalyChange[] = [];
  for (let s = 0; s < slices; s++) {
    const t = from + s * SLICE;
    const beats = [LOAD, RENDER].flatMap((spec) => traffic(rand, spec, t, t + SLICE, scale[spec.handler] ?? 1)).sort((a, b) => a.startMs - b.startMs);
    engine.observe(beats);
    changes.push(...engine.evaluate(t + SLICE));
  }
  return changes;
}

/**
 * A key's baseline used to learn only from slices leaving the 30-slice window, so a handler was
 * judged after 40 slices (~7 minutes). A young key now learns each slice once it is past the
 * short-horizon looks: after baselineMinSlices + shortSlices slices it has a baseline.
 */
describe('young keys', () => {
  it('has a baseline after baselineMinSlices + shortSlices slices, not after the whole window', () => {
    const cfg = ConfigSchema.parse({}).detect;
    const engine = new DetectionEngine({ config: cfg });
    const rand = seededRandom(5);
    feed(engine, rand, T0, cfg.baselineMinSlices + cfg.shortSlices - 1);
    expect(engine.handlerFigures().find((h) => h.handler === 'loadOrder')!.baselineP95Ms).toBeUndefined();
    feed(engine, rand, T0 + (cfg.baselineMinSlices + cfg.shortSlices - 1) * SLICE, 1);
    const p95 = engine.handlerFigures().find((h) => h.handler === 'loadOrder')!.baselineP95Ms!;
    expect(p95).toBeGreaterThan(25);
    expect(p95).toBeLessThan(35);
  });

  it('flags a 3.5x regression of one handler that starts 150 s after traffic began, and nothing before', () => {
    const engine = new DetectionEngine({ config: ConfigSchema.parse({}).detect });
    const rand = seededRandom(11);
    const steady = feed(engine, rand, T0, 15);
    expect(steady).toEqual([]);
    const fault = feed(engine, rand, T0 + 15 * SLICE, 6, { loadOrder: 3.5 });
    const opened = fault.filter((c) => c.kind === 'opened');
    expect(opened.map((c) => `${c.anomaly.type} ${c.anomaly.handler}`)).toEqual(['performance loadOrder']);
    // The anomaly stays one anomaly while the fault lasts.
    expect(fault.filter((c) => c.kind === 'resolved')).toEqual([]);
    expect(engine.openAnomalies().map((a) => a.id)).toEqual([opened[0]!.anomaly.id]);
  });

  it('stops learning early once warm: a regression after warm-up does not teach the baseline', () => {
    const engine = new DetectionEngine({ config: ConfigSchema.parse({}).detect });
    const rand = seededRandom(12);
    feed(engine, rand, T0, 15);
    const before = engine.handlerFigures().find((h) => h.handler === 'loadOrder')!.baselineP95Ms!;
    feed(engine, rand, T0 + 15 * SLICE, 10, { loadOrder: 3.5 });
    const after = engine.handlerFigures().find((h) => h.handler === 'loadOrder')!.baselineP95Ms!;
    expect(after).toBeCloseTo(before, 5);
  });
});
