/**
 * Mergeable quantile sketch with relative-error guarantees (the DDSketch idea): a value x > 0 goes
 * to bucket ceil(log_gamma(x)) with gamma = (1 + alpha) / (1 - alpha), so every value in a bucket
 * is within alpha of the bucket's representative value. Buckets live in one dense typed array that
 * grows on demand and never spans more than `maxBuckets` indices: when it would, the lowest buckets
 * are folded together (low quantiles lose precision first, the tail we alert on never does).
 *
 * Values at or below `minValue` (zero, negative clock skew, sub-nanosecond spans) are counted in a
 * separate zero bucket and reported as 0.
 */

export interface DDSketchOptions {
  /** Relative accuracy of quantiles (default 0.005, i.e. within 1 % for any quantile). */
  alpha?: number;
  /** Most bucket indices kept at once (default 2048). */
  maxBuckets?: number;
  /** Values <= this count as zero (default 1e-6, i.e. one nanosecond when values are ms). */
  minValue?: number;
  /**
   * Integer counts in a Uint32Array (half the memory of the default Float64Array). Integer
   * sketches cannot be scaled; use them for per-slice counts and float ones for decayed baselines.
   */
  integerCounts?: boolean;
}

type Counts = Float64Array | Uint32Array;

/** Figures and buckets of a sketch held outside a DDSketch (SliceSketches): bucket i at counts[at + i]. */
export interface PackedCounts {
  total: number;
  sum: number;
  zero: number;
  min: number;
  max: number;
  lo: number;
  hi: number;
  counts: ArrayLike<number>;
  at: number;
}

/** A sketch that is not a DDSketch but can add itself to one (a packed slice sketch). */
export interface MergeableSketch {
  mergeInto(target: DDSketch): void;
}

/** What a sketch holds, in plain numbers (see DDSketch.toState / fromState). */
export interface DDSketchState {
  alpha: number;
  zeroCount: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  /** [bucket index, count], index ascending. */
  buckets: Array<[number, number]>;
}

/**
 * First allocation, in bytes: V8 keeps typed arrays of at most 64 bytes on the JS heap, with no
 * ArrayBuffer and backing store of their own (several hundred bytes less per small sketch).
 */
const INITIAL_BYTES = 64;
// Shared zero-length stores: an unused sketch allocates nothing.
const EMPTY_F64 = new Float64Array(0);
const EMPTY_U32 = new Uint32Array(0);

/**
 * What every sketch of one configuration shares. Held once per configuration instead of once
 * per sketch: a window keeps a sketch per slice and key, and every double field of an object
 * costs a heap number of its own.
 */
interface SketchShape {
  readonly alpha: number;
  readonly maxBuckets: number;
  readonly minValue: number;
  readonly integerCounts: boolean;
  readonly gamma: number;
  readonly logGamma: number;
}

const SHAPES = new Map<string, SketchShape>();

function shapeOf(alpha: number, maxBuckets: number, minValue: number, integerCounts: boolean): SketchShape {
  const key = `${alpha}|${maxBuckets}|${minValue}|${integerCounts}`;
  let shape = SHAPES.get(key);
  if (shape === undefined) {
    const gamma = (1 + alpha) / (1 - alpha);
    shape = Object.freeze({ alpha, maxBuckets, minValue, integerCounts, gamma, logGamma: Math.log(gamma) });
    // A handful of configurations exist in practice; the cap keeps odd callers from growing it.
    if (SHAPES.size < 64) SHAPES.set(key, shape);
  }
  return shape;
}

export class DDSketch {
  private readonly shape: SketchShape;
  /** counts[i] holds bucket index offset + i. Empty until the first value (lazy allocation). */
  private counts: Counts;
  private offset = 0;
  /** Lowest and highest bucket index in use; lo > hi when no bucket is in use. */
  private lo = 1;
  private hi = 0;
  /** Indices below this were folded into it (bounded bucket count). */
  private floor = -Infinity;
  private zeroCount = 0;
  private total = 0;
  private minSeen = Infinity;
  private maxSeen = -Infinity;
  private sumSeen = 0;

  constructor(opts: DDSketchOptions = {}) {
    const alpha = opts.alpha ?? 0.005;
    if (!(alpha > 0 && alpha < 1)) throw new RangeError('alpha must be in (0, 1)');
    const integerCounts = opts.integerCounts ?? false;
    this.shape = shapeOf(alpha, Math.max(16, Math.floor(opts.maxBuckets ?? 2048)), opts.minValue ?? 1e-6, integerCounts);
    this.counts = integerCounts ? EMPTY_U32 : EMPTY_F64;
  }

  get alpha(): number {
    return this.shape.alpha;
  }
  get maxBuckets(): number {
    return this.shape.maxBuckets;
  }
  get minValue(): number {
    return this.shape.minValue;
  }
  get integerCounts(): boolean {
    return this.shape.integerCounts;
  }

  /** Number of values (weighted total for scaled sketches). */
  get count(): number {
    return this.total;
  }
  get min(): number {
    return this.total > 0 ? this.minSeen : NaN;
  }
  get max(): number {
    return this.total > 0 ? this.maxSeen : NaN;
  }
  get sum(): number {
    return this.sumSeen;
  }
  /** Bucket indices currently spanned (memory is proportional to the allocated capacity). */
  get bucketSpan(): number {
    return this.lo > this.hi ? 0 : this.hi - this.lo + 1;
  }

  /** Bucket index of a positive value. */
  index(value: number): number {
    return Math.ceil(Math.log(value) / this.shape.logGamma);
  }

  /** Representative value of a bucket: within alpha of every value the bucket holds. */
  valueOf(index: number): number {
    const gamma = this.shape.gamma;
    return (2 * Math.pow(gamma, index)) / (gamma + 1);
  }

  add(value: number, weight = 1): void {
    if (!(weight > 0) || Number.isNaN(value)) return;
    this.total += weight;
    this.sumSeen += value * weight;
    if (value < this.minSeen) this.minSeen = value;
    if (value > this.maxSeen) this.maxSeen = value;
    if (value <= this.minValue) {
      this.zeroCount += weight;
      return;
    }
    this.addToBucket(this.index(value), weight);
  }

  /** Adds every value of `other` (same alpha) to this sketch. */
  merge(other: DDSketch | MergeableSketch): void {
    if (!(other instanceof DDSketch)) {
      other.mergeInto(this);
      return;
    }
    if (other.shape.gamma !== this.shape.gamma) throw new RangeError('cannot merge sketches with different alpha');
    if (other.total === 0) return;
    this.total += other.total;
    this.sumSeen += other.sumSeen;
    this.zeroCount += other.zeroCount;
    if (other.minSeen < this.minSeen) this.minSeen = other.minSeen;
    if (other.maxSeen > this.maxSeen) this.maxSeen = other.maxSeen;
    if (other.lo > other.hi) return;
    // Reserve the full range first so folding happens once, not per bucket.
    this.addToBucket(other.hi, 0);
    this.addToBucket(other.lo, 0);
    const src = other.counts;
    for (let i = other.lo; i <= other.hi; i++) {
      const c = src[i - other.offset]!;
      if (c !== 0) this.addToBucket(i, c);
    }
  }

  /** Adds a packed sketch of the same gamma, in the same order of operations as `merge`. */
  mergeCounts(gamma: number, src: PackedCounts): void {
    if (gamma !== this.shape.gamma) throw new RangeError('cannot merge sketches with different alpha');
    if (src.total === 0) return;
    this.total += src.total;
    this.sumSeen += src.sum;
    this.zeroCount += src.zero;
    if (src.min < this.minSeen) this.minSeen = src.min;
    if (src.max > this.maxSeen) this.maxSeen = src.max;
    if (src.lo > src.hi) return;
    this.addToBucket(src.hi, 0);
    this.addToBucket(src.lo, 0);
    const counts = src.counts;
    for (let i = src.lo; i <= src.hi; i++) {
      const c = counts[src.at + i]!;
      if (c !== 0) this.addToBucket(i, c);
    }
  }

  /** Multiplies every count by `factor` (exponential decay of a baseline). Float sketches only. */
  scale(factor: number): void {
    if (this.integerCounts) throw new TypeError('integer sketches cannot be scaled');
    if (!(factor >= 0)) throw new RangeError('factor must be >= 0');
    this.total *= factor;
    this.sumSeen *= factor;
    this.zeroCount *= factor;
    for (let i = this.lo; i <= this.hi; i++) this.counts[i - this.offset]! *= factor;
    if (this.total < 1e-9) this.clear();
  }

  /** Empties the sketch but keeps its storage, so a reused slice does not allocate. */
  clear(): void {
    if (this.lo <= this.hi) this.counts.fill(0, this.lo - this.offset, this.hi - this.offset + 1);
    this.lo = 1;
    this.hi = 0;
    this.floor = -Infinity;
    this.zeroCount = 0;
    this.total = 0;
    this.sumSeen = 0;
    this.minSeen = Infinity;
    this.maxSeen = -Infinity;
  }

  /**
   * Value at quantile q (0..1), using the lower rank floor(q * (n - 1)). Within alpha of the exact
   * value at that rank unless the bucket was folded. NaN when empty.
   */
  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const qq = q < 0 ? 0 : q > 1 ? 1 : q;
    const rank = qq * (this.total - 1);
    let cum = this.zeroCount;
    if (cum > rank) return this.minSeen > 0 ? this.minSeen : 0;
    for (let i = this.lo; i <= this.hi; i++) {
      cum += this.counts[i - this.offset]!;
      if (cum > rank) return this.clamp(this.valueOf(i));
    }
    return this.maxSeen;
  }

  /** The sketch's content for storage: summary figures and the non-empty buckets in index order. */
  toState(): DDSketchState {
    const buckets: Array<[number, number]> = [];
    for (let i = this.lo; i <= this.hi; i++) {
      const c = this.counts[i - this.offset]!;
      if (c !== 0) buckets.push([i, c]);
    }
    return { alpha: this.alpha, zeroCount: this.zeroCount, count: this.total, min: this.minSeen, max: this.maxSeen, sum: this.sumSeen, buckets };
  }

  /** A sketch holding what `toState` saved (a stored per-bucket rollup). */
  static fromState(state: DDSketchState, opts: Omit<DDSketchOptions, 'alpha'> = {}): DDSketch {
    const s = new DDSketch({ ...opts, alpha: state.alpha });
    for (const [index, count] of state.buckets) if (count > 0) s.addToBucket(index, count);
    s.zeroCount = state.zeroCount;
    s.total = state.count;
    s.minSeen = state.count > 0 ? state.min : Infinity;
    s.maxSeen = state.count > 0 ? state.max : -Infinity;
    s.sumSeen = state.sum;
    return s;
  }

  /** Count (weight) of values strictly above the bucket holding `value`. */
  countAbove(value: number): number {
    if (this.total === 0) return 0;
    if (value <= this.minValue) return this.total - this.zeroCount;
    const idx = this.index(value);
    let above = 0;
    for (let i = this.hi; i > idx && i >= this.lo; i--) above += this.counts[i - this.offset]!;
    return above;
  }

  private clamp(v: number): number {
    return v < this.minSeen ? this.minSeen : v > this.maxSeen ? this.maxSeen : v;
  }

  private addToBucket(index: number, weight: number): void {
    let idx = index < this.floor ? this.floor : index;
    if (this.lo > this.hi) {
      this.ensure(idx, idx);
      this.lo = idx;
      this.hi = idx;
    } else if (idx < this.lo || idx > this.hi) {
      let newLo = idx < this.lo ? idx : this.lo;
      const newHi = idx > this.hi ? idx : this.hi;
      if (newHi - newLo + 1 > this.maxBuckets) {
        newLo = newHi - this.maxBuckets + 1;
        this.foldBelow(newLo);
        if (idx < newLo) idx = newLo;
      }
      this.ensure(newLo, newHi);
      this.lo = newLo;
      this.hi = newHi;
    }
    this.counts[idx - this.offset]! += weight;
  }

  /** Folds all buckets below `newFloor` into bucket `newFloor`. */
  private foldBelow(newFloor: number): void {
    this.floor = newFloor;
    if (this.lo >= newFloor) return;
    let moved = 0;
    const end = Math.min(this.hi, newFloor - 1);
    for (let i = this.lo; i <= end; i++) {
      moved += this.counts[i - this.offset]!;
      this.counts[i - this.offset] = 0;
    }
    if (this.hi < newFloor) {
      // Everything was folded: start over from an empty span (all counts are already zero).
      this.lo = 1;
      this.hi = 0;
      this.ensure(newFloor, newFloor);
      this.lo = newFloor;
      this.hi = newFloor;
    } else {
      this.lo = newFloor;
    }
    this.counts[newFloor - this.offset]! += moved;
  }

  /** Makes sure indices lo..hi are addressable, growing (and re-centering) the array if needed. */
  private ensure(lo: number, hi: number): void {
    const cap = this.counts.length;
    if (cap > 0 && lo >= this.offset && hi < this.offset + cap) return;
    const used = this.lo <= this.hi;
    const spanLo = used ? Math.min(lo, this.lo) : lo;
    const spanHi = used ? Math.max(hi, this.hi) : hi;
    const need = spanHi - spanLo + 1;
    let newCap = Math.max(INITIAL_BYTES / this.counts.BYTES_PER_ELEMENT, cap);
    while (newCap < need) newCap *= 2;
    newCap = Math.min(newCap, Math.max(this.maxBuckets, need));
    // Centre the used span so growth in either direction has room.
    const newOffset = spanLo - Math.floor((newCap - need) / 2);
    const next = this.integerCounts ? new Uint32Array(newCap) : new Float64Array(newCap);
    if (used) {
      for (let i = this.lo; i <= this.hi; i++) next[i - newOffset] = this.counts[i - this.offset]!;
    }
    this.counts = next;
    this.offset = newOffset;
  }
}
