import type { Beat, BeatError } from '../model/beat.js';
import type { DDSketch, MergeableSketch } from './ddsketch.js';
import { SLICE_SKETCH_DOUBLES, SLICE_SKETCH_INTS, SliceSketches } from './slice-sketches.js';

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

/** One of a slice's slowest beats. */
export interface SlowExemplar {
  traceId: string;
  spanId: string;
  durationMs: number;
}

export interface FingerprintTally {
  count: number;
  /** The first error the window saw with this fingerprint. */
  error: BeatError;
}

const NO_FINGERPRINTS: ReadonlyMap<string, FingerprintTally> = new Map();

// Per-slot doubles of a window: the slice index (NaN: slot unused) and the slow exemplars' durations.
const NUM_INDEX = 0;
const NUM_SLOW = 1;
const SLOT_NUMS = 1 + SLOW_EXEMPLARS_PER_SLICE;
// Per-slot counters: beats, failed beats, failing exemplars held.
const INT_COUNT = 0;
const INT_ERRORS = 1;
const INT_FAILING = 2;
const SLOT_INTS = 3;
/** An exemplar's ids as bytes: 16 of trace id, 8 of span id. */
const ID_BYTES = 24;
/** Distinct fingerprints a window remembers at once (its slices' tallies point into them by a byte). */
const FINGERPRINT_BOOK = 255;
/** A fingerprint's count in one slice stops here (it only ranks fingerprints against each other). */
const TALLY_MAX = 0xffff;

/**
 * A view of one slice of a window (the window moves it from slot to slot: read it inside the
 * callback that hands it out, never keep it). Its figures live in the window's packed arrays.
 */
export class Slice {
  /** Ring position this view reads. */
  slot = 0;
  readonly sketch: SliceSketchView;

  constructor(private readonly w: SliceWindow) {
    this.sketch = new SliceSketchView(this);
  }

  /** Slice number (floor(startMs / sliceMs)). */
  get index(): number {
    return this.w.store!.nums[this.slot * SLOT_NUMS + NUM_INDEX]!;
  }
  get startMs(): number {
    return this.index * this.w.sliceMs;
  }
  get count(): number {
    return this.w.store!.ints[this.slot * SLOT_INTS + INT_COUNT]!;
  }
  get errors(): number {
    return this.w.store!.ints[this.slot * SLOT_INTS + INT_ERRORS]!;
  }
  /** The slowest beats of the slice, slowest first (new objects: read at finding time only). */
  get slow(): SlowExemplar[] {
    return this.w.store!.slowExemplars(this.slot);
  }
  /** The first FAILING_EXEMPLARS_PER_SLICE failures of the slice (new objects). */
  get failing(): ExemplarSlot[] {
    return this.w.store!.failingExemplars(this.slot);
  }
  get failingCount(): number {
    return this.w.store!.ints[this.slot * SLOT_INTS + INT_FAILING]!;
  }
  /** Distinct error fingerprints of this slice, at most FINGERPRINTS_PER_SLICE (a new map). */
  get fingerprints(): ReadonlyMap<string, FingerprintTally> {
    return this.w.store!.fingerprintTallies(this.slot);
  }
  /** The packed sketches this view reads (for SliceSketchView). */
  get sketches(): SliceSketches {
    return this.w.store!.sketches;
  }
}

/** The latency sketch of the slice a Slice view is on: quantiles, figures, merge into a DDSketch. */
export class SliceSketchView implements MergeableSketch {
  constructor(private readonly slice: Slice) {}

  get count(): number {
    return this.slice.sketches.count(this.slice.slot);
  }
  get min(): number {
    return this.slice.sketches.min(this.slice.slot);
  }
  get max(): number {
    return this.slice.sketches.max(this.slice.slot);
  }
  get sum(): number {
    return this.slice.sketches.sum(this.slice.slot);
  }
  quantile(q: number): number {
    return this.slice.sketches.quantile(this.slice.slot, q);
  }
  mergeInto(target: DDSketch): void {
    this.slice.sketches.mergeInto(this.slice.slot, target);
  }
}

/** Exemplar ids as bytes (lowercase hex ids) or, for any other id, as text. */
class ExemplarIds {
  private readonly bytes: Uint8Array;
  /** [trace, span] per exemplar whose ids are not 32/16 lowercase hex digits. */
  private text: Array<string | undefined> | undefined;

  /** `bytes`: entries * ID_BYTES zeroed bytes in the owner's buffer (a new array when absent). */
  constructor(
    private readonly entries: number,
    bytes?: Uint8Array,
  ) {
    this.bytes = bytes ?? new Uint8Array(entries * ID_BYTES);
  }

  write(e: number, traceId: string, spanId: string): void {
    const at = e * ID_BYTES;
    if (writeHex(traceId, 16, this.bytes, at) && writeHex(spanId, 8, this.bytes, at + 16)) {
      if (this.text !== undefined) this.text[e * 2] = undefined;
      return;
    }
    const text = (this.text ??= new Array<string | undefined>(this.entries * 2).fill(undefined));
    text[e * 2] = traceId;
    text[e * 2 + 1] = spanId;
  }

  /** A copy of these ids in `bytes` (room for `entries`, at least as many as now). */
  movedTo(entries: number, bytes: Uint8Array): ExemplarIds {
    const next = new ExemplarIds(entries, bytes);
    bytes.set(this.bytes);
    if (this.text !== undefined) {
      next.text = new Array<string | undefined>(entries * 2).fill(undefined);
      for (let i = 0; i < this.text.length; i++) next.text[i] = this.text[i];
    }
    return next;
  }

  copy(from: number, to: number): void {
    this.bytes.copyWithin(to * ID_BYTES, from * ID_BYTES, (from + 1) * ID_BYTES);
    const text = this.text;
    if (text !== undefined) {
      text[to * 2] = text[from * 2];
      text[to * 2 + 1] = text[from * 2 + 1];
    }
  }

  traceId(e: number): string {
    return this.text?.[e * 2] ?? hexOf(this.bytes, e * ID_BYTES, 16);
  }

  spanId(e: number): string {
    const t = this.text?.[e * 2 + 1];
    return t !== undefined && this.text![e * 2] !== undefined ? t : hexOf(this.bytes, e * ID_BYTES + 16, 8);
  }
}

/** Failure rows and fingerprint tallies a FailureStore starts with (each grown by doubling). */
const FIRST_FAILURE_ROWS = 4;
const FIRST_TALLIES = 4;

/**
 * Failures of a window's slices, allocated at its first failure: for each slot that has failures
 * a row holding its first failing exemplars, and one list of fingerprint tallies (slot row,
 * fingerprint, count) in the order they were first tallied, which point into one book of
 * distinct fingerprints per window (each with the first error seen for it), so a fingerprint
 * repeated in 30 slices is one string and one error, not 30. Rows are handed out to slots as
 * their first failure arrives and come back when the slot is cleared: at a few % of failing
 * beats most slices of a key have none, and a row per slot would be mostly zeros. The tallies
 * are a list rather than FINGERPRINTS_PER_SLICE cells per row because a slice with failures
 * nearly always has one or two fingerprints: 8 cells a row were three quarters of a row's bytes
 * and almost all zero. Everything, the slot-to-row map included, lives in one buffer.
 */
class FailureStore {
  durations: Float64Array;
  ids: ExemplarIds;
  /** Book entry + 1 of each failing exemplar's fingerprint (0: none). */
  exemplarFp: Uint8Array;
  /** The tallies, `tallies` of them in use: row, book entry + 1 and count of each. */
  private tallyRows: Uint16Array;
  private tallyRefs: Uint8Array;
  private tallyCounts: Uint16Array;
  private tallies = 0;
  /** Row + 1 of each slot (0: the slot has no failure). */
  private rowOf: Uint16Array;
  private rows = 0;
  /** Rows handed out so far (above: never used); `free` holds returned ones. */
  private used = 0;
  private readonly free: number[] = [];
  readonly book: string[] = [];
  readonly bookErrors: BeatError[] = [];
  private readonly bookIndex = new Map<string, number>();

  constructor(private readonly size: number) {
    this.rowOf = new Uint16Array(0);
    this.durations = new Float64Array(0);
    this.ids = new ExemplarIds(0, new Uint8Array(0));
    this.exemplarFp = new Uint8Array(0);
    this.tallyRows = new Uint16Array(0);
    this.tallyRefs = new Uint8Array(0);
    this.tallyCounts = new Uint16Array(0);
    this.resize(Math.min(size, FIRST_FAILURE_ROWS), Math.min(size * FINGERPRINTS_PER_SLICE, FIRST_TALLIES));
  }

  /** Rows handed out to slots now. */
  get rowsInUse(): number {
    return this.used - this.free.length;
  }

  /** Row of a slot, -1 when it has none. */
  row(slot: number): number {
    return this.rowOf[slot]! - 1;
  }

  /** The slot's row, handed out at its first failure. */
  rowFor(slot: number): number {
    const r = this.rowOf[slot]!;
    if (r > 0) return r - 1;
    let row = this.free.pop();
    if (row === undefined) {
      if (this.used === this.rows) this.resize(Math.min(this.size, this.rows * 2), this.tallyRefs.length);
      row = this.used++;
    }
    this.rowOf[slot] = row + 1;
    return row;
  }

  clear(slot: number): void {
    const row = this.rowOf[slot]! - 1;
    if (row < 0) return;
    this.rowOf[slot] = 0;
    // Drops the row's tallies, keeping the others in their order.
    const rows = this.tallyRows;
    let kept = 0;
    for (let i = 0; i < this.tallies; i++) {
      if (rows[i] === row) continue;
      if (kept !== i) {
        rows[kept] = rows[i]!;
        this.tallyRefs[kept] = this.tallyRefs[i]!;
        this.tallyCounts[kept] = this.tallyCounts[i]!;
      }
      kept++;
    }
    rows.fill(0, kept, this.tallies);
    this.tallyRefs.fill(0, kept, this.tallies);
    this.tallyCounts.fill(0, kept, this.tallies);
    this.tallies = kept;
    this.exemplarFp.fill(0, row * FAILING_EXEMPLARS_PER_SLICE, (row + 1) * FAILING_EXEMPLARS_PER_SLICE);
    this.free.push(row);
  }

  /** Book entry + 1 of a fingerprint, added if new; 0 when the book is full even after dropping unused entries. */
  entry(fingerprint: string, error: BeatError): number {
    const known = this.bookIndex.get(fingerprint);
    if (known !== undefined) return known + 1;
    if (this.book.length >= FINGERPRINT_BOOK && !this.compact()) return 0;
    this.bookIndex.set(fingerprint, this.book.length);
    this.book.push(fingerprint);
    this.bookErrors.push(error);
    return this.book.length;
  }

  /** Counts one failure with this fingerprint in the row; a row's first FINGERPRINTS_PER_SLICE fingerprints are tallied. */
  tally(row: number, ref: number): void {
    let held = 0;
    for (let i = 0; i < this.tallies; i++) {
      if (this.tallyRows[i] !== row) continue;
      if (this.tallyRefs[i] === ref) {
        if (this.tallyCounts[i]! < TALLY_MAX) this.tallyCounts[i]!++;
        return;
      }
      held++;
    }
    if (held >= FINGERPRINTS_PER_SLICE) return;
    if (this.tallies === this.tallyRefs.length) this.resize(this.rows, Math.min(this.size * FINGERPRINTS_PER_SLICE, this.tallies * 2));
    const i = this.tallies++;
    this.tallyRows[i] = row;
    this.tallyRefs[i] = ref;
    this.tallyCounts[i] = 1;
  }

  /** Calls fn with each fingerprint tallied in the row and its count, in the order they were first tallied. */
  forEachTally(row: number, fn: (ref: number, count: number) => void): void {
    for (let i = 0; i < this.tallies; i++) if (this.tallyRows[i] === row) fn(this.tallyRefs[i]!, this.tallyCounts[i]!);
  }

  /** Room for `rows` rows and `tallies` tallies, what is held so far copied over (all arrays in one buffer). */
  private resize(rows: number, tallies: number): void {
    const exemplars = rows * FAILING_EXEMPLARS_PER_SLICE;
    const buf = new PackedBuffer(exemplars * 8 + tallies * 2 * 2 + this.size * 2 + exemplars * ID_BYTES + exemplars + tallies);
    const durations = buf.f64(exemplars);
    const tallyCounts = buf.u16(tallies);
    const tallyRows = buf.u16(tallies);
    const rowOf = buf.u16(this.size);
    const ids = this.ids.movedTo(exemplars, buf.u8(exemplars * ID_BYTES));
    const exemplarFp = buf.u8(exemplars);
    const tallyRefs = buf.u8(tallies);
    durations.set(this.durations);
    tallyCounts.set(this.tallyCounts);
    tallyRows.set(this.tallyRows);
    rowOf.set(this.rowOf);
    exemplarFp.set(this.exemplarFp);
    tallyRefs.set(this.tallyRefs);
    this.durations = durations;
    this.tallyCounts = tallyCounts;
    this.tallyRows = tallyRows;
    this.rowOf = rowOf;
    this.ids = ids;
    this.exemplarFp = exemplarFp;
    this.tallyRefs = tallyRefs;
    this.rows = rows;
  }

  /** Keeps the book entries some slot still points to; false when none could go. */
  private compact(): boolean {
    const used = new Uint8Array(this.book.length + 1);
    for (let i = 0; i < this.tallies; i++) used[this.tallyRefs[i]!] = 1;
    for (const ref of this.exemplarFp) used[ref] = 1;
    const remap = new Uint8Array(this.book.length + 1);
    const book: string[] = [];
    const errors: BeatError[] = [];
    for (let i = 0; i < this.book.length; i++) {
      if (!used[i + 1]) continue;
      book.push(this.book[i]!);
      errors.push(this.bookErrors[i]!);
      remap[i + 1] = book.length;
    }
    if (book.length === this.book.length) return false;
    for (let i = 0; i < this.tallies; i++) this.tallyRefs[i] = remap[this.tallyRefs[i]!]!;
    for (let i = 0; i < this.exemplarFp.length; i++) this.exemplarFp[i] = remap[this.exemplarFp[i]!]!;
    this.book.length = 0;
    this.bookErrors.length = 0;
    this.bookIndex.clear();
    for (let i = 0; i < book.length; i++) {
      this.book.push(book[i]!);
      this.bookErrors.push(errors[i]!);
      this.bookIndex.set(book[i]!, i);
    }
    return true;
  }
}

/**
 * What a window holds while it has slices: everything per slot in a few typed arrays (no
 * object per slice); failures in a FailureStore made at the window's first failure.
 */
class SliceStore {
  readonly nums: Float64Array;
  readonly ints: Int32Array;
  readonly sketches: SliceSketches;
  readonly slowIds: ExemplarIds;
  failures: FailureStore | undefined;

  constructor(readonly size: number, sketchAlpha: number) {
    const slowEntries = size * SLOW_EXEMPLARS_PER_SLICE;
    const buf = new PackedBuffer(size * (SLOT_NUMS + SLICE_SKETCH_DOUBLES) * 8 + size * (SLOT_INTS + SLICE_SKETCH_INTS) * 4 + slowEntries * ID_BYTES);
    this.nums = buf.f64(size * SLOT_NUMS).fill(NaN);
    const sketchDoubles = buf.f64(size * SLICE_SKETCH_DOUBLES);
    this.ints = buf.i32(size * SLOT_INTS);
    const sketchInts = buf.i32(size * SLICE_SKETCH_INTS);
    this.sketches = new SliceSketches(size, sketchAlpha, undefined, undefined, { ints: sketchInts, doubles: sketchDoubles });
    this.slowIds = new ExemplarIds(slowEntries, buf.u8(slowEntries * ID_BYTES));
  }

  reset(slot: number, index: number): void {
    const b = slot * SLOT_NUMS;
    this.nums[b + NUM_INDEX] = index;
    for (let i = 0; i < SLOW_EXEMPLARS_PER_SLICE; i++) this.nums[b + NUM_SLOW + i] = -1;
    this.ints.fill(0, slot * SLOT_INTS, (slot + 1) * SLOT_INTS);
    this.sketches.clear(slot);
    this.failures?.clear(slot);
  }

  release(slot: number): void {
    this.nums[slot * SLOT_NUMS + NUM_INDEX] = NaN;
    this.ints.fill(0, slot * SLOT_INTS, (slot + 1) * SLOT_INTS);
    this.sketches.release(slot);
    this.failures?.clear(slot);
  }

  add(slot: number, beat: Beat, failed: boolean): void {
    const ints = this.ints;
    ints[slot * SLOT_INTS + INT_COUNT]!++;
    const d = beat.durationMs;
    this.sketches.add(slot, d);
    // The slowest exemplars in descending order (two slots: a compare and maybe a move).
    const b = slot * SLOT_NUMS + NUM_SLOW;
    const nums = this.nums;
    if (d > nums[b + 1]!) {
      const e = slot * SLOW_EXEMPLARS_PER_SLICE;
      if (d > nums[b]!) {
        this.slowIds.copy(e, e + 1);
        nums[b + 1] = nums[b]!;
        this.slowIds.write(e, beat.traceId, beat.spanId);
        nums[b] = d;
      } else {
        this.slowIds.write(e + 1, beat.traceId, beat.spanId);
        nums[b + 1] = d;
      }
    }
    if (!failed) return;
    ints[slot * SLOT_INTS + INT_ERRORS]!++;
    const failures = (this.failures ??= new FailureStore(this.size));
    const err = beat.error;
    const ref = err !== undefined && err.fingerprint !== '' ? failures.entry(err.fingerprint, err) : 0;
    const held = ints[slot * SLOT_INTS + INT_FAILING]!;
    if (held >= FAILING_EXEMPLARS_PER_SLICE && ref === 0) return;
    const row = failures.rowFor(slot);
    if (held < FAILING_EXEMPLARS_PER_SLICE) {
      const e = row * FAILING_EXEMPLARS_PER_SLICE + held;
      failures.durations[e] = d;
      failures.ids.write(e, beat.traceId, beat.spanId);
      failures.exemplarFp[e] = ref;
      ints[slot * SLOT_INTS + INT_FAILING] = held + 1;
    }
    if (ref > 0) failures.tally(row, ref);
  }

  slowExemplars(slot: number): SlowExemplar[] {
    const out: SlowExemplar[] = [];
    for (let i = 0; i < SLOW_EXEMPLARS_PER_SLICE; i++) {
      const durationMs = this.nums[slot * SLOT_NUMS + NUM_SLOW + i]!;
      if (!(durationMs >= 0)) continue;
      const e = slot * SLOW_EXEMPLARS_PER_SLICE + i;
      out.push({ traceId: this.slowIds.traceId(e), spanId: this.slowIds.spanId(e), durationMs });
    }
    return out;
  }

  failingExemplars(slot: number): ExemplarSlot[] {
    const out: ExemplarSlot[] = [];
    const f = this.failures;
    if (f === undefined) return out;
    const row = f.row(slot);
    if (row < 0) return out;
    for (let i = 0; i < this.ints[slot * SLOT_INTS + INT_FAILING]!; i++) {
      const e = row * FAILING_EXEMPLARS_PER_SLICE + i;
      const ref = f.exemplarFp[e]!;
      out.push({ traceId: f.ids.traceId(e), spanId: f.ids.spanId(e), durationMs: f.durations[e]!, fingerprint: ref > 0 ? f.book[ref - 1]! : '' });
    }
    return out;
  }

  fingerprintTallies(slot: number): ReadonlyMap<string, FingerprintTally> {
    const f = this.failures;
    if (f === undefined) return NO_FINGERPRINTS;
    const row = f.row(slot);
    if (row < 0) return NO_FINGERPRINTS;
    const out = new Map<string, FingerprintTally>();
    f.forEachTally(row, (ref, count) => out.set(f.book[ref - 1]!, { count, error: f.bookErrors[ref - 1]! }));
    return out;
  }
}

/**
 * Fixed-size arrays of one lifetime carved out of one ArrayBuffer, widest elements first (each
 * view stays aligned). An ArrayBuffer of its own costs a few hundred bytes of RSS beyond its data
 * (the buffer object, its backing store, the allocator's header), which at thousands of keys with
 * a dozen small arrays each adds up to tens of MiB (docs/benchmarks.md, per-key state).
 */
class PackedBuffer {
  private readonly buffer: ArrayBuffer;
  private at = 0;

  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }

  f64(n: number): Float64Array {
    return new Float64Array(this.buffer, this.take(n * 8, 8), n);
  }
  i32(n: number): Int32Array {
    return new Int32Array(this.buffer, this.take(n * 4, 4), n);
  }
  u16(n: number): Uint16Array {
    return new Uint16Array(this.buffer, this.take(n * 2, 2), n);
  }
  u8(n: number): Uint8Array {
    return new Uint8Array(this.buffer, this.take(n, 1), n);
  }

  private take(bytes: number, align: number): number {
    if (this.at % align !== 0) throw new RangeError('packed arrays must be taken widest first');
    const at = this.at;
    this.at += bytes;
    return at;
  }
}

const HEX_PAIRS: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hexDigit(c: number): number {
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
}

/** Writes `bytes` bytes of a lowercase hex id; false (nothing usable written) when it is not one. */
function writeHex(id: string, bytes: number, out: Uint8Array, at: number): boolean {
  if (id.length !== bytes * 2) return false;
  for (let i = 0; i < bytes; i++) {
    const hi = hexDigit(id.charCodeAt(2 * i));
    const lo = hexDigit(id.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

function hexOf(bytes: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX_PAIRS[bytes[at + i]!]!;
  return s;
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
  /**
   * The slots' data, created with the first beat and dropped when the last slice leaves the
   * window: a key that went quiet holds nothing but its head position.
   */
  store: SliceStore | undefined;
  private readonly sketchAlpha: number;
  /** The one view handed to sinks and visitors (moved from slot to slot). */
  private readonly view: Slice;
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
    this.view = new Slice(this);
  }

  get head(): number {
    return this.headIndex;
  }

  /** Slices holding data now (memory: a quiet key holds none once its window has passed). */
  get heldSlices(): number {
    const store = this.store;
    if (store === undefined) return 0;
    let n = 0;
    for (let slot = 0; slot < this.size; slot++) if (!Number.isNaN(store.nums[slot * SLOT_NUMS + NUM_INDEX]!)) n++;
    return n;
  }

  /** Slices holding a failure row (memory: only slices with failures hold one). */
  get failureRows(): number {
    return this.store?.failures?.rowsInUse ?? 0;
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
    const store = (this.store ??= new SliceStore(this.size, this.sketchAlpha));
    const slot = mod(idx, this.size);
    if (store.nums[slot * SLOT_NUMS + NUM_INDEX] !== idx) store.reset(slot, idx);
    store.add(slot, beat, failed);
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
      const view = this.sliceAt(idx);
      if (view) sink.closeSlice(view);
      else sink.skipSlices(1, idx);
    }
    if (to > this.closedIndex) this.closedIndex = to;
  }

  /** Visits the slices of the current window that hold data, oldest first (one view, moved: do not keep it). */
  forEachSlice(fn: (slice: Slice) => void): void {
    if (Number.isNaN(this.headIndex) || this.store === undefined) return;
    for (let idx = this.headIndex - this.size + 1; idx <= this.headIndex; idx++) {
      const view = this.sliceAt(idx);
      if (view) fn(view);
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

  /** The slice with this index if it is in the window and holds data (the window's one view: read it, do not keep it). */
  sliceAt(index: number): Slice | undefined {
    const store = this.store;
    if (store === undefined || Number.isNaN(this.headIndex) || index > this.headIndex || index <= this.headIndex - this.size) return undefined;
    const slot = mod(index, this.size);
    if (store.nums[slot * SLOT_NUMS + NUM_INDEX] !== index) return undefined;
    this.view.slot = slot;
    return this.view;
  }

  private advance(to: number, sink: SliceSink): void {
    const h = this.headIndex;
    const leaveTo = to - this.size;
    const lastReal = Math.min(h, leaveTo);
    const store = this.store;
    if (store !== undefined) {
      // Slices already closed early (closeThrough) are only released as they leave the window.
      for (let idx = Math.max(h - this.size + 1, this.firstIndex); idx <= Math.min(lastReal, this.closedIndex); idx++) {
        const slot = mod(idx, this.size);
        if (store.nums[slot * SLOT_NUMS + NUM_INDEX] === idx) store.release(slot);
      }
    }
    for (let idx = Math.max(h - this.size + 1, this.firstIndex, this.closedIndex + 1); idx <= lastReal; idx++) {
      const view = this.sliceAt(idx);
      if (view) {
        sink.closeSlice(view);
        store!.release(view.slot);
      } else {
        sink.skipSlices(1, idx);
      }
    }
    const skipFrom = Math.max(h + 1, this.closedIndex + 1);
    if (leaveTo >= skipFrom) sink.skipSlices(leaveTo - skipFrom + 1, skipFrom);
    this.headIndex = to;
    // A key that went quiet gives everything back (a new beat allocates afresh).
    if (store !== undefined && this.heldSlices === 0) this.store = undefined;
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
