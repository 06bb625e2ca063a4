import { describe, expect, it } from 'vitest';
import type { NabSeries } from './corpus.js';
import { heldOutCheck, nabScores, runDetector, runNoveltyAlarmDetector, runNoveltyDetector } from './run-detector.js';
import type { CostMatrix, FileScores } from './scorer.js';

const PROFILES: Record<string, CostMatrix> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};
const HOUR = 3_600_000;

/** 400 hourly values of a slow wave with one spike (at `spikeAt`) inside the window 280..319. */
function series(name: string, spikeAt: number, height = 100): NabSeries {
  const values = Array.from({ length: 400 }, (_, i) => (i === spikeAt ? height : 10 + Math.sin(i / 5)));
  const timestamps = values.map((_, i) => i * HOUR);
  return { name, timestamps, values, windows: [{ start: 280, end: 319 }] };
}

describe('runDetector', () => {
  it('feeds every value once, in order, with its timestamp, to a fresh scorer per series', () => {
    const corpus = [series('a', 300), series('b', 290)];
    const seen: [number, number, number][] = [];
    let made = 0;
    const files = runDetector(corpus, () => {
      const id = made++;
      return (v, t) => {
        seen.push([id, v, t]);
        return v / 1000;
      };
    });
    expect(made).toBe(2);
    expect(seen).toHaveLength(800);
    expect(seen.slice(0, 400).map(([id, , t]) => [id, t])).toEqual(corpus[0]!.timestamps.map((t) => [0, t]));
    expect(seen[700]).toEqual([1, corpus[1]!.values[300], 300 * HOUR]);
    expect(files[0]!.windows).toBe(corpus[0]!.windows);
    expect(Array.from(files[1]!.scores).slice(289, 291)).toEqual([corpus[1]!.values[289]! / 1000, 0.1]);
  });

  it('runs every detector: the spike gets the top score of its series', () => {
    const corpus = [series('a', 300)];
    for (const files of [runNoveltyAlarmDetector(corpus, {}), runNoveltyDetector(corpus, {})]) {
      const s = Array.from(files[0]!.scores);
      expect(s).toHaveLength(400);
      expect(s.indexOf(Math.max(...s))).toBe(300);
    }
  });
});

describe('nabScores', () => {
  it('scores a detector that fires once inside each window near the top and a silent one at 0', () => {
    const corpus = [series('a', 285), series('b', 290)];
    const good = nabScores(runNoveltyDetector(corpus, { minSamples: 20 }), PROFILES);
    expect(Object.keys(good).sort()).toEqual(['reward_low_FN_rate', 'standard']);
    expect(good.standard).toBeGreaterThan(90);
    const silent: FileScores[] = corpus.map((s) => ({ scores: new Float64Array(s.values.length), windows: s.windows }));
    expect(nabScores(silent, PROFILES).standard).toBeCloseTo(0, 10);
  });
});

describe('heldOutCheck', () => {
  it('picks the best candidate on the tuning half and reports it on the other half', () => {
    const corpus = [series('a', 285), series('b', 290), series('c', 300), series('d', 310)];
    // candidate = the row it flags in every series: 300 lies in the window, 100 does not
    const flagRow = (s: readonly NabSeries[], row: number): FileScores[] =>
      s.map((x) => ({ scores: Float64Array.from(x.values, (_, i) => (i === row ? 1 : 0)), windows: x.windows }));
    const r = heldOutCheck(corpus, PROFILES, [100, 300, 150], flagRow, (i) => i < 2);
    expect(r.chosen).toBe(1);
    expect(r.params).toBe(300);
    // row 300 sits at 20/40 of the window: S(-0.5)/S(-1) of the credit, on both halves
    expect(r.tuned).toBeCloseTo(r.heldOut, 10);
    expect(r.tuned).toBeGreaterThan(90);
    const low = heldOutCheck(corpus, PROFILES, [100, 300], flagRow, (i) => i < 2, 'reward_low_FN_rate');
    expect(low.chosen).toBe(1);
  });
});
