import type { Sequence } from '../model/sequence.js';

/**
 * The beat order a sequence run should follow: declared (MusicalConductor JSON: movement order,
 * then beat number) or learned from traffic (the run shapes that are common among complete runs).
 */
export interface ExpectedOrder {
  source: 'declared' | 'learned';
  /** The reference order: the declaration, or the most frequent learned shape. */
  handlers: string[];
  /** Per position of `handlers`: share of runs that contained that handler (1 for declared beats). */
  positionFrequency: number[];
  /** Learned from this many runs; 0 for declared. */
  runs: number;
  /**
   * Every run shape that is normal for the sequence (a run equal to one of them has no
   * violation); `handlers` is one of them. Declared: just the declaration.
   */
  shapes: string[][];
}

export function declaredOrder(seq: Sequence): ExpectedOrder {
  const handlers: string[] = [];
  for (const movement of seq.movements) {
    const beats = movement.beats.slice().sort((a, b) => a.beat - b.beat);
    for (const beat of beats) handlers.push(beat.handler);
  }
  return { source: 'declared', handlers, positionFrequency: handlers.map(() => 1), runs: 0, shapes: [handlers] };
}

export interface OrderLearnerOptions {
  /** Complete runs needed before the learned shapes become the expectation. */
  minRuns: number;
  /** Older runs weigh half as much after this many newer runs: learning goes on, slowly. */
  halfLifeRuns: number;
  /** Distinct handler lists tracked; the lightest is forgotten first. */
  maxSignatures: number;
  /** A shape becomes normal once it carries this share of the (decayed) runs... */
  enterShare?: number;
  /** ...and stops being normal below this share (hysteresis: no flapping around one threshold). */
  leaveShare?: number;
  /** The anchor (reference shape) changes only when another shape outweighs it by this factor. */
  anchorMargin?: number;
  /**
   * A handler present in at least this share of all runs is regular: a run without it is missing
   * it even when the run's shape is itself normal (default 0.8). It stays regular until its share
   * falls under half of that, so a handler that stops being called is not forgotten within a minute.
   */
  regularShare?: number;
}

interface Signature {
  key: string;
  handlers: string[];
  weight: number;
}

const SEP = '\u0001';
/** Runs learned between two computations of the provisional shapes. */
const PROVISIONAL_STEP = 16;
// Weights grow instead of decaying (same ratios, no per-run sweep); rescale before overflow.
const RESCALE_AT = 1e12;

export function shapeKey(handlers: readonly string[]): string {
  return handlers.join(SEP);
}

/**
 * Learns which run shapes (handler lists) are normal for a sequence. A sequence may have several:
 * handlers that share a sequence name but are exported as separate one-span runs, an optional
 * branch taken by a third of the runs, ... Every shape holding at least `enterShare` of the
 * decayed runs is normal until it falls under `leaveShare`; the heaviest shape (the anchor, sticky
 * within `anchorMargin`) always is. The normal set only changes in `refresh()`, which the owner
 * calls once per evaluation, so every run of one slice is judged against the same expectation.
 */
export class OrderLearner {
  private readonly signatures = new Map<string, Signature>();
  private readonly presence = new Map<string, number>();
  private total = 0;
  private increment = 1;
  private readonly growth: number;
  private readonly enterShare: number;
  private readonly leaveShare: number;
  private readonly anchorMargin: number;
  private readonly regularShare: number;
  /** Regular handlers as of the last refresh(). */
  private regular: string[] = [];
  private anchor: Signature | undefined;
  /** Normal shapes, sorted by key (so ties between them resolve the same way every time). */
  private normal: Signature[] = [];
  private normalKeys = new Set<string>();
  private snapshot: ExpectedOrder | undefined;
  /** provisionalShapes() as last computed, and `runs` then. */
  private provisional: string[][] | undefined;
  private provisionalAt = 0;
  /** Complete runs observed (not decayed). */
  runs = 0;

  constructor(private readonly opts: OrderLearnerOptions) {
    this.growth = Math.pow(2, 1 / opts.halfLifeRuns);
    this.enterShare = opts.enterShare ?? 0.1;
    this.leaveShare = opts.leaveShare ?? 0.05;
    this.anchorMargin = opts.anchorMargin ?? 1.25;
    this.regularShare = opts.regularShare ?? 0.8;
  }

  /** Learns one complete run; `weight` < 1 learns it only partly (e.g. while the sequence is flagged). */
  observe(handlers: readonly string[], weight = 1, key = shapeKey(handlers)): void {
    this.runs++;
    const inc = this.increment * weight;
    let sig = this.signatures.get(key);
    if (sig === undefined) {
      if (this.signatures.size >= this.opts.maxSignatures) this.forgetLightest();
      sig = { key, handlers: handlers.slice(), weight: 0 };
      this.signatures.set(key, sig);
    }
    sig.weight += inc;
    for (let i = 0; i < handlers.length; i++) {
      const h = handlers[i]!;
      // Presence counts a handler once per run.
      if (handlers.indexOf(h) === i) this.presence.set(h, (this.presence.get(h) ?? 0) + inc);
    }
    this.total += inc;
    this.increment *= this.growth;
    if (this.increment > RESCALE_AT) this.rescale();
  }

  private forgetLightest(): void {
    let light: Signature | undefined;
    for (const s of this.signatures.values()) {
      if (s !== this.anchor && !this.normalKeys.has(s.key) && (light === undefined || s.weight < light.weight)) light = s;
    }
    // Its runs stay in the total: shares remain shares of all runs, not of the tracked shapes.
    if (light !== undefined) this.signatures.delete(light.key);
  }

  private rescale(): void {
    const f = 1 / this.increment;
    for (const s of this.signatures.values()) s.weight *= f;
    for (const [h, w] of this.presence) this.presence.set(h, w * f);
    this.total *= f;
    this.increment = 1;
  }

  /**
   * Recomputes the normal shapes from the current weights. Returns true when the set (or the
   * anchor) changed, including when the first expectation appears.
   */
  refresh(): boolean {
    if (this.runs < this.opts.minRuns || this.total <= 0) return false;
    let heaviest: Signature | undefined;
    for (const s of this.signatures.values()) if (heaviest === undefined || s.weight > heaviest.weight) heaviest = s;
    let changed = false;
    if (this.anchor === undefined || !this.signatures.has(this.anchor.key) || heaviest!.weight > this.anchorMargin * this.anchor.weight) {
      changed = this.anchor !== heaviest;
      this.anchor = heaviest;
    }
    const keys = new Set<string>();
    for (const s of this.signatures.values()) {
      const share = s.weight / this.total;
      if (s === this.anchor || share >= this.enterShare || (this.normalKeys.has(s.key) && share >= this.leaveShare)) keys.add(s.key);
    }
    if (keys.size !== this.normalKeys.size || [...keys].some((k) => !this.normalKeys.has(k))) changed = true;
    if (changed || this.snapshot === undefined) {
      this.normalKeys = keys;
      this.normal = [...keys].sort().map((k) => this.signatures.get(k)!);
      changed = true;
    }
    const handlers = this.anchor!.handlers.slice();
    const regular: string[] = [];
    for (const [h, w] of this.presence) {
      const share = w / this.total;
      if (share >= this.regularShare || (share >= this.regularShare / 2 && this.regular.includes(h))) regular.push(h);
    }
    regular.sort();
    // Baselines derived from the expectation must be re-derived when the regular set changes too.
    if (regular.length !== this.regular.length || regular.some((h, i) => h !== this.regular[i])) changed = true;
    this.regular = regular;
    this.snapshot = {
      source: 'learned',
      handlers,
      positionFrequency: handlers.map((h) => (this.presence.get(h) ?? 0) / this.total),
      runs: this.runs,
      // Same array while the set is unchanged, so derived data keyed on it stays valid.
      shapes: changed || this.snapshot === undefined ? this.normal.map((s) => s.handlers.slice()) : this.snapshot.shapes,
    };
    return changed;
  }

  /**
   * The shapes that would be normal now, for use before the first `refresh()` only: runs that
   * already hold one can close as soon as they are in, instead of waiting in flight for the first
   * expectation. Undefined before `minRuns` runs and once an expectation exists. Recomputed every
   * PROVISIONAL_STEP runs; the same array while unchanged (callers cache what they derive from it).
   */
  provisionalShapes(): string[][] | undefined {
    if (this.snapshot !== undefined || this.runs < this.opts.minRuns || this.total <= 0) return undefined;
    if (this.provisional !== undefined && this.runs - this.provisionalAt < PROVISIONAL_STEP) return this.provisional;
    let heaviest: Signature | undefined;
    for (const s of this.signatures.values()) if (heaviest === undefined || s.weight > heaviest.weight) heaviest = s;
    const keys: string[] = [];
    for (const s of this.signatures.values()) if (s === heaviest || s.weight / this.total >= this.enterShare) keys.push(s.key);
    keys.sort();
    const known = this.provisional;
    if (known === undefined || known.length !== keys.length || keys.some((k, i) => shapeKey(known[i]!) !== k)) {
      this.provisional = keys.map((k) => this.signatures.get(k)!.handlers.slice());
    }
    this.provisionalAt = this.runs;
    return this.provisional;
  }

  /** The expectation as of the last `refresh()`; undefined before `minRuns` runs. */
  expected(): ExpectedOrder | undefined {
    return this.snapshot;
  }

  /**
   * Violations of a run against the normal shapes as of the last `refresh()`: none for a normal
   * shape, otherwise those against the nearest normal shape (fewest violations).
   */
  violations(handlers: readonly string[], key = shapeKey(handlers)): Violation[] {
    if (this.normal.length === 0) return [];
    let best: Violation[] = [];
    if (!this.normalKeys.has(key)) {
      let first = true;
      for (const s of this.normal) {
        const v = compareToExpected(s.handlers, handlers);
        if (first || v.length < best.length) best = v;
        first = false;
      }
    }
    // A rarer normal shape (the runs that fail half-way, say) lacks some regular handler: when
    // every run takes that shape, the handler has stopped being called, which is a fault.
    for (const h of this.regular) {
      if (!handlers.includes(h) && !best.some((v) => v.kind === 'missing-beat' && v.handler === h)) {
        best.push({ kind: 'missing-beat', handler: h, index: -1 });
      }
    }
    return best;
  }

  /** Every tracked shape with its share of the (decayed) runs. */
  shapeShares(): Array<{ handlers: string[]; key: string; share: number }> {
    const out: Array<{ handlers: string[]; key: string; share: number }> = [];
    if (this.total <= 0) return out;
    for (const s of this.signatures.values()) out.push({ handlers: s.handlers, key: s.key, share: s.weight / this.total });
    return out;
  }
}

export type ViolationKind = 'missing-beat' | 'unexpected-beat' | 'out-of-order' | 'duplicate-beat';

export interface Violation {
  kind: ViolationKind;
  handler: string;
  /** Index into `actual` of the offending beat; -1 for a missing beat. */
  index: number;
}

/** Indices (into `values`) of one longest strictly increasing subsequence, O(n log n). */
export function longestIncreasing(values: readonly number[]): Set<number> {
  const tailIdx: number[] = [];
  const prev = new Array<number>(values.length).fill(-1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = tailIdx.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[tailIdx[mid]!]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tailIdx[lo - 1]!;
    tailIdx[lo] = i;
  }
  const keep = new Set<number>();
  let k = tailIdx.length > 0 ? tailIdx[tailIdx.length - 1]! : -1;
  while (k >= 0) {
    keep.add(k);
    k = prev[k]!;
  }
  return keep;
}

/**
 * Compares the handler list of a run with the expected one. The k-th occurrence of a handler in
 * the run is matched to its k-th expected position; extra occurrences of an expected handler are
 * duplicates, handlers not expected at all are unexpected, expected occurrences never matched are
 * missing. Among matched beats, the longest increasing run of expected positions is "in order";
 * every other matched beat is out of order, which is the minimal set of misplaced beats.
 */
export function compareToExpected(expected: readonly string[], actual: readonly string[]): Violation[] {
  // Most runs follow the expectation exactly: no maps, no allocation beyond the result.
  if (expected.length === actual.length) {
    let same = true;
    for (let i = 0; i < actual.length && same; i++) same = expected[i] === actual[i];
    if (same) return [];
  }
  const positions = new Map<string, number[]>();
  expected.forEach((h, i) => {
    const list = positions.get(h);
    if (list) list.push(i);
    else positions.set(h, [i]);
  });
  const used = new Map<string, number>();
  const matchedAt: number[] = [];
  const matchedIdx: number[] = [];
  const out: Violation[] = [];
  actual.forEach((h, i) => {
    const list = positions.get(h);
    if (list === undefined) {
      out.push({ kind: 'unexpected-beat', handler: h, index: i });
      return;
    }
    const n = used.get(h) ?? 0;
    used.set(h, n + 1);
    if (n >= list.length) {
      out.push({ kind: 'duplicate-beat', handler: h, index: i });
      return;
    }
    matchedAt.push(list[n]!);
    matchedIdx.push(i);
  });
  for (const [h, list] of positions) {
    const n = used.get(h) ?? 0;
    for (let k = n; k < list.length; k++) out.push({ kind: 'missing-beat', handler: h, index: -1 });
  }
  const inOrder = longestIncreasing(matchedAt);
  for (let j = 0; j < matchedAt.length; j++) {
    if (!inOrder.has(j)) out.push({ kind: 'out-of-order', handler: actual[matchedIdx[j]!]!, index: matchedIdx[j]! });
  }
  return out;
}
