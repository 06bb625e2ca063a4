import type { Finding, Severity } from '../model/anomaly.js';
import { DEFAULT_EVENT_PATTERN_OPTIONS, EventPatterns, type EventPatternOptions, type PatternSlice, type PatternTest } from './event-patterns.js';
import { KeyBaseline } from './key-baseline.js';
import { magnitudeTail } from './sparse-magnitude.js';
import { failingSlices } from './failure-spread.js';
import { FailureCounts } from './failure-counts.js';
import { DEFAULT_PATTERN_MIX_OPTIONS, PatternMix, type PatternMixOptions } from './pattern-mix.js';
import { SampleSet, type EdgeSliceFigures, type EndpointSliceFigures, type GraphSlice, type ServiceSliceFigures } from './service-graph.js';
import { exceedanceUpperTail } from './exceedance.js';
import { normalUpperTail } from './stats.js';

/**
 * Service-level signals scored slice by slice from the service graph: per service its own (self)
 * time, request latency, failures that start there and error logs; per endpoint its per-request
 * failure rate; per edge the client/server gap. Every figure is compared with its own recent
 * variability (KeyBaseline), and the keys of one slice are tested together with Benjamini-Hochberg
 * so that thousands of keys do not turn into a steady trickle of chance alarms. A key becomes a
 * finding after `confirmSlices` discoveries in a row (fewer for event patterns, for sparse keys
 * whose evidence rests on several requests, for failure rates whose failed requests came in two or
 * more slices, and for a service's own time corroborated by a gap into it) and stays one while its score holds above `keepZ`; its baseline is frozen meanwhile.
 */
export interface ServiceSignalOptions {
  /** Slices of history per key. */
  baselineSlices: number;
  /** Slices a key needs before it is scored ("learning (k/n)" until then). */
  warmupSlices: number;
  /** False-discovery rate across the keys tested in one slice. */
  fdr: number;
  /** Minimum robust z for a discovery, whatever the FDR step allows. */
  minZ: number;
  /** An open finding holds while its z stays above this. */
  keepZ: number;
  /** Discoveries in a row before a key becomes a finding. */
  confirmSlices: number;
  /**
   * The same for event patterns. Their windows are longer (a pattern's count needs time), a
   * burst is already discounted by the pattern's own dispersion, and a confirmation as long as
   * the latency keys' would outlast short faults.
   */
  patternConfirmSlices: number;
  /** Requests a slice needs for its latency or rate figures to be tested. */
  minRequests: number;
  /** Latency figures are scored as ln(1+ms); their spread is never taken below this. */
  minLogSpread: number;
  /** A latency change smaller than this many ms is never a discovery. */
  minEffectMs: number;
  /**
   * Nor is one smaller than this share of the typical root request latency: a change users cannot
   * feel is not worth an incident (severity from user impact), however unusual it is for its key.
   */
  minImpactShare: number;
  /** A failure rate must rise by at least this much. */
  minRateEffect: number;
  /** Error-log counts must rise by at least this many records in the window. */
  minErrorLogs: number;
  /** Figures are taken over the last this many slices (a sliding window). */
  windowSlices: number;
  /**
   * A key too sparse for per-window figures is tested sample by sample: how many of the window's
   * requests exceed the 99th percentile of its pooled earlier requests. It needs this many pooled
   * requests first.
   */
  minPooledSamples: number;
  /**
   * The sparse test also asks how far above the pooled requests the recent ones lie (a
   * distribution-free bound, sparse-magnitude.ts), from this many pooled requests on, with the
   * pooled spread in ln(1+ms) never taken below `sparseMagnitudeFloor`.
   */
  minMagnitudeSamples: number;
  sparseMagnitudeFloor: number;
  /**
   * A sparse key's discoveries in a row before it becomes a finding, when at least
   * `sparseConfirmRequests` of its recent requests lie beyond its pooled ones. Its test already
   * pools `sparseWindowSlices` slices, so one odd request is discovered in every slice it stays in
   * the pool of recent requests: runs of discoveries say little, while the number of distinct
   * requests carrying the evidence is what separates a change from one outlier. A sparse key with
   * fewer such requests needs `confirmSlices` like any key.
   */
  sparseConfirmSlices: number;
  sparseConfirmRequests: number;
  /**
   * Discoveries in a row before a service's time key (its own or request latency) or a gap of a
   * call into it becomes a finding when the other kind of that service is discovered in the same
   * slice. The two come from different spans (the callee's own spans; the caller's client span
   * around them), so one odd slice of either rarely moves both, while a service that slows down
   * (CPU contention) moves both at once: corroboration stands in for the longer run.
   */
  corroboratedConfirmSlices: number;
  /** Pooled requests kept per sparse key. */
  pooledSamples: number;
  /** A sparse key's test looks at its requests of the last this many slices. */
  sparseWindowSlices: number;
  /**
   * An excursion (slices in a row that looked abnormal, whether or not they became a finding) that
   * is over within this many slices is self-limiting: its values then teach the baseline after
   * all, so noise that comes and goes (busy minutes, bursts) widens its key's spread instead of
   * alarming every time. A longer one is never learned.
   */
  selfLimitedSlices: number;
  /** Normal slices in a row that end an excursion. */
  calmSlices: number;
  /** Event patterns (log templates, span operations) per request of a service: see event-patterns.ts. */
  patterns: EventPatternOptions;
  /** The share of each event pattern against a sibling pattern of its service: see pattern-mix.ts. */
  mix: PatternMixOptions;
  /**
   * What mix tests do: nothing ('off'), add root-cause evidence to incidents other signals open
   * ('evidence'), or open findings like every key ('findings', the default since the template
   * miner keeps code locations apart: docs/incidents.md, Event mix). Either way they are a
   * false-discovery family of their own.
   */
  mixMode: 'off' | 'evidence' | 'findings';
}

export const DEFAULT_SERVICE_SIGNAL_OPTIONS: ServiceSignalOptions = {
  baselineSlices: 90,
  warmupSlices: 12,
  fdr: 0.0001,
  minZ: 4,
  keepZ: 3,
  confirmSlices: 4,
  patternConfirmSlices: 2,
  minRequests: 3,
  minLogSpread: 0.05,
  minEffectMs: 2,
  minImpactShare: 0.1,
  minRateEffect: 0.1,
  minErrorLogs: 3,
  windowSlices: 3,
  minPooledSamples: 10,
  minMagnitudeSamples: 5,
  sparseMagnitudeFloor: 0.25,
  pooledSamples: 512,
  sparseWindowSlices: 9,
  sparseConfirmSlices: 2,
  sparseConfirmRequests: 2,
  corroboratedConfirmSlices: 2,
  selfLimitedSlices: 18,
  calmSlices: 6,
  patterns: DEFAULT_EVENT_PATTERN_OPTIONS,
  mix: DEFAULT_PATTERN_MIX_OPTIONS,
  mixMode: 'findings',
};

export type SignalKind = 'self' | 'latency' | 'own-failures' | 'error-logs' | 'endpoint-failures' | 'edge-gap' | 'pattern';

/** Anomalies of ServiceSignals carry their signal key behind this prefix. */
const ANOMALY_KEY_PREFIX = 'svc|';

/** The anomaly key of a ServiceSignals finding on `signalKey`. */
export function signalAnomalyKey(signalKey: string): string {
  return `${ANOMALY_KEY_PREFIX}${signalKey}`;
}

/** The signal key a ServiceSignals anomaly stands for; undefined for any other anomaly key. */
export function signalKeyOfAnomaly(anomalyKey: string): string | undefined {
  return anomalyKey.startsWith(ANOMALY_KEY_PREFIX) ? anomalyKey.slice(ANOMALY_KEY_PREFIX.length) : undefined;
}

/** Keys of a service's own-time quantiles and request latency, which the root-cause ranker reads by name. */
export const serviceSignalKey = {
  selfMedian: (service: string): string => `self.p50|${service}`,
  selfTail: (service: string): string => `self.p90|${service}`,
  latencyMedian: (service: string): string => `latency.p50|${service}`,
} as const;

/** One key's score in one slice. */
export interface SignalScore {
  key: string;
  kind: SignalKind;
  /** The service the signal belongs to (the callee for an edge). */
  service: string;
  /** The caller, for an edge. */
  caller?: string;
  operation?: string;
  /** Event patterns: what the pattern is (a log template or an operation) and which way it moved. */
  label?: string;
  direction?: 'surge' | 'drop';
  z: number;
  observed: number;
  expected: number;
  /** Whether the FDR step counted it as a discovery in this slice. */
  discovered: boolean;
  /** Tested request by request over `sparseWindowSlices` (too few requests for window figures). */
  sparse?: true;
}

export interface SignalSlice {
  startMs: number;
  endMs: number;
  scores: SignalScore[];
  findings: Finding[];
}

interface KeyState {
  baseline: KeyBaseline;
  /** Individual requests from before the window (sparse-key test), frozen while open. */
  pooled: SampleSet | undefined;
  /** A sparse key's recent requests (slice end, value), newest last. */
  sparseRecent: Array<{ endMs: number; v: number }>;
  /**
   * Requests that left `sparseRecent` in this slice, to be pooled if the slice looks normal; absent
   * when the key kept no recent requests this slice (its window's leaving slice is pooled then).
   */
  expired?: number[];
  /** Whether it has had slices too sparse for window figures (a low-rate key). */
  lowRate: boolean;
  /** A low-rate failure rate's requests and failures, while its window figures lack a baseline (failure-counts.ts). */
  failures?: FailureCounts;
  streak: number;
  open: boolean;
  /** The values of the excursion under way, learned if it ends within selfLimitedSlices. */
  excursion: number[];
  excursionSlices: number;
  /** Normal slices in a row since the excursion's last abnormal one. */
  calmSlices: number;
  /** The peak and length of the key's last self-limiting excursions, newest last. */
  pastExcursions: Array<{ peak: number; slices: number }>;
}

interface Candidate {
  key: string;
  kind: SignalKind;
  service: string;
  caller?: string;
  operation?: string;
  /** Value in the scoring domain, and its expected counterpart for display. */
  value: number;
  display: number;
  unit: 'ms' | 'rate' | 'count';
  relFloor: number;
  absFloor: number;
  /** Minimum raw effect (display units) for a discovery. */
  minEffect: number;
  /** Latency keys: the window's requests, and the samples of the slice leaving the window. */
  window?: SampleSet;
  leaving?: SampleSet;
  /** Event patterns are tested by EventPatterns; its result is taken as is. */
  pattern?: PatternTest;
  label?: string;
}

const SUBTYPE: Record<SignalKind, Finding['subtype']> = {
  self: 'latency-regression',
  latency: 'latency-regression',
  'edge-gap': 'latency-regression',
  'own-failures': 'error-rate-spike',
  'endpoint-failures': 'error-rate-spike',
  'error-logs': 'log-rate-surge',
  pattern: 'log-rate-surge',
};

export class ServiceSignals {
  private readonly opts: ServiceSignalOptions;
  private readonly keys = new Map<string, KeyState>();
  private readonly patterns: EventPatterns;
  private readonly mix: PatternMix;

  constructor(opts: Partial<ServiceSignalOptions> = {}) {
    this.opts = { ...DEFAULT_SERVICE_SIGNAL_OPTIONS, ...opts };
    this.patterns = new EventPatterns(this.opts.patterns);
    this.mix = new PatternMix(this.opts.mix);
  }

  /** Per key: "learning (k/n)" until baselined, '' after. */
  learning(): Array<{ key: string; learning: string }> {
    return [...this.keys].map(([key, s]) => ({ key, learning: s.baseline.learning() }));
  }

  /** `label` names a service's event pattern key for people (the graph's template or operation text). */
  score(slice: GraphSlice, label: (service: string, key: string) => string = (_s, k) => k): SignalSlice {
    const o = this.opts;
    this.recent.push(slice);
    const leaving = this.recent.length > o.windowSlices ? this.recent.shift() : undefined;
    const merged = mergeSlices(this.recent, o.pooledSamples);
    const rootMs = merged.rootLatencyMs.count > 0 ? merged.rootLatencyMs.quantile(0.5) : NaN;
    if (Number.isFinite(rootMs) && !this.anyOpen()) this.rootLatency.add(rootMs);
    const typicalRoot = this.rootLatency.count > 0 ? this.rootLatency.centre(0, 0).median : 0;
    const minEffectMs = Math.max(o.minEffectMs, o.minImpactShare * typicalRoot);
    const candidates = this.candidates(merged, leaving, minEffectMs);
    const patternSlice = new Map<string, PatternSlice>();
    for (const s of slice.services.values()) patternSlice.set(s.service, { requests: s.requests, counts: s.patterns });
    // Log-line tests (rates of a line, and a line's share of its sibling) enter as the same kind of candidate.
    const patternCandidate = (prefix: string, t: PatternTest, text: string): void => {
      candidates.push({ key: `${prefix}|${t.service}|${t.pattern}`, kind: 'pattern', service: t.service, value: NaN, display: t.observed, unit: 'count', relFloor: 0, absFloor: 0, minEffect: 0, pattern: t, label: text });
    };
    for (const t of this.patterns.test(patternSlice)) patternCandidate('pattern', t, label(t.service, t.pattern));
    for (const t of o.mixMode === 'off' ? [] : this.mix.test(patternSlice)) patternCandidate('mix', t, `${label(t.service, t.pattern)} per ${label(t.service, t.reference)}`);
    const scored: Array<{ c: Candidate; st: KeyState; z: number; p: number; expected: number; effectOk: boolean; tested: boolean; beyond?: number; sparse?: true }> = [];
    for (const c of candidates) {
      let st = this.keys.get(c.key);
      if (st === undefined) {
        st = { baseline: new KeyBaseline(o.baselineSlices, o.warmupSlices), pooled: c.window ? new SampleSet(o.pooledSamples) : undefined, sparseRecent: [], lowRate: false, streak: 0, open: false, excursion: [], excursionSlices: 0, calmSlices: 0, pastExcursions: [] };
        this.keys.set(c.key, st);
      }
      if (c.pattern !== undefined) {
        scored.push({ c, st, z: c.pattern.z, p: c.pattern.p, expected: c.pattern.expected, effectOk: c.pattern.effectOk, tested: true });
        continue;
      }
      if (Number.isNaN(c.value)) st.lowRate = true;
      // A low-rate failure rate is judged by counting its requests when its window is too sparse for
      // a rate and until its window rates have a baseline (failure-counts.ts).
      if (c.unit === 'rate' && st.lowRate) {
        const counted = this.failureCountTest(c, st, slice);
        if (Number.isNaN(c.value) || !st.baseline.warm) {
          c.display = counted.observed;
          scored.push({ c, st, ...counted, sparse: true });
          continue;
        }
      }
      // Memory: a low-rate key that has grown busy stops once its window figures are baselined.
      if (st.lowRate && c.window !== undefined && (!st.baseline.warm || c.window.count < o.minPooledSamples)) this.noteRecent(c, st, slice);
      // A low-rate key whose window figures have no baseline yet (too few windows held enough
      // requests) is judged request by request, as in its sparse slices: otherwise every busier
      // window would pass untested as "learning" and feed a fault's requests into its pool.
      if (Number.isNaN(c.value) || (st.lowRate && !st.baseline.warm)) {
        scored.push({ c, st, ...this.sparseTest(c, st), tested: (st.pooled?.count ?? 0) >= Math.min(o.minPooledSamples, o.minMagnitudeSamples), sparse: true });
        continue;
      }
      const z = st.baseline.z(c.value, c.relFloor, c.absFloor);
      const expected = st.baseline.warm ? fromDomain(c, st.baseline.centre(c.relFloor, c.absFloor).median) : NaN;
      const effectOk = Number.isFinite(expected) && c.display - expected >= c.minEffect;
      scored.push({ c, st, z, p: st.baseline.warm ? normalUpperTail(z) : 1, expected, effectOk, tested: st.baseline.warm });
    }
    // Benjamini-Hochberg over this slice's tests. Mix tests are a family of their own: in the
    // step-up rule their small p-values would loosen every other key's bar, and the few sibling
    // pairs are not held to the bar of the thousands of other keys.
    const discovered = new Set<Candidate>();
    const corroborating = (s: { c: Candidate }): boolean => o.mixMode !== 'off' && s.c.key.startsWith('mix|');
    for (const family of [scored.filter((s) => s.tested && !corroborating(s)), scored.filter((s) => s.tested && corroborating(s))]) {
      const tested = family.sort((a, b) => a.p - b.p);
      const m = tested.length;
      let cutoff = -1;
      for (let i = 0; i < m; i++) if (tested[i]!.p <= ((i + 1) / m) * o.fdr) cutoff = i;
      for (let i = 0; i <= cutoff; i++) {
        const s = tested[i]!;
        if (s.z >= o.minZ && s.effectOk) discovered.add(s.c);
      }
    }
    // Services whose own time and a gap of a call into them were both discovered in this slice.
    const timeFound = new Set<string>();
    const gapFound = new Set<string>();
    for (const c of discovered) {
      if (c.kind === 'edge-gap') gapFound.add(c.service);
      else if (c.kind === 'self' || c.kind === 'latency') timeFound.add(c.service);
    }
    const corroborated = (c: Candidate): boolean => (c.kind === 'edge-gap' || c.kind === 'self' || c.kind === 'latency') && timeFound.has(c.service) && gapFound.has(c.service);
    const scores: SignalScore[] = [];
    const findings: Finding[] = [];
    const heldPatterns = new Set<string>();
    for (const s of scored) {
      const { c, st, z } = s;
      const isNew = discovered.has(c);
      const holds = st.open && z >= o.keepZ && s.effectOk;
      st.streak = isNew || holds ? st.streak + 1 : 0;
      // Failures carried by more than one slice of the window confirm like a sparse key carried by distinct requests (failure-spread.ts).
      const spread = isNew && (c.kind === 'own-failures' || c.kind === 'endpoint-failures') && failingSlices(this.recent, c.kind, c.service, c.operation) >= 2;
      const confirm =
        c.pattern !== undefined ? o.patternConfirmSlices : (s.beyond ?? 0) >= o.sparseConfirmRequests || spread ? o.sparseConfirmSlices : isNew && corroborated(c) ? o.corroboratedConfirmSlices : o.confirmSlices;
      st.open = st.open ? holds || isNew : st.streak >= confirm && beyondPast(st, c.value) && (o.mixMode === 'findings' || !c.key.startsWith('mix|'));
      if (c.pattern !== undefined && (st.open || isNew || z >= o.keepZ)) heldPatterns.add(c.key);
      // Figures that look normal teach the baseline at once; an excursion's (a fault's onset, an
      // open finding: the baseline is frozen meanwhile) only once it is over, and only if it was
      // short (learnExcursion).
      const normal = !st.open && !isNew && z < o.keepZ;
      if (!Number.isNaN(c.value)) this.learnExcursion(st, c.value, normal);
      // The request-by-request test compares recent requests with pooled earlier ones, which must
      // be disjoint: a request in both raises the very limit it is tested against. A low-rate key
      // keeps its requests as recent for `sparseWindowSlices`, longer than the window whose leaving
      // slice feeds the pool, so it pools them only once they have left its recent ones; otherwise
      // a fault's first slow requests, still too few to pass the test, join the pool and hide the
      // fault from then on.
      const leavingNow = st.expired ?? c.leaving?.samples;
      st.expired = undefined;
      if (normal && st.pooled !== undefined && leavingNow !== undefined) for (const v of leavingNow) st.pooled.add(v);
      st.failures?.settle(slice.endMs - o.sparseWindowSlices * (slice.endMs - slice.startMs), normal);
      scores.push({
        key: c.key,
        kind: c.kind,
        service: c.service,
        ...(c.caller !== undefined ? { caller: c.caller } : {}),
        ...(c.operation !== undefined ? { operation: c.operation } : {}),
        ...(c.label !== undefined ? { label: c.label } : {}),
        ...(c.pattern !== undefined ? { direction: c.pattern.direction } : {}),
        z,
        observed: c.display,
        expected: s.expected,
        discovered: isNew,
        ...(s.sparse === true ? { sparse: true as const } : {}),
      });
      if (st.open) findings.push(toFinding(c, z, s.expected, slice));
    }
    this.patterns.learn(patternSlice, (service, pattern) => heldPatterns.has(`pattern|${service}|${pattern}`));
    if (o.mixMode !== 'off') this.mix.learn(patternSlice, (service, pattern) => heldPatterns.has(`mix|${service}|${pattern}`));
    return { startMs: slice.startMs, endMs: slice.endMs, scores, findings };
  }

  /**
   * A self-limiting excursion is part of what its key does: once the key looks normal again, the
   * values of an excursion no longer than selfLimitedSlices join its baseline (and widen its
   * spread), so the next one like it is no longer news. A sustained shift never does.
   */
  private learnExcursion(st: KeyState, v: number, normal: boolean): void {
    const limit = this.opts.selfLimitedSlices;
    if (!normal) {
      st.excursionSlices++;
      st.calmSlices = 0;
      if (st.excursion.length < limit) st.excursion.push(v);
      return;
    }
    st.baseline.add(v);
    if (st.excursionSlices === 0) return;
    // Over only after a sustained return to normal: a fault that flickers stays one excursion.
    if (++st.calmSlices < this.opts.calmSlices) {
      st.excursionSlices++;
      return;
    }
    if (st.excursionSlices <= limit) {
      // A first excursion may be the aftermath of something real: only a recurrence is noise. It
      // teaches one value (its median), as one slice would: all its slices would put the key's
      // upper tail at the excursions' level, and a lasting shift twice as large would pass unseen.
      if (st.pastExcursions.length > 0) st.baseline.add(median(st.excursion));
      st.pastExcursions.push({ peak: Math.max(...st.excursion), slices: st.excursionSlices });
      if (st.pastExcursions.length > PAST_EXCURSIONS) st.pastExcursions.shift();
    }
    st.excursion = [];
    st.excursionSlices = 0;
    st.calmSlices = 0;
  }

  /**
   * Keeps a low-rate key's requests of the last `sparseWindowSlices` slices, whichever test judged
   * the slices they came in: a key that goes in and out of sparseness would otherwise lose the
   * requests of its busier slices (often a fault's first ones) from its request-by-request test.
   */
  private noteRecent(c: Candidate, st: KeyState, slice: GraphSlice): void {
    const horizon = slice.endMs - this.opts.sparseWindowSlices * (slice.endMs - slice.startMs);
    st.expired = st.sparseRecent.filter((r) => r.endMs <= horizon).map((r) => r.v);
    st.sparseRecent = st.sparseRecent.filter((r) => r.endMs > horizon);
    const newest = this.recent[this.recent.length - 1];
    if (newest === undefined) return;
    const set = c.kind === 'edge-gap' ? newest.edges.get(`${c.caller ?? ''}\u0000${c.service}`)?.gapMs : c.kind === 'self' ? newest.services.get(c.service)?.selfMs : newest.services.get(c.service)?.latencyMs;
    for (const v of set?.samples ?? []) st.sparseRecent.push({ endMs: slice.endMs, v });
    if (st.sparseRecent.length > this.opts.pooledSamples) for (const r of st.sparseRecent.splice(0, st.sparseRecent.length - this.opts.pooledSamples)) st.expired.push(r.v);
  }

  /**
   * A low-rate failure rate: the failed requests of its last `sparseWindowSlices` slices against
   * the requests and failures pooled from slices that looked normal, by Fisher's exact test.
   */
  private failureCountTest(c: Candidate, st: KeyState, slice: GraphSlice): { z: number; p: number; expected: number; observed: number; effectOk: boolean; tested: boolean; beyond: number } {
    st.failures ??= new FailureCounts(this.opts.pooledSamples);
    const newest = this.recent[this.recent.length - 1];
    const figures = newest === undefined ? undefined : c.kind === 'own-failures' ? newest.services.get(c.service) : newest.endpoints.get(`${c.service}\u0000${c.operation ?? ''}`);
    if (figures !== undefined) st.failures.add(slice.endMs, figures.requests, c.kind === 'own-failures' ? (figures as ServiceSliceFigures).ownFailed : figures.failed);
    const t = st.failures.test(slice.endMs - this.opts.sparseWindowSlices * (slice.endMs - slice.startMs));
    const expected = st.failures.pooledRequests > 0 ? st.failures.pooledFailed / st.failures.pooledRequests : NaN;
    const observed = t.requests > 0 ? t.failed / t.requests : 0;
    const p = Math.min(1, t.p);
    // Failures in two or more slices confirm sooner (as failure-spread.ts); a burst in one slice does not.
    return { z: zOfP(p), p, expected, observed, effectOk: Number.isFinite(expected) && observed - expected >= c.minEffect, tested: st.failures.pooledRequests >= this.opts.minPooledSamples, beyond: t.failingSlices };
  }

  /**
   * Sparse key: k of the window's n requests above the pooled 99th percentile (or, with fewer
   * than 99 pooled requests, their maximum), against the exact rank distribution of k.
   */
  private sparseTest(c: Candidate, st: KeyState): { z: number; p: number; expected: number; effectOk: boolean; beyond: number } {
    const pooled = st.pooled;
    if (pooled === undefined || pooled.count < Math.min(this.opts.minPooledSamples, this.opts.minMagnitudeSamples) || st.sparseRecent.length === 0) return { z: 0, p: 1, expected: NaN, effectOk: false, beyond: 0 };
    // The limit: with few pooled requests their maximum, with many their 99th percentile.
    const rate = Math.max(0.01, 1 / (pooled.samples.length + 1));
    const limit = pooled.quantile(1 - rate);
    const window = new SampleSet(this.opts.pooledSamples);
    let k = 0;
    for (const r of st.sparseRecent) {
      window.add(r.v);
      if (r.v > limit) k++;
    }
    // The limit comes from the pooled requests, not from a known distribution: the exact rank
    // test (exceedance.ts) against the largest pooled request not above the limit (its r-th
    // largest), which no fewer recent ones exceed, so the p-value errs on the safe side.
    let above = 0;
    for (const v of pooled.samples) if (v > limit) above++;
    const ranked = pooled.count >= this.opts.minPooledSamples ? exceedanceUpperTail(k, window.samples.length, pooled.samples.length, above + 1) : 1;
    // How far above, not only how many: the better of the two tests, each at half the level.
    const magnitude = pooled.count >= this.opts.minMagnitudeSamples ? magnitudeTail(pooled.samples.map(Math.log1p), window.samples.map(Math.log1p), this.opts.sparseMagnitudeFloor) : 1;
    const p = Math.min(1, 2 * Math.min(ranked, magnitude));
    const expected = pooled.quantile(0.5);
    const observed = window.quantile(0.5);
    c.display = observed;
    // k counts the recent requests beyond (nearly) every pooled one: the evidence's distinct requests.
    return { z: zOfP(p), p, expected, effectOk: observed - expected >= c.minEffect, beyond: k };
  }

  private readonly recent: GraphSlice[] = [];
  private readonly rootLatency = new KeyBaseline(360, 1);

  private anyOpen(): boolean {
    for (const st of this.keys.values()) if (st.open) return true;
    return false;
  }

  private candidates(slice: GraphSlice, leaving: GraphSlice | undefined, minEffectMs: number): Candidate[] {
    const o = this.opts;
    const out: Candidate[] = [];
    const leavingSets = new Map<string, SampleSet>();
    if (leaving !== undefined) {
      for (const s of leaving.services.values()) {
        leavingSets.set(serviceSignalKey.selfMedian(s.service), s.selfMs);
        leavingSets.set(serviceSignalKey.latencyMedian(s.service), s.latencyMs);
      }
      for (const e of leaving.edges.values()) leavingSets.set(`edge-gap.p50|${e.caller}|${e.callee}`, e.gapMs);
    }
    const latency = (key: string, kind: SignalKind, service: string, set: SampleSet, q: number, caller?: string, operation?: string): void => {
      if (set.count === 0) return;
      const leavingSet = leavingSets.get(key);
      // Too few requests for a per-window figure: the sparse test (value NaN) takes over.
      const sparse = set.count < o.minRequests;
      if (sparse && q !== 0.5) return;
      const ms = set.quantile(q);
      out.push({
        ...(q === 0.5 ? { window: set, ...(leavingSet !== undefined ? { leaving: leavingSet } : {}) } : {}),
        key,
        kind,
        service,
        ...(caller !== undefined ? { caller } : {}),
        ...(operation !== undefined ? { operation } : {}),
        value: sparse ? NaN : Math.log1p(ms),
        display: ms,
        unit: 'ms',
        relFloor: 0,
        absFloor: o.minLogSpread,
        minEffect: minEffectMs,
      });
    };
    for (const s of slice.services.values()) {
      latency(serviceSignalKey.selfMedian(s.service), 'self', s.service, s.selfMs, 0.5);
      latency(serviceSignalKey.selfTail(s.service), 'self', s.service, s.selfMs, 0.9);
      latency(serviceSignalKey.latencyMedian(s.service), 'latency', s.service, s.latencyMs, 0.5);
      if (s.requests > 0) {
        // Too few requests for a window rate: counted request by request (value NaN), as latency.
        const rate = s.ownFailed / s.requests;
        out.push({ key: `own-failures|${s.service}`, kind: 'own-failures', service: s.service, value: s.requests >= o.minRequests ? rate : NaN, display: rate, unit: 'rate', relFloor: 0, absFloor: rateSpread(s.requests), minEffect: o.minRateEffect });
      }
      // Anscombe transform: a Poisson count's spread is ~1 whatever its mean.
      out.push({ key: `error-logs|${s.service}`, kind: 'error-logs', service: s.service, value: 2 * Math.sqrt(s.errorLogs + 0.375), display: s.errorLogs, unit: 'count', relFloor: 0, absFloor: 1, minEffect: o.minErrorLogs });
    }
    for (const e of slice.endpoints.values()) {
      if (e.requests === 0) continue;
      const rate = e.failed / e.requests;
      out.push({ key: `endpoint-failures|${e.service}|${e.operation}`, kind: 'endpoint-failures', service: e.service, operation: e.operation, value: e.requests >= o.minRequests ? rate : NaN, display: rate, unit: 'rate', relFloor: 0, absFloor: rateSpread(e.requests), minEffect: o.minRateEffect });
    }
    for (const e of slice.edges.values()) {
      latency(`edge-gap.p50|${e.caller}|${e.callee}`, 'edge-gap', e.callee, e.gapMs, 0.5, e.caller);
    }
    return out;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Self-limiting excursions remembered per key. */
const PAST_EXCURSIONS = 8;

/**
 * Whether a figure goes beyond what its key has done before and got over by itself: higher than
 * the peaks of its recent self-limiting excursions, or abnormal for longer than the longest of
 * them. A key without such a history (and a pattern or sparse key, scored otherwise) passes.
 */
function beyondPast(st: KeyState, value: number): boolean {
  if (st.pastExcursions.length === 0 || Number.isNaN(value)) return true;
  let peak = -Infinity;
  let slices = 0;
  for (const e of st.pastExcursions) {
    peak = Math.max(peak, e.peak);
    slices = Math.max(slices, e.slices);
  }
  return value > peak || st.excursionSlices + 1 > slices;
}

/** The normal z with upper tail p (tail approximation; monotone, exact enough for ranking). */
export function zOfP(p: number): number {
  if (p >= 0.5) return 0;
  const t = -2 * Math.log(Math.max(p, 1e-300));
  return Math.sqrt(Math.max(0, t - Math.log(t) - Math.log(2 * Math.PI)));
}

/** The figures of several slices as one (counts summed, samples pooled up to `cap`). */
export function mergeSlices(slices: readonly GraphSlice[], cap: number): GraphSlice {
  if (slices.length === 1) return slices[0]!;
  const out: GraphSlice = {
    startMs: slices[0]!.startMs,
    endMs: slices[slices.length - 1]!.endMs,
    services: new Map(),
    endpoints: new Map(),
    edges: new Map(),
    rootLatencyMs: new SampleSet(cap),
  };
  const merge = (into: SampleSet, from: SampleSet): void => {
    for (const v of from.samples) into.add(v);
    into.count += from.count - from.samples.length;
  };
  for (const sl of slices) {
    merge(out.rootLatencyMs, sl.rootLatencyMs);
    for (const [k, s] of sl.services) {
      let m: ServiceSliceFigures | undefined = out.services.get(k);
      if (m === undefined) {
        m = { service: s.service, requests: 0, failed: 0, ownFailed: 0, latencyMs: new SampleSet(cap), selfMs: new SampleSet(cap), errorLogs: 0, logs: 0, patterns: new Map() };
        out.services.set(k, m);
      }
      m.requests += s.requests;
      m.failed += s.failed;
      m.ownFailed += s.ownFailed;
      m.errorLogs += s.errorLogs;
      m.logs += s.logs;
      for (const [p, n] of s.patterns) m.patterns.set(p, (m.patterns.get(p) ?? 0) + n);
      merge(m.latencyMs, s.latencyMs);
      merge(m.selfMs, s.selfMs);
    }
    for (const [k, e] of sl.endpoints) {
      let m: EndpointSliceFigures | undefined = out.endpoints.get(k);
      if (m === undefined) {
        m = { service: e.service, operation: e.operation, requests: 0, failed: 0, latencyMs: new SampleSet(cap) };
        out.endpoints.set(k, m);
      }
      m.requests += e.requests;
      m.failed += e.failed;
      merge(m.latencyMs, e.latencyMs);
    }
    for (const [k, e] of sl.edges) {
      let m: EdgeSliceFigures | undefined = out.edges.get(k);
      if (m === undefined) {
        m = { caller: e.caller, callee: e.callee, calls: 0, errors: 0, gapMs: new SampleSet(cap) };
        out.edges.set(k, m);
      }
      m.calls += e.calls;
      m.errors += e.errors;
      merge(m.gapMs, e.gapMs);
    }
  }
  return out;
}

/** Binomial spread of a rate near zero with n trials, so a handful of requests needs a big jump. */
function rateSpread(n: number): number {
  return Math.max(0.02, 0.5 / Math.sqrt(n));
}

function fromDomain(c: Candidate, v: number): number {
  if (c.unit === 'ms') return Math.expm1(v);
  if (c.unit === 'count') return Math.max(0, (v / 2) ** 2 - 0.375);
  return v;
}

function patternSubtype(t: PatternTest): Finding['subtype'] {
  const log = t.pattern.startsWith('log:');
  if (t.direction === 'drop') return log ? 'log-rate-drop' : 'missing-beat';
  if (t.expected < 1) return log ? 'new-log-template' : 'unexpected-beat';
  return log ? 'log-rate-surge' : 'count-surge';
}

function severityOfZ(z: number): Severity {
  return z >= 20 ? 'high' : z >= 10 ? 'medium' : 'low';
}

function toFinding(c: Candidate, z: number, expected: number, slice: GraphSlice): Finding {
  const what =
    c.kind === 'pattern'
      ? `${c.pattern?.direction === 'drop' ? 'fewer' : 'more'} ${c.label ?? 'events'} in ${c.service}`
      : c.kind === 'edge-gap'
      ? `gap on ${c.caller} -> ${c.service}`
      : c.kind === 'endpoint-failures'
        ? `failed requests of ${c.service} ${c.operation ?? ''}`
        : `${c.kind} of ${c.service}`;
  const fmt = (v: number): string => (c.unit === 'rate' ? `${(v * 100).toFixed(0)} %` : c.unit === 'ms' ? `${v.toFixed(1)} ms` : v.toFixed(0));
  return {
    key: signalAnomalyKey(c.key),
    type: c.kind === 'own-failures' || c.kind === 'endpoint-failures' || c.kind === 'error-logs' ? 'error' : c.kind === 'pattern' ? 'behavioral' : 'performance',
    subtype: c.pattern !== undefined ? patternSubtype(c.pattern) : SUBTYPE[c.kind],
    severity: severityOfZ(z),
    confidence: Math.max(0, Math.min(1, 1 - 1 / Math.max(1, z))),
    service: c.service,
    ...(c.operation !== undefined ? { handler: c.operation } : {}),
    windowStartMs: slice.startMs,
    windowEndMs: slice.endMs,
    summary: `${what}: ${fmt(c.display)} vs ${fmt(expected)} (z ${z.toFixed(1)})`,
    observed: { [c.unit === 'ms' ? 'valueMs' : c.unit]: c.display },
    expected: { [c.unit === 'ms' ? 'valueMs' : c.unit]: expected },
    details: { signal: c.kind, z: Number(z.toFixed(2)), ...(c.caller !== undefined ? { caller: c.caller } : {}) },
    exemplars: [],
  };
}
