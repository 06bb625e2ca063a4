import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { LatencyBaseline, type LatencyParams } from '../../src/detect/latency-detector.js';
import { SliceWindow, type Slice, type SliceSink } from '../../src/detect/slice-window.js';
import { lognormal, makeBeat, seededRandom, traffic } from './beat-factory.js';

const PARAMS: LatencyParams = { significance: 1e-4, minRelativeEffect: 0.3, minAbsoluteMs: 1, minSamples: 30, baselineMinSlices: 10, baselineSlices: 360 };

function learnt(slices: number, median: number, sigma: number): LatencyBaseline {
  const rand = seededRandom(11);
  const baseline = new LatencyBaseline(PARAMS);
  const sink: SliceSink = { closeSlice: (s: Slice) => baseline.learn(s), skipSlices: (n: number) => baseline.skip(n) };
  const w = new SliceWindow(1000, 1);
  for (let s = 0; s <= slices; s++) for (let i = 0; i < 50; i++) w.add(makeBeat({ startMs: s * 1000 + i, durationMs: lognormal(rand, median, sigma) }), false, sink);
  return baseline;
}

describe('LatencyBaseline.p95Band', () => {
  it('is undefined while learning and then brackets the slice p95s it learnt', () => {
    expect(learnt(5, 40, 0.3).p95Band()).toBeUndefined();
    const b = learnt(60, 40, 0.3);
    const band = b.p95Band()!;
    // lognormal(40, 0.3): p95 = 40 * e^(1.645 * 0.3) ~ 65 ms.
    expect(band.lowMs).toBeLessThan(65);
    expect(band.highMs).toBeGreaterThan(65);
    expect(band.highMs / band.lowMs).toBeLessThan(2);
    // A noisier key learns a wider band.
    const noisy = learnt(60, 40, 0.9).p95Band()!;
    expect(noisy.highMs / noisy.lowMs).toBeGreaterThan(band.highMs / band.lowMs);
    expect(b.p95Band(3)!.highMs).toBeGreaterThan(band.highMs);
  });
});

describe('DetectionEngine.latencyLearning', () => {
  it('reports slices learnt of those needed, then warm with a band; undefined for an unknown key', () => {
    const SLICE = 10_000;
    const engine = new DetectionEngine({ config: ConfigSchema.parse({ detect: { sliceMs: SLICE, windowSlices: 6, baselineMinSlices: 10 } }).detect });
    const rand = seededRandom(5);
    expect(engine.latencyLearning('shop', 'chargeCard')).toBeUndefined();
    const spec = { handler: 'chargeCard', rate: 10, medianMs: 40, sigma: 0.3, errorRate: 0 };
    let t = 0;
    for (; t < 8 * SLICE; t += SLICE) {
      engine.observe(traffic(rand, spec, t, t + SLICE));
      engine.evaluate(t + SLICE);
    }
    const early = engine.latencyLearning('shop', 'chargeCard')!;
    expect(early.warm).toBe(false);
    expect(early.needed).toBe(10);
    expect(early.done).toBeLessThan(10);
    expect(early.band).toBeUndefined();
    for (; t < 40 * SLICE; t += SLICE) {
      engine.observe(traffic(rand, spec, t, t + SLICE));
      engine.evaluate(t + SLICE);
    }
    const later = engine.latencyLearning('shop', 'chargeCard')!;
    expect(later.warm).toBe(true);
    expect(later.done).toBeGreaterThanOrEqual(10);
    expect(later.band!.lowMs).toBeLessThan(later.band!.highMs);
  });
});
