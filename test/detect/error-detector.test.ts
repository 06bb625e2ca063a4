import { describe, expect, it } from 'vitest';
import { detectErrorSpike, ErrorBaseline, FingerprintBook, type ErrorParams } from '../../src/detect/error-detector.js';
import { SliceWindow, type SliceSink } from '../../src/detect/slice-window.js';
import { makeBeat, makeError, seededRandom } from './beat-factory.js';

const PARAMS: ErrorParams = {
  significance: 1e-4,
  minRateRatio: 2,
  minRateIncrease: 0.02,
  minErrors: 3,
  minSamples: 30,
  baselineMinSlices: 10,
  baselineSlices: 360,
};

function trained(rand: () => number, slices: number, perSlice: number, rate: number): ErrorBaseline {
  const b = new ErrorBaseline(PARAMS);
  const sink: SliceSink = { closeSlice: (s) => b.learn(s), skipSlices: (n) => b.skip(n) };
  const w = new SliceWindow(1000, 1);
  for (let s = 0; s <= slices; s++) {
    for (let i = 0; i < perSlice; i++) w.add(makeBeat({ startMs: s * 1000 + i, durationMs: 1 }), rand() < rate, sink);
  }
  return b;
}

/** Binomial draw by simulation, for realistic noisy windows. */
function errorsIn(rand: () => number, n: number, rate: number): number {
  let e = 0;
  for (let i = 0; i < n; i++) if (rand() < rate) e++;
  return e;
}

describe('ErrorBaseline', () => {
  it('tracks a decayed rate and warms up', () => {
    const rand = seededRandom(20);
    expect(trained(rand, 5, 50, 0.01).warm).toBe(false);
    const b = trained(rand, 60, 50, 0.01);
    expect(b.warm).toBe(true);
    expect(b.rate).toBeGreaterThan(0.005);
    expect(b.rate).toBeLessThan(0.02);
    expect(b.slices).toBe(60);
    expect(b.confidence).toBe(1);
    const c = b.count;
    b.skip(10);
    expect(b.count).toBeLessThan(c);
    expect(b.rate).toBeCloseTo(b.errors / b.count, 12);
  });
});

describe('detectErrorSpike', () => {
  const rand = seededRandom(21);
  const baseline = trained(rand, 60, 50, 0.01);

  it('does not fire on windows at the baseline rate', () => {
    for (let i = 0; i < 200; i++) {
      const n = 300;
      expect(detectErrorSpike(n, errorsIn(rand, n, 0.01), baseline, PARAMS, 0.5)).toBeUndefined();
    }
  });

  it('fires on a spike with the z-test for large counts', () => {
    const v = detectErrorSpike(1000, 80, baseline, PARAMS, 0.5)!;
    expect(v.test).toBe('z');
    expect(v.observedRate).toBeCloseTo(0.08, 10);
    expect(v.pValue).toBeLessThan(1e-10);
    expect(v.severity).toBe('high');
    expect(v.confidence).toBeGreaterThan(0.8);
  });

  it('uses the exact binomial test for small counts', () => {
    const clean = trained(seededRandom(22), 60, 50, 0);
    const v = detectErrorSpike(40, 6, clean, PARAMS, 0.1)!;
    expect(v.test).toBe('binomial');
    expect(v.expectedRate).toBe(0);
    expect(v.pValue).toBeLessThan(1e-4);
    expect(detectErrorSpike(40, 2, clean, PARAMS, 0.1)).toBeUndefined(); // below minErrors
  });

  it('requires a meaningful effect, enough beats and a warm baseline', () => {
    const busy = trained(seededRandom(23), 60, 200, 0.1);
    // 12 % vs 10 %: significant with huge n but below the 2x ratio.
    expect(detectErrorSpike(100_000, 12_000, busy, PARAMS, 0.5)).toBeUndefined();
    expect(detectErrorSpike(10, 9, baseline, PARAMS, 0.5)).toBeUndefined();
    expect(detectErrorSpike(1000, 500, trained(seededRandom(24), 3, 50, 0.01), PARAMS, 0.5)).toBeUndefined();
    expect(detectErrorSpike(1000, 45, baseline, PARAMS, 0.5, 1)).toBeDefined();
    expect(detectErrorSpike(1000, 45, baseline, PARAMS, 0.5, 4)).toBeUndefined();
  });

  it('takes another significance for another look (the short horizon)', () => {
    const v = detectErrorSpike(90, 12, baseline, PARAMS, 0.5)!;
    expect(v).toBeDefined();
    expect(detectErrorSpike(90, 12, baseline, PARAMS, 0.5, 1, { significance: v.pValue / 2 })).toBeUndefined();
    expect(detectErrorSpike(90, 12, baseline, PARAMS, 0.5, 1, { significance: v.pValue * 2 })).toBeDefined();
  });
});

describe('FingerprintBook', () => {
  it('marks fingerprints first seen after warm-up as novel until they leave the window', () => {
    const book = new FingerprintBook(3);
    const old = makeError('TimeoutError', 'slow');
    const fresh = makeError('TypeError', 'x is undefined');
    book.observe(makeBeat({ startMs: 1000, durationMs: 1 }), old, false);
    book.observe(makeBeat({ startMs: 5000, durationMs: 1, traceId: 'tx', spanId: 'sx' }), fresh, true);
    book.observe(makeBeat({ startMs: 4000, durationMs: 1 }), fresh, true);
    book.observe(makeBeat({ startMs: 6000, durationMs: 1 }), old, true);
    const novel = book.novelSince(3000);
    expect(novel.map((e) => e.fingerprint)).toEqual([fresh.fingerprint]);
    expect(novel[0]!.count).toBe(2);
    expect(novel[0]!.firstSeenMs).toBe(4000);
    expect(novel[0]!.traceId).toBe('tx');
    expect(book.novelSince(4500)).toEqual([]);
    expect(book.novelSince(0)).toEqual([]); // no longer novel once aged out
    book.observe(makeBeat({ startMs: 1, durationMs: 1 }), { ...old, fingerprint: '' }, true);
    expect(book.size).toBe(2);
  });

  it('forgets the least recently seen fingerprint when full', () => {
    const book = new FingerprintBook(2);
    const a = makeError('A', 'a');
    const b = makeError('B', 'b');
    const c = makeError('C', 'c');
    book.observe(makeBeat({ startMs: 1, durationMs: 1 }), a, true);
    book.observe(makeBeat({ startMs: 2, durationMs: 1 }), b, true);
    book.observe(makeBeat({ startMs: 3, durationMs: 1 }), a, true);
    book.observe(makeBeat({ startMs: 4, durationMs: 1 }), c, true);
    expect(book.has(a.fingerprint)).toBe(true);
    expect(book.has(b.fingerprint)).toBe(false);
    expect(book.has(c.fingerprint)).toBe(true);
  });
});
