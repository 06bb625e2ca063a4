/**
 * Value-novelty detector for one univariate stream (the NAB scorer).
 *
 * A value is anomalous when it lands where the series has not been recently: its distance to
 * the nearest of the last `memory` values, as a fraction of the range (max - min) of those
 * values. Inside a busy band that distance is tiny whatever the noise; a spike, a dip, a jump
 * to a new level or a value in a gap of a multi-modal series stands out. The range (not a
 * spread) is the yardstick because it already contains every excursion the series made
 * recently: a noisy or bursty series needs a bolder move to look new, a calm one does not, so
 * one threshold fits all series without per-series calibration.
 *
 * Values are compared after a signed square root: most monitored series are counts or rates whose
 * noise grows with their level, and the root evens that out, so a move at a quiet level weighs
 * more than the same move at a busy one (on NAB it lifts every memory setting by 0.4-3.8 points).
 *
 * Event-style output: the first value of an event carries the novelty, the ones that follow sit
 * next to it and are not new any more; a novelty not above the maximum of the previous
 * `peakWindow` novelties is also damped, so a burst is reported at its onset.
 *
 * Causal and streaming: each value is scored against what came before it, then learnt. Memory
 * is O(memory); an update costs one binary search plus two array shifts of at most `memory`
 * elements, and O(peakWindow) for the damping.
 */
import { lowerBound } from './stats.js';
import { SharedParams } from './shared-params.js';

export interface NoveltyParams {
  /** Compare sign(v) * sqrt(|v|) instead of v. */
  sqrtTransform: boolean;
  /** Recent values a new value is compared with. */
  memory: number;
  /** Values learnt before any score is reported (score 0 before). */
  minSamples: number;
  /** Range floor, so a flat series does not divide by 0 (a change then scores close to 1). */
  rangeFloor: number;
  /** Novelty (fraction of the range) at which the score is 0.5. */
  halfScoreNovelty: number;
  /** > 0: damp a novelty that does not exceed the maximum of the previous peakWindow ones. */
  peakWindow: number;
  /** Factor applied to a damped novelty. */
  peakDamping: number;
}

/**
 * The one global parameter set used on the Numenta Anomaly Benchmark (docs/benchmarks.md):
 * square-rooted values, memory 6000 values, 50-value peak damping.
 */
export const NAB_NOVELTY_PARAMS: NoveltyParams = {
  sqrtTransform: true,
  memory: 6000,
  minSamples: 50,
  rangeFloor: 1e-9,
  halfScoreNovelty: 0.25,
  peakWindow: 50,
  peakDamping: 0.2,
};

export interface NoveltyScore {
  /** 0..1, monotone in the (damped) novelty: 0.5 at halfScoreNovelty. */
  score: number;
  /** Distance to the nearest remembered (transformed) value over their range, before damping
   * (0 when not scored). */
  novelty: number;
  /** Values learnt before this one. */
  samples: number;
}


/**
 * The last `capacity` values in arrival order and in sorted order, as 32-bit floats (half the
 * memory of JS numbers; a live latency key keeps thousands of them). Storage grows by doubling,
 * so a young or short-lived series stays small.
 */
/** Before the first value: no buffer (a key that never learns a point holds none). */
const EMPTY_WINDOW = new Float32Array(0);

class SortedWindow {
  private sorted = EMPTY_WINDOW;
  private ring = EMPTY_WINDOW;
  private head = 0;
  size = 0;

  constructor(readonly capacity: number) {}

  /** Index of the first remembered value >= x. */
  lowerBound(x: number): number {
    return lowerBound(this.sorted, x, this.size);
  }

  at(i: number): number {
    return this.sorted[i]!;
  }

  /** Remembers x (already float32-rounded), forgetting the oldest value when full. */
  push(x: number): void {
    if (this.size === this.capacity) {
      const old = this.ring[this.head]!;
      const at = this.lowerBound(old);
      this.sorted.copyWithin(at, at + 1, this.size);
      this.size--;
      this.ring[this.head] = x;
      this.head = (this.head + 1) % this.capacity;
    } else {
      if (this.size === this.ring.length) this.grow();
      this.ring[this.size] = x;
    }
    const at = this.lowerBound(x);
    this.sorted.copyWithin(at + 1, at, this.size);
    this.sorted[at] = x;
    this.size++;
  }

  private grow(): void {
    const n = Math.min(this.capacity, Math.max(16, this.ring.length * 2));
    // Both orders in one buffer: an ArrayBuffer of its own costs a few hundred bytes beyond its
    // data, and every latency key holds two of these windows.
    const both = new Float32Array(2 * n);
    const sorted = both.subarray(0, n);
    const ring = both.subarray(n);
    ring.set(this.ring);
    sorted.set(this.sorted);
    this.ring = ring;
    this.sorted = sorted;
  }
}

/** Every latency key holds two detectors: one frozen parameter object per distinct set. */
const paramSets = new SharedParams<NoveltyParams>();

export class NoveltyDetector {
  readonly params: NoveltyParams;
  private readonly window: SortedWindow;
  /** Recent undamped novelties (ring buffer) for peak damping. */
  private readonly peaks: number[];
  private peakHead = 0;
  private learnt = 0;

  constructor(params?: Partial<NoveltyParams>) {
    const p = { ...NAB_NOVELTY_PARAMS, ...params };
    p.memory = Math.max(2, Math.floor(p.memory));
    p.minSamples = Math.max(1, Math.floor(p.minSamples));
    p.peakWindow = Math.max(0, Math.floor(p.peakWindow));
    p.rangeFloor = Math.max(p.rangeFloor, Number.MIN_VALUE);
    p.halfScoreNovelty = Math.max(p.halfScoreNovelty, Number.MIN_VALUE);
    this.params = paramSets.of(p);
    this.window = new SortedWindow(p.memory);
    this.peaks = [];
  }

  /** Values learnt so far. */
  get samples(): number {
    return this.learnt;
  }

  /** Score the value against the remembered ones, then remember it (non-finite values are skipped). */
  update(value: number): NoveltyScore {
    const samples = this.learnt;
    if (!Number.isFinite(value)) return { score: 0, novelty: 0, samples };
    const x = this.transform(value);
    const novelty = this.learnt >= this.params.minSamples ? this.noveltyOf(x) : 0;
    const score = this.scoreOf(novelty);
    this.learn(x, novelty);
    return { score, novelty, samples };
  }

  /** What update(value) would return, without learning the value. */
  peek(value: number): NoveltyScore {
    const samples = this.learnt;
    if (!Number.isFinite(value) || samples < this.params.minSamples) return { score: 0, novelty: 0, samples };
    const novelty = this.noveltyOf(this.transform(value));
    return { score: this.scoreOf(novelty), novelty, samples };
  }

  /** The compared form of a value: optionally square-rooted, rounded to what the window stores. */
  private transform(value: number): number {
    return Math.fround(this.params.sqrtTransform ? Math.sign(value) * Math.sqrt(Math.abs(value)) : value);
  }

  /** Distance to the nearest remembered value over the remembered range. */
  private noveltyOf(x: number): number {
    const w = this.window;
    const at = w.lowerBound(x);
    let d = Number.POSITIVE_INFINITY;
    if (at < w.size) d = w.at(at) - x;
    if (at > 0) d = Math.min(d, x - w.at(at - 1));
    const range = Math.max(w.at(w.size - 1) - w.at(0), this.params.rangeFloor);
    return d / range;
  }

  private scoreOf(novelty: number): number {
    const p = this.params;
    let n = novelty;
    if (p.peakWindow > 0 && n > 0) {
      let recentMax = 0;
      for (const v of this.peaks) recentMax = Math.max(recentMax, v);
      if (n <= recentMax) n *= p.peakDamping;
    }
    // n / (n + h), written so an infinite novelty (a tiny range floor) gives 1, not NaN.
    return n > 0 ? 1 / (1 + p.halfScoreNovelty / n) : 0;
  }

  private learn(x: number, novelty: number): void {
    const p = this.params;
    this.learnt++;
    this.window.push(x);
    if (p.peakWindow > 0) {
      if (this.peaks.length < p.peakWindow) {
        this.peaks.push(novelty);
      } else {
        this.peaks[this.peakHead] = novelty;
        this.peakHead = (this.peakHead + 1) % p.peakWindow;
      }
    }
  }
}
