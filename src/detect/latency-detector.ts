import { DDSketch } from './ddsketch.js';
import { NAB_NOVELTY_ALARM_PARAMS, NoveltyAlarmDetector, type NoveltyAlarmScore } from './novelty-alarm-detector.js';
import type { Slice } from './slice-window.js';
import { binomialUpperTail, clamp, MAD_TO_SIGMA, medianMad, severityOf, type SeverityLevel } from './stats.js';

/** Closed slices with fewer beats than this do not add a point to the slice-quantile history. */
export const HISTORY_MIN_SLICE_COUNT = 5;

export interface LatencyParams {
  /** One-sided p-value below which the window's tail is "significantly" above the baseline. */
  significance: number;
  /** The window quantile must exceed the baseline quantile by at least this fraction. */
  minRelativeEffect: number;
  /** ...and by at least this many milliseconds (sub-millisecond wobble is not a regression). */
  minAbsoluteMs: number;
  /** No verdict on a window or baseline holding fewer beats. */
  minSamples: number;
  /** The baseline needs this many closed, non-empty slices before it is used. */
  baselineMinSlices: number;
  /** Horizon of the baseline in slices (exponential decay 1 - 1/baselineSlices per slice). */
  baselineSlices: number;
  /** Slice width, used to place the baseline's mass in time for the hour-of-day profile. */
  sliceMs?: number;
  /** Slice p95s the novelty scorer remembers (default: its NAB parameter set's 6000). */
  noveltyMemory?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Distinct days an hour-of-day cell needs before the profile is trusted. */
const SEASON_MIN_DAYS = 2;
/** The hour-of-day correction never exceeds this factor. */
const SEASON_MAX_FACTOR = 4;
/** A day index no timestamp maps to (the Int32 floor): a cell that has not learnt yet. */
const DAY_NONE = -0x80000000;
// Byte offsets of an HourProfile's fields in its buffer (24 cells each).
const MEANS = 0;
const LAST_DAY = 24 * 8;
const POINTS = 24 * 12;
const DAY_COUNT = 24 * 14;

/**
 * Hour-of-day profile of log slice p95s (24 cells, EWMA within each cell). It answers "is this
 * hour of the day usually slower than the hours the baseline was learnt from?", so a daily batch
 * window that always slows a handler stops alerting once it has been seen on two days. It learns
 * every closed slice, also while the key is frozen: it records what each hour looks like, and
 * because only the ratio between two hours is used, a lasting regression on all hours does not
 * cancel its own alert.
 */
export class HourProfile {
  /**
   * Per cell, in one ArrayBuffer read through one DataView (one per busy key: a Float64Array of
   * 4 x 24 cost ~1 KiB of RSS a key, and a typed array per field ~90 bytes each on top): the
   * mean (a double at MEANS + 8h); the last day index (Int32 at LAST_DAY + 4h, NaN-free:
   * DAY_NONE before the first point); the points learnt (Uint16 at POINTS + 2h), held at
   * `memory` (only min(points, memory) is ever read, so the cap changes nothing); distinct days
   * (a byte at DAY_COUNT + h), held at 255 (only compared with 2).
   */
  private readonly cells: DataView;
  private readonly memory: number;

  constructor(memory = 720) {
    this.memory = Math.max(1, Math.min(memory, 0xffff));
    this.cells = new DataView(new ArrayBuffer(24 * (8 + 4 + 2 + 1)));
    for (let h = 0; h < 24; h++) this.cells.setInt32(LAST_DAY + 4 * h, DAY_NONE, true);
  }

  learn(startMs: number, logValue: number): void {
    const h = hourOf(startMs);
    const c = this.cells;
    const n = Math.min(c.getUint16(POINTS + 2 * h, true) + 1, this.memory);
    c.setUint16(POINTS + 2 * h, n, true);
    const mean = c.getFloat64(MEANS + 8 * h, true);
    c.setFloat64(MEANS + 8 * h, mean + (logValue - mean) / n, true);
    const day = Math.floor(startMs / DAY_MS);
    if (c.getInt32(LAST_DAY + 4 * h, true) !== day) {
      c.setInt32(LAST_DAY + 4 * h, day, true);
      const days = c.getUint8(DAY_COUNT + h);
      if (days < 0xff) c.setUint8(DAY_COUNT + h, days + 1);
    }
  }

  /** Distinct days seen by the cell holding timeMs (held at 255). */
  days(timeMs: number): number {
    return this.cells.getUint8(DAY_COUNT + hourOf(timeMs));
  }

  /**
   * exp(mean(hour of nowMs) - mean(hour of referenceMs)), clamped to [1, 4]; 1 until both cells
   * have data from two distinct days. Only ever raises the reference (never makes detection more
   * sensitive than without a profile).
   */
  factor(nowMs: number, referenceMs: number): number {
    const a = hourOf(nowMs);
    const b = hourOf(referenceMs);
    if (a === b || this.days(nowMs) < SEASON_MIN_DAYS || this.days(referenceMs) < SEASON_MIN_DAYS) return 1;
    return clamp(Math.exp(this.cells.getFloat64(MEANS + 8 * a, true) - this.cells.getFloat64(MEANS + 8 * b, true)), 1, SEASON_MAX_FACTOR);
  }
}

function hourOf(ms: number): number {
  const h = Math.floor(ms / HOUR_MS) % 24;
  return h < 0 ? h + 24 : h;
}

export interface SloTarget {
  p95Ms?: number | undefined;
  p99Ms?: number | undefined;
  maxMs?: number | undefined;
}

/**
 * Long-horizon latency baseline of one key, learnt from slices as they leave the current window:
 *  - an exponentially decayed sketch of all baseline beats (the reference distribution);
 *  - a ring of log slice-p95 values for a robust median/MAD;
 *  - a NoveltyAlarmDetector over slice p95 values as a second opinion: the scorer benchmarked
 *    on NAB (docs/benchmarks.md), with its NAB parameter set; only `noveltyMemory` is configurable.
 */
export class LatencyBaseline {
  readonly sketch: DDSketch;
  readonly series: NoveltyAlarmDetector;
  readonly season = new HourProfile();
  private readonly decay: number;
  /** Ring of log slice p95s; allocated at the first point and grown up to historyCap, so young keys stay small. */
  private history: Float32Array | undefined;
  private readonly historyCap: number;
  private historyLen = 0;
  private historyNext = 0;
  private learnedSlices = 0;

  constructor(private readonly params: LatencyParams, sketchAlpha = 0.005) {
    this.sketch = new DDSketch({ alpha: sketchAlpha });
    this.decay = 1 - 1 / Math.max(2, params.baselineSlices);
    this.historyCap = Math.max(8, Math.min(params.baselineSlices, 720));
    this.series = new NoveltyAlarmDetector({ ...NAB_NOVELTY_ALARM_PARAMS, memory: params.noveltyMemory ?? NAB_NOVELTY_ALARM_PARAMS.memory });
  }

  /** Non-empty slices learnt so far. */
  get slices(): number {
    return this.learnedSlices;
  }

  /** Decayed number of baseline beats. */
  get weight(): number {
    return this.sketch.count;
  }

  /** Enough history for a verdict. */
  get warm(): boolean {
    return this.learnedSlices >= this.params.baselineMinSlices && this.sketch.count >= this.params.minSamples;
  }

  /** 0..1, grows with learnt slices; 0 while not warm. */
  get confidence(): number {
    if (!this.warm) return 0;
    return clamp(this.learnedSlices / (2 * this.params.baselineMinSlices), 0, 1);
  }

  quantile(q: number): number {
    return this.sketch.quantile(q);
  }

  /** Feeds the hour-of-day profile (separate from `learn` so it continues during a freeze). */
  learnSeason(slice: Slice): void {
    if (slice.count >= HISTORY_MIN_SLICE_COUNT) this.season.learn(slice.startMs, Math.log(Math.max(slice.sketch.quantile(0.95), 1e-6)));
  }

  /**
   * Hour-of-day correction for a window [startMs, endMs): the profile ratio between the hour of
   * the window's newest data and the hour where the baseline's mass lies (about half a horizon
   * before the window).
   */
  seasonalFactor(windowStartMs: number, windowEndMs: number): number {
    const horizonMs = this.params.baselineSlices * (this.params.sliceMs ?? 10_000);
    // The newest data decides the hour: a daily slow hour is recognised from its first slice.
    return this.season.factor(windowEndMs - 1, windowStartMs - horizonMs / 2);
  }

  learn(slice: Slice): void {
    this.sketch.scale(this.decay);
    if (slice.count === 0) return;
    this.sketch.merge(slice.sketch);
    this.learnedSlices++;
    if (slice.count >= HISTORY_MIN_SLICE_COUNT) {
      const p95 = slice.sketch.quantile(0.95);
      let history = this.history;
      // Grown on demand up to its cap (a key a few minutes old holds a few dozen points, not 360).
      if (history === undefined || (this.historyLen === history.length && history.length < this.historyCap)) {
        const grown = new Float32Array(Math.min(this.historyCap, Math.max(16, 2 * (history?.length ?? 0))));
        if (history !== undefined) grown.set(history);
        history = grown;
        this.history = grown;
      }
      history[this.historyNext] = Math.log(Math.max(p95, 1e-6));
      this.historyNext = (this.historyNext + 1) % history.length;
      if (this.historyLen < history.length) this.historyLen++;
      this.series.update(p95);
    }
  }

  skip(slices: number): void {
    if (this.sketch.count > 0) this.sketch.scale(Math.pow(this.decay, slices));
  }

  /**
   * Robust z of log(valueMs) against the history of log slice p95s; NaN with under 8 points.
   * Slice p95s are noisier than a window p95, so this z is conservative: it feeds confidence.
   */
  robustZ(valueMs: number): number {
    if (this.historyLen < 8 || !this.history) return NaN;
    const { median, mad } = medianMad(this.history, this.historyLen);
    const spread = Math.max(mad * MAD_TO_SIGMA, 0.01);
    return (Math.log(Math.max(valueMs, 1e-6)) - median) / spread;
  }

  /**
   * The range the key's slice p95 keeps to when normal: median of the learnt log slice p95s
   * +- `sigmas` robust standard deviations. Undefined until warm with 8 slice p95s.
   */
  p95Band(sigmas = 2): { lowMs: number; highMs: number } | undefined {
    if (!this.warm || this.historyLen < 8 || !this.history) return undefined;
    const { median, mad } = medianMad(this.history, this.historyLen);
    const spread = Math.max(mad * MAD_TO_SIGMA, 0.01);
    return { lowMs: Math.exp(median - sigmas * spread), highMs: Math.exp(median + sigmas * spread) };
  }

  /** Novelty score of a window value against the slice p95s learnt, without learning it. */
  seriesScore(valueMs: number): NoveltyAlarmScore {
    return this.series.peek(valueMs);
  }
}

/** What the detector needs of the current window. */
export interface LatencyWindow {
  count: number;
  sketch: DDSketch;
  /** Window time range; startMs defaults to endMs (no hour-of-day correction). */
  startMs?: number;
  endMs: number;
}

export interface LatencyVerdict {
  subtype: 'latency-regression' | 'slo-breach';
  /** Which figure breached: 'p50' (short horizon / version tests), 'p95', 'p99' or 'max'. */
  figure: LatencyFigure;
  observedMs: number;
  expectedMs: number;
  /** One-sided p-value of the binomial exceedance test (1 when not applicable). */
  pValue: number;
  /** Beats above the reference value, and the count expected under "no change". */
  exceedances: number;
  expectedExceedances: number;
  robustZ: number;
  seriesScore: number;
  /** Hour-of-day correction applied to the baseline (1 = none). */
  seasonalFactor: number;
  severity: SeverityLevel;
  confidence: number;
}

/** One-sided normal quantile (99 %) of the baseline-quantile confidence bound. */
const BASELINE_QUANTILE_Z = 2.326;

export type LatencyFigure = 'p50' | 'p95' | 'p99' | 'max';

export interface TestedQuantile {
  q: number;
  figure: 'p50' | 'p95' | 'p99';
}

/** The window test: the tail, where a regression shows first on a long window. */
export const TAIL_QUANTILES: readonly TestedQuantile[] = [
  { q: 0.95, figure: 'p95' },
  { q: 0.99, figure: 'p99' },
];

/**
 * Short-horizon and version tests: a few dozen beats cannot judge p99, while a whole-distribution
 * shift moves the median past the baseline median in most of them (exceedance rate 50 % -> 80 %
 * is far more evidence per beat than 5 % -> 30 %).
 */
export const SHIFT_QUANTILES: readonly TestedQuantile[] = [
  { q: 0.5, figure: 'p50' },
  { q: 0.95, figure: 'p95' },
];

export interface RegressionTestOptions {
  /** Quantiles tested (default TAIL_QUANTILES). */
  quantiles?: readonly TestedQuantile[];
  /** Significance of this look, overriding params.significance (still divided by sensitivity). */
  significance?: number;
  /**
   * Every tested quantile must pass (effect and significance), not just one: a shift of the
   * whole distribution. Used by the short-horizon test, where a baseline still absorbing a level
   * change (its median lags, its tail has moved) must not make the median alone look shifted.
   */
  requireAll?: boolean;
}

function magnitudeLevel(ratio: number): number {
  return ratio >= 4 ? 3 : ratio >= 2 ? 2 : ratio >= 1.5 ? 1 : 0;
}

/**
 * Regression test of the window against the baseline, for p95 and p99. Under "no change" each
 * window beat exceeds the baseline quantile b_q with probability 1 - q, so the number of
 * exceedances K ~ Binomial(n, 1 - q). b_q is replaced by its upper confidence bound
 * b_{q+} (q+ = q + 2.326 sqrt(q(1-q)/N), N the baseline weight) when counting exceedances, so the
 * test stays valid for a thin baseline. Both are multiplied by the hour-of-day factor (1 until the
 * profile has two days of history). The window is flagged when
 *   P(K >= k) < significance / sensitivity            (exact binomial tail),
 *   window_q >= b_q * (1 + minRelativeEffect * sensitivity), and
 *   window_q - b_q >= minAbsoluteMs.
 * `sensitivity` >= 1 makes a handler harder to flag (raised by false-positive feedback).
 */
export function detectLatencyRegression(
  window: LatencyWindow,
  baseline: LatencyBaseline,
  params: LatencyParams,
  trafficShare: number,
  sensitivity = 1,
  options: RegressionTestOptions = {},
): LatencyVerdict | undefined {
  const n = window.count;
  if (n < params.minSamples || !baseline.warm) return undefined;
  const alpha = (options.significance ?? params.significance) / sensitivity;
  const minEffect = params.minRelativeEffect * sensitivity;
  const season = baseline.seasonalFactor(window.startMs ?? window.endMs, window.endMs);
  let best: LatencyVerdict | undefined;
  const all = options.requireAll === true;
  for (const { q, figure } of options.quantiles ?? TAIL_QUANTILES) {
    const p0 = 1 - q;
    // The baseline quantile is itself an estimate. Test against a distribution-free upper
    // confidence bound (the baseline quantile at q + z * sqrt(q(1-q)/N)) so a thin baseline
    // cannot make ordinary tail beats look like exceedances; skip q until the bound is below 1.
    const weight = baseline.weight;
    const qUpper = q + BASELINE_QUANTILE_Z * Math.sqrt((q * p0) / weight);
    const expected = baseline.quantile(q) * season;
    const observed = window.sketch.quantile(q);
    let pValue = 1;
    let k = 0;
    if (n * p0 >= 1 && qUpper < 1 && observed >= expected * (1 + minEffect) && observed - expected >= params.minAbsoluteMs) {
      k = Math.round(window.sketch.countAbove(baseline.quantile(qUpper) * season));
      pValue = binomialUpperTail(k, n, p0);
    }
    if (pValue >= alpha) {
      if (all) return undefined;
      continue;
    }
    if (best && best.pValue <= pValue) continue;
    const robustZ = baseline.robustZ(observed);
    const series = baseline.seriesScore(observed);
    const sampleFactor = clamp(n / (4 * params.minSamples), 0, 1);
    const strength = clamp(Math.log10(1 / Math.max(pValue, 1e-300)) / (2 * Math.log10(1 / alpha)), 0, 1);
    // The novelty scorer's own alarm level (calibrated on NAB) counts as full support.
    const novelty = series.alarm ? 1 : series.score / NAB_NOVELTY_ALARM_PARAMS.alarmScore;
    const support = Math.max(novelty, Number.isNaN(robustZ) ? 0 : clamp(robustZ / 6, 0, 1));
    best = {
      subtype: 'latency-regression',
      figure,
      observedMs: observed,
      expectedMs: expected,
      pValue,
      exceedances: k,
      expectedExceedances: n * p0,
      robustZ,
      seriesScore: series.score,
      seasonalFactor: season,
      severity: severityOf(magnitudeLevel(observed / expected), trafficShare),
      confidence: clamp(baseline.confidence * (0.4 * sampleFactor + 0.4 * strength + 0.2 * support), 0, 1),
    };
  }
  return best;
}

/**
 * Configured SLO check: window p95 / p99 above the target (needs minSamples beats; p99 also
 * needs 100), or any beat above maxMs. The binomial tail of "more than 5 % (1 %) of beats above
 * the target" sets the confidence, not the verdict: a declared objective is a hard line.
 */
export function detectSloBreach(
  window: LatencyWindow,
  slo: SloTarget | undefined,
  params: LatencyParams,
  trafficShare: number,
): LatencyVerdict | undefined {
  if (!slo || window.count === 0) return undefined;
  const n = window.count;
  const checks: Array<{ figure: LatencyFigure; target: number | undefined; observed: number; p0: number; minN: number }> = [
    { figure: 'max', target: slo.maxMs, observed: window.sketch.max, p0: 0, minN: 1 },
    { figure: 'p99', target: slo.p99Ms, observed: window.sketch.quantile(0.99), p0: 0.01, minN: Math.max(100, params.minSamples) },
    { figure: 'p95', target: slo.p95Ms, observed: window.sketch.quantile(0.95), p0: 0.05, minN: params.minSamples },
  ];
  let best: LatencyVerdict | undefined;
  for (const c of checks) {
    if (c.target === undefined || n < c.minN || !(c.observed > c.target)) continue;
    const ratio = c.observed / c.target;
    if (best && best.observedMs / best.expectedMs >= ratio) continue;
    const k = Math.round(window.sketch.countAbove(c.target));
    const pValue = c.p0 > 0 ? binomialUpperTail(k, n, c.p0) : 0;
    const sampleFactor = c.p0 > 0 ? clamp(n / (4 * params.minSamples), 0, 1) : 1;
    best = {
      subtype: 'slo-breach',
      figure: c.figure,
      observedMs: c.observed,
      expectedMs: c.target,
      pValue,
      exceedances: k,
      expectedExceedances: n * c.p0,
      robustZ: NaN,
      seriesScore: 0,
      seasonalFactor: 1,
      severity: severityOf(magnitudeLevel(ratio), trafficShare),
      confidence: clamp(0.5 * sampleFactor + 0.5 * (1 - pValue), 0, 1),
    };
  }
  return best;
}
