import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { SequenceDetector, poissonUpperTail, proportionZ } from '../../src/detect/sequence-detector.js';
import type { Finding } from '../../src/model/anomaly.js';
import type { Sequence } from '../../src/model/sequence.js';
import { makeBeat, makeRun } from '../bench/faults/beats.js';
import { Random } from '../bench/faults/random.js';
import { runDirect } from '../bench/faults/direct-run.js';
import { defaultScenario } from '../bench/faults/scenario.js';
import { score } from '../bench/faults/scoring.js';

const SLICE = 10_000;
const cfg = ConfigSchema.parse({ detect: { sliceMs: SLICE } }).detect;

const checkout: Sequence = {
  id: 'Cart.checkout',
  name: 'checkout',
  movements: [
    { name: 'validate', beats: [ { beat: 1, event: 'cart:validate', handler: 'validate' }, { beat: 2, event: 'cart:price', handler: 'price' } ] },
    { name: 'confirm', beats: [ { beat: 1, event: 'mail:receipt', handler: 'receipt' } ] },
  ],
};

let traceNo = 0;
/** Feeds one slice of runs; `shape(i)` gives the handler list of run i. Returns that slice's findings. */
function slice(det: SequenceDetector, k: number, runs: number, shape: (i: number) => string[], seq = 'checkout', opts: { root?: boolean } = {}): Finding[] {
  for (let i = 0; i < runs; i++) {
    const start = k * SLICE + (i / runs) * SLICE * 0.4;
    for (const s of makeRun(`t${traceNo++}`, seq, shape(i), start, { service: 'shop', ...opts })) det.observe(s);
  }
  return det.evaluate((k + 1) * SLICE);
}

const FULL = ['validate', 'price', 'receipt'];

describe('SequenceDetector against a declared sequence', () => {
  it('does not alert when 1 % of runs always lack an optional beat, alerts when it jumps to 30 %', () => {
    const det = new SequenceDetector(cfg, [checkout]);
    const rnd = new Random(7);
    let k = 0;
    const quiet: Finding[] = [];
    for (; k < 120; k++) quiet.push(...slice(det, k, 100, () => (rnd.chance(0.01) ? ['validate', 'price'] : FULL)));
    expect(quiet).toEqual([]);
    const found = slice(det, k++, 100, () => (rnd.chance(0.3) ? ['validate', 'price'] : FULL));
    const missing = found.find((f) => f.subtype === 'missing-beat');
    expect(missing).toBeDefined();
    expect(missing!.key).toBe('behavioral:shop:checkout:missing-beat:receipt');
    expect(missing!.type).toBe('behavioral');
    expect(missing!.handler).toBe('receipt');
    expect(missing!.sequence).toBe('checkout');
    expect(missing!.observed.rate).toBeGreaterThan(0.05);
    expect(missing!.expected.rate).toBeLessThan(0.03);
    expect(missing!.exemplars.length).toBeGreaterThan(0);
    expect(missing!.details.orderSource).toBe('declared');
    expect(missing!.details.expectedPosition).toBe(2);
    expect(missing!.details.positionFrequency).toBe(1);
    // The exemplar is a run that really lacks the beat.
    const beats = det.traceBeats(missing!.exemplars[0]!.traceId)!;
    expect(beats.map((b) => b.handler)).not.toContain('receipt');
    expect(missing!.confidence).toBeGreaterThan(0.5);
    expect(found.filter((f) => f.subtype !== 'missing-beat')).toEqual([]);
  });

  it('reports unexpected and duplicate beats against the declaration', () => {
    const det = new SequenceDetector(cfg, [checkout]);
    let k = 0;
    for (; k < 10; k++) slice(det, k, 50, () => FULL);
    const found = slice(det, k, 50, (i) => (i % 2 === 0 ? ['validate', 'price', 'price', 'audit', 'receipt'] : FULL));
    const keys = found.map((f) => f.key).sort();
    expect(keys).toEqual(['behavioral:shop:checkout:duplicate-beat:price', 'behavioral:shop:checkout:unexpected-beat:audit']);
    // 25 offending runs among the 150 of the 3-slice rate window.
    expect(found[0]!.observed.rate).toBeCloseTo(25 / 150, 5);
    expect(found[0]!.severity).toBe('low');
  });

  it('matches a declared sequence by id as well as by name', () => {
    const det = new SequenceDetector(cfg, [checkout]);
    expect(det.expectedOrder('Cart.checkout')!.handlers).toEqual(FULL);
    expect(det.expectedOrder('checkout')!.source).toBe('declared');
    expect(det.expectedOrder('unknown')).toBeUndefined();
  });

  it('closes a run as soon as every declared beat is there', () => {
    const det = new SequenceDetector(cfg, [checkout]);
    for (const s of makeRun('early', 'checkout', FULL, 0)) det.observe(s);
    expect(det.inflightRuns).toBe(1);
    det.evaluate(100);
    expect(det.inflightRuns).toBe(0);
    expect(det.resolvedSequence('early')).toBe('checkout');
  });
});

describe('SequenceDetector with a learned order', () => {
  it('learns the modal order, then flags out-of-order runs', () => {
    const det = new SequenceDetector(cfg, []);
    let k = 0;
    for (; k < 15; k++) expect(slice(det, k, 40, () => ['load', 'aggregate', 'render', 'upload'], 'report')).toEqual([]);
    expect(det.expectedOrder('report')!.handlers).toEqual(['load', 'aggregate', 'render', 'upload']);
    const found = slice(det, k, 40, (i) => (i % 3 === 0 ? ['load', 'render', 'aggregate', 'upload'] : ['load', 'aggregate', 'render', 'upload']), 'report');
    expect(found).toHaveLength(1);
    expect(found[0]!.subtype).toBe('out-of-order');
    expect(found[0]!.details.orderSource).toBe('learned');
    expect(['aggregate', 'render']).toContain(found[0]!.handler);
  });

  it('flags runs that never complete (no root, no last beat) and counts evictions', () => {
    const det = new SequenceDetector({ ...cfg, maxInflightRuns: 1000 }, []);
    let k = 0;
    for (; k < 15; k++) slice(det, k, 40, () => ['a', 'b', 'c'], 'flow');
    // A third of the runs stop after 'a' and never send their root span.
    for (let i = 0; i < 40; i++) {
      const spans = i % 3 === 0 ? makeRun(`cut${i}`, 'flow', ['a'], k * SLICE, { root: false }) : makeRun(`ok${i}`, 'flow', ['a', 'b', 'c'], k * SLICE);
      for (const s of spans) det.observe(s);
    }
    let found: Finding[] = [];
    for (let j = 0; j < 5 && found.length === 0; j++) {
      k++;
      found = slice(det, k, 40, () => ['a', 'b', 'c'], 'flow');
    }
    expect(found.map((f) => f.key)).toEqual(['behavioral:shop:flow:incomplete-run']);
    expect(found[0]!.handler).toBeUndefined();
    expect(found[0]!.exemplars[0]!.traceId).toMatch(/^cut/);
    expect(det.evictedRuns).toBe(0);
  });

  it('judges a run its batch completed at once and counts it in the next evaluation, as if that evaluation had closed it', () => {
    const feed = (det: SequenceDetector, early: boolean): Finding[] => {
      const found: Finding[] = [];
      for (let k = 0; k < 20; k++) {
        for (let i = 0; i < 40; i++) {
          const shape = k >= 15 && i % 3 === 0 ? ['load', 'render', 'aggregate'] : ['load', 'aggregate', 'render'];
          for (const s of makeRun(`${early}-${k}-${i}`, 'report', shape, k * SLICE + i * 100, { service: 'shop' })) det.observe(s);
          if (early) det.closeSatisfied();
        }
        found.push(...det.evaluate((k + 1) * SLICE));
      }
      return found;
    };
    const early = new SequenceDetector({ ...cfg, maxInflightRuns: 1000 }, []);
    const atEvaluation = new SequenceDetector({ ...cfg, maxInflightRuns: 1000 }, []);
    const a = feed(early, true);
    const b = feed(atEvaluation, false);
    expect(a.map((f) => [f.key, f.observed, f.summary])).toEqual(b.map((f) => [f.key, f.observed, f.summary]));
    expect(a.map((f) => f.subtype)).toContain('out-of-order');
    expect(early.inflightRuns).toBe(0);
    // With the order learnt, runs left the in-flight set with their batch, not at the evaluation.
    for (const s of makeRun('now', 'report', ['load', 'aggregate', 'render'], 20 * SLICE, { service: 'shop' })) early.observe(s);
    expect(early.inflightRuns).toBe(1);
    early.closeSatisfied();
    expect(early.inflightRuns).toBe(0);
  });

  it('learns the order from runs as they are evicted while learning, so that runs then close with their batch instead of being evicted', () => {
    const det = new SequenceDetector({ ...cfg, maxInflightRuns: 10 }, []);
    const feed = (prefix: string, k: number): void => {
      for (let i = 0; i < 100; i++) {
        for (const s of makeRun(`${prefix}${i}`, 'busy', ['a', 'b', 'c'], k * SLICE + i, { service: 'shop' })) det.observe(s);
        det.closeSatisfied();
      }
    };
    feed('learn', 0);
    // Nothing is expected yet: the budget evicts runs until the learner has minLearnRuns (30) of
    // them; from then on its provisional shapes close each run with its batch. The 9 runs still
    // in flight then close at the evaluation.
    expect(det.evictedRuns).toBe(30);
    // Each had its root: they waited for a closing shape that was not learnt yet.
    expect(det.assemblyStats().evictedRootedRuns).toBe(30);
    expect(det.inflightRuns).toBe(9);
    expect(det.expectedOrder('busy')).toBeUndefined();
    expect(det.evaluate(SLICE)).toEqual([]);
    expect(det.inflightRuns).toBe(0);
    expect(det.expectedOrder('busy')!.handlers).toEqual(['a', 'b', 'c']);
    // All 100 runs were learned (30 evicted, 70 closed), not only the evicted runs kept for close().
    expect(det.expectedOrder('busy')!.runs).toBe(100);
    feed('known', 1);
    expect(det.evictedRuns).toBe(30);
    expect(det.inflightRuns).toBe(0);
  });

  it('does not judge runs evicted by the in-flight bound', () => {
    const det = new SequenceDetector({ ...cfg, maxInflightRuns: 5 }, []);
    let k = 0;
    for (; k < 15; k++) slice(det, k, 4, () => ['a', 'b'], 'small');
    // 40 runs whose roots never come: all but 5 are evicted, none counts as incomplete.
    for (let i = 0; i < 40; i++) for (const s of makeRun(`ev${i}`, 'small', ['a'], k * SLICE, { root: false })) det.observe(s);
    expect(det.evictedRuns).toBe(35);
    // None had its root: the rooted share of the evictions says so.
    expect(det.assemblyStats().evictedRootedRuns).toBe(0);
    expect(det.evaluate((k + 1) * SLICE)).toEqual([]);
    expect(det.inflightRuns).toBe(5);
  });

  it('flags a surge of runs per slice against the baseline count', () => {
    const det = new SequenceDetector(cfg, []);
    const rnd = new Random(3);
    let k = 0;
    for (; k < 40; k++) expect(slice(det, k, rnd.poisson(30), () => ['a', 'b'], 'signup')).toEqual([]);
    const found = slice(det, k, 200, () => ['a', 'b'], 'signup');
    expect(found.map((f) => f.subtype)).toEqual(['count-surge']);
    expect(found[0]!.key).toBe('behavioral:shop:signup:count-surge');
    expect(found[0]!.observed.runs).toBe(200);
    expect(found[0]!.expected.runs).toBeGreaterThan(20);
    expect(found[0]!.severity).toBe('high');
  });

  it('ignores traces that are not sequence runs (no beats, not declared)', () => {
    const det = new SequenceDetector(cfg, []);
    for (let k = 0; k < 60; k++) {
      for (let i = 0; i < 50; i++) det.observe(makeBeat({ traceId: `s${k}-${i}`, spanId: 'r', handler: 'GET /health', spanName: 'GET /health', startMs: k * SLICE }));
      expect(det.evaluate((k + 1) * SLICE)).toEqual([]);
    }
    expect(det.expectedOrder('GET /health')).toBeUndefined();
  });
});

/** One slice of one-span runs: each run is a lone root span of `handler` carrying the sequence name. */
function oneSpanSlice(det: SequenceDetector, k: number, handlers: string[], seq: string): Finding[] {
  handlers.forEach((h, i) => {
    const traceId = `o${traceNo++}`;
    det.observe(makeBeat({ service: 'shop', traceId, spanId: `${traceId}-r`, parentSpanId: '', handler: h, spanName: h, sequence: seq, beatNumber: 1, startMs: k * SLICE + (i / handlers.length) * SLICE * 0.4, durationMs: 3 }));
  });
  return det.evaluate((k + 1) * SLICE);
}

describe('SequenceDetector with several normal run shapes', () => {
  it('learns one-span runs of two handlers sharing a sequence name, even when the heaviest shape keeps flipping', () => {
    const det = new SequenceDetector(cfg, []);
    const rnd = new Random(5);
    const quiet: Finding[] = [];
    let k = 0;
    // Equal rates: with one modal order, every flip of the mode raised unexpected/missing beats.
    for (; k < 400; k++) {
      const n = rnd.poisson(20);
      quiet.push(...oneSpanSlice(det, k, Array.from({ length: n }, () => (rnd.chance(0.5) ? 'holdSeat' : 'holdRoom')), 'booking'));
    }
    expect(quiet.map((f) => f.summary)).toEqual([]);
    expect(det.expectedOrder('booking')!.shapes).toEqual([['holdRoom'], ['holdSeat']]);
    // A third handler appearing in a third of the runs is still a violation.
    const found = oneSpanSlice(det, k, Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 'holdCar' : i % 3 === 1 ? 'holdSeat' : 'holdRoom')), 'booking');
    expect(found.map((f) => f.key)).toContain('behavioral:shop:booking:unexpected-beat:holdCar');
    expect(found.find((f) => f.subtype === 'unexpected-beat')!.details.normalShapes).toBe('holdRoom | holdSeat');
  });

  it('judges a run against its nearest normal shape: a missing beat of the minority shape is reported', () => {
    const det = new SequenceDetector(cfg, []);
    const A = ['load', 'render'];
    const B = ['load', 'aggregate', 'export'];
    let k = 0;
    const quiet: Finding[] = [];
    for (; k < 30; k++) quiet.push(...slice(det, k, 40, (i) => (i % 3 === 0 ? B : A), 'report'));
    expect(quiet).toEqual([]);
    expect(det.expectedOrder('report')!.shapes).toHaveLength(2);
    // Half of the B runs lose 'aggregate'.
    const found = slice(det, k, 40, (i) => (i % 3 === 0 ? (i % 2 === 0 ? ['load', 'export'] : B) : A), 'report');
    expect(found.map((f) => f.key)).toEqual(['behavioral:shop:report:missing-beat:aggregate']);
  });

  it('keeps flagging a lasting fault instead of learning it as a new normal shape within minutes', () => {
    const det = new SequenceDetector(cfg, []);
    let k = 0;
    for (; k < 20; k++) slice(det, k, 40, () => ['a', 'b', 'c'], 'flow');
    let flaggedSlices = 0;
    // 40 % of runs skip 'b' for 60 slices (10 minutes, 2400 runs: more than the learning half-life).
    for (let j = 0; j < 60; j++, k++) {
      const found = slice(det, k, 40, (i) => (i % 5 < 2 ? ['a', 'c'] : ['a', 'b', 'c']), 'flow');
      if (found.some((f) => f.key === 'behavioral:shop:flow:missing-beat:b')) flaggedSlices++;
    }
    expect(flaggedSlices).toBeGreaterThanOrEqual(55);
    expect(det.expectedOrder('flow')!.shapes).toEqual([['a', 'b', 'c']]);
  });

  it('re-derives violation baselines when the normal shapes change, so the change itself raises nothing', () => {
    const det = new SequenceDetector(cfg, []);
    const rnd = new Random(11);
    let k = 0;
    const quiet: Finding[] = [];
    // A variant at 15 % of runs: normal at first, then it fades to 4.5 % and stops being normal.
    // Its violations (4.5 % of runs, noisy) then meet a baseline derived from its learned share.
    for (; k < 450; k++) {
      const share = k < 100 ? 0.15 : 0.045;
      quiet.push(...slice(det, k, 40, () => (rnd.chance(share) ? ['a', 'x', 'c'] : ['a', 'b', 'c']), 'drift'));
    }
    expect(det.expectedOrder('drift')!.shapes).toEqual([['a', 'b', 'c']]);
    expect(quiet.map((f) => f.summary)).toEqual([]);
  });
});

describe('count-surge', () => {
  it('ignores a one-slice Poisson fluke (22 runs against a mean of 6) but flags a surge sustained over two slices', () => {
    const det = new SequenceDetector(cfg, []);
    const rnd = new Random(9);
    let k = 0;
    for (; k < 60; k++) expect(slice(det, k, rnd.poisson(6), () => ['a'], 'cart')).toEqual([]);
    expect(slice(det, k++, 22, () => ['a'], 'cart')).toEqual([]);
    expect(slice(det, k++, 6, () => ['a'], 'cart')).toEqual([]);
    for (let j = 0; j < 5; j++) expect(slice(det, k++, rnd.poisson(6), () => ['a'], 'cart')).toEqual([]);
    // Two slices at 3.5x: neither alone is beyond 1e-9, together they are beyond 1e-6.
    expect(slice(det, k++, 21, () => ['a'], 'cart')).toEqual([]);
    const found = slice(det, k++, 22, () => ['a'], 'cart');
    expect(found.map((f) => f.subtype)).toEqual(['count-surge']);
    expect(found[0]!.details.slices).toBe(2);
    expect(found[0]!.details.runsInTest).toBe(43);
    expect(found[0]!.details.pValue as number).toBeLessThan(1e-6);
    expect(found[0]!.summary).toMatch(/43 runs in two slices/);
    expect(found[0]!.severity).toBe('medium');
  });

  it('does not fire on steady, drifting Poisson traffic over 2000 slices, at low and high rates', () => {
    for (const [mean, seed] of [[6, 4242], [60, 1]] as const) {
      const det = new SequenceDetector(cfg, []);
      const rnd = new Random(seed);
      const found: Finding[] = [];
      for (let k = 0; k < 2000; k++) found.push(...slice(det, k, rnd.poisson(mean * (1 + 0.5 * Math.sin(k / 300))), () => ['a'], 'steady'));
      expect(found.map((f) => f.summary)).toEqual([]);
    }
  });

  it('needs the minimum relative effect even when the tail is tiny', () => {
    const det = new SequenceDetector(cfg, []);
    let k = 0;
    for (; k < 40; k++) slice(det, k, 400, () => ['a'], 'busy');
    // +40 % on 400 runs is far beyond Poisson noise but below 2x: not a surge.
    for (let j = 0; j < 3; j++) expect(slice(det, k++, 560, () => ['a'], 'busy')).toEqual([]);
  });

  it('widens the test for bursty (overdispersed) traffic', () => {
    const det = new SequenceDetector(cfg, []);
    const rnd = new Random(21);
    let k = 0;
    const found: Finding[] = [];
    // Runs come in bursts: 0 or 40 per slice, mean 10, variance 300.
    for (; k < 300; k++) found.push(...slice(det, k, rnd.chance(0.25) ? 40 : 0, () => ['a'], 'bursty'));
    expect(found).toEqual([]);
  });
});

describe('SequenceDetector bounds', () => {
  it('drops runs of new sequences beyond maxKeys and forgets idle sequences', () => {
    const det = new SequenceDetector({ ...cfg, maxKeys: 1, idleEvictMs: 60_000 }, []);
    slice(det, 0, 5, () => ['a'], 'one');
    slice(det, 1, 5, () => ['a'], 'two');
    expect(det.droppedRuns).toBe(5);
    // 'one' goes idle and is evicted; then 'two' has room.
    det.evaluate(100 * SLICE);
    slice(det, 101, 5, () => ['a'], 'two');
    expect(det.droppedRuns).toBe(5);
  });

  it('survives long gaps between slices without flagging', () => {
    const det = new SequenceDetector(cfg, [checkout]);
    let k = 0;
    for (; k < 20; k++) slice(det, k, 30, () => FULL);
    k += 500;
    expect(slice(det, k, 30, () => FULL)).toEqual([]);
  });
});

describe('poissonUpperTail', () => {
  it('matches closed forms and known tails', () => {
    expect(poissonUpperTail(0, 3)).toBe(1);
    expect(poissonUpperTail(1, 1)).toBeCloseTo(1 - Math.exp(-1), 12);
    expect(poissonUpperTail(3, 2)).toBeCloseTo(1 - 5 * Math.exp(-2), 12);
    expect(poissonUpperTail(2, 5)).toBeCloseTo(1 - 6 * Math.exp(-5), 12);
    // P(X >= 22 | 6.1): the fluke of problem 1 is rare, but not 1e-9 rare.
    const fluke = poissonUpperTail(22, 6.1);
    expect(fluke).toBeGreaterThan(1e-7);
    expect(fluke).toBeLessThan(1e-6);
    expect(poissonUpperTail(150, 30)).toBeLessThan(1e-40);
    expect(poissonUpperTail(5, 0)).toBe(0);
    expect(poissonUpperTail(22.9, 6.1)).toBe(fluke);
  });
  it('is monotone in k', () => {
    let prev = 1;
    for (let k = 0; k < 80; k++) {
      const p = poissonUpperTail(k, 20);
      expect(p).toBeLessThanOrEqual(prev + 1e-12);
      prev = p;
    }
  });
});

describe('proportionZ', () => {
  it('is large for a jump and small for noise around the baseline', () => {
    expect(proportionZ(30, 100, 0.01)).toBeGreaterThan(20);
    expect(proportionZ(2, 100, 0.01)).toBeLessThan(1);
    expect(proportionZ(0, 0, 0.1)).toBe(0);
  });
});

describe('fault scenario (behavioral and coverage faults only)', () => {
  it('detects the out-of-order, missing-beat, untested-handler and surge faults with no false alarms', () => {
    const sc = defaultScenario(11);
    const reports = runDirect(sc);
    const r = score(sc, reports);
    expect(r.falsePositives.map((e) => e.key)).toEqual([]);
    expect(r.warmupEpisodes).toBe(0);
    const mine = r.faults.filter((f) => ['out-of-order', 'missing-beat', 'hot-untested-handler', 'count-surge'].includes(f.kind));
    expect(mine.every((f) => f.detected)).toBe(true);
    expect(Math.max(...mine.map((f) => f.ttdSlices!))).toBeLessThanOrEqual(2);
  });
});
