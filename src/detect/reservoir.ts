import type { Beat } from '../model/beat.js';

/**
 * The beats all reservoirs together may hold (detect.maxRetainedBeats). Rings grow on demand
 * while there is room; once the budget is spent a ring that has room left stops growing and
 * overwrites its own oldest beat instead, so the newest evidence keeps flowing and the total
 * never exceeds the budget (plus nothing: an empty ring drops the beat).
 */
export class RetentionBudget {
  held = 0;
  /** Pushes that could not grow a ring because the budget was spent (overwrote or dropped). */
  capped = 0;

  constructor(readonly max: number) {}
}

/**
 * Fixed-capacity ring of beats (newest overwrite oldest). Holds references only, so pushing a
 * beat costs one array store; memory is capacity x pointer whatever the traffic.
 */
export class BeatRing {
  readonly capacity: number;
  /** Grows to capacity on demand (a key that sees few beats costs little), then wraps. */
  private readonly items: Beat[] = [];
  /** Index of the oldest beat; 0 until the ring wraps (only then it stops growing). */
  private oldest = 0;
  /** Number of beats ever pushed; the sequence number of the next push. */
  private pushed = 0;

  constructor(
    capacity: number,
    private readonly budget?: RetentionBudget,
  ) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  get length(): number {
    return this.items.length;
  }

  /** Total pushes so far (monotonic). */
  get total(): number {
    return this.pushed;
  }

  push(beat: Beat): void {
    const items = this.items;
    const budget = this.budget;
    if (items.length < this.capacity) {
      if (this.oldest === 0 && (budget === undefined || budget.held < budget.max)) {
        items.push(beat);
        if (budget !== undefined) budget.held++;
        this.pushed++;
        return;
      }
      // Short of capacity only because the budget ran out (now or earlier).
      budget!.capped++;
      if (items.length === 0) return;
    }
    items[this.oldest] = beat;
    this.oldest = (this.oldest + 1) % items.length;
    this.pushed++;
  }

  /** Beats oldest first. */
  toArray(): Beat[] {
    const items = this.items;
    const out: Beat[] = [];
    for (let i = 0; i < items.length; i++) out.push(items[(this.oldest + i) % items.length]!);
    return out;
  }

  /**
   * Calls fn for beats pushed at sequence number >= fromSeq (oldest first) that are still held.
   * Returns the sequence number after the last visited beat.
   */
  forEachSince(fromSeq: number, fn: (beat: Beat, seq: number) => boolean | void): number {
    const items = this.items;
    const oldestSeq = this.pushed - items.length;
    let seq = fromSeq > oldestSeq ? fromSeq : oldestSeq;
    for (; seq < this.pushed; seq++) {
      const beat = items[(this.oldest + seq - oldestSeq) % items.length]!;
      if (fn(beat, seq) === false) return seq;
    }
    return seq;
  }

  /** Forgets every beat (and gives their room back to the budget). */
  clear(): void {
    if (this.budget !== undefined) this.budget.held -= this.items.length;
    this.items.length = 0;
    this.oldest = 0;
  }
}

/**
 * The evidence kept per handler for diagnosis: the latest beats, the latest failing beats, and a
 * sample of beats from before the current window ("what normal looked like").
 *
 * The baseline sample is fed in two steps so the hot path never looks at time: every `stride`-th
 * beat goes into a trail ring sized to span about one window, and `promote()` (run at evaluation)
 * moves trail beats that are now older than the window into the baseline ring. Promotion is
 * skipped while the handler is anomalous, so the baseline sample keeps showing healthy runs.
 */
export class HandlerReservoir {
  readonly recent: BeatRing;
  readonly errors: BeatRing;
  readonly baseline: BeatRing;
  private readonly trail: BeatRing;
  private stride = 1;
  private tick = 0;
  private promotedSeq = 0;

  constructor(recent = 200, errors = 50, baseline = 200, budget?: RetentionBudget) {
    this.recent = new BeatRing(recent, budget);
    this.errors = new BeatRing(errors, budget);
    this.baseline = new BeatRing(baseline, budget);
    this.trail = new BeatRing(baseline, budget);
  }

  /** Drops every beat held (the key was evicted): their room goes back to the budget. */
  release(): void {
    this.recent.clear();
    this.errors.clear();
    this.baseline.clear();
    this.trail.clear();
  }

  add(beat: Beat, failed: boolean): void {
    this.recent.push(beat);
    if (failed) this.errors.push(beat);
    if (++this.tick >= this.stride) {
      this.tick = 0;
      this.trail.push(beat);
    }
  }

  /**
   * Moves trail beats that started before `windowStartMs` into the baseline sample (unless
   * `frozen`), and re-tunes the trail stride so the trail spans about one window of
   * `windowCount` beats.
   */
  promote(windowStartMs: number, windowCount: number, frozen: boolean): void {
    this.promotedSeq = this.trail.forEachSince(this.promotedSeq, (beat) => {
      if (beat.startMs >= windowStartMs) return false;
      if (!frozen) this.baseline.push(beat);
      return true;
    });
    // Aim for ~3/4 of the trail per window so beats age out of the window before they are
    // overwritten.
    this.stride = Math.max(1, Math.ceil(windowCount / Math.max(1, Math.floor(this.trail.capacity * 0.75))));
  }
}
