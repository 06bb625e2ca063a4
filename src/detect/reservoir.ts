import type { Beat } from '../model/beat.js';

/**
 * Fixed-capacity ring of beats (newest overwrite oldest). Holds references only, so pushing a
 * beat costs one array store; memory is capacity x pointer whatever the traffic.
 */
export class BeatRing {
  readonly capacity: number;
  /** Grows to capacity on demand (a key that sees few beats costs little), then wraps. */
  private readonly items: Beat[] = [];
  private next = 0;
  private size = 0;
  /** Number of beats ever pushed; the sequence number of the next push. */
  private pushed = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  get length(): number {
    return this.size;
  }

  /** Total pushes so far (monotonic). */
  get total(): number {
    return this.pushed;
  }

  push(beat: Beat): void {
    if (this.items.length < this.capacity) this.items.push(beat);
    else this.items[this.next] = beat;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
    this.pushed++;
  }

  /** Beats oldest first. */
  toArray(): Beat[] {
    const out: Beat[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity]!);
    return out;
  }

  /**
   * Calls fn for beats pushed at sequence number >= fromSeq (oldest first) that are still held.
   * Returns the sequence number after the last visited beat.
   */
  forEachSince(fromSeq: number, fn: (beat: Beat, seq: number) => boolean | void): number {
    const oldestSeq = this.pushed - this.size;
    let seq = fromSeq > oldestSeq ? fromSeq : oldestSeq;
    for (; seq < this.pushed; seq++) {
      const beat = this.items[seq % this.capacity]!;
      if (fn(beat, seq) === false) return seq;
    }
    return seq;
  }

  clear(): void {
    this.items.length = 0;
    this.next = 0;
    this.size = 0;
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

  constructor(recent = 200, errors = 50, baseline = 200) {
    this.recent = new BeatRing(recent);
    this.errors = new BeatRing(errors);
    this.baseline = new BeatRing(baseline);
    this.trail = new BeatRing(baseline);
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
