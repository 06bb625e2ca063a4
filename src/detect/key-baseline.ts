import { MAD_TO_SIGMA, medianMad } from './stats.js';

/**
 * The recent per-slice values of one figure (a p50, a count, a rate) and how much they vary.
 * Scores are robust z-scores: distance from the median in units of the figure's own spread, never
 * below a relative and an absolute floor, so a key that swings 2-550 ms between quiet minutes
 * needs a far larger change to stand out than a steady one. The spread is the larger of the MAD
 * and the upper tail (95th percentile minus median, in sigma units): real per-slice figures are
 * heavy-tailed (GC pauses, cache misses), and a key whose quiet slices already spike to 7x must
 * not alarm at 7x. While `frozen` (its key
 * has an open anomaly) the baseline takes no new values: a fault cannot become the new normal.
 */
/** The 95th percentile of a normal distribution, in standard deviations. */
const UPPER_TAIL_SIGMAS = 1.645;

export class KeyBaseline {
  private readonly values: Float64Array;
  private next = 0;
  private size = 0;
  private cached: { median: number; scale: number } | undefined;

  constructor(
    private readonly capacity: number,
    /** Slices needed before the key is scored. */
    readonly warmup: number,
  ) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  get count(): number {
    return this.size;
  }

  get warm(): boolean {
    return this.size >= this.warmup;
  }

  /** "learning (k/n)" until warm, "" after. */
  learning(): string {
    return this.warm ? '' : `learning (${this.size}/${this.warmup})`;
  }

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.size < this.values.length) this.size++;
    this.cached = undefined;
  }

  /** Median and spread (sigma-equivalent MAD, at least the floors). */
  centre(relFloor: number, absFloor: number): { median: number; scale: number } {
    if (this.cached === undefined) {
      const { median, mad } = medianMad(this.values, this.size);
      const sorted = Float64Array.from(this.values.subarray(0, this.size)).sort();
      const q95 = sorted[Math.min(this.size - 1, Math.floor(0.95 * (this.size - 1) + 0.5))]!;
      this.cached = { median, scale: Math.max(MAD_TO_SIGMA * mad, (q95 - median) / UPPER_TAIL_SIGMAS) };
    }
    const { median, scale } = this.cached;
    // A young baseline has seen few of its key's excursions: widen it until it has seen more.
    const youth = Math.sqrt(1 + this.warmup / Math.max(1, this.size));
    return { median, scale: Math.max(scale * youth, relFloor * Math.abs(median), absFloor) };
  }

  /** Robust z of v against this baseline; 0 while learning. */
  z(v: number, relFloor: number, absFloor: number): number {
    if (!this.warm || !Number.isFinite(v)) return 0;
    const { median, scale } = this.centre(relFloor, absFloor);
    return (v - median) / scale;
  }
}
