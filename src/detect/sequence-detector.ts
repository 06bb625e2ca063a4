import type { DetectConfig } from '../config/sections/detect.js';
import type { Beat } from '../model/beat.js';
import type { AnomalySubtype, Exemplar, Finding, Severity } from '../model/anomaly.js';
import type { Sequence } from '../model/sequence.js';
import { TraceAssembler, runBeats, type ClosedRun } from './trace-assembler.js';
import { OrderLearner, compareToExpected, declaredOrder, shapeKey, type ExpectedOrder } from './expected-order.js';
import { logGamma } from './stats.js';
import { ShapeVerdicts, verdictOf, type ShapeVerdict } from './shape-verdicts.js';

/**
 * Behavioral detection: assembles beats into sequence runs, compares each finished run with the
 * expected beat order (declared, or the set of run shapes learned as normal), and flags a sequence
 * when the rate of a violation departs from its own baseline (one-sided proportions test with a
 * minimum count), when runs stop completing, or when the number of runs per slice surges beyond
 * what Poisson noise around the baseline explains.
 */
/** RunCounts key of incomplete runs (no handler). */
const INCOMPLETE_RUN_ID = 'incomplete-run\u0001';

export interface SequenceDetectorOptions {
  /** Complete runs before a learned order is used. */
  minLearnRuns: number;
  learnHalfLifeRuns: number;
  /** Slices summed for the current rate. */
  rateWindowSlices: number;
  /** Offending runs needed in the window before any rate verdict. */
  minViolations: number;
  /** Current rate must exceed the baseline by at least this much (absolute). */
  minRateDelta: number;
  zThreshold: number;
  /** (Decayed) compared runs in the baseline before rate verdicts. */
  minBaselineRuns: number;
  /** Baseline half-life, in slices. */
  baselineHalfLifeSlices: number;
  /** While flagged, a slice enters the baseline with this weight, so a fault is absorbed slowly. */
  flaggedBaselineWeight: number;
  /** Runs per slice must reach this multiple of the baseline mean. */
  surgeRatio: number;
  /** Poisson upper-tail level for a surge sustained over two consecutive slices. */
  surgeSignificance: number;
  /** Stricter level for a surge judged on one slice alone (a single slice can be a fluke). */
  surgeSliceSignificance: number;
  minSurgeRuns: number;
  minBaselineSlices: number;
  /** Wait after the root span for spans from other services. */
  rootGraceMs: number;
  recentRuns: number;
  maxSpansPerRun: number;
  maxExemplars: number;
}

const DEFAULTS: Omit<SequenceDetectorOptions, 'rootGraceMs' | 'baselineHalfLifeSlices'> = {
  minLearnRuns: 30,
  learnHalfLifeRuns: 2000,
  rateWindowSlices: 3,
  minViolations: 5,
  minRateDelta: 0.05,
  zThreshold: 4,
  minBaselineRuns: 50,
  flaggedBaselineWeight: 0.05,
  surgeRatio: 2,
  // Per slice and sequence; a day of 10 s slices over 100 sequences is ~1e6 tests.
  surgeSignificance: 1e-6,
  surgeSliceSignificance: 1e-9,
  minSurgeRuns: 20,
  minBaselineSlices: 10,
  recentRuns: 2048,
  maxSpansPerRun: 256,
  maxExemplars: 5,
};

type RateSubtype = 'missing-beat' | 'unexpected-beat' | 'out-of-order' | 'duplicate-beat' | 'incomplete-run';

interface KeyCount {
  subtype: RateSubtype;
  handler: string;
  runs: number;
  exemplars: Exemplar[];
}

/** What judging closed runs adds up. */
interface RunCounts {
  /** Closed runs (complete + incomplete), denominator of incomplete-run. */
  closed: number;
  /** Complete runs compared with an expectation, denominator of the order violations. */
  compared: number;
  keys: Map<string, KeyCount>;
}

interface SliceBucket extends RunCounts {
  slice: number;
  /** Keys (and '#surge') flagged while this bucket was in the window. */
  flagged: Set<string>;
}

interface SequenceState {
  name: string;
  service: string;
  declared: ExpectedOrder | undefined;
  learner: OrderLearner;
  window: SliceBucket[];
  baseCompared: number;
  baseClosed: number;
  baseKeys: Map<string, { subtype: RateSubtype; handler: string; runs: number }>;
  surgeMean: number;
  surgeVar: number;
  surgeSlices: number;
  lastSeenMs: number;
  /** An order violation was flagged in the last evaluation: learn run shapes only slowly. */
  orderFlagged: boolean;
  /** Runs judged since the last evaluation (closeSatisfied), added to its slice by the next one. */
  pending?: RunCounts;
  /** Verdicts per run shape against the learned expectation; cleared whenever the learner refreshes. */
  verdicts: ShapeVerdicts;
}

const SURGE = '#surge';

export interface AssemblyStats {
  inflightRuns: number;
  inflightSpans: number;
  recentSpans: number;
  evictedRuns: number;
  /** Of evictedRuns, those that had their root span (only stragglers or the root grace were awaited). */
  evictedRootedRuns: number;
  droppedEvictions: number;
  droppedFullRunSpans: number;
  droppedLateSpans: number;
}

/**
 * P(X >= k) for X ~ Poisson(lambda), exact (summed in log space), for any k >= 0 (k is floored).
 */
export function poissonUpperTail(k: number, lambda: number): number {
  const kk = Math.floor(k);
  if (kk <= 0) return 1;
  if (lambda <= 0) return 0;
  const logPmf = (j: number): number => j * Math.log(lambda) - lambda - logGamma(j + 1);
  if (kk > lambda) {
    // Terms fall from pmf(k) on (ratio lambda / (j + 1) < 1).
    let term = Math.exp(logPmf(kk));
    let sum = term;
    for (let j = kk + 1; term > sum * 1e-17 && j < kk + 10_000; j++) {
      term *= lambda / j;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // k <= lambda: 1 - P(X <= k - 1), summing down from pmf(k - 1).
  let term = Math.exp(logPmf(kk - 1));
  let lower = term;
  for (let j = kk - 1; j > 0 && term > lower * 1e-17; j--) {
    term *= j / lambda;
    lower += term;
  }
  return Math.max(0, Math.min(1, 1 - lower));
}

/** One-sided z for x successes in n trials against rate p0 (continuity corrected). */
export function proportionZ(x: number, n: number, p0: number): number {
  if (n <= 0) return 0;
  const p = Math.min(Math.max(p0, 1e-4), 1 - 1e-4);
  return (x - 0.5 - n * p) / Math.sqrt(n * p * (1 - p));
}

function severityForRate(rate: number): Severity {
  if (rate >= 0.5) return 'high';
  if (rate >= 0.2) return 'medium';
  return 'low';
}

function confidenceFor(z: number, zThreshold: number, count: number, minCount: number): number {
  const margin = 1 - Math.exp(-Math.max(0, z) / zThreshold);
  const support = Math.min(1, count / (4 * minCount));
  return Math.max(0, Math.min(1, margin * (0.5 + 0.5 * support)));
}

function containsAll(beats: readonly Beat[], handlers: readonly string[]): boolean {
  // Plain loops: this runs for every run closed early, and a closure per handler adds up.
  for (let i = 0; i < handlers.length; i++) {
    const h = handlers[i];
    let found = false;
    for (let j = 0; j < beats.length && !found; j++) found = beats[j]!.handler === h;
    if (!found) return false;
  }
  return true;
}

const closingCache = new WeakMap<string[][], string[][]>();
/**
 * Shapes whose presence closes a run early: the normal shapes not contained in another one
 * (a run holding [a, b] may still be on its way to the normal [a, b, c]).
 */
function closingShapes(shapes: string[][]): string[][] {
  let out = closingCache.get(shapes);
  if (out === undefined) {
    const sets = shapes.map((s) => new Set(s));
    out = shapes.filter((s, i) => s.length > 0 && !sets.some((o, j) => j !== i && o.size > sets[i]!.size && s.every((h) => o.has(h))));
    closingCache.set(shapes, out);
  }
  return out;
}

export class SequenceDetector {
  private readonly assembler: TraceAssembler;
  private readonly declaredByName = new Map<string, ExpectedOrder>();
  private readonly sequences = new Map<string, SequenceState>();
  private readonly opts: SequenceDetectorOptions;
  private readonly decay: number;
  /** Runs dropped because the sequence table was full. */
  droppedRuns = 0;
  /** Evicted runs that had their root: they held no closing shape of their sequence and waited for the root grace. */
  evictedRootedRuns = 0;

  constructor(private readonly cfg: DetectConfig, declared: Sequence[], options: Partial<SequenceDetectorOptions> = {}) {
    this.opts = {
      ...DEFAULTS,
      rootGraceMs: Math.min(cfg.runTimeoutMs, 5_000),
      baselineHalfLifeSlices: Math.max(10, Math.round(cfg.baselineSlices / 2)),
      ...options,
    };
    this.decay = Math.pow(2, -1 / this.opts.baselineHalfLifeSlices);
    for (const seq of declared) {
      const order = declaredOrder(seq);
      this.declaredByName.set(seq.name, order);
      if (!this.declaredByName.has(seq.id)) this.declaredByName.set(seq.id, order);
    }
    this.assembler = new TraceAssembler({
      maxInflightRuns: cfg.maxInflightRuns,
      maxInflightSpans: cfg.maxInflightSpans,
      maxRecentSpans: cfg.maxRecentRunSpans,
      maxPendingEvicted: cfg.maxPendingEvictedRuns,
      runTimeoutMs: cfg.runTimeoutMs,
      rootGraceMs: this.opts.rootGraceMs,
      maxSpansPerRun: this.opts.maxSpansPerRun,
      recentRuns: this.opts.recentRuns,
      onEvict: (run) => this.learnFromEvicted(run, run.run.lastActivityMs),
    });
  }

  /** Runs evicted from the in-flight set before they closed. */
  get evictedRuns(): number {
    return this.assembler.evicted;
  }

  get inflightRuns(): number {
    return this.assembler.inflightCount;
  }

  /** What trace assembly holds and what it dropped to stay inside its budgets. */
  assemblyStats(): AssemblyStats {
    const a = this.assembler;
    return {
      inflightRuns: a.inflightCount,
      inflightSpans: a.inflightSpans,
      recentSpans: a.recentSpanCount,
      evictedRuns: a.evicted,
      evictedRootedRuns: this.evictedRootedRuns,
      droppedEvictions: a.droppedEvictions,
      droppedFullRunSpans: a.droppedSpans,
      droppedLateSpans: a.droppedLateSpans,
    };
  }

  observe(beat: Beat): void {
    this.assembler.observe(beat);
  }

  traceBeats(traceId: string): Beat[] | undefined {
    return this.assembler.traceBeats(traceId);
  }

  resolvedSequence(traceId: string): string | undefined {
    return this.assembler.resolvedSequence(traceId);
  }

  /** The order runs of `sequence` are compared with, if known yet. */
  expectedOrder(sequence: string): ExpectedOrder | undefined {
    return this.declaredByName.get(sequence) ?? this.sequences.get(sequence)?.learner.expected();
  }

  /**
   * Closes the runs the latest batch completed (root and every expected beat there) and judges
   * them now against the expectation of the last evaluation (it only changes in evaluate()); their
   * counts join the slice of the next evaluate(), ahead of the runs that evaluation closes. At full
   * speed runs are judged instead of being evicted from the in-flight budget while they wait for
   * the evaluation. Spans of a run arriving in a later batch join the closed run for diagnosis but
   * no longer change its verdict (before, they did when they came before the evaluation). Call
   * after each batch of spans.
   */
  closeSatisfied(): void {
    const closed = this.assembler.closeSatisfied(this.satisfied);
    for (const run of closed) this.record(run, undefined, run.run.lastActivityMs);
  }

  evaluate(nowMs: number): Finding[] {
    const steps = this.evaluation(nowMs, Infinity);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return step.value;
  }

  /**
   * `evaluate` in steps of `step` closed runs or sequences (see DetectionEngine.evaluation). Runs
   * a batch completes while it is paused are judged into the pending counts of the next one.
   */
  *evaluation(nowMs: number, step: number): Generator<void, Finding[], void> {
    const slice = Math.floor((nowMs - 1) / this.cfg.sliceMs);
    // Runs judged since the previous evaluation count in this slice, before the ones closed now.
    for (const state of this.sequences.values()) if (state.pending !== undefined) this.mergePending(state, slice, nowMs);
    const closed = this.assembler.close(nowMs, this.satisfied, this.reachedEnd);
    for (let i = 0; i < closed.length; i++) {
      if (i % step === step - 1) yield;
      this.record(closed[i]!, slice, nowMs);
    }
    const findings: Finding[] = [];
    let visited = 0;
    for (const [name, state] of this.sequences) {
      if (++visited % step === 0) yield;
      if (nowMs - state.lastSeenMs > this.cfg.idleEvictMs) {
        this.sequences.delete(name);
        continue;
      }
      this.roll(state, slice);
      if (state.declared === undefined) {
        // The expectation may change here: verdicts judged against the old one go.
        state.verdicts.clear();
        if (state.learner.refresh()) this.rebase(state);
      }
      this.rateFindings(state, nowMs, findings);
      this.surgeFinding(state, nowMs, findings);
    }
    return findings;
  }

  /**
   * A run with its root is done early when it holds every handler of a closing shape. Before the
   * first expectation, the shapes the learner would call normal now serve (see learnFromEvicted).
   */
  private readonly satisfied = (seq: string, beats: Beat[]): boolean => {
    const exp = this.expectedOrder(seq);
    const shapes = exp !== undefined ? exp.shapes : this.sequences.get(seq)?.learner.provisionalShapes();
    if (shapes === undefined) return false;
    // A loop, not some(): a closure per run judged.
    for (const shape of closingShapes(shapes)) if (containsAll(beats, shape)) return true;
    return false;
  };

  /** A run without its root that timed out still completed when its last expected beat is there. */
  private readonly reachedEnd = (seq: string, beats: Beat[]): boolean => {
    const exp = this.expectedOrder(seq);
    return exp !== undefined && exp.shapes.some((shape) => shape.length > 0 && beats.some((b) => b.handler === shape[shape.length - 1]));
  };

  /** Adds the counts of runs judged between evaluations to the newest bucket at `slice`. */
  private mergePending(state: SequenceState, slice: number, nowMs: number): void {
    const p = state.pending!;
    state.pending = undefined;
    state.lastSeenMs = nowMs;
    this.roll(state, slice);
    const bucket = state.window[state.window.length - 1]!;
    bucket.closed += p.closed;
    bucket.compared += p.compared;
    for (const [id, kc] of p.keys) {
      const into = bucket.keys.get(id);
      if (into === undefined) {
        bucket.keys.set(id, kc);
        continue;
      }
      into.runs += kc.runs;
      for (const e of kc.exemplars) if (into.exemplars.length < this.opts.maxExemplars) into.exemplars.push(e);
    }
  }

  private stateFor(run: ClosedRun, nowMs: number): SequenceState | undefined {
    let state = this.sequences.get(run.sequence);
    if (state === undefined) {
      if (this.sequences.size >= this.cfg.maxKeys) {
        this.droppedRuns++;
        return undefined;
      }
      state = {
        name: run.sequence,
        service: run.service,
        declared: this.declaredByName.get(run.sequence),
        learner: new OrderLearner({ minRuns: this.opts.minLearnRuns, halfLifeRuns: this.opts.learnHalfLifeRuns, maxSignatures: 64 }),
        window: [],
        baseCompared: 0,
        baseClosed: 0,
        baseKeys: new Map(),
        surgeMean: 0,
        surgeVar: 0,
        surgeSlices: 0,
        lastSeenMs: nowMs,
        orderFlagged: false,
        verdicts: new ShapeVerdicts(),
      };
      this.sequences.set(run.sequence, state);
    }
    state.lastSeenMs = nowMs;
    if (run.service !== '') state.service = run.service;
    return state;
  }

  /**
   * A run evicted by the in-flight budget is not judged, but while its sequence has no expected
   * order yet, an evicted run with its root still teaches the learner its shape, as it is evicted.
   * At full speed the budget evicts runs before their root grace passes; a learner fed by nothing
   * never reaches an expectation, so no run would ever close as satisfied and every run would go
   * on being evicted. Learning at eviction (every evicted run, not only those kept for the next
   * close()) also gives the learner, within the first slice, the provisional shapes that let the
   * following runs close as soon as they are complete instead of being evicted in turn.
   */
  private learnFromEvicted(run: ClosedRun, nowMs: number): void {
    if (run.run.root !== undefined) this.evictedRootedRuns++;
    if (run.run.root === undefined || run.sequence === '' || this.declaredByName.has(run.sequence)) return;
    if (this.sequences.get(run.sequence)?.learner.expected() !== undefined) return;
    const handlers = runBeats(run.run).map((b) => b.handler);
    if (handlers.length === 0) return;
    const state = this.stateFor(run, nowMs);
    if (state === undefined) return;
    state.learner.observe(handlers, state.orderFlagged ? this.opts.flaggedBaselineWeight : 1, shapeKey(handlers));
  }

  /** Judges a closed run into the bucket of `slice`, or into the state's pending counts when undefined. */
  private record(run: ClosedRun, slice: number | undefined, nowMs: number): void {
    // A trace with neither a sequence name nor any beat is not a sequence run. An evicted run
    // says nothing about the application (only about our memory bound): it is counted, not judged.
    // (It taught the learner when it was evicted.)
    if (run.outcome === 'evicted') return;
    if (run.sequence === '' || (run.beats.length === 0 && !this.declaredByName.has(run.sequence))) return;
    const state = this.stateFor(run, nowMs);
    if (state === undefined) return;
    let bucket: RunCounts;
    if (slice === undefined) bucket = state.pending ??= { closed: 0, compared: 0, keys: new Map() };
    else {
      this.roll(state, slice);
      bucket = state.window[state.window.length - 1]!;
    }
    bucket.closed++;
    const rootSpan = run.run.root?.spanId ?? run.beats[0]?.spanId ?? '';
    if (run.outcome !== 'complete') {
      this.count(bucket, 'incomplete-run', '', run.run.traceId, rootSpan, INCOMPLETE_RUN_ID);
      return;
    }
    const handlers = run.beats.map((b) => b.handler);
    let verdict: ShapeVerdict;
    if (state.declared !== undefined) verdict = verdictOf(compareToExpected(state.declared.handlers, handlers));
    else {
      const key = shapeKey(handlers);
      const learner = state.learner;
      const known = learner.expected() !== undefined;
      // While the sequence is flagged, its runs barely teach the learner: a fault must not
      // become one of the normal shapes within minutes.
      learner.observe(handlers, state.orderFlagged ? this.opts.flaggedBaselineWeight : 1, key);
      if (!known) return;
      // Judged once per shape until the expectation changes (see ShapeVerdicts).
      verdict = state.verdicts.get(key, handlers) ?? state.verdicts.remember(key, handlers, learner.violations(handlers, key));
    }
    bucket.compared++;
    // Runs close by the thousand per second at full load: no exemplar object per run unless it is kept.
    const ids = verdict.ids;
    for (let i = 0; i < ids.length; i++) {
      const at = verdict.beatIndex[i]!;
      const beat = at >= 0 ? run.beats[at] : undefined;
      this.count(bucket, verdict.kinds[i]!, verdict.handlers[i]!, run.run.traceId, beat?.spanId ?? rootSpan, ids[i]!);
    }
  }

  /** Counts a run against (subtype, handler), whose key `id` is `${subtype}\u0001${handler}`. */
  private count(bucket: RunCounts, subtype: RateSubtype, handler: string, traceId: string, spanId: string, id: string): void {
    let kc = bucket.keys.get(id);
    if (kc === undefined) {
      kc = { subtype, handler, runs: 0, exemplars: [] };
      bucket.keys.set(id, kc);
    }
    kc.runs++;
    if (kc.exemplars.length < this.opts.maxExemplars) kc.exemplars.push({ traceId, spanId });
  }

  /** Moves the window forward to `slice`; buckets leaving it are merged into the baseline. */
  private roll(state: SequenceState, slice: number): void {
    const last = state.window[state.window.length - 1];
    if (last !== undefined && last.slice >= slice) return;
    let from = last === undefined ? slice : last.slice + 1;
    // After a long gap only the empty slices that still matter are replayed.
    if (slice - from > this.opts.rateWindowSlices + 64) {
      for (let i = 0; i < slice - from - this.opts.rateWindowSlices; i++) this.decayBaseline(state, 1);
      from = slice - this.opts.rateWindowSlices;
    }
    for (let s = from; s <= slice; s++) {
      state.window.push({ slice: s, closed: 0, compared: 0, keys: new Map(), flagged: new Set() });
      while (state.window.length > this.opts.rateWindowSlices) this.mergeIntoBaseline(state, state.window.shift()!);
    }
  }

  /**
   * The learned normal shapes changed: the order-violation counts gathered against the old
   * expectation no longer mean the same thing. The baseline rate of every violation is re-derived
   * from the learned shape frequencies (share of runs whose shape has that violation against the
   * new expectation), and the window's order counts, judged against the old one, are dropped.
   */
  private rebase(state: SequenceState): void {
    for (const [id, k] of state.baseKeys) if (k.subtype !== 'incomplete-run') state.baseKeys.delete(id);
    for (const shape of state.learner.shapeShares()) {
      const seen = new Set<string>();
      for (const v of state.learner.violations(shape.handlers, shape.key)) {
        const id = `${v.kind}\u0001${v.handler}`;
        if (seen.has(id)) continue;
        seen.add(id);
        let base = state.baseKeys.get(id);
        if (base === undefined) {
          base = { subtype: v.kind, handler: v.handler, runs: 0 };
          state.baseKeys.set(id, base);
        }
        base.runs += shape.share * state.baseCompared;
      }
    }
    for (const b of state.window) {
      b.compared = 0;
      for (const [id, k] of b.keys) if (k.subtype !== 'incomplete-run') b.keys.delete(id);
    }
  }

  private decayBaseline(state: SequenceState, slices: number): void {
    const d = Math.pow(this.decay, slices);
    state.baseCompared *= d;
    state.baseClosed *= d;
    for (const k of state.baseKeys.values()) k.runs *= d;
    // The surge baseline skips a long silence: traffic coming back is not a surge.
  }

  private mergeIntoBaseline(state: SequenceState, b: SliceBucket): void {
    const d = this.decay;
    const wFor = (id: string): number => (b.flagged.has(id) ? this.opts.flaggedBaselineWeight : 1);
    // Denominators always count in full; only a flagged key's own numerator is damped.
    state.baseCompared = state.baseCompared * d + b.compared;
    state.baseClosed = state.baseClosed * d + b.closed;
    for (const k of state.baseKeys.values()) k.runs *= d;
    for (const [id, kc] of b.keys) {
      let base = state.baseKeys.get(id);
      if (base === undefined) {
        base = { subtype: kc.subtype, handler: kc.handler, runs: 0 };
        state.baseKeys.set(id, base);
      }
      base.runs += wFor(id) * kc.runs;
    }
    const ws = b.flagged.has(SURGE) ? this.opts.flaggedBaselineWeight : 1;
    const a = ws / Math.min(state.surgeSlices + 1, this.opts.baselineHalfLifeSlices);
    const diff = b.closed - state.surgeMean;
    state.surgeMean += a * diff;
    state.surgeVar = (1 - a) * (state.surgeVar + a * diff * diff);
    state.surgeSlices++;
  }

  private rateFindings(state: SequenceState, nowMs: number, out: Finding[]): void {
    if (state.window.length === 0) return;
    let closed = 0;
    let compared = 0;
    const sums = new Map<string, KeyCount>();
    for (const b of state.window) {
      closed += b.closed;
      compared += b.compared;
      for (const [id, kc] of b.keys) {
        const s = sums.get(id);
        if (s === undefined) sums.set(id, { subtype: kc.subtype, handler: kc.handler, runs: kc.runs, exemplars: kc.exemplars.slice() });
        else {
          s.runs += kc.runs;
          for (const e of kc.exemplars) if (s.exemplars.length < 10) s.exemplars.push(e);
        }
      }
    }
    const o = this.opts;
    state.orderFlagged = false;
    for (const [id, kc] of sums) {
      const incomplete = kc.subtype === 'incomplete-run';
      const n = incomplete ? closed : compared;
      const baseN = incomplete ? state.baseClosed : state.baseCompared;
      if (kc.runs < o.minViolations || baseN < o.minBaselineRuns || n === 0) continue;
      const baseX = state.baseKeys.get(id)?.runs ?? 0;
      const p0 = (baseX + 0.5) / (baseN + 1);
      const rate = kc.runs / n;
      if (rate - p0 < o.minRateDelta) continue;
      const z = proportionZ(kc.runs, n, p0);
      if (z < o.zThreshold) continue;
      for (const b of state.window) b.flagged.add(id);
      if (!incomplete) state.orderFlagged = true;
      out.push(this.finding(state, nowMs, kc, rate, p0, n, z));
    }
  }

  private finding(state: SequenceState, nowMs: number, kc: KeyCount, rate: number, p0: number, n: number, z: number): Finding {
    const handlerPart = kc.handler === '' ? '' : `:${kc.handler}`;
    const expected = state.declared ?? state.learner.expected();
    const what = kc.handler === '' ? `${kc.subtype} runs` : `${kc.subtype} ${kc.handler}`;
    const details: Finding['details'] = {
      sequence: state.name,
      orderSource: expected?.source ?? 'none',
      z: Math.round(z * 100) / 100,
    };
    if (kc.handler !== '') details.handler = kc.handler;
    if (expected !== undefined) {
      details.expectedOrder = expected.handlers.join(' > ');
      if (expected.shapes.length > 1) details.normalShapes = expected.shapes.map((h) => h.join(' > ')).join(' | ');
      const pos = expected.handlers.indexOf(kc.handler);
      if (pos >= 0) {
        details.expectedPosition = pos;
        details.positionFrequency = Math.round(expected.positionFrequency[pos]! * 1000) / 1000;
      }
    }
    const f: Finding = {
      key: `behavioral:${state.service}:${state.name}:${kc.subtype}${handlerPart}`,
      type: 'behavioral',
      subtype: kc.subtype as AnomalySubtype,
      severity: kc.subtype === 'incomplete-run' && rate >= 0.2 ? 'high' : severityForRate(rate),
      confidence: confidenceFor(z, this.opts.zThreshold, kc.runs, this.opts.minViolations),
      service: state.service,
      sequence: state.name,
      windowStartMs: state.window[0]!.slice * this.cfg.sliceMs,
      windowEndMs: nowMs,
      summary: `${state.name}: ${what} in ${(rate * 100).toFixed(1)}% of runs (baseline ${(p0 * 100).toFixed(1)}%)`,
      observed: { rate, runs: n, violatingRuns: kc.runs },
      expected: { rate: p0 },
      details,
      exemplars: kc.exemplars.slice(0, 10),
    };
    if (kc.handler !== '') f.handler = kc.handler;
    return f;
  }

  /**
   * Runs closed per slice against the baseline mean `m` (EWMA of slices that left the window).
   * Counts are Poisson-like, so the test is the exact Poisson upper tail, widened for what the
   * baseline cannot know: the mean is an estimate (its upper 3-sigma bound from the slices seen
   * is used) and real traffic is often burstier than Poisson (counts are scaled down by the
   * observed variance / mean when that exceeds 1). A surge needs the minimum relative effect
   * (`surgeRatio`) and either one slice beyond `surgeSliceSignificance`, or two consecutive
   * slices, both at least halfway to the ratio, whose sum is beyond `surgeSignificance`.
   */
  private surgeFinding(state: SequenceState, nowMs: number, out: Finding[]): void {
    const o = this.opts;
    const w = state.window;
    const current = w[w.length - 1];
    if (current === undefined || state.surgeSlices < o.minBaselineSlices) return;
    const mean = state.surgeMean;
    const seen = Math.min(state.surgeSlices, 2 * o.baselineHalfLifeSlices);
    const dispersion = Math.max(1, state.surgeVar / Math.max(mean, 1));
    const upper = Math.max(mean, 0) + 3 * Math.sqrt((dispersion * Math.max(mean, 1)) / seen);
    const n = current.closed;
    let p = 1;
    let slices = 1;
    let runs = n;
    if (n >= o.minSurgeRuns && n >= o.surgeRatio * mean) {
      const p1 = poissonUpperTail(n / dispersion, upper / dispersion);
      if (p1 < o.surgeSliceSignificance) p = p1;
    }
    const prev = w[w.length - 2];
    const halfway = 1 + (o.surgeRatio - 1) / 2;
    if (p === 1 && prev !== undefined && prev.slice === current.slice - 1 && n >= halfway * mean && prev.closed >= halfway * mean) {
      const n2 = n + prev.closed;
      if (n2 >= o.minSurgeRuns && n2 >= 2 * o.surgeRatio * mean) {
        const p2 = poissonUpperTail(n2 / dispersion, (2 * upper) / dispersion);
        if (p2 < o.surgeSignificance) {
          p = p2;
          slices = 2;
          runs = n2;
        }
      }
    }
    if (p === 1) return;
    for (let i = w.length - slices; i < w.length; i++) w[i]!.flagged.add(SURGE);
    const level = slices === 1 ? o.surgeSliceSignificance : o.surgeSignificance;
    const strength = Math.min(1, Math.log10(1 / Math.max(p, 1e-300)) / (2 * Math.log10(1 / level)));
    const ratio = runs / (slices * Math.max(mean, 1e-9));
    const what = slices === 1 ? `${n} runs in one slice` : `${runs} runs in two slices`;
    out.push({
      key: `behavioral:${state.service}:${state.name}:count-surge`,
      type: 'behavioral',
      subtype: 'count-surge',
      severity: ratio >= 5 ? 'high' : 'medium',
      confidence: Math.max(0, Math.min(1, strength * (0.5 + 0.5 * Math.min(1, runs / (4 * o.minSurgeRuns))))),
      service: state.service,
      sequence: state.name,
      windowStartMs: w[w.length - slices]!.slice * this.cfg.sliceMs,
      windowEndMs: nowMs,
      summary: `${state.name}: ${what}, baseline ${mean.toFixed(1)} per slice`,
      observed: { runs: n },
      expected: { runs: mean },
      details: {
        sequence: state.name,
        test: 'poisson-upper-tail',
        pValue: p,
        slices,
        runsInTest: runs,
        baselineUpper: Math.round(upper * 100) / 100,
        dispersion: Math.round(dispersion * 100) / 100,
      },
      exemplars: [],
    });
  }
}
