import type { SignalScore } from '../detect/service-signals.js';

export interface EvidenceLedgerOptions {
  /**
   * A key's evidence is the mean of its `sustain` strongest slices (a slice it did not score in
   * counts 0). With 1 it is its strongest slice. More than 1 lets a shift that holds outrank one
   * extreme slice, which the sliding windows repeat for a few slices at most: a fault lasts, noise
   * does not.
   */
  sustain: number;
}

/**
 * One extreme slice sits in the 3 sliding windows of 3 slices that contain it, so with 4 it counts
 * at most three quarters, while a shift that holds counts in full (the same reason a finding needs
 * 4 discoveries in a row). On bench:rca (2026-12-07) 3 and 4 scored alike, 2 less, 1 (the
 * strongest slice, the evidence before) least.
 */
export const DEFAULT_EVIDENCE_LEDGER_OPTIONS: EvidenceLedgerOptions = { sustain: 4 };

interface KeyEvidence {
  /** The strongest slice's score (its figures explain the cause). */
  best: SignalScore;
  /** The `sustain` strongest z values, descending. */
  top: number[];
  /** Whether it passed the false-discovery step in any slice. */
  discovered: boolean;
}

/**
 * What an incident has seen of each signal key while its evidence was being collected: the scores
 * rankRootCauses reads, one per key, each aggregated over the slices it was noted in.
 */
export class EvidenceLedger {
  private readonly opts: EvidenceLedgerOptions;
  private readonly keys = new Map<string, KeyEvidence>();

  constructor(opts: Partial<EvidenceLedgerOptions> = {}) {
    this.opts = { ...DEFAULT_EVIDENCE_LEDGER_OPTIONS, ...opts };
    if (!Number.isInteger(this.opts.sustain) || this.opts.sustain < 1) throw new Error(`evidence ledger: sustain must be a whole number >= 1 (got ${this.opts.sustain})`);
  }

  /** One slice's score of a key (positive z only: a key that moved the wrong way says nothing). */
  note(s: SignalScore): void {
    if (!(s.z > 0)) return;
    let k = this.keys.get(s.key);
    if (k === undefined) this.keys.set(s.key, (k = { best: s, top: [], discovered: false }));
    else if (s.z > k.best.z) k.best = s;
    if (s.discovered) k.discovered = true;
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
      const z = k.top.reduce((a, b) => a + b, 0) / this.opts.sustain;
      out.set(key, { ...k.best, z, discovered: k.discovered });
    }
    return out;
  }

  get size(): number {
    return this.keys.size;
  }
}
