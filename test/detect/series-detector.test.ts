import { describe, expect, it } from 'vitest';
import { DEFAULT_SERIES_PARAMS, SeriesDetector } from '../../src/detect/series-detector.js';

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

const STEP = 60_000;
const ALARM = 0.5;

describe('SeriesDetector', () => {
  it('reports confidence 0 and score 0 below minSamples, then confidence grows to 1', () => {
    const d = new SeriesDetector({ minSamples: 10, fullConfidenceSamples: 20 });
    for (let i = 0; i < 10; i++) {
      const s = d.update(i === 5 ? 1e6 : 100, i * STEP);
      expect(s.confidence).toBe(0);
      expect(s.score).toBe(0);
      expect(s.samples).toBe(i);
    }
    const first = d.update(100, 10 * STEP);
    expect(first.confidence).toBeGreaterThan(0);
    expect(first.confidence).toBeLessThan(1);
    for (let i = 11; i < 30; i++) d.update(100, i * STEP);
    expect(d.peek(100, 30 * STEP).confidence).toBe(1);
  });

  it('raises no alarm on a long stationary noisy series', () => {
    const r = rng(7);
    const d = new SeriesDetector();
    let alarms = 0;
    let maxScore = 0;
    for (let i = 0; i < 5000; i++) {
      const s = d.update(200 + 20 * gaussian(r), i * STEP);
      if (s.score >= ALARM) alarms++;
      maxScore = Math.max(maxScore, s.score);
    }
    expect(alarms).toBe(0);
    expect(maxScore).toBeLessThan(ALARM);
  });

  it('raises no alarm on a steady, noisy latency-like (log-normal) series with logTransform', () => {
    const r = rng(11);
    const d = new SeriesDetector({ logTransform: true });
    let alarms = 0;
    for (let i = 0; i < 3000; i++) {
      if (d.update(Math.exp(Math.log(120) + 0.15 * gaussian(r)), i * STEP).score >= ALARM) alarms++;
    }
    expect(alarms).toBe(0);
  });

  it('flags a single spike immediately', () => {
    const r = rng(3);
    const d = new SeriesDetector();
    for (let i = 0; i < 300; i++) d.update(50 + 2 * gaussian(r), i * STEP);
    const s = d.update(90, 300 * STEP);
    expect(s.score).toBeGreaterThan(0.9);
    expect(s.expected).toBeGreaterThan(48);
    expect(s.expected).toBeLessThan(52);
    expect(s.spread).toBeGreaterThan(1);
    expect(s.spread).toBeLessThan(3);
  });

  it('reacts within a few values to a sustained level shift that no single value makes obvious', () => {
    const r = rng(5);
    const d = new SeriesDetector();
    for (let i = 0; i < 300; i++) d.update(100 + 10 * gaussian(r), i * STEP);
    let firstAlarm = -1;
    for (let i = 0; i < 20; i++) {
      const s = d.update(135 + 10 * gaussian(r), (300 + i) * STEP);
      if (s.score >= ALARM && firstAlarm < 0) firstAlarm = i;
    }
    expect(firstAlarm).toBeGreaterThanOrEqual(0);
    expect(firstAlarm).toBeLessThanOrEqual(DEFAULT_SERIES_PARAMS.shortWindow + 2);
  });

  it('peek scores without learning', () => {
    const d = new SeriesDetector();
    for (let i = 0; i < 100; i++) d.update(10 + (i % 3), i * STEP);
    const a = d.peek(1000, 100 * STEP);
    const b = d.peek(1000, 100 * STEP);
    expect(b).toEqual(a);
    expect(a.samples).toBe(100);
    expect(a.score).toBeGreaterThan(0.9);
    expect(d.peek(11, 100 * STEP).score).toBeLessThan(ALARM);
  });

  it('ignores non-finite values (scores 0, does not learn them)', () => {
    const d = new SeriesDetector();
    for (let i = 0; i < 50; i++) d.update(5, i * STEP);
    const s = d.update(Number.NaN, 50 * STEP);
    expect(s.score).toBe(0);
    expect(s.samples).toBe(50);
    expect(d.peek(5, 51 * STEP).samples).toBe(50);
  });

  it('handles a perfectly flat series through the spread floor', () => {
    const d = new SeriesDetector();
    for (let i = 0; i < 100; i++) expect(d.update(42, i * STEP).score).toBeLessThan(ALARM);
    expect(d.peek(42, 100 * STEP).spread).toBeGreaterThan(0);
    expect(d.peek(60, 100 * STEP).score).toBeGreaterThan(0.9);
  });

  it('keeps bounded memory: old values leave the baseline', () => {
    const d = new SeriesDetector({ window: 50 });
    for (let i = 0; i < 200; i++) d.update(10, i * STEP);
    for (let i = 0; i < 200; i++) d.update(1000, (200 + i) * STEP);
    const s = d.peek(1000, 400 * STEP);
    expect(s.expected).toBe(1000);
    expect(s.score).toBeLessThan(ALARM);
  });
});
