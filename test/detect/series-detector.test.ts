import { describe, expect, it } from 'vitest';
import { DEFAULT_SERIES_PARAMS, NAB_SERIES_PARAMS, SeriesDetector } from '../../src/detect/series-detector.js';

/** Deterministic PRNG (mulberry32) so the tests never flake. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(r: () => number): number {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

const MINUTE = 60_000;
const FIVE_MINUTES = 300_000;
const DAY_ROWS = 288;
const ALARM = 0.5;

/** A daily shape sampled every 5 minutes: flat nights at 20, a daytime hump up to 80. */
function daily(i: number): number {
  const phase = (i % DAY_ROWS) / DAY_ROWS;
  return 20 + 60 * Math.max(0, Math.sin(2 * Math.PI * (phase - 0.25)));
}

describe('SeriesDetector', () => {
  it('reports confidence 0 and score 0 below minSamples, then confidence grows to 1', () => {
    const d = new SeriesDetector({ minSamples: 10, fullConfidenceSamples: 20 });
    for (let i = 0; i < 10; i++) {
      const s = d.update(i === 5 ? 1e6 : 100 + (i % 3), i * MINUTE);
      expect(s.confidence).toBe(0);
      expect(s.score).toBe(0);
      expect(s.samples).toBe(i);
    }
    const first = d.update(101, 10 * MINUTE);
    expect(first.confidence).toBeGreaterThan(0);
    expect(first.confidence).toBeLessThan(1);
    for (let i = 11; i < 30; i++) d.update(100 + (i % 3), i * MINUTE);
    expect(d.peek(100, 30 * MINUTE).confidence).toBe(1);
  });

  it('raises no alarm on long stationary noisy series (several seeds, seasonal view active)', () => {
    for (const seed of [7, 8, 9]) {
      const r = rng(seed);
      const d = new SeriesDetector();
      let maxScore = 0;
      for (let i = 0; i < 5000; i++) maxScore = Math.max(maxScore, d.update(200 + 20 * gaussian(r), i * MINUTE).score);
      expect(maxScore, `seed ${seed}`).toBeLessThan(ALARM);
    }
  });

  it('raises no alarm on a steady, noisy latency-like (log-normal) series with logTransform', () => {
    const r = rng(11);
    const d = new SeriesDetector({ logTransform: true });
    let maxScore = 0;
    for (let i = 0; i < 3000; i++) maxScore = Math.max(maxScore, d.update(Math.exp(Math.log(120) + 0.15 * gaussian(r)), i * MINUTE).score);
    expect(maxScore).toBeLessThan(ALARM);
  });

  it('flags a single spike immediately and reports the baseline it expected', () => {
    const r = rng(3);
    const d = new SeriesDetector();
    for (let i = 0; i < 300; i++) d.update(50 + 2 * gaussian(r), i * MINUTE);
    const s = d.update(90, 300 * MINUTE);
    expect(s.score).toBeGreaterThan(0.9);
    expect(s.expected).toBeGreaterThan(48);
    expect(s.expected).toBeLessThan(52);
    expect(s.spread).toBeGreaterThan(1);
    expect(s.spread).toBeLessThan(3);
    expect(s.samples).toBe(300);
  });

  it('reacts within a few values to a 3.5-sigma level shift that no single value makes obvious', () => {
    for (const seed of [5, 6, 7]) {
      const r = rng(seed);
      const d = new SeriesDetector();
      for (let i = 0; i < 400; i++) d.update(100 + 10 * gaussian(r), i * MINUTE);
      let firstAlarm = -1;
      for (let i = 0; i < 20 && firstAlarm < 0; i++) {
        if (d.update(135 + 10 * gaussian(r), (400 + i) * MINUTE).score >= ALARM) firstAlarm = i;
      }
      expect(firstAlarm, `seed ${seed}`).toBeGreaterThanOrEqual(0);
      expect(firstAlarm, `seed ${seed}`).toBeLessThanOrEqual(DEFAULT_SERIES_PARAMS.shiftWindow + 2);
    }
  });

  it('keeps scoring an ongoing shift for several values, then adapts to the new level', () => {
    const r = rng(5);
    const d = new SeriesDetector();
    for (let i = 0; i < 600; i++) d.update(100 + 10 * gaussian(r), i * MINUTE);
    const scores: number[] = [];
    for (let i = 0; i < 400; i++) scores.push(d.update(200 + 10 * gaussian(r), (600 + i) * MINUTE).score);
    expect(scores.slice(0, 8).every((s) => s >= ALARM)).toBe(true);
    expect(Math.max(...scores.slice(300))).toBeLessThan(ALARM);
  });

  it('uses the time of day: a day without its daily peak is flagged, which the level view alone misses', () => {
    const run = (params: ConstructorParameters<typeof SeriesDetector>[0]): { before: number; during: number } => {
      const r = rng(1);
      const d = new SeriesDetector(params);
      let before = 0;
      let during = 0;
      for (let i = 0; i < DAY_ROWS * 12; i++) {
        const missing = i >= DAY_ROWS * 10 && i < DAY_ROWS * 11;
        const s = d.update((missing ? 20 : daily(i)) + 2 * gaussian(r), i * FIVE_MINUTES).score;
        if (missing) during = Math.max(during, s);
        else if (i > DAY_ROWS * 3 && i < DAY_ROWS * 10) before = Math.max(before, s);
      }
      return { before, during };
    };
    const seasonal = run({});
    expect(seasonal.before).toBeLessThan(ALARM);
    expect(seasonal.during).toBeGreaterThan(ALARM);
    const levelOnly = run({ seasonDays: 0 });
    expect(levelOnly.during).toBeLessThan(0.1);
  });

  it('ignores the seasonal view when the sampling interval does not divide a day', () => {
    const r = rng(2);
    const odd = new SeriesDetector();
    const regular = new SeriesDetector();
    let oddMax = 0;
    let regularMax = 0;
    for (let i = 0; i < DAY_ROWS * 12; i++) {
      const missing = i >= DAY_ROWS * 10 && i < DAY_ROWS * 11;
      const v = (missing ? 20 : daily(i)) + 2 * gaussian(r);
      const a = odd.update(v, i * 7 * MINUTE).score;
      const b = regular.update(v, i * FIVE_MINUTES).score;
      if (missing) {
        oddMax = Math.max(oddMax, a);
        regularMax = Math.max(regularMax, b);
      }
    }
    expect(regularMax).toBeGreaterThan(ALARM);
    expect(oddMax).toBeLessThan(0.1);
  });

  it('NAB parameters report an event at its onset and damp the values that follow', () => {
    const r = rng(5);
    const d = new SeriesDetector(NAB_SERIES_PARAMS);
    for (let i = 0; i < 600; i++) d.update(100 + 10 * gaussian(r), i * MINUTE);
    const scores: number[] = [];
    for (let i = 0; i < 15; i++) scores.push(d.update(200 + 10 * gaussian(r), (600 + i) * MINUTE).score);
    const onset = Math.max(scores[0]!, scores[1]!);
    expect(onset).toBeGreaterThan(0.25);
    expect(Math.max(...scores.slice(3))).toBeLessThan(onset / 5);
    expect(NAB_SERIES_PARAMS.peakWindow).toBeGreaterThan(0);
    expect(DEFAULT_SERIES_PARAMS.peakWindow).toBe(0);
  });

  it('peek scores without learning', () => {
    const d = new SeriesDetector();
    for (let i = 0; i < 100; i++) d.update(10 + (i % 3), i * MINUTE);
    const a = d.peek(1000, 100 * MINUTE);
    const b = d.peek(1000, 100 * MINUTE);
    expect(b).toEqual(a);
    expect(a.samples).toBe(100);
    expect(a.score).toBeGreaterThan(0.9);
    expect(d.peek(11, 100 * MINUTE).score).toBeLessThan(ALARM);
  });

  it('ignores non-finite values (scores 0, does not learn them)', () => {
    const d = new SeriesDetector();
    expect(d.update(Number.NaN, 0).score).toBe(0);
    for (let i = 1; i < 50; i++) d.update(5 + (i % 2), i * MINUTE);
    const s = d.update(Number.POSITIVE_INFINITY, 50 * MINUTE);
    expect(s.score).toBe(0);
    expect(s.expected).toBe(6);
    expect(s.samples).toBe(49);
    expect(d.peek(5, 51 * MINUTE).samples).toBe(49);
  });

  it('handles a perfectly flat series through the spread floor', () => {
    const d = new SeriesDetector();
    for (let i = 0; i < 100; i++) expect(d.update(42, i * MINUTE).score).toBeLessThan(ALARM);
    expect(d.peek(42, 100 * MINUTE).spread).toBeGreaterThan(0);
    expect(d.peek(60, 100 * MINUTE).score).toBeGreaterThan(0.9);
  });

  it('keeps bounded memory: old values leave the baseline', () => {
    const d = new SeriesDetector({ window: 50, calibrationWindow: 100 });
    for (let i = 0; i < 200; i++) d.update(10 + (i % 2), i * MINUTE);
    for (let i = 0; i < 400; i++) d.update(1000 + (i % 2), (200 + i) * MINUTE);
    const s = d.peek(1000, 600 * MINUTE);
    expect(s.expected).toBeCloseTo(1000.5, 5);
    expect(s.score).toBeLessThan(ALARM);
  });

  it('reports expected and spread in original units when log-transformed', () => {
    const d = new SeriesDetector({ logTransform: true });
    for (let i = 0; i < 200; i++) d.update(100 * (1 + 0.1 * ((i % 5) - 2)), i * MINUTE);
    const s = d.peek(100, 200 * MINUTE);
    expect(s.expected).toBeCloseTo(100, 5);
    expect(s.spread).toBeGreaterThan(1);
    expect(s.spread).toBeLessThan(40);
    expect(d.peek(1000, 200 * MINUTE).score).toBeGreaterThan(ALARM);
  });
});

describe('SeriesDetector event-scoring options', () => {
  const noisy = (seed: number, n: number, params: ConstructorParameters<typeof SeriesDetector>[0]): SeriesDetector => {
    const r = rng(seed);
    const d = new SeriesDetector(params);
    for (let i = 0; i < n; i++) d.update(100 + 10 * gaussian(r), i * MINUTE);
    return d;
  };

  it('adds the record bonus only to values outside everything seen so far', () => {
    const plain = noisy(21, 500, { seasonDays: 0 });
    const bonus = noisy(21, 500, { seasonDays: 0, recordBonus: 2, recordTolerance: 0.02 });
    // 100 is ordinary; 250 is beyond the all-time maximum of N(100, 10) noise.
    expect(bonus.peek(100, 500 * MINUTE).score).toBeCloseTo(plain.peek(100, 500 * MINUTE).score, 12);
    expect(bonus.peek(250, 500 * MINUTE).score).toBeGreaterThan(plain.peek(250, 500 * MINUTE).score);
  });

  it('makes the same event less surprising in a longer series with a length penalty', () => {
    const short = noisy(22, 300, { seasonDays: 0, lengthPenalty: 0.5 });
    const long = noisy(22, 3000, { seasonDays: 0, lengthPenalty: 0.5 });
    const none = noisy(22, 3000, { seasonDays: 0 });
    expect(long.peek(150, 3000 * MINUTE).score).toBeLessThan(none.peek(150, 3000 * MINUTE).score);
    expect(long.peek(150, 3000 * MINUTE).score).toBeLessThan(short.peek(150, 300 * MINUTE).score);
  });
});
