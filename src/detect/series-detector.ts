import { lowerBound } from './stats.js';
/**
 * Univariate streaming anomaly core.
 *
 * One detector follows one series (for example a handler's per-slice p95 latency, or a NAB
 * series). Each value is turned into a non-negative deviation (in robust spread units) from
 * several simple predictions, and the largest one is judged against this series' own history
 * of deviations:
 *  - level:  distance from the rolling median of the last `window` values (spikes, dips);
 *  - shift:  distance of the mean of the last `shiftWindow` values from that median, scaled by
 *            sqrt(shiftWindow) (sustained level shifts show up after a few values);
 *  - step:   distance from the previous value (sudden jumps);
 *  - season: distance from the closest value at the same time of day 1..seasonDays days ago and
 *            one week ago (±seasonJitter rows), relative to the usual size of that distance
 *            (a missing daily peak, a flat day, a jump inside the daily range).
 * The tail probability of that deviation among the last `calibrationWindow` deviations (empirical
 * above the top `tailFraction`, exponential tail extrapolation beyond it) gives a per-series
 * calibrated surprise s = -log10(p), so one threshold fits series of any scale and noise. The
 * score is s^2 / (s^2 + alarmSurprise^2): 0.5 at `alarmSurprise`.
 * Optional, for benchmark-style event scoring (all off by default):
 *  - record bonus: extra surprise when a value leaves the range of everything seen so far;
 *  - length penalty: less surprise per decade of values learnt (more values, more luck);
 *  - peak damping (`peakWindow` > 0): a surprise not above the recent maximum is damped, so an
 *    event is reported at its onset, not for every value that follows.
 * Memory is bounded (window, calibrationWindow, maxSeasonLag); an update is O(window +
 * calibrationWindow) in the worst case (sorted-array inserts), O(log n) lookups otherwise.
 */

export interface SeriesDetectorParams {
  /** Values in the rolling baseline (median / MAD). */
  window: number;
  /** Below this many learnt values the detector reports confidence 0 and score 0. */
  minSamples: number;
  /** Confidence reaches 1 at this many learnt values. */
  fullConfidenceSamples: number;
  /** Score log(1 + value) instead of the value (latencies, counts). */
  logTransform: boolean;
  /** Spread floor as a fraction of the baseline's range (max - min), so flat series do not divide by 0. */
  relativeSpreadFloor: number;
  /** Absolute spread floor (transformed units). */
  absoluteSpreadFloor: number;
  /** Values averaged by the level-shift view; 0 or 1 disables it. */
  shiftWindow: number;
  /** Include the step view (distance from the previous value). */
  stepFeature: boolean;
  /** Daily lags (1..seasonDays days) of the season view; 0 disables it. Needs regular timestamps. */
  seasonDays: number;
  /** Add a one-week lag to the season view. */
  weeklySeason: boolean;
  /** Rows either side of each seasonal lag that also count as "the same time". */
  seasonJitter: number;
  /** Longest lag kept in memory, in rows; longer seasonal lags are dropped. */
  maxSeasonLag: number;
  /** Floor of the seasonal residual's scale as a fraction of the baseline spread: the smallest of
   * several distances is small for plain noise, so without a floor one outlier looks extreme. */
  seasonScaleFloor: number;
  /** Deviations kept to calibrate the tail probability. */
  calibrationWindow: number;
  /** Fraction of the calibration deviations treated as the tail (exponential fit beyond). */
  tailFraction: number;
  /** Surprise added when a value leaves the range of every value seen so far by more than
   * recordTolerance of that range (a new all-time extreme). 0 disables. */
  recordBonus: number;
  recordTolerance: number;
  /** Surprise removed per decade of values learnt (a long series has more chances to produce a
   * rare value by luck, so its alarms must be rarer per value). 0 disables. */
  lengthPenalty: number;
  /** Minimum scale of the exponential tail, in spread units (larger = fewer, bolder alarms). */
  tailScaleFloor: number;
  /** Deviations join the calibration only this many values later, so an ongoing event is not
   * judged against its own first values. */
  calibrationDelay: number;
  /** > 0: damp a surprise that does not exceed the maximum of the previous peakWindow surprises. */
  peakWindow: number;
  /** Factor applied to a damped surprise. */
  peakDamping: number;
  /** Surprise -log10(p) at which the score is 0.5. */
  alarmSurprise: number;
}

/**
 * Defaults for live use (one value per time slice): no alarm on steady noise, a 3.5 sigma level
 * shift reported within a handful of values, every value of an ongoing anomaly scored.
 */
export const DEFAULT_SERIES_PARAMS: SeriesDetectorParams = {
  window: 300,
  minSamples: 30,
  fullConfidenceSamples: 300,
  logTransform: false,
  relativeSpreadFloor: 0.01,
  absoluteSpreadFloor: 1e-9,
  shiftWindow: 5,
  stepFeature: false,
  seasonDays: 2,
  weeklySeason: true,
  seasonJitter: 2,
  maxSeasonLag: 2100,
  seasonScaleFloor: 1,
  calibrationWindow: 2000,
  tailFraction: 0.02,
  tailScaleFloor: 0.5,
  lengthPenalty: 0,
  recordBonus: 0,
  recordTolerance: 0.05,
  calibrationDelay: 10,
  peakWindow: 0,
  peakDamping: 0.2,
  alarmSurprise: 5,
};

/**
 * The one global parameter set tuned on the Numenta Anomaly Benchmark (see docs/benchmarks.md):
 * event-style output (peak damping: an event scores high at its onset only), bolder tails, no
 * calibration delay, an unfloored seasonal view, a bonus for new all-time extremes and a penalty
 * growing with series length. NAB rewards the first detection in a window and charges every
 * later false positive per value, which live per-slice scoring does not want.
 */
export const NAB_SERIES_PARAMS: SeriesDetectorParams = {
  ...DEFAULT_SERIES_PARAMS,
  seasonScaleFloor: 0,
  calibrationWindow: 1500,
  tailFraction: 0.005,
  tailScaleFloor: 2,
  calibrationDelay: 0,
  recordBonus: 2,
  recordTolerance: 0.02,
  lengthPenalty: 0.3,
  peakWindow: 50,
  peakDamping: 0.2,
};

export interface SeriesScore {
  /** 0..1 anomaly likelihood (0.5 at a tail probability of 10^-alarmSurprise). */
  score: number;
  /** Baseline value the detector expected (rolling median, original units). */
  expected: number;
  /** Robust spread of the baseline (original units; approximate when log-transformed). */
  spread: number;
  /** 0..1, 0 below minSamples. */
  confidence: number;
  /** Values learnt before this one (the evidence behind the score). */
  samples: number;
}

const MAD_TO_SIGMA = 1.4826;
const DAY_MS = 86_400_000;
/** Baseline values needed before deviations are measured at all. */
const MIN_BASELINE = 8;
/** Intervals used to estimate the sampling period. */
const PERIOD_PROBES = 9;
/** Fewest tail points for the exponential fit. */
const MIN_TAIL = 5;


function medianOf(sorted: readonly number[]): number {
  const n = sorted.length;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median absolute deviation from `med`, walking outwards from the median (O(n/2), no sort). */
function madOf(sorted: readonly number[], med: number): number {
  const n = sorted.length;
  let lo = lowerBound(sorted, med) - 1;
  let hi = lo + 1;
  let d = 0;
  for (let c = 0; c <= n >> 1; c++) {
    const dl = lo >= 0 ? med - sorted[lo]! : Number.POSITIVE_INFINITY;
    const dh = hi < n ? sorted[hi]! - med : Number.POSITIVE_INFINITY;
    if (dl <= dh) {
      d = dl;
      lo--;
    } else {
      d = dh;
      hi++;
    }
  }
  return d;
}

/** The last `cap` values, kept both in arrival order and sorted. */
class SlidingSorted {
  readonly sorted: number[] = [];
  private readonly order: number[] = [];
  private head = 0;

  constructor(private readonly cap: number) {}

  get size(): number {
    return this.sorted.length;
  }

  add(x: number): void {
    if (this.order.length - this.head >= this.cap) {
      const old = this.order[this.head++]!;
      this.sorted.splice(lowerBound(this.sorted, old), 1);
      // Compact now and then so the arrival list stays bounded.
      if (this.head >= this.cap) {
        this.order.splice(0, this.head);
        this.head = 0;
      }
    }
    this.order.push(x);
    this.sorted.splice(lowerBound(this.sorted, x), 0, x);
  }
}

/** Recent raw values for the lagged views, bounded to about 2 * cap. */
class History {
  private readonly values: number[] = [];
  cap: number;

  constructor(cap: number) {
    this.cap = cap;
  }

  get length(): number {
    return this.values.length;
  }

  push(x: number): void {
    this.values.push(x);
    if (this.values.length > 2 * this.cap) this.values.splice(0, this.values.length - this.cap);
  }

  /** i = 1 is the latest value. */
  back(i: number): number {
    return this.values[this.values.length - i]!;
  }
}

interface Evaluation {
  score: number;
  expected: number;
  spread: number;
  confidence: number;
  /** Transformed value, deviation and residual to learn (NaN when not measured). */
  x: number;
  deviation: number;
  residual: number;
  /** Surprise before peak damping (what the peak window remembers). */
  surprise: number;
}

export class SeriesDetector {
  readonly params: SeriesDetectorParams;
  private readonly baseline: SlidingSorted;
  private readonly residuals: SlidingSorted;
  private readonly calibration: SlidingSorted;
  private readonly history: History;
  private readonly surprises: number[] = [];
  /** Deviations waiting out the calibration delay. */
  private readonly pending: number[] = [];
  private learnt = 0;
  private minSeen = Number.POSITIVE_INFINITY;
  private maxSeen = Number.NEGATIVE_INFINITY;
  private readonly firstTimes: number[] = [];
  /** Seasonal lags in rows, once the sampling period is known. */
  private lags: number[] = [];

  constructor(params?: Partial<SeriesDetectorParams>) {
    const p = { ...DEFAULT_SERIES_PARAMS, ...params };
    p.window = Math.max(4, Math.floor(p.window));
    p.minSamples = Math.max(1, Math.floor(p.minSamples));
    p.fullConfidenceSamples = Math.max(p.minSamples, Math.floor(p.fullConfidenceSamples));
    p.shiftWindow = Math.max(0, Math.floor(p.shiftWindow));
    p.calibrationWindow = Math.max(MIN_BASELINE, Math.floor(p.calibrationWindow));
    p.peakWindow = Math.max(0, Math.floor(p.peakWindow));
    p.calibrationDelay = Math.max(0, Math.floor(p.calibrationDelay));
    p.seasonJitter = Math.max(0, Math.floor(p.seasonJitter));
    this.params = p;
    this.baseline = new SlidingSorted(p.window);
    this.residuals = new SlidingSorted(p.window);
    this.calibration = new SlidingSorted(p.calibrationWindow);
    this.history = new History(Math.max(p.window, p.shiftWindow, 2));
  }

  /** Score the value (against what was learnt before it), then learn it. */
  update(value: number, timeMs: number): SeriesScore {
    const e = this.evaluate(value, timeMs);
    const out = { score: e.score, expected: e.expected, spread: e.spread, confidence: e.confidence, samples: this.learnt };
    if (Number.isFinite(value)) this.learn(e, timeMs);
    return out;
  }

  /** Score the value against the current state without changing it. */
  peek(value: number, timeMs: number): SeriesScore {
    const e = this.evaluate(value, timeMs);
    return { score: e.score, expected: e.expected, spread: e.spread, confidence: e.confidence, samples: this.learnt };
  }

  private confidence(): number {
    const p = this.params;
    if (this.learnt < p.minSamples) return 0;
    return Math.min(1, this.learnt / p.fullConfidenceSamples);
  }

  private evaluate(value: number, _timeMs: number): Evaluation {
    const p = this.params;
    const confidence = this.confidence();
    const base = this.baseline.sorted;
    const none: Evaluation = {
      score: 0,
      expected: Number.isFinite(value) ? value : 0,
      spread: 0,
      confidence,
      x: Number.isFinite(value) ? this.transform(value) : Number.NaN,
      deviation: Number.NaN,
      residual: Number.NaN,
      surprise: 0,
    };
    if (base.length === 0) return none;
    const med = medianOf(base);
    const range = base[base.length - 1]! - base[0]!;
    const floor = Math.max(p.relativeSpreadFloor * range, p.absoluteSpreadFloor);
    const spreadT = Math.max(madOf(base, med) * MAD_TO_SIGMA, floor);
    const expected = this.untransform(med);
    const spread = Math.abs(this.untransform(med + spreadT) - expected);
    if (!Number.isFinite(value)) return { ...none, expected, spread, x: Number.NaN };
    const x = this.transform(value);
    if (base.length < MIN_BASELINE) return { ...none, expected, spread, x };

    let deviation = Math.abs(x - med) / spreadT;
    const h = this.history;
    if (p.shiftWindow > 1 && h.length >= p.shiftWindow - 1) {
      let sum = x;
      for (let i = 1; i < p.shiftWindow; i++) sum += h.back(i);
      deviation = Math.max(deviation, (Math.abs(sum / p.shiftWindow - med) / spreadT) * Math.sqrt(p.shiftWindow));
    }
    if (p.stepFeature && h.length > 0) deviation = Math.max(deviation, Math.abs(x - h.back(1)) / spreadT);
    const residual = this.seasonalResidual(x);
    if (!Number.isNaN(residual)) {
      const r = this.residuals.sorted;
      const scale = r.length >= MIN_BASELINE ? Math.max(medianOf(r) * MAD_TO_SIGMA, floor, p.seasonScaleFloor * spreadT) : spreadT;
      deviation = Math.max(deviation, residual / scale);
    }

    let surprise = 0;
    let reported = 0;
    if (this.calibration.size >= MIN_BASELINE) {
      surprise = -Math.log10(Math.max(this.tailProbability(deviation), Number.MIN_VALUE));
      if (p.recordBonus > 0) {
        const tol = p.recordTolerance * (this.maxSeen - this.minSeen);
        if (x > this.maxSeen + tol || x < this.minSeen - tol) surprise += p.recordBonus;
      }
      if (p.lengthPenalty > 0) surprise = Math.max(0, surprise - p.lengthPenalty * Math.log10(Math.max(1, this.learnt)));
      reported = surprise;
      if (p.peakWindow > 0) {
        let recentMax = 0;
        for (const s of this.surprises) recentMax = Math.max(recentMax, s);
        if (surprise <= recentMax) reported *= p.peakDamping;
      }
    }
    // s^2 / (s^2 + a^2): 0.5 at the alarm surprise, low for ordinary values, and never rounds to
    // exactly 1, so even extreme values keep their order (threshold sweeps need that).
    const s2 = reported * reported;
    const score = confidence === 0 ? 0 : s2 / (s2 + p.alarmSurprise * p.alarmSurprise);
    return { score, expected, spread, confidence, x, deviation, residual, surprise };
  }

  /** Smallest distance to the values at the same time of day on earlier days; NaN when unknown. */
  private seasonalResidual(x: number): number {
    const p = this.params;
    let best = Number.NaN;
    for (const lag of this.lags) {
      if (lag + p.seasonJitter > this.history.length) continue;
      for (let j = -p.seasonJitter; j <= p.seasonJitter; j++) {
        const d = Math.abs(x - this.history.back(lag + j));
        if (!(d >= best)) best = d;
      }
    }
    return best;
  }

  /** P(deviation >= d) among recent deviations: empirical, with an exponential tail beyond the top. */
  private tailProbability(d: number): number {
    const p = this.params;
    const cal = this.calibration.sorted;
    const n = cal.length;
    const above = n - lowerBound(cal, d);
    const tail = Math.min(n, Math.max(MIN_TAIL, Math.floor(p.tailFraction * n)));
    if (above > tail) return above / n;
    const u = cal[n - tail]!;
    let sum = 0;
    for (let i = n - tail; i < n; i++) sum += cal[i]!;
    const scale = Math.max(sum / tail - u, p.tailScaleFloor);
    return Math.min(1, (tail / n) * Math.exp(-(d - u) / scale));
  }

  private learn(e: Evaluation, timeMs: number): void {
    const p = this.params;
    this.learnt++;
    this.learnPeriod(timeMs);
    if (!Number.isNaN(e.deviation)) {
      this.pending.push(e.deviation);
      while (this.pending.length > p.calibrationDelay) this.calibration.add(this.pending.shift()!);
    }
    if (!Number.isNaN(e.residual)) this.residuals.add(e.residual);
    if (p.peakWindow > 0) {
      this.surprises.push(e.surprise);
      if (this.surprises.length > p.peakWindow) this.surprises.shift();
    }
    this.minSeen = Math.min(this.minSeen, e.x);
    this.maxSeen = Math.max(this.maxSeen, e.x);
    this.baseline.add(e.x);
    this.history.push(e.x);
  }

  /** Rows per day from the median of the first sampling intervals (regular series only). */
  private learnPeriod(timeMs: number): void {
    const p = this.params;
    if (this.firstTimes.length > PERIOD_PROBES || p.seasonDays <= 0) return;
    this.firstTimes.push(timeMs);
    if (this.firstTimes.length <= PERIOD_PROBES) return;
    const gaps = this.firstTimes
      .slice(1)
      .map((t, i) => t - this.firstTimes[i]!)
      .sort((a, b) => a - b);
    const dt = medianOf(gaps);
    if (!(dt > 0)) return;
    const rows = Math.round(DAY_MS / dt);
    if (rows < 4 || Math.abs(rows * dt - DAY_MS) > dt / 2) return;
    const lags: number[] = [];
    for (let d = 1; d <= p.seasonDays; d++) lags.push(rows * d);
    if (p.weeklySeason && p.seasonDays < 7) lags.push(rows * 7);
    this.lags = lags.filter((l) => l + p.seasonJitter <= p.maxSeasonLag);
    if (this.lags.length > 0) this.history.cap = Math.max(this.history.cap, Math.max(...this.lags) + p.seasonJitter + 1);
  }

  private transform(v: number): number {
    return this.params.logTransform ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
  }

  private untransform(t: number): number {
    return this.params.logTransform ? Math.sign(t) * Math.expm1(Math.abs(t)) : t;
  }
}
