import { DEFAULT_SERVICE_SIGNAL_OPTIONS, type SignalScore } from '../detect/service-signals.js';

export interface EvidenceLedgerOptions {
  /**
   * A key's evidence is the mean of its `sustain` strongest slices (a slice it did not score in
   * counts 0). With 1 it is its strongest slice. More than 1 lets a shift that holds outrank one
   * extreme slice, which the sliding windows repeat for a few slices at most: a fault lasts, noise
   * does not.
   */
  sustain: number;
  /**
   * The signals' sliding window in slices (ServiceSignals `windowSlices`). A key whose strong
   * slices form one run no longer than this, over before the evidence ends, is a burst: what one
   * slice's requests did, repeated by every window that contains that slice. Its evidence counts
   * once, not once per window: it is divided by this number. 0 turns the rule off. Keys tested
   * request by request (sparse) are never bursts.
   */
  burstSlices: number;
}

/**
 * One extreme slice sits in the 3 sliding windows of 3 slices that contain it, so with 4 it counts
 * at most three quarters, while a shift that holds counts in full (the same reason a finding needs
 * 4 discoveries in a row). On bench:rca (2026-12-07) 3 and 4 scored alike, 2 less, 1 (the
 * strongest slice, the evidence before) least.
 */
export const DEFAULT_EVIDENCE_LEDGER_OPTIONS: EvidenceLedgerOptions = { sustain: 4, burstSlices: DEFAULT_SERVICE_SIGNAL_OPTIONS.windowSlices };

/** A slice counts towards a run when the key scored at least this there (the ranking's own floor). */
const STRONG_Z = 3;
/**
 * Slices below STRONG_Z after the run before it is called over: with one, a shift that dips for a
 * slice would already look like a burst.
 */
const CALM_AFTER_BURST = 2;

interface KeyEvidence {
  /** The strongest slice's score (its figures explain the cause). */
  best: SignalScore;
  /** The `sustain` strongest z values, descending. */
  top: number[];
  /** Whether it passed the false-discovery step in any slice. */
  discovered: boolean;
  /** Starts (ms) of the slices it scored at least STRONG_Z in, ascending. */
  strong: number[];
  /**
   * Whether it was tested request by request in any slice: such a test looks back
   * `sparseWindowSlices`, not one window, so a short run says nothing of a single slice.
   */
  sparse: boolean;
}

/**
 * What an incident has seen of each signal key while its evidence was being collected: the scores
 * rankRootCauses reads, one per key, each aggregated over the slices it was noted in.
 */
export class EvidenceLedger {
  private readonly opts: EvidenceLedgerOptions;
  private readonly keys = new Map<string, KeyEvidence>();
  /** Starts (ms) of the slices noted with noteSlice, ascending. */
  private readonly slices: number[] = [];

  constructor(opts: Partial<EvidenceLedgerOptions> = {}) {
    this.opts = { ...DEFAULT_EVIDENCE_LEDGER_OPTIONS, ...opts };
    if (!Number.isInteger(this.opts.sustain) || this.opts.sustain < 1) throw new Error(`evidence ledger: sustain must be a whole number >= 1 (got ${this.opts.sustain})`);
    if (!Number.isInteger(this.opts.burstSlices) || this.opts.burstSlices < 0) throw new Error(`evidence ledger: burstSlices must be a whole number >= 0 (got ${this.opts.burstSlices})`);
  }

  /** Every score of one slice, in slice order (what tells a burst from a shift that holds). */
  noteSlice(scores: readonly SignalScore[], sliceStartMs: number): void {
    insertSorted(this.slices, sliceStartMs);
    for (const s of scores) this.note(s, sliceStartMs);
  }

  /** One slice's score of a key (positive z only: a key that moved the wrong way says nothing). */
  note(s: SignalScore, sliceStartMs?: number): void {
    if (!(s.z > 0)) return;
    let k = this.keys.get(s.key);
    if (k === undefined) this.keys.set(s.key, (k = { best: s, top: [], discovered: false, strong: [], sparse: false }));
    else if (s.z > k.best.z) k.best = s;
    if (s.discovered) k.discovered = true;
    if (s.sparse === true) k.sparse = true;
    if (sliceStartMs !== undefined && s.z >= STRONG_Z) insertSorted(k.strong, sliceStartMs);
    const top = k.top;
    let i = top.length;
    while (i > 0 && top[i - 1]! < s.z) i--;
    top.splice(i, 0, s.z);
    if (top.length > this.opts.sustain) top.pop();
  }

  /** key -> its strongest score with z replaced by the aggregate, discovered if it was in any slice. */
  scores(): Map<string, SignalScore> {
    const out = new Map<string, SignalScore>();
    for (const [key, k] of this.keys) {
      let z = k.top.reduce((a, b) => a + b, 0) / this.opts.sustain;
      if (this.isBurst(k)) z /= this.opts.burstSlices;
      out.set(key, { ...k.best, z, discovered: k.discovered });
    }
    return out;
  }

  get size(): number {
    return this.keys.size;
  }

  /** One contiguous run of at most burstSlices strong slices, followed by CALM_AFTER_BURST calm ones. */
  private isBurst(k: KeyEvidence): boolean {
    const n = this.opts.burstSlices;
    if (n === 0 || k.sparse || k.strong.length === 0 || k.strong.length > n) return false;
    const first = this.slices.indexOf(k.strong[0]!);
    const last = this.slices.indexOf(k.strong[k.strong.length - 1]!);
    if (first < 0 || last - first + 1 !== k.strong.length) return false;
    return this.slices.length - 1 - last >= CALM_AFTER_BURST;
  }
}

/** Adds v to an ascending list unless present (slices nearly always arrive in order: O(1) then). */
function insertSorted(list: number[], v: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > v) i--;
  if (list[i - 1] !== v) list.splice(i, 0, v);
}
