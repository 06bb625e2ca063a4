import { describe, expect, it } from 'vitest';
import { seededRandom } from './beat-factory.js';
import { NAB_NOVELTY_ALARM_PARAMS, NoveltyAlarmDetector, type NoveltyAlarmParams } from '../../src/detect/novelty-alarm-detector.js';

const rng = seededRandom;

/** `n` values of uniform noise in [level, level + 1). */
function noise(n: number, level: number, r: () => number): number[] {
  return Array.from({ length: n }, () => level + r());
}

function scoresOf(values: readonly number[], params?: Partial<NoveltyAlarmParams>): number[] {
  const d = new NoveltyAlarmDetector(params);
  return values.map((v) => d.update(v).score);
}

describe('NoveltyAlarmDetector', () => {
  it('peek scores a value exactly as update would, without learning it', () => {
    const r = rng(99);
    const values = noise(400, 100, r);
    for (const at of [120, 200, 201, 260, 330]) values[at] = 180 + at / 10;
    const d = new NoveltyAlarmDetector({ minSamples: 20 });
    expect(d.peek(5).score).toBe(0);
    let alarms = 0;
    for (const v of values) {
      const peeked = d.peek(v);
      const again = d.peek(v);
      expect(again).toEqual(peeked);
      const learnt = d.update(v);
      expect(peeked).toEqual(learnt);
      if (learnt.alarm) alarms++;
    }
    expect(alarms).toBeGreaterThan(0);
    expect(d.samples).toBe(values.length);
    expect(d.peek(Number.NaN).score).toBe(0);
  });

  it('scores 0 until minSamples values are learnt and counts the samples', () => {
    const d = new NoveltyAlarmDetector({ minSamples: 10 });
    for (let i = 0; i < 10; i++) {
      expect(d.update(i === 5 ? 1e6 : i % 3)).toEqual({ score: 0, novelty: 0, valueNovelty: 0, meanNovelty: 0, alarm: false, samples: i });
    }
    const s = d.update(1e9);
    expect(s.samples).toBe(10);
    expect(s.alarm).toBe(true);
    expect(s.score).toBeGreaterThan(0.9);
  });

  it('raises no alarm in steady noise once warmed up', () => {
    const r = rng(1);
    const d = new NoveltyAlarmDetector();
    for (const v of noise(1000, 100, r)) d.update(v);
    const alarms = noise(20_000, 100, r).filter((v) => d.update(v).alarm);
    expect(alarms).toEqual([]);
  });

  it('flags a spike and a dip with a high score', () => {
    const r = rng(2);
    const d = new NoveltyAlarmDetector();
    for (const v of noise(2000, 100, r)) d.update(v);
    const spike = d.update(130);
    expect(spike.alarm).toBe(true);
    expect(spike.score).toBeGreaterThan(0.5);
    expect(spike.valueNovelty).toBeGreaterThan(spike.meanNovelty * NAB_NOVELTY_ALARM_PARAMS.meanWeight);
    for (const v of noise(2000, 100, r)) d.update(v);
    expect(d.update(70).alarm).toBe(true);
  });

  it('flags a level shift at its first value and not at the values that follow', () => {
    const r = rng(3);
    const d = new NoveltyAlarmDetector();
    for (const v of noise(2000, 100, r)) d.update(v);
    const shifted = noise(200, 120, r).map((v) => d.update(v));
    expect(shifted[0]!.alarm).toBe(true);
    expect(shifted.slice(1).filter((s) => s.alarm)).toEqual([]);
  });

  it('damps the events of a refractory period, lets a far bigger one through and recovers after it', () => {
    const r = rng(4);
    const params = { refractoryMax: 300, refractoryFraction: 1, refractoryFloor: 0.2, refractoryPower: 2 };
    const v = noise(3000, 100, r);
    v[2000] = 130;
    v[2100] = 102;
    v[2200] = 1000;
    v[2600] = 140;
    const s = scoresOf(v, params);
    // the same stream without refractory periods gives each value's undamped score
    const undamped = scoresOf(v, { ...params, refractoryMax: 0 });
    expect(s.slice(1700, 2001)).toEqual(undamped.slice(1700, 2001));
    expect(s[2000]).toBeGreaterThan(NAB_NOVELTY_ALARM_PARAMS.alarmScore);
    // 100 of 300 values after the alarm: 0.2 + 0.8 (1/3)^2 of the score, no alarm any more
    expect(s[2100]! / undamped[2100]!).toBeCloseTo(0.2 + 0.8 / 9, 6);
    expect(undamped[2100]).toBeGreaterThan(NAB_NOVELTY_ALARM_PARAMS.alarmScore);
    expect(s[2100]).toBeLessThan(NAB_NOVELTY_ALARM_PARAMS.alarmScore);
    // much bigger: still an alarm, damped by 0.2 + 0.8 (2/3)^2, and it restarts the period
    expect(s[2200]! / undamped[2200]!).toBeCloseTo(0.2 + (0.8 * 4) / 9, 6);
    expect(s[2200]).toBeGreaterThan(NAB_NOVELTY_ALARM_PARAMS.alarmScore);
    expect(s[2450]).toBeLessThan(undamped[2450]!);
    // 400 values after the last alarm: undamped again
    expect(s[2600]).toBe(undamped[2600]);
  });

  it('damps while fewer than min(refractoryMax, refractoryFraction * values seen) values separate a value from the alarm', () => {
    const r = rng(5);
    const params = { refractoryMax: 400, refractoryFraction: 0.5 };
    const v = noise(3000, 100, r);
    v[200] = 200; // damped until 0.5 t <= t - 200, i.e. up to value 399
    v[2000] = 300; // 0.5 t >= 400 by then: damped for 400 values, up to value 2399
    const s = scoresOf(v, params);
    const undamped = scoresOf(v, { ...params, refractoryMax: 0 });
    for (const at of [200, 2000]) expect(s[at]).toBeGreaterThan(NAB_NOVELTY_ALARM_PARAMS.alarmScore);
    for (const at of [390, 2390]) expect(s[at]).toBeLessThan(undamped[at]!);
    for (const at of [410, 2410]) expect(s[at]).toBe(undamped[at]);
  });

  it('flags spikes that grow denser through the mean view, which a value view cannot see', () => {
    // a spike every 40 values, then every 2: no single value is new, their local mean is
    const v = Array.from({ length: 3000 }, (_, i) => (i < 2000 ? (i % 40 === 0 ? 20 : 0) : i % 2 === 0 ? 20 : 0));
    const d = new NoveltyAlarmDetector();
    const s = v.map((x) => d.update(x));
    const before = s.slice(500, 2000);
    expect(before.filter((x) => x.alarm)).toEqual([]);
    const denser = s.slice(2000, 2016);
    expect(denser.every((x) => x.valueNovelty === 0)).toBe(true);
    expect(denser.some((x) => x.alarm && x.meanNovelty > 0)).toBe(true);
    const valueOnly = new NoveltyAlarmDetector({ meanWeight: 0 });
    expect(v.map((x) => valueOnly.update(x)).slice(500).filter((x) => x.alarm)).toEqual([]);
    const noMeanView = new NoveltyAlarmDetector({ meanWindow: 1 });
    expect(v.map((x) => noMeanView.update(x).meanNovelty).every((x) => x === 0)).toBe(true);
  });

  it('is causal: appending values never changes the scores already given', () => {
    const r = rng(6);
    const v = [...noise(800, 10, r), 40, ...noise(400, 25, r), ...noise(300, 10, r)];
    const full = scoresOf(v);
    for (const n of [100, 801, 1000, 1300]) expect(scoresOf(v.slice(0, n))).toEqual(full.slice(0, n));
  });

  it('forgets values older than its memory', () => {
    const r = rng(7);
    const d = new NoveltyAlarmDetector({ memory: 200, minSamples: 10, meanWeight: 0 });
    for (const v of noise(100, 0, r)) d.update(v);
    d.update(5);
    for (const v of noise(100, 0, r)) d.update(v);
    // 5 is still remembered: right next to it is not new
    expect(d.update(5.001).valueNovelty).toBeLessThan(0.01);
    for (const v of noise(300, 0, r)) d.update(v);
    // 300 values later it is forgotten
    expect(d.update(5).valueNovelty).toBeGreaterThan(1);
  });

  it('skips non-finite values without learning them', () => {
    const d = new NoveltyAlarmDetector({ minSamples: 5 });
    for (let i = 0; i < 10; i++) d.update(i % 2);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(d.update(v)).toEqual({ score: 0, novelty: 0, valueNovelty: 0, meanNovelty: 0, alarm: false, samples: 10 });
    }
    expect(d.update(0).samples).toBe(10);
  });

  it('normalises its parameters and keeps scores in [0, 1]', () => {
    const d = new NoveltyAlarmDetector({
      memory: 0.5,
      minSamples: 0,
      meanWindow: 2.7,
      halfScoreNovelty: -1,
      refractoryMax: -5,
      refractoryFraction: -1,
      refractoryFloor: 2,
    });
    expect(d.params).toMatchObject({ memory: 2, minSamples: 1, meanWindow: 2, refractoryMax: 0, refractoryFraction: 0, refractoryFloor: 1 });
    expect(d.params.halfScoreNovelty).toBeGreaterThan(0);
    const r = rng(8);
    for (let i = 0; i < 500; i++) {
      const s = d.update(r() < 0.05 ? 1e6 * r() : r()).score;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
    // a flat history makes any change infinitely new: score 1, not NaN
    const flat = new NoveltyAlarmDetector({ minSamples: 5 });
    for (let i = 0; i < 10; i++) flat.update(3);
    expect(flat.update(4).score).toBeCloseTo(1, 6);
  });

  it('compares signed square roots by default, so the same move counts more at a low level', () => {
    // one history with a quiet cluster (10..18) and a busy one (10001..10009); the same 6 above
    const move = (value: number, sqrtTransform: boolean): number => {
      const d = new NoveltyAlarmDetector({ sqrtTransform, meanWeight: 0 });
      for (let i = 0; i < 500; i++) d.update((i % 2 === 0 ? 10 : 10_000) + (i % 10));
      return d.update(value).valueNovelty;
    };
    expect(move(24, true)).toBeGreaterThan(move(10_015, true) * 10);
    expect(move(24, false)).toBeCloseTo(move(10_015, false), 10);
    const negative = new NoveltyAlarmDetector({ minSamples: 5 });
    for (let i = 0; i < 50; i++) negative.update(-100 - (i % 10));
    expect(negative.update(-400).alarm).toBe(true);
  });
});
