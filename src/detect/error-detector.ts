import type { Beat, BeatError } from '../model/beat.js';
import type { Slice } from './slice-window.js';
import { binomialUpperTail, clamp, normalUpperTail, severityOf, twoProportionZ, wilsonInterval, type SeverityLevel } from './stats.js';

export interface ErrorParams {
  /** One-sided p-value below which the window's error rate is "significantly" above baseline. */
  significance: number;
  /** Window rate must be at least this multiple of the baseline rate. */
  minRateRatio: number;
  /** ...and at least this much higher in absolute terms (0.02 = two percentage points). */
  minRateIncrease: number;
  /** Fewer errors than this in the window is never a spike. */
  minErrors: number;
  minSamples: number;
  baselineMinSlices: number;
  baselineSlices: number;
}

/** Exponentially decayed beat and error counts of the slices learnt (as they leave the window; a young key earlier). */
export class ErrorBaseline {
  private decayed = 0;
  private decayedErrors = 0;
  private learnedSlices = 0;
  private readonly decay: number;

  constructor(private readonly params: ErrorParams) {
    this.decay = 1 - 1 / Math.max(2, params.baselineSlices);
  }

  get count(): number {
    return this.decayed;
  }
  get errors(): number {
    return this.decayedErrors;
  }
  get slices(): number {
    return this.learnedSlices;
  }
  get rate(): number {
    return this.decayed > 0 ? this.decayedErrors / this.decayed : 0;
  }
  get warm(): boolean {
    return this.learnedSlices >= this.params.baselineMinSlices && this.decayed >= this.params.minSamples;
  }
  get confidence(): number {
    if (!this.warm) return 0;
    return clamp(this.learnedSlices / (2 * this.params.baselineMinSlices), 0, 1);
  }

  learn(slice: Slice): void {
    this.decayed = this.decayed * this.decay + slice.count;
    this.decayedErrors = this.decayedErrors * this.decay + slice.errors;
    if (slice.count > 0) this.learnedSlices++;
  }

  skip(slices: number): void {
    const f = Math.pow(this.decay, slices);
    this.decayed *= f;
    this.decayedErrors *= f;
  }
}

export interface ErrorVerdict {
  observedRate: number;
  expectedRate: number;
  errors: number;
  count: number;
  pValue: number;
  /** 'z' for the two-proportion z-test, 'binomial' for the exact small-count test. */
  test: 'z' | 'binomial';
  severity: SeverityLevel;
  confidence: number;
}

function rateLevel(rate: number): number {
  return rate >= 0.5 ? 3 : rate >= 0.2 ? 2 : rate >= 0.05 ? 1 : 0;
}

/**
 * Error-rate spike: window rate p1 = e/n against baseline rate p0 = E/N.
 *  - large counts (e >= 5 and n*p0 >= 5): one-sided two-proportion z-test, pooled variance;
 *  - small counts: exact binomial tail P(X >= e), X ~ Binomial(n, p0+) where p0+ is the upper
 *    95 % Wilson bound of the baseline rate (so a thin baseline does not inflate significance).
 * Flagged when p < significance / sensitivity, e >= minErrors, p1 >= p0 * minRateRatio and
 * p1 - p0 >= minRateIncrease (both effects scaled by sensitivity). `options.significance`
 * replaces params.significance for another look at the same key (the short-horizon test).
 */
export function detectErrorSpike(
  windowCount: number,
  windowErrors: number,
  baseline: ErrorBaseline,
  params: ErrorParams,
  trafficShare: number,
  sensitivity = 1,
  options: { significance?: number } = {},
): ErrorVerdict | undefined {
  const n = windowCount;
  const e = windowErrors;
  if (n < params.minSamples || e < params.minErrors || !baseline.warm) return undefined;
  const p1 = e / n;
  const p0 = baseline.rate;
  if (p1 < p0 * params.minRateRatio * sensitivity || p1 - p0 < params.minRateIncrease * sensitivity) return undefined;
  let pValue: number;
  let test: 'z' | 'binomial';
  if (e >= 5 && n * p0 >= 5) {
    pValue = normalUpperTail(twoProportionZ(e, n, baseline.errors, baseline.count));
    test = 'z';
  } else {
    pValue = binomialUpperTail(e, n, wilsonInterval(baseline.errors, baseline.count).high);
    test = 'binomial';
  }
  const alpha = (options.significance ?? params.significance) / sensitivity;
  if (pValue >= alpha) return undefined;
  const sampleFactor = clamp(n / (4 * params.minSamples), 0, 1);
  const strength = clamp(Math.log10(1 / Math.max(pValue, 1e-300)) / (2 * Math.log10(1 / alpha)), 0, 1);
  return {
    observedRate: p1,
    expectedRate: p0,
    errors: e,
    count: n,
    pValue,
    test,
    severity: severityOf(rateLevel(p1), trafficShare),
    confidence: clamp(baseline.confidence * (0.5 * sampleFactor + 0.5 * strength), 0, 1),
  };
}

export interface FingerprintEntry {
  fingerprint: string;
  error: BeatError;
  firstSeenMs: number;
  lastSeenMs: number;
  count: number;
  traceId: string;
  spanId: string;
  /** First seen after the key's baseline was warm: a candidate "new error". */
  novel: boolean;
}

/**
 * Error fingerprints seen by one key, bounded (the least recently seen is forgotten when full).
 * A fingerprint first seen while the baseline is warm is novel until its first sighting leaves
 * the current window; after that it is part of the baseline.
 */
export class FingerprintBook {
  private readonly entries = new Map<string, FingerprintEntry>();

  constructor(readonly capacity = 64) {}

  get size(): number {
    return this.entries.size;
  }

  has(fingerprint: string): boolean {
    return this.entries.has(fingerprint);
  }

  observe(beat: Beat, error: BeatError, warm: boolean): void {
    const fp = error.fingerprint;
    if (fp === '') return;
    const entry = this.entries.get(fp);
    if (entry) {
      entry.count++;
      if (beat.startMs > entry.lastSeenMs) entry.lastSeenMs = beat.startMs;
      if (beat.startMs < entry.firstSeenMs) entry.firstSeenMs = beat.startMs;
      return;
    }
    if (this.entries.size >= this.capacity) this.forgetOldest();
    this.entries.set(fp, {
      fingerprint: fp,
      error,
      firstSeenMs: beat.startMs,
      lastSeenMs: beat.startMs,
      count: 1,
      traceId: beat.traceId,
      spanId: beat.spanId,
      novel: warm,
    });
  }

  /** Novel fingerprints first seen at or after windowStartMs; older ones stop being novel. */
  novelSince(windowStartMs: number): FingerprintEntry[] {
    const out: FingerprintEntry[] = [];
    for (const entry of this.entries.values()) {
      if (!entry.novel) continue;
      if (entry.firstSeenMs < windowStartMs) entry.novel = false;
      else out.push(entry);
    }
    return out;
  }

  private forgetOldest(): void {
    let oldest: FingerprintEntry | undefined;
    for (const entry of this.entries.values()) if (!oldest || entry.lastSeenMs < oldest.lastSeenMs) oldest = entry;
    if (oldest) this.entries.delete(oldest.fingerprint);
  }
}
