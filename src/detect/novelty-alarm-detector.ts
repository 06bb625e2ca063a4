/**
 * Novelty with a refractory period, for one univariate stream (the NAB-tuned scorer).
 *
 * Two views of the same (square-rooted) stream, each scored by NoveltyDetector's measure: the
 * distance of the new point to the nearest of the last `memory` points, over their range.
 *  - the value itself: a spike, a dip, a jump to a new level, a value in a gap of the history;
 *  - the mean of the last `meanWindow` values, weighted down by `meanWeight`: it only speaks
 *    when the local level moves somewhere the means never went, i.e. a rate or density change
 *    (spikes getting denser, a load that creeps to a new plateau) that no single value shows.
 * The larger of the two is the novelty; the score is novelty / (novelty + halfScoreNovelty).
 * During a refractory period only the value view counts: a spike or a jump moves the mean for
 * the next meanWindow values, and that echo is not a new event.
 *
 * Refractory period: once a score reaches `alarmScore` (an alarm), a later score is damped by
 * floor + (1 - floor) * (elapsed / span)^power while fewer than span = min(refractoryMax,
 * refractoryFraction * values seen) values separate it from the alarm. An anomaly seldom comes
 * alone (a burst, the aftershocks of a level shift, the new regime settling), and only its
 * first alarm is news; damping instead of muting still lets a much bigger event through. The
 * span grows with the values seen because a young series has no notion yet of how far apart
 * its events are.
 *
 * Causal and streaming: each value is scored against what came before it, then learnt.
 * Memory is O(memory) per view; an update costs two binary searches and array shifts of at
 * most `memory` elements per view (a few microseconds at memory 6000).
 */
import { NoveltyDetector } from './novelty-detector.js';
import { SharedParams } from './shared-params.js';

export interface NoveltyAlarmParams {
  /** Compare sign(v) * sqrt(|v|) instead of v (counts and rates: noise grows with the level). */
  sqrtTransform: boolean;
  /** Recent values (and recent means) a new one is compared with. */
  memory: number;
  /** Values learnt before any score is reported (score 0 before). */
  minSamples: number;
  /** Novelty (fraction of the range) at which the undamped score is 0.5. */
  halfScoreNovelty: number;
  /** Values averaged by the mean view (< 2 disables it). */
  meanWindow: number;
  /** Factor on the mean view's novelty before it competes with the value view's. */
  meanWeight: number;
  /** A (damped) score at or above this is an alarm and starts a refractory period. */
  alarmScore: number;
  /** Longest refractory period, in values. */
  refractoryMax: number;
  /** Refractory period as a fraction of the values seen so far (capped by refractoryMax). */
  refractoryFraction: number;
  /** Damping factor right after an alarm. */
  refractoryFloor: number;
  /** Shape of the recovery from refractoryFloor to 1 (1 = linear, 2 = slow start). */
  refractoryPower: number;
}

/**
 * The one global parameter set used on the Numenta Anomaly Benchmark (test/bench/nab-bench.ts):
 * square-rooted values, 6000 values of memory, an 8-value mean view at weight 0.2, and after
 * an alarm (score >= 0.053, a novelty of about 1.4 % of the range) a refractory period of
 * min(500, 0.4 * values seen) values that starts at factor 0.2 and recovers quadratically.
 * NAB 76.2 standard, 68.9 reward_low_FP_rate, 80.7 reward_low_FN_rate (ARTime, the published
 * best: 74.9 / 65.2 / 80.4); neighbouring settings score 74.6-76.8; tuned on even-numbered
 * series and scored on the odd ones (and vice versa) 71.5 / 78.2. Without the mean view 74.9,
 * without the refractory period 68.5; memory 4000 scores 76.0 for two thirds of the state.
 * Alarm on score >= alarmScore: that is the threshold the refractory period was tuned for.
 */
export const NAB_NOVELTY_ALARM_PARAMS: NoveltyAlarmParams = {
  sqrtTransform: true,
  memory: 6000,
  minSamples: 50,
  halfScoreNovelty: 0.25,
  meanWindow: 8,
  meanWeight: 0.2,
  alarmScore: 0.053,
  refractoryMax: 500,
  refractoryFraction: 0.4,
  refractoryFloor: 0.2,
  refractoryPower: 2,
};

export interface NoveltyAlarmScore {
  /** 0..1: the combined novelty's score, damped during a refractory period. */
  score: number;
  /** max(valueNovelty, meanWeight * meanNovelty) (valueNovelty alone during a refractory
   * period), before damping; 0 when not scored. */
  novelty: number;
  valueNovelty: number;
  meanNovelty: number;
  /** The score reached alarmScore (a refractory period starts after this value). */
  alarm: boolean;
  /** Values learnt before this one. */
  samples: number;
}

/** Every latency key holds a detector: one frozen parameter object per distinct set. */
const alarmParamSets = new SharedParams<NoveltyAlarmParams>();

export class NoveltyAlarmDetector {
  readonly params: NoveltyAlarmParams;
  private readonly values: NoveltyDetector;
  private readonly means: NoveltyDetector | undefined;
  /** Last meanWindow transformed values (ring buffer). */
  private readonly recent: number[] = [];
  private recentHead = 0;
  private learnt = 0;
  /** Index (in values learnt) of the last alarm. */
  private lastAlarm = Number.NEGATIVE_INFINITY;

  constructor(params?: Partial<NoveltyAlarmParams>) {
    const p = { ...NAB_NOVELTY_ALARM_PARAMS, ...params };
    p.memory = Math.max(2, Math.floor(p.memory));
    p.minSamples = Math.max(1, Math.floor(p.minSamples));
    p.meanWindow = Math.max(1, Math.floor(p.meanWindow));
    p.halfScoreNovelty = Math.max(p.halfScoreNovelty, Number.MIN_VALUE);
    p.refractoryMax = Math.max(0, p.refractoryMax);
    p.refractoryFraction = Math.max(0, p.refractoryFraction);
    p.refractoryFloor = Math.min(1, Math.max(0, p.refractoryFloor));
    this.params = alarmParamSets.of(p);
    // The views only measure: no damping or warm-up of their own (minSamples is applied here).
    const view = { memory: p.memory, minSamples: 1, peakWindow: 0 };
    this.values = new NoveltyDetector({ ...view, sqrtTransform: p.sqrtTransform });
    this.means = p.meanWindow >= 2 && p.meanWeight > 0 ? new NoveltyDetector({ ...view, sqrtTransform: false }) : undefined;
  }

  /** Score the value against the history, then learn it (non-finite values are skipped). */
  update(value: number): NoveltyAlarmScore {
    const samples = this.learnt;
    if (!Number.isFinite(value)) return unscored(samples);
    const x = this.transform(value);
    const mean = this.meanWith(x);
    const valueNovelty = this.values.update(value).novelty;
    const meanNovelty = this.means !== undefined && mean !== undefined ? this.means.update(mean).novelty : 0;
    this.remember(x);
    this.learnt++;
    if (samples < this.params.minSamples) return unscored(samples);
    const result = this.scoreOf(samples, valueNovelty, meanNovelty);
    if (result.alarm) this.lastAlarm = samples;
    return result;
  }

  /** Values learnt so far. */
  get samples(): number {
    return this.learnt;
  }

  /**
   * What update(value) would score, without learning the value or starting a refractory period
   * (the live latency detector asks about a window's p95 between slices).
   */
  peek(value: number): NoveltyAlarmScore {
    const samples = this.learnt;
    if (!Number.isFinite(value) || samples < this.params.minSamples) return unscored(samples);
    const mean = this.meanWith(this.transform(value));
    const valueNovelty = this.values.peek(value).novelty;
    const meanNovelty = this.means !== undefined && mean !== undefined ? this.means.peek(mean).novelty : 0;
    return this.scoreOf(samples, valueNovelty, meanNovelty);
  }

  /** The score of value number `samples` from its two views' novelties. */
  private scoreOf(samples: number, valueNovelty: number, meanNovelty: number): NoveltyAlarmScore {
    const p = this.params;
    const factor = this.refractoryFactor(samples);
    // After an alarm the mean only echoes the event for meanWindow values: mute it meanwhile.
    const novelty = factor < 1 ? valueNovelty : Math.max(valueNovelty, p.meanWeight * meanNovelty);
    // n / (n + h), written so an infinite novelty (a flat history) gives 1, not NaN.
    const score = (novelty > 0 ? 1 / (1 + p.halfScoreNovelty / novelty) : 0) * factor;
    return { score, novelty, valueNovelty, meanNovelty, alarm: score >= p.alarmScore, samples };
  }

  private transform(value: number): number {
    return this.params.sqrtTransform ? Math.sign(value) * Math.sqrt(Math.abs(value)) : value;
  }

  /**
   * The mean of the last meanWindow transformed values once x is among them (undefined until
   * there are that many), summed in the ring's order with x in the place it will take.
   */
  private meanWith(x: number): number | undefined {
    const k = this.params.meanWindow;
    const recent = this.recent;
    if (recent.length < k - 1) return undefined;
    let sum = 0;
    if (recent.length === k) {
      for (let i = 0; i < k; i++) sum += i === this.recentHead ? x : recent[i]!;
    } else {
      for (const v of recent) sum += v;
      sum += x;
    }
    return sum / k;
  }

  /** Keeps a transformed value in the ring of the last meanWindow. */
  private remember(x: number): void {
    const k = this.params.meanWindow;
    if (this.recent.length < k) this.recent.push(x);
    else {
      this.recent[this.recentHead] = x;
      this.recentHead = (this.recentHead + 1) % k;
    }
  }

  /** Damping of the score of value number `index` given the last alarm. */
  private refractoryFactor(index: number): number {
    const p = this.params;
    const span = Math.min(p.refractoryMax, p.refractoryFraction * index);
    const elapsed = index - this.lastAlarm;
    if (elapsed >= span) return 1;
    return p.refractoryFloor + (1 - p.refractoryFloor) * (elapsed / span) ** p.refractoryPower;
  }
}

function unscored(samples: number): NoveltyAlarmScore {
  return { score: 0, novelty: 0, valueNovelty: 0, meanNovelty: 0, alarm: false, samples };
}
