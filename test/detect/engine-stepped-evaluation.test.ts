import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { AnomalyChange } from '../../src/model/anomaly.js';
import { seededRandom, traffic, type TrafficSpec } from './beat-factory.js';

const SLICE = 10_000;
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
/** More handlers than one evaluation step holds, so the evaluation yields in the key loops. */
const SPECS: TrafficSpec[] = Array.from({ length: 80 }, (_, i) => ({ handler: `handler${i}`, sequence: `seq${i % 4}`, rate: 2, medianMs: 20 + i, sigma: 0.3, errorRate: 0.01 }));

function engine(): DetectionEngine {
  return new DetectionEngine({ config: ConfigSchema.parse({ detect: { sliceMs: SLICE, windowSlices: 12, baselineSlices: 60, baselineMinSlices: 6, minSamples: 10 } }).detect });
}

/** What a change says, without the generated id. */
function said(c: AnomalyChange): string {
  return `${c.kind} ${c.anomaly.type}/${c.anomaly.subtype} ${c.anomaly.handler ?? c.anomaly.sequence} ${c.anomaly.summary}`;
}

describe('DetectionEngine.evaluation (stepped)', () => {
  it('yields between steps and, run to its end, changes exactly what evaluate changes', () => {
    const whole = engine();
    const stepped = engine();
    const rand = [seededRandom(7), seededRandom(7)];
    const out: string[][] = [[], []];
    let pauses = 0;
    for (let s = 0; s < 60; s++) {
      const from = T0 + s * SLICE;
      // handler3 becomes four times slower after 40 slices.
      const beats = rand.map((r) => SPECS.flatMap((spec) => traffic(r, spec, from, from + SLICE, s >= 40 && spec.handler === 'handler3' ? 4 : 1)).sort((a, b) => a.startMs - b.startMs));
      whole.observe(beats[0]!);
      stepped.observe(beats[1]!);
      out[0]!.push(...whole.evaluate(from + SLICE).map(said));
      const steps = stepped.evaluation(from + SLICE);
      let step = steps.next();
      while (step.done !== true) {
        pauses++;
        step = steps.next();
      }
      out[1]!.push(...step.value.map(said));
    }
    expect(out[0]!.some((c) => c.startsWith('opened performance/') && c.includes('handler3'))).toBe(true);
    expect(out[1]).toEqual(out[0]);
    expect(pauses).toBeGreaterThan(60 * 2);
  });

  it('keeps working when beats arrive while it is paused', () => {
    const e = engine();
    const rand = seededRandom(3);
    let changes = 0;
    for (let s = 0; s < 30; s++) {
      const from = T0 + s * SLICE;
      e.observe(SPECS.flatMap((spec) => traffic(rand, spec, from, from + SLICE)).sort((a, b) => a.startMs - b.startMs));
      const steps = e.evaluation(from + SLICE);
      let step = steps.next();
      let late = 0;
      while (step.done !== true) {
        // The next slice's first beats, some of a handler the paused evaluation has not seen yet.
        if (late++ === 1) e.observe([...traffic(rand, { ...SPECS[0]!, handler: `new${s}` }, from + SLICE, from + SLICE + 2_000), ...traffic(rand, SPECS[5]!, from + SLICE, from + SLICE + 2_000)]);
        step = steps.next();
      }
      changes += step.value.length;
    }
    expect(changes).toBe(0);
    const figures = e.handlerFigures();
    // Every handler that came in while an evaluation was paused is a key of its own.
    expect(figures.filter((f) => f.handler.startsWith('new')).length).toBeGreaterThanOrEqual(29);
    expect(figures.find((f) => f.handler === 'handler5')!.count).toBeGreaterThan(0);
  });
});
