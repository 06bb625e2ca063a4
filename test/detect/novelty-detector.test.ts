import { describe, expect, it } from 'vitest';
import { seededRandom } from './beat-factory.js';
import { NAB_NOVELTY_PARAMS, NoveltyDetector } from '../../src/detect/novelty-detector.js';

const rng = seededRandom;

/** The tests below that check distances compare raw values. */
const RAW = { sqrtTransform: false };

/** Feed n uniform values in [lo, lo + 1) and return the highest score seen after warm-up. */
function feedBand(d: NoveltyDetector, n: number, lo: number, r: () => number): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const s = d.update(lo + r());
    if (s.samples >= d.params.minSamples) max = Math.max(max, s.score);
  }
  return max;
}

describe('NoveltyDetector', () => {
  it('scores 0 until minSamples values are learnt and counts the samples', () => {
    const d = new NoveltyDetector({ ...RAW, minSamples: 10 });
    for (let i = 0; i < 10; i++) {
      const s = d.update(i === 5 ? 1e6 : i % 3);
      expect(s).toEqual({ score: 0, novelty: 0, samples: i });
    }
    const s = d.update(1e9);
    expect(s.samples).toBe(10);
    expect(s.score).toBeGreaterThan(0.99);
  });

  it('stays quiet inside a noisy band and flags a value far outside it', () => {
    const r = rng(1);
    const d = new NoveltyDetector(RAW);
    const quiet = feedBand(d, 3000, 0, r);
    expect(quiet).toBeLessThan(0.3);
    const spike = d.update(3);
    // nearest remembered value is just below 1, the range just below 1: novelty about 2
    expect(spike.novelty).toBeGreaterThan(1.9);
    expect(spike.novelty).toBeLessThan(2.2);
    expect(spike.score).toBeCloseTo(spike.novelty / (spike.novelty + NAB_NOVELTY_PARAMS.halfScoreNovelty), 10);
    expect(spike.score).toBeGreaterThan(0.85);
  });

  it('reports a level shift at its first value, not at the values that follow it', () => {
    const run = (peakWindow: number): { first: number; laterMax: number; laterMean: number } => {
      const r = rng(2);
      const d = new NoveltyDetector({ ...RAW, peakWindow });
      feedBand(d, 500, 0, r);
      const first = d.update(10 + r()).score;
      let laterMax = 0;
      let sum = 0;
      for (let i = 0; i < 100; i++) {
        const s = d.update(10 + r()).score;
        laterMax = Math.max(laterMax, s);
        sum += s;
      }
      return { first, laterMax, laterMean: sum / 100 };
    };
    // Without damping only the next few values, sparse inside the new band, score a little.
    const undamped = run(0);
    expect(undamped.first).toBeGreaterThan(0.9);
    expect(undamped.laterMax).toBeLessThan(0.3);
    expect(undamped.laterMean).toBeLessThan(0.05);
    const damped = run(50);
    expect(damped.first).toBeCloseTo(undamped.first, 10);
    expect(damped.laterMax).toBeLessThan(0.1);
  });

  it('damps a novelty that does not beat the recent peak, unless damping is off', () => {
    const run = (peakWindow: number): number => {
      const r = rng(3);
      const d = new NoveltyDetector({ ...RAW, peakWindow, peakDamping: 0.2 });
      feedBand(d, 500, 0, r);
      expect(d.update(3).novelty).toBeGreaterThan(1.9); // first event, novelty about 2
      for (let i = 0; i < 5; i++) d.update(r());
      return d.update(6).score; // 3 away from 3, range 3: novelty 1 < 2
    };
    expect(run(0)).toBeCloseTo(1 / 1.25, 2);
    expect(run(50)).toBeCloseTo(0.2 / 0.45, 2);
    // outside the peak window the earlier event no longer damps
    const r = rng(4);
    const d = new NoveltyDetector({ ...RAW, peakWindow: 10 });
    feedBand(d, 500, 0, r);
    d.update(3);
    for (let i = 0; i < 20; i++) d.update(r());
    expect(d.update(6).score).toBeCloseTo(1 / 1.25, 2);
  });

  it('forgets values older than its memory', () => {
    const run = (memory: number): number => {
      const r = rng(5);
      const d = new NoveltyDetector({ ...RAW, memory, peakWindow: 0 });
      feedBand(d, 200, 0, r);
      feedBand(d, 200, 10, r);
      return d.update(0.5).novelty;
    };
    expect(run(1000)).toBeLessThan(0.01);
    expect(run(150)).toBeGreaterThan(5); // 9.5 below a band of width 1
  });

  it('treats any change of a flat series as new', () => {
    const d = new NoveltyDetector();
    for (let i = 0; i < 100; i++) expect(d.update(5).score).toBe(0);
    expect(d.update(6).score).toBeGreaterThan(0.999);
    expect(d.update(6).score).toBe(0); // seen now
  });

  it('skips non-finite values without learning them', () => {
    const d = new NoveltyDetector({ ...RAW, minSamples: 2 });
    d.update(1);
    d.update(2);
    expect(d.update(Number.NaN)).toEqual({ score: 0, novelty: 0, samples: 2 });
    expect(d.update(Number.POSITIVE_INFINITY).samples).toBe(2);
    const s = d.update(2);
    expect(s.samples).toBe(2);
    expect(s.novelty).toBe(0);
  });

  it('normalises its parameters and keeps scores in [0, 1]', () => {
    const d = new NoveltyDetector({ memory: 0.5, minSamples: 0, peakWindow: -3, rangeFloor: 0, halfScoreNovelty: -1 });
    expect(d.params.memory).toBe(2);
    expect(d.params.minSamples).toBe(1);
    expect(d.params.peakWindow).toBe(0);
    expect(d.params.rangeFloor).toBeGreaterThan(0);
    expect(d.params.halfScoreNovelty).toBeGreaterThan(0);
    // A range floor of ~0 makes the novelty of a flat series' first change infinite: score 1, not NaN.
    for (let i = 0; i < 5; i++) d.update(1);
    expect(d.update(2).score).toBe(1);
    const r = rng(6);
    const e = new NoveltyDetector({ memory: 50, minSamples: 5 });
    for (let i = 0; i < 500; i++) {
      const s = e.update(r() * 100 - 50).score;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it('compares signed square roots by default, so the same move counts more at a low level', () => {
    const run = (sign: number, params = {}): number => {
      const d = new NoveltyDetector({ minSamples: 10, peakWindow: 0, ...params });
      for (let i = 0; i < 100; i++) d.update(sign * i);
      return d.update(sign * 150).novelty;
    };
    // Values are kept as 32-bit floats, so the distances match to about 7 digits.
    const root = (Math.sqrt(150) - Math.sqrt(99)) / Math.sqrt(99);
    expect(run(1)).toBeCloseTo(root, 6);
    expect(run(-1)).toBeCloseTo(root, 6); // the sign is kept
    expect(run(1, RAW)).toBeCloseTo(51 / 99, 10);
    expect(new NoveltyDetector().params.sqrtTransform).toBe(true);
  });

  it('peek scores like update without learning, and storage grows up to memory', () => {
    const d = new NoveltyDetector({ ...RAW, minSamples: 5, memory: 40, peakWindow: 0 });
    const r = rng(3);
    for (let i = 0; i < 100; i++) {
      const v = r() * 10;
      const peeked = d.peek(v);
      expect(d.update(v)).toEqual(peeked);
    }
    expect(d.samples).toBe(100);
    // Only the last 40 values are remembered: a value beyond them scores against them alone.
    const e = new NoveltyDetector({ ...RAW, minSamples: 1, memory: 40, peakWindow: 0 });
    for (let i = 0; i < 100; i++) e.update(i);
    expect(e.peek(100).novelty).toBeCloseTo(1 / 39, 6);
    expect(e.peek(Number.POSITIVE_INFINITY).score).toBe(0);
  });

  it('ranks bigger excursions higher', () => {
    const scores = [2, 4, 8].map((spike) => {
      const d = new NoveltyDetector();
      feedBand(d, 300, 0, rng(7));
      return d.update(spike).score;
    });
    expect(scores[0]!).toBeLessThan(scores[1]!);
    expect(scores[1]!).toBeLessThan(scores[2]!);
  });

  it('shares one frozen parameter object between detectors of the same parameter set', () => {
    const a = new NoveltyDetector({ memory: 100 });
    const b = new NoveltyDetector({ memory: 100 });
    expect(a.params).toBe(b.params);
    expect(Object.isFrozen(a.params)).toBe(true);
    expect(new NoveltyDetector({ memory: 101 }).params).not.toBe(a.params);
    // A detector that never learnt scores nothing and still answers.
    expect(a.peek(5)).toEqual({ score: 0, novelty: 0, samples: 0 });
  });
});
