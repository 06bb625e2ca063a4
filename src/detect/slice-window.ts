import type { Beat, BeatError } from '../model/beat.js';
import { DDSketch } from './ddsketch.js';

/** Slowest and failing exemplars kept per slice (fixed slots, mutated in place). */
export const SLOW_EXEMPLARS_PER_SLICE = 2;
export const FAILING_EXEMPLARS_PER_SLICE = 2;
/** Distinct error fingerprints tallied per slice; further ones are only counted as errors. */
export const FINGERPRINTS_PER_SLICE = 8;

export interface ExemplarSlot {
  traceId: string;
  spanId: string;
  durationMs: number;
  fingerprint: string;
}

export interface FingerprintTally {
  count: number;
  error: BeatError;
  traceId: string;
  spanId: string;
}

function emptySlot(): ExemplarSlot {
  return { traceId: '', spanId: '', durationMs: -1, fingerprint: '' };
}

// Shared empties: most slices of most keys never see a failure or a fingerprint, so their
// failing slots and fingerprint tally are allocated on first use (a window holds 30 slices per key).
const NO_SLOTS: readonly ExemplarSlot[] = Object.freeze([]);
const NO_FINGERPRINTS: ReadonlyMap<string, FingerprintTally> = new Map();

/** One time slice of one key: counts, a latency sketch, fingerprints and a few exemplars. */
export class Slice {
  /** Slice number (floor(startMs / sliceMs)); NaN while the slot is unused. */
  index = NaN;
  startMs = NaN;
  count = 0;
  errors = 0;
  readonly sketch: DDSketch;
  readonly slow: ExemplarSlot[] = [];
  /** The first FAILING_EXEMPLARS_PER_SLICE failures; slots exist once the slot's slice saw one. */
  private failingSlots: readonly ExemplarSlot[] = NO_SLOTS;
  failingCount = 0;
  private fingerprintTally: Map<string, FingerprintTally> | undefined;

  constructor(sketchAlpha: number) {
    this.sketch = new DDSketch({ alpha: sketchAlpha, integerCounts: true });
    for (let i = 0; i < SLOW_EXEMPLARS_PER_SLICE; i++) this.slow.push(emptySlot());
  }

  /** Failing exemplars: entries below failingCount are this slice's. */
  get failing(): readonly ExemplarSlot[] {
    return this.failingSlots;
  }

  /** Distinct error fingerprints of this slice (at most FINGERPRINTS_PER_SLICE). */
  get fingerprints(): ReadonlyMap<string, FingerprintTally> {
    return this.fingerprintTally ?? NO_FINGERPRINTS;
  }

  reset(index: number, sliceMs: number): void {
    this.index = index;
    this.startMs = index * sliceMs;
    this.count = 0;
    this.errors = 0;
    this.sketch.clear();
    for (const s of this.slow) s.durationMs = -1;
    this.failingCount = 0;
    if (this.fingerprintTally !== undefined && this.fingerprintTally.size > 0) this.fingerprintTally.clear();
  }

  add(beat: Beat, failed: boolean): void {
    this.count++;
    const d = beat.durationMs;
    this.sketch.add(d);
    // Keep the slowest exemplars in descending order (two slots: a compare and maybe a swap).
    const slow = this.slow;
    const last = slow[slow.length - 1]!;
    if (d > last.durationMs) {
      last.traceId = beat.traceId;
      last.spanId = beat.spanId;
      last.durationMs = d;
      last.fingerprint = beat.error?.fingerprint ?? '';
      for (let i = slow.length - 1; i > 0 && slow[i]!.durationMs > slow[i - 1]!.durationMs; i--) {
        const t = slow[i]!;
        slow[i] = slow[i - 1]!;
        slow[i - 1] = t;
      }
    }
    if (!failed) return;
    this.errors++;
    if (this.failingCount < FAILING_EXEMPLARS_PER_SLICE) {
      if (this.failingSlots === NO_SLOTS) {
        const slots: ExemplarSlot[] = [];
        for (let i = 0; i < FAILING_EXEMPLARS_PER_SLICE; i++) slots.push(emptySlot());
        this.failingSlots = slots;
      }
      const slot = this.failingSlots[this.failingCount++]!;
      slot.traceId = beat.traceId;
      slot.spanId = beat.spanId;
      slot.durationMs = d;
      slot.fingerprint = beat.error?.fingerprint ?? '';
    }
    const err = beat.error;
    if (!err || err.fingerprint === '') return;
    const fingerprints = (this.fingerprintTally ??= new Map());
    const tally = fingerprints.get(err.fingerprint);
    if (tally) tally.count++;
    else if (fingerprints.size < FINGERPRINTS_PER_SLICE) {
      fingerprints.set(err.fingerprint, { count: 1, error: err, traceId: beat.traceId, spanId: beat.spanId });
    }
  }
}

/**
 * Receives slices as they leave the window, or earlier through `closeThrough` (oldest first, each
 * slice once); `skipped` counts empty slices, the first of them at index `firstIndex`.
 */
export interface SliceSink {
  closeSlice(slice: Slice): void;
  skipSlices(skipped: number, firstIndex: number): void;
}

/**
 * Sliding window of `slices` fixed-width time slices for one key, held in a preallocated ring.
 * Beats are placed by their start time (event time, not arrival time). A beat older than the
 * window is late: counted and dropped. A beat newer than the window's head advances it; the
 * slices that fall out are handed to the sink (the baseline) before their slot is reused.
 */
export class SliceWindow {
  readonly sliceMs: number;
  readonly size: number;
  /** Slots are created on first use and released when their slice leaves the window, so a key costs one slice per slice it saw beats in. */
  private readonly ring: Array<Slice | undefined>;
  private readonly sketchAlpha: number;
  /** Highest slice index the window has reached; NaN before the first beat or advance. */
  private headIndex = NaN;
  /** First slice index ever used: slices before it are not "empty", they predate the key. */
  private firstIndex = NaN;
  private late = 0;
  /** Slices up to this index were handed to a sink already (closeThrough): not again when they leave. */
  private closedIndex = -Infinity;

  constructor(sliceMs: number, slices: number, sketchAlpha = 0.005) {
    this.sliceMs = sliceMs;
    this.size = Math.max(1, Math.floor(slices));
    this.sketchAlpha = sketchAlpha;
    this.ring = new Array<Slice | undefined>(this.size).fill(undefined);
  }

  get head(): number {
    return this.headIndex;
  }

  /** Slices allocated now (memory: a quiet key holds none once its window has passed). */
  get heldSlices(): number {
    let n = 0;
    for (const slot of this.ring) if (slot !== undefined) n++;
    return n;
  }

  /** Beats dropped because they started before the window. */
  get lateBeats(): number {
    return this.late;
  }

  /** Start of the oldest slice in the window, ms; NaN before the first beat. */
  get startMs(): number {
    return (this.headIndex - this.size + 1) * this.sliceMs;
  }

  /** Adds a beat; returns false (and counts it) when it is too late for the window. */
  add(beat: Beat, failed: boolean, sink: SliceSink): boolean {
    const idx = Math.floor(beat.startMs / this.sliceMs);
    if (!Number.isFinite(idx)) {
      this.late++;
      return false;
    }
    if (Number.isNaN(this.headIndex)) {
      this.headIndex = idx;
      this.firstIndex = idx;
    } else if (idx > this.headIndex) this.advance(idx, sink);
    else if (idx <= this.headIndex - this.size) {
      this.late++;
      return false;
    }
    const at = mod(idx, this.size);
    let slot = this.ring[at];
    if (!slot) {
      slot = new Slice(this.sketchAlpha);
      this.ring[at] = slot;
    }
    if (slot.index !== idx) slot.reset(idx, this.sliceMs);
    slot.add(beat, failed);
    return true;
  }

  /** Moves the head to the slice holding `nowMs` (never backwards), closing slices that leave. */
  advanceTo(nowMs: number, sink: SliceSink): void {
    const idx = Math.floor(nowMs / this.sliceMs);
    if (Number.isNaN(this.headIndex)) return;
    if (idx > this.headIndex) this.advance(idx, sink);
  }

  /**
   * Hands the sink every slice up to `index` that it has not had yet, while the slices stay in
   * the window for the detectors: a young key's baseline can learn from slices that are past the
   * short-horizon looks without waiting for them to leave a long window. They are not handed again
   * when they leave.
   */
  closeThrough(index: number, sink: SliceSink): void {
    if (Number.isNaN(this.headIndex)) return;
    const to = Math.min(index, this.headIndex);
    for (let idx = Math.max(this.closedIndex + 1, this.headIndex - this.size + 1, this.firstIndex); idx <= to; idx++) {
      const slot = this.ring[mod(idx, this.size)];
      if (slot && slot.index === idx) sink.closeSlice(slot);
      else sink.skipSlices(1, idx);
    }
    if (to > this.closedIndex) this.closedIndex = to;
  }

  /** Visits the slices of the current window that hold data, oldest first. */
  forEachSlice(fn: (slice: Slice) => void): void {
    if (Number.isNaN(this.headIndex)) return;
    for (let idx = this.headIndex - this.size + 1; idx <= this.headIndex; idx++) {
      const slot = this.ring[mod(idx, this.size)];
      if (slot && slot.index === idx) fn(slot);
    }
  }

  /** Beats and failed beats over the whole current window. */
  totals(): { count: number; errors: number } {
    let count = 0;
    let errors = 0;
    this.forEachSlice((s) => {
      count += s.count;
      errors += s.errors;
    });
    return { count, errors };
  }

  /** The slice with this index if it is in the window and holds data. */
  sliceAt(index: number): Slice | undefined {
    if (Number.isNaN(this.headIndex) || index > this.headIndex || index <= this.headIndex - this.size) return undefined;
    const slot = this.ring[mod(index, this.size)];
    return slot && slot.index === index ? slot : undefined;
  }

  private advance(to: number, sink: SliceSink): void {
    const h = this.headIndex;
    const leaveTo = to - this.size;
    const lastReal = Math.min(h, leaveTo);
    // Slices already closed early (closeThrough) are only released as they leave the window.
    for (let idx = Math.max(h - this.size + 1, this.firstIndex); idx <= Math.min(lastReal, this.closedIndex); idx++) {
      const at = mod(idx, this.size);
      if (this.ring[at]?.index === idx) this.ring[at] = undefined;
    }
    for (let idx = Math.max(h - this.size + 1, this.firstIndex, this.closedIndex + 1); idx <= lastReal; idx++) {
      const at = mod(idx, this.size);
      const slot = this.ring[at];
      if (slot && slot.index === idx) {
        sink.closeSlice(slot);
        // Released, not kept for reuse: a key that goes quiet holds no slices once its window
        // has passed (a busy key allocates one slice per slice width instead).
        this.ring[at] = undefined;
      } else {
        sink.skipSlices(1, idx);
      }
    }
    const skipFrom = Math.max(h + 1, this.closedIndex + 1);
    if (leaveTo >= skipFrom) sink.skipSlices(leaveTo - skipFrom + 1, skipFrom);
    this.headIndex = to;
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
