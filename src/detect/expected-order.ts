import type { Sequence } from '../model/sequence.js';

/**
 * The beat order a sequence run should follow: declared (MusicalConductor JSON: movement order,
 * then beat number) or learned from traffic (the modal handler list of complete runs).
 */
export interface ExpectedOrder {
  source: 'declared' | 'learned';
  handlers: string[];
  /** Per position: share of runs that contained that handler (1 for declared beats). */
  positionFrequency: number[];
  /** Learned from this many (decayed) runs; 0 for declared. */
  runs: number;
}

export function declaredOrder(seq: Sequence): ExpectedOrder {
  const handlers: string[] = [];
  for (const movement of seq.movements) {
    const beats = movement.beats.slice().sort((a, b) => a.beat - b.beat);
    for (const beat of beats) handlers.push(beat.handler);
  }
  return { source: 'declared', handlers, positionFrequency: handlers.map(() => 1), runs: 0 };
}

export interface OrderLearnerOptions {
  /** Complete runs needed before the modal order becomes the expectation. */
  minRuns: number;
  /** Older runs weigh half as much after this many newer runs: learning goes on, slowly. */
  halfLifeRuns: number;
  /** Distinct handler lists tracked; the lightest is forgotten first. */
  maxSignatures: number;
}

interface Signature {
  handlers: string[];
  weight: number;
}

const SEP = '\u0001';
// Weights grow instead of decaying (same ratios, no per-run sweep); rescale before overflow.
const RESCALE_AT = 1e12;

export class OrderLearner {
  private readonly signatures = new Map<string, Signature>();
  private readonly presence = new Map<string, number>();
  private total = 0;
  private increment = 1;
  private readonly growth: number;
  private mode: Signature | undefined;
  /** Complete runs observed (not decayed). */
  runs = 0;

  constructor(private readonly opts: OrderLearnerOptions) {
    this.growth = Math.pow(2, 1 / opts.halfLifeRuns);
  }

  observe(handlers: readonly string[]): void {
    this.runs++;
    const inc = this.increment;
    const key = handlers.join(SEP);
    let sig = this.signatures.get(key);
    if (sig === undefined) {
      if (this.signatures.size >= this.opts.maxSignatures) this.forgetLightest();
      sig = { handlers: handlers.slice(), weight: 0 };
      this.signatures.set(key, sig);
    }
    sig.weight += inc;
    if (this.mode === undefined || sig.weight > this.mode.weight) this.mode = sig;
    const seen = new Set(handlers);
    for (const h of seen) this.presence.set(h, (this.presence.get(h) ?? 0) + inc);
    this.total += inc;
    this.increment *= this.growth;
    if (this.increment > RESCALE_AT) this.rescale();
  }

  private forgetLightest(): void {
    let lightKey: string | undefined;
    let light = Infinity;
    for (const [k, s] of this.signatures) {
      if (s !== this.mode && s.weight < light) {
        light = s.weight;
        lightKey = k;
      }
    }
    if (lightKey !== undefined) this.signatures.delete(lightKey);
  }

  private rescale(): void {
    const f = 1 / this.increment;
    for (const s of this.signatures.values()) s.weight *= f;
    for (const [h, w] of this.presence) this.presence.set(h, w * f);
    this.total *= f;
    this.increment = 1;
  }

  expected(): ExpectedOrder | undefined {
    if (this.runs < this.opts.minRuns || this.mode === undefined) return undefined;
    const handlers = this.mode.handlers.slice();
    return {
      source: 'learned',
      handlers,
      positionFrequency: handlers.map((h) => (this.presence.get(h) ?? 0) / this.total),
      runs: this.runs,
    };
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
