/**
 * Univariate streaming anomaly core.
 *
 * One detector instance follows one series (for example a handler's per-slice p95 latency).
 * Each update scores the new value against a bounded robust baseline (rolling median / MAD of
 * recent history), then turns the deviation into a 0..1 anomaly likelihood. Two views are
 * combined so that both failure shapes are caught:
 *  - a point view: how far is this value from the baseline (catches spikes);
 *  - a level view: how far is the mean of the last few values from the baseline, judged against
 *    how such short means usually behave (catches sustained level shifts quickly without firing
 *    on a single noisy value).
 * Memory is bounded by `window`; each update costs O(window).
 */

export interface SeriesDetectorParams {
  /** Number of recent values kept as the baseline history. */
  window: number;
  /** Below this many learnt values the detector reports confidence 0 (and score 0). */
  minSamples: number;
  /** Confidence reaches 1 at this many learnt values. */
  fullConfidenceSamples: number;
  /** Number of most recent values averaged for the level view. */
  shortWindow: number;
  /** Score on log(value - min + 1) instead of the raw value (useful for latencies). */
  logTransform: boolean;
  /** Spread floor as a fraction of |median|, so a perfectly flat series does not divide by 0. */
  relativeSpreadFloor: number;
  /** Absolute spread floor. */
  absoluteSpreadFloor: number;
  /** Robust z at which the point view reaches a score of 0.5. */
  pointZ: number;
  /** Robust z of the short mean at which the level view reaches a score of 0.5. */
  levelZ: number;
}

export const DEFAULT_SERIES_PARAMS: SeriesDetectorParams = {
  window: 240,
  minSamples: 12,
  fullConfidenceSamples: 60,
  shortWindow: 5,
  logTransform: false,
  relativeSpreadFloor: 0.01,
  absoluteSpreadFloor: 1e-9,
  pointZ: 5,
  levelZ: 5,
};

export interface SeriesScore {
  /** 0..1 anomaly likelihood. */
  score: number;
  /** Baseline value the detector expected (in the original units). */
  expected: number;
  /** Robust spread of the baseline (in the original units, approximate when log-transformed). */
  spread: number;
  /** 0..1, 0 below minSamples. */
  confidence: number;
  /** Values learnt so far. */
  samples: number;
}

const MAD_TO_SIGMA = 1.4826;

/** Logistic squashing: 0.5 at z = mid, steep enough that z = 2*mid is near 1. */
function squash(z: number, mid: number): number {
  if (!Number.isFinite(z)) return z > 0 ? 1 : 0;
  const k = 4 / Math.max(mid, 1e-9);
  return 1 / (1 + Math.exp(-k * (z - mid)));
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Index of the first element >= v in an ascending array. */
function lowerBound(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! < v) lo = m + 1;
    else hi = m;
  }
  return lo;
}

export class SeriesDetector {
  readonly params: SeriesDetectorParams;
  /** Ring of transformed values in arrival order. */
  private readonly ring: number[] = [];
  private head = 0;
  /** Same values, kept sorted for O(log n) median lookups. */
  private readonly sorted: number[] = [];
  private learnt = 0;

  constructor(params?: Partial<SeriesDetectorParams>) {
    const p = { ...DEFAULT_SERIES_PARAMS, ...params };
    p.window = Math.max(4, Math.floor(p.window));
    p.minSamples = Math.max(2, Math.floor(p.minSamples));
    p.fullConfidenceSamples = Math.max(p.minSamples, Math.floor(p.fullConfidenceSamples));
    p.shortWindow = Math.max(1, Math.floor(p.shortWindow));
    this.params = p;
  }

  /** Score the value, then learn it. */
  update(value: number, timeMs: number): SeriesScore {
    const s = this.peek(value, timeMs);
    if (Number.isFinite(value)) this.learn(this.transform(value));
    return s;
  }

  /** Score the value against the current baseline without changing any state. */
  peek(value: number, _timeMs: number): SeriesScore {
    const p = this.params;
    const n = this.sorted.length;
    const confidence = this.confidence();
    if (n === 0) {
      return { score: 0, expected: Number.isFinite(value) ? value : 0, spread: 0, confidence, samples: this.learnt };
    }
    const med = median(this.sorted);
    const spreadT = this.spread(med);
    const expected = this.untransform(med);
    const spread = Math.abs(this.untransform(med + spreadT) - expected);
    if (!Number.isFinite(value) || confidence === 0) {
      return { score: 0, expected, spread, confidence, samples: this.learnt };
    }
    const x = this.transform(value);
    const pointZ = Math.abs(x - med) / spreadT;
    // Level view: mean of the last shortWindow-1 learnt values plus this one.
    const k = Math.min(p.shortWindow, n + 1);
    let sum = x;
    for (let i = 1; i < k; i++) sum += this.recent(i);
    const levelZ = (Math.abs(sum / k - med) / spreadT) * Math.sqrt(k);
    const score = Math.max(squash(pointZ, p.pointZ), squash(levelZ, p.levelZ));
    return { score: score * confidence, expected, spread, confidence, samples: this.learnt };
  }

  private confidence(): number {
    const p = this.params;
    if (this.learnt < p.minSamples) return 0;
    return Math.min(1, (this.learnt - p.minSamples + 1) / (p.fullConfidenceSamples - p.minSamples + 1));
  }

  /** The i-th most recent learnt value (i = 1 is the latest). */
  private recent(i: number): number {
    const len = this.ring.length;
    return this.ring[(this.head - i + len * 2) % len]!;
  }

  private spread(med: number): number {
    const p = this.params;
    const devs = this.sorted.map((v) => Math.abs(v - med)).sort((a, b) => a - b);
    const mad = median(devs) * MAD_TO_SIGMA;
    return Math.max(mad, Math.abs(med) * p.relativeSpreadFloor, p.absoluteSpreadFloor);
  }

  private learn(x: number): void {
    const p = this.params;
    this.learnt++;
    if (this.ring.length < p.window) {
      this.ring.push(x);
      this.head = this.ring.length % p.window;
    } else {
      const old = this.ring[this.head]!;
      this.ring[this.head] = x;
      this.head = (this.head + 1) % p.window;
      this.sorted.splice(lowerBound(this.sorted, old), 1);
    }
    this.sorted.splice(lowerBound(this.sorted, x), 0, x);
  }

  private transform(v: number): number {
    return this.params.logTransform ? Math.sign(v) * Math.log1p(Math.abs(v)) : v;
  }

  private untransform(t: number): number {
    return this.params.logTransform ? Math.sign(t) * Math.expm1(Math.abs(t)) : t;
  }
}
