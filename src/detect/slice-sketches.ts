import type { DDSketch } from './ddsketch.js';

/**
 * The latency sketches of all slots of one window, packed: integer DDSketches (same bucket
 * mapping, same answers as `new DDSketch({ alpha, integerCounts: true })`, bucket for bucket)
 * whose figures live in two typed arrays and whose buckets live in one shared pool.
 *
 * Why: a window holds a sketch per slice and a key holds 30 slices. As objects, each sketch
 * cost a DDSketch, a typed array with its ArrayBuffer and backing store, and a boxed heap number
 * per double field, ~0.7-1 KiB before its first bucket; packed, a slot costs its figures
 * (8 doubles' worth) and its bucket counts, 1 byte each until a count passes 255, then 2 bytes
 * until one passes 65 535 (a slice of a few hundred beats never leaves the first width; the whole
 * pool widens at once, so a cell's width is the pool's).
 *
 * The pool is a bump allocator: a slot that needs a wider range takes a new region at the top
 * and leaves its old one behind; when the top reaches the end the live regions are copied into a
 * new pool (compaction). Invariant: everything at or above `top` is zero.
 */

// Per-slot integer figures, SLOT_INTS apart in `ints`.
const LO = 0;
const HI = 1;
/** Bucket index held at the region's first cell. */
const OFFSET = 2;
/** Region: first cell in the pool and its length (0: no region). */
const START = 3;
const CAP = 4;
/** Indices below this were folded into it; NO_FLOOR when none were. */
const FLOOR = 5;
const ZERO = 6;
const TOTAL = 7;
const SLOT_INTS = 8;
/** Int32 cells per slot of the figures a SliceSketches keeps (for owners that pack them). */
export const SLICE_SKETCH_INTS = SLOT_INTS;
// Per-slot doubles, SLOT_DOUBLES apart in `doubles`.
const MIN = 0;
const MAX = 1;
const SUM = 2;
const SLOT_DOUBLES = 3;
/** Float64 cells per slot of the figures a SliceSketches keeps. */
export const SLICE_SKETCH_DOUBLES = SLOT_DOUBLES;

const NO_FLOOR = -0x80000000;
const MIN_REGION = 8;
const EMPTY_POOL = new Uint8Array(0);

type Pool = Uint8Array | Uint16Array | Uint32Array;

/** Gamma of an alpha, computed exactly as DDSketch does so both map values to the same buckets. */
function gammaOf(alpha: number): number {
  return (1 + alpha) / (1 - alpha);
}

export class SliceSketches {
  readonly alpha: number;
  private readonly gamma: number;
  private readonly logGamma: number;
  private readonly maxBuckets: number;
  private readonly minValue: number;
  private readonly ints: Int32Array;
  private readonly doubles: Float64Array;
  private pool: Pool = EMPTY_POOL;
  private top = 0;

  constructor(
    readonly slots: number,
    alpha = 0.005,
    maxBuckets = 2048,
    minValue = 1e-6,
    /**
     * Where the slots' figures live (slots * SLICE_SKETCH_INTS and slots * SLICE_SKETCH_DOUBLES
     * cells, zeroed), when the owner packs them into a buffer of its own; new arrays otherwise.
     */
    figures?: { ints: Int32Array; doubles: Float64Array },
  ) {
    if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
    this.alpha = alpha;
    this.gamma = gammaOf(alpha);
    this.logGamma = Math.log(this.gamma);
    this.maxBuckets = Math.max(16, Math.floor(maxBuckets));
    this.minValue = minValue;
    this.ints = figures?.ints ?? new Int32Array(slots * SLOT_INTS);
    this.doubles = figures?.doubles ?? new Float64Array(slots * SLOT_DOUBLES);
    if (this.ints.length < slots * SLOT_INTS || this.doubles.length < slots * SLOT_DOUBLES) throw new RangeError('figure arrays too small for the slots');
    for (let s = 0; s < slots; s++) this.clear(s);
  }

  /** Cells of the bucket pool (memory: 1, 2 or 4 bytes each). */
  get poolCells(): number {
    return this.pool.length;
  }

  /** Bytes per cell of the bucket pool now. */
  get cellBytes(): number {
    return this.pool.BYTES_PER_ELEMENT;
  }

  count(slot: number): number {
    return this.ints[slot * SLOT_INTS + TOTAL]!;
  }
  min(slot: number): number {
    return this.count(slot) > 0 ? this.doubles[slot * SLOT_DOUBLES + MIN]! : NaN;
  }
  max(slot: number): number {
    return this.count(slot) > 0 ? this.doubles[slot * SLOT_DOUBLES + MAX]! : NaN;
  }
  sum(slot: number): number {
    return this.doubles[slot * SLOT_DOUBLES + SUM]!;
  }

  /** Empties a slot and keeps its region for reuse. */
  clear(slot: number): void {
    const m = slot * SLOT_INTS;
    const ints = this.ints;
    if (ints[m + LO]! <= ints[m + HI]!) {
      const at = ints[m + START]! - ints[m + OFFSET]!;
      this.pool.fill(0, at + ints[m + LO]!, at + ints[m + HI]! + 1);
    }
    ints[m + LO] = 1;
    ints[m + HI] = 0;
    ints[m + FLOOR] = NO_FLOOR;
    ints[m + ZERO] = 0;
    ints[m + TOTAL] = 0;
    const d = slot * SLOT_DOUBLES;
    this.doubles[d + MIN] = Infinity;
    this.doubles[d + MAX] = -Infinity;
    this.doubles[d + SUM] = 0;
  }

  /** Empties a slot and gives up its region; when no slot holds one, the pool goes too. */
  release(slot: number): void {
    this.clear(slot);
    const m = slot * SLOT_INTS;
    this.ints[m + START] = 0;
    this.ints[m + CAP] = 0;
    for (let s = 0; s < this.slots; s++) if (this.ints[s * SLOT_INTS + CAP]! > 0) return;
    this.pool = EMPTY_POOL;
    this.top = 0;
  }

  add(slot: number, value: number): void {
    if (Number.isNaN(value)) return;
    const m = slot * SLOT_INTS;
    const d = slot * SLOT_DOUBLES;
    const ints = this.ints;
    const doubles = this.doubles;
    ints[m + TOTAL]!++;
    doubles[d + SUM]! += value;
    if (value < doubles[d + MIN]!) doubles[d + MIN] = value;
    if (value > doubles[d + MAX]!) doubles[d + MAX] = value;
    if (value <= this.minValue) {
      ints[m + ZERO]!++;
      return;
    }
    this.addToBucket(slot, Math.ceil(Math.log(value) / this.logGamma), 1);
  }

  /** Value at quantile q of a slot, exactly as DDSketch.quantile answers it. */
  quantile(slot: number, q: number): number {
    const m = slot * SLOT_INTS;
    const ints = this.ints;
    const total = ints[m + TOTAL]!;
    if (total === 0) return NaN;
    const d = slot * SLOT_DOUBLES;
    const min = this.doubles[d + MIN]!;
    const max = this.doubles[d + MAX]!;
    const qq = q < 0 ? 0 : q > 1 ? 1 : q;
    const rank = qq * (total - 1);
    let cum = ints[m + ZERO]!;
    if (cum > rank) return min > 0 ? min : 0;
    const at = ints[m + START]! - ints[m + OFFSET]!;
    const pool = this.pool;
    for (let i = ints[m + LO]!, hi = ints[m + HI]!; i <= hi; i++) {
      cum += pool[at + i]!;
      if (cum > rank) {
        const v = (2 * Math.pow(this.gamma, i)) / (this.gamma + 1);
        return v < min ? min : v > max ? max : v;
      }
    }
    return max;
  }

  /** Adds a slot's values to a DDSketch of the same alpha. */
  mergeInto(slot: number, target: DDSketch): void {
    const m = slot * SLOT_INTS;
    const d = slot * SLOT_DOUBLES;
    const ints = this.ints;
    const doubles = this.doubles;
    target.mergeCounts(this.gamma, {
      total: ints[m + TOTAL]!,
      sum: doubles[d + SUM]!,
      zero: ints[m + ZERO]!,
      min: doubles[d + MIN]!,
      max: doubles[d + MAX]!,
      lo: ints[m + LO]!,
      hi: ints[m + HI]!,
      counts: this.pool,
      at: ints[m + START]! - ints[m + OFFSET]!,
    });
  }

  private addToBucket(slot: number, index: number, weight: number): void {
    const m = slot * SLOT_INTS;
    const ints = this.ints;
    const floor = ints[m + FLOOR]!;
    let idx = floor !== NO_FLOOR && index < floor ? floor : index;
    const lo = ints[m + LO]!;
    const hi = ints[m + HI]!;
    if (lo > hi) {
      this.ensure(slot, idx, idx);
      ints[m + LO] = idx;
      ints[m + HI] = idx;
    } else if (idx < lo || idx > hi) {
      let newLo = idx < lo ? idx : lo;
      const newHi = idx > hi ? idx : hi;
      if (newHi - newLo + 1 > this.maxBuckets) {
        newLo = newHi - this.maxBuckets + 1;
        this.foldBelow(slot, newLo);
        if (idx < newLo) idx = newLo;
      }
      this.ensure(slot, newLo, newHi);
      ints[m + LO] = newLo;
      ints[m + HI] = newHi;
    }
    const cell = ints[m + START]! - ints[m + OFFSET]! + idx;
    this.put(cell, this.pool[cell]! + weight);
  }

  /** Sets a cell, widening the whole pool first when the count does not fit its cells. */
  private put(cell: number, count: number): void {
    let pool = this.pool;
    if (count > 0xff && pool instanceof Uint8Array) pool = this.pool = Uint16Array.from(pool);
    if (count > 0xffff && pool instanceof Uint16Array) pool = this.pool = Uint32Array.from(pool);
    pool[cell] = count;
  }

  /** Folds a slot's buckets below `newFloor` into bucket `newFloor` (as DDSketch does). */
  private foldBelow(slot: number, newFloor: number): void {
    const m = slot * SLOT_INTS;
    const ints = this.ints;
    ints[m + FLOOR] = newFloor;
    const lo = ints[m + LO]!;
    const hi = ints[m + HI]!;
    if (lo >= newFloor) return;
    const at = ints[m + START]! - ints[m + OFFSET]!;
    const pool = this.pool;
    let moved = 0;
    const end = Math.min(hi, newFloor - 1);
    for (let i = lo; i <= end; i++) {
      moved += pool[at + i]!;
      pool[at + i] = 0;
    }
    if (hi < newFloor) {
      ints[m + LO] = 1;
      ints[m + HI] = 0;
      this.ensure(slot, newFloor, newFloor);
      ints[m + LO] = newFloor;
      ints[m + HI] = newFloor;
    } else {
      ints[m + LO] = newFloor;
    }
    const cell = ints[m + START]! - ints[m + OFFSET]! + newFloor;
    this.put(cell, this.pool[cell]! + moved);
  }

  /** Makes bucket indices lo..hi addressable in the slot's region, moving it to a wider one if needed. */
  private ensure(slot: number, lo: number, hi: number): void {
    const m = slot * SLOT_INTS;
    const ints = this.ints;
    const cap = ints[m + CAP]!;
    const offset = ints[m + OFFSET]!;
    if (cap > 0 && lo >= offset && hi < offset + cap) return;
    const usedLo = ints[m + LO]!;
    const usedHi = ints[m + HI]!;
    const used = usedLo <= usedHi;
    const spanLo = used ? Math.min(lo, usedLo) : lo;
    const spanHi = used ? Math.max(hi, usedHi) : hi;
    const need = spanHi - spanLo + 1;
    // An eighth more than needed: room for the range to widen a little without moving again,
    // not the up-to-double of power-of-two growth (a region left behind is reclaimed at the
    // next compaction, so moving is cheap).
    let newCap = Math.max(MIN_REGION, need + 2 + (need >> 3));
    newCap = Math.min(newCap, Math.max(this.maxBuckets, need));
    const newOffset = spanLo - Math.floor((newCap - need) / 2);
    // Reserving may compact the pool and move this slot's region: read its start afterwards.
    const start = this.reserve(newCap);
    const pool = this.pool;
    if (used) {
      const from = ints[m + START]! - offset;
      const to = start - newOffset;
      for (let i = usedLo; i <= usedHi; i++) {
        pool[to + i] = pool[from + i]!;
        pool[from + i] = 0;
      }
    }
    ints[m + START] = start;
    ints[m + CAP] = newCap;
    ints[m + OFFSET] = newOffset;
  }

  /** A zeroed region of `cells` cells at the top of the pool, compacting or growing it first if needed. */
  private reserve(cells: number): number {
    if (this.top + cells > this.pool.length) this.compact(cells);
    const start = this.top;
    this.top += cells;
    return start;
  }

  /**
   * Moves the live regions to the front of the pool, with room for `extra` more cells: in place
   * when the pool has that room and is at most twice what is needed, else in a new pool. In
   * place matters at many keys: a window gives up a region with every slice that leaves it, so
   * in a steady state every window compacts every few slices, and a new pool each time was a
   * stream of dead ArrayBuffers (~2 KiB per window) that only a full collection frees: 20-30 MiB
   * of RSS at 10 000 keys between two (docs/benchmarks.md, 2026-12-07 night).
   */
  private compact(extra: number): void {
    const ints = this.ints;
    let live = 0;
    let regions = 0;
    for (let s = 0; s < this.slots; s++) {
      const cap = ints[s * SLOT_INTS + CAP]!;
      live += cap;
      if (cap > 0) regions++;
    }
    // An eighth more than is live, so a window whose slices keep widening does not compact at
    // every move; room for about four more regions of the average size while the window is
    // still filling its slots, so filling 30 slots takes a handful of new pools, not one per slot
    // or two (both tend to an eighth as the slots fill).
    const size = Math.max(64, Math.ceil((live + extra) * Math.max(1.125, 1 + 4 / (regions + 1))));
    const old = this.pool;
    // In place while that leaves at least a sixteenth free (a pool sized at the last compaction
    // does, as long as what is live has not grown by more) and the pool is not twice too big.
    if (old.length >= live + extra + ((live + extra) >> 4) && old.length <= 2 * size) {
      this.compactInPlace();
      return;
    }
    const next = old instanceof Uint32Array ? new Uint32Array(size) : old instanceof Uint16Array ? new Uint16Array(size) : new Uint8Array(size);
    let top = 0;
    for (let s = 0; s < this.slots; s++) {
      const m = s * SLOT_INTS;
      const cap = ints[m + CAP]!;
      if (cap === 0) continue;
      const start = ints[m + START]!;
      next.set(old.subarray(start, start + cap), top);
      ints[m + START] = top;
      top += cap;
    }
    this.pool = next;
    this.top = top;
  }

  /** Slides the live regions down in the order they lie in the pool (each moves only toward the front), then zeroes what they left. */
  private compactInPlace(): void {
    const ints = this.ints;
    const order = REGION_ORDER;
    order.length = 0;
    for (let s = 0; s < this.slots; s++) if (ints[s * SLOT_INTS + CAP]! > 0) order.push(s);
    order.sort(byRegionStart(ints));
    const pool = this.pool;
    let top = 0;
    for (const s of order) {
      const m = s * SLOT_INTS;
      const start = ints[m + START]!;
      const cap = ints[m + CAP]!;
      if (start !== top) pool.copyWithin(top, start, start + cap);
      ints[m + START] = top;
      top += cap;
    }
    pool.fill(0, top, this.top);
    this.top = top;
  }
}

/** Slots with a region, reused by every in-place compaction (they run one at a time). */
const REGION_ORDER: number[] = [];

function byRegionStart(ints: Int32Array): (a: number, b: number) => number {
  return (a, b) => ints[a * SLOT_INTS + START]! - ints[b * SLOT_INTS + START]!;
}
