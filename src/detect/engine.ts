import type { DetectConfig } from '../config/sections/detect.js';
import type { Anomaly, AnomalyChange, Exemplar, Finding } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { EvidenceSource } from '../model/evidence.js';
import type { Sequence } from '../model/sequence.js';
import { CoverageDetector, type TrafficView } from './coverage-detector.js';
import type { CoverageIndex } from './coverage-report.js';
import { DDSketch } from './ddsketch.js';
import { detectErrorSpike, ErrorBaseline, FingerprintBook, type ErrorParams, type FingerprintEntry } from './error-detector.js';
import { KeyTable } from './key-table.js';
import {
  detectLatencyRegression,
  detectSloBreach,
  LatencyBaseline,
  SHIFT_QUANTILES,
  type LatencyParams,
  type LatencyVerdict,
  type SloTarget,
} from './latency-detector.js';
import { AnomalyLifecycle } from './lifecycle.js';
import { LogDetector } from './log-detector.js';
import type { LogEvent } from '../model/log-event.js';
import type { TemplateMatch } from './log-templates.js';
import { HandlerReservoir, RetentionBudget } from './reservoir.js';
import { SequenceDetector, type AssemblyStats } from './sequence-detector.js';
import { DeclaredDriftDetector } from './declared-drift.js';
import { declaredSlos } from './declared-slo.js';
import { SliceWindow, type Slice, type SliceSink } from './slice-window.js';
import { severityRank } from './stats.js';

export interface DetectionEngineOptions {
  config: DetectConfig;
  sequences?: Sequence[];
  coverage?: CoverageIndex;
  /** Repository the coverage report and declared beats' `testFile`s belong to (default: cwd). */
  repoRoot?: string;
}

export interface HandlerFigures {
  service: string;
  handler: string;
  count: number;
  errors: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  baselineP95Ms: number | undefined;
  trafficShare: number;
  slices: Array<{ startMs: number; count: number; errors: number; p95Ms: number }>;
}

const KIND_HANDLER = 0;
const KIND_SEQUENCE = 1;
/** Keys (or closed runs) evaluated between two yields of `evaluation`. */
const EVALUATION_STEP = 32;
const SKETCH_ALPHA = 0.005;
/** Exemplars attached to one finding. */
const FINDING_EXEMPLARS = 5;
/** New-fingerprint findings per key per evaluation (a burst of new errors is not 50 anomalies). */
const MAX_NEW_FINGERPRINTS_PER_KEY = 3;
const MAX_VERSIONS_PER_SERVICE = 32;
/** Sensitivity multiplier bounds and step for feedback. */
const SENSITIVITY_MAX = 4;
const SENSITIVITY_STEP = 1.5;

/** Slices leaving a version lane are not learnt: the handler's baseline is the reference. */
const NO_SINK: SliceSink = { closeSlice: () => undefined, skipSlices: () => undefined };

/**
 * The beats of one handler running a newly seen service.version, in their own window. A partial
 * rollout (a quarter of the instances) dilutes a regression in the handler's window; tested on
 * its own the new version shows it at full strength. One lane per handler key at a time.
 */
class VersionLane {
  readonly window: SliceWindow;
  count = 0;
  errors = 0;
  /** Start of the newest beat of this version. */
  lastMs: number;

  constructor(
    readonly version: string,
    readonly sinceMs: number,
    sliceMs: number,
    windowSlices: number,
  ) {
    this.window = new SliceWindow(sliceMs, windowSlices, SKETCH_ALPHA);
    this.lastMs = sinceMs;
  }
}

/** Other versions a handler key remembers as "not a release" (old instances still running). */
const SETTLED_VERSIONS = 4;

/** Counts and a merged sketch of some slices (a short horizon or a version lane). */
interface Population {
  count: number;
  errors: number;
  sketch: DDSketch;
}

/** Per-key state: the window, both baselines, fingerprints, evidence and evaluation results. */
class KeyState implements SliceSink {
  readonly window: SliceWindow;
  readonly latency: LatencyBaseline;
  readonly errorBase: ErrorBaseline;
  readonly fingerprints = new FingerprintBook();
  /**
   * Handler keys: made with the key's first beat while detect.maxRetainedBeats has room. Past
   * the budget a new reservoir could only drop beats, so a key that arrives then holds none
   * (~0.4 KiB less per key at 10 000 keys) until evictions give room back.
   */
  reservoir: HandlerReservoir | undefined;
  /** Baseline learning paused while this key has an open anomaly of that type. */
  latencyFrozen = false;
  errorFrozen = false;
  frozenSlices = 0;
  sensitivity = 1;
  /** Beats accepted by this key's window since it was created. */
  beatsSeen = 0;
  /** Handler keys: sequence of the latest beat, so a sequence finding can defer to its handler. */
  lastSequence = '';
  /** Handler keys: the service.version the baseline was learnt from (the first one seen). */
  baseVersion: string | undefined;
  /** Other versions found not to be new (long seen by the service): never routed to a lane. */
  readonly settledVersions: string[] = [];
  lane: VersionLane | undefined;
  /** Dropped from the key table (while a stepped evaluation was paused): not evaluated further. */
  evicted = false;
  // Figures of the last evaluation.
  count = 0;
  errors = 0;
  share = 0;

  constructor(
    readonly kind: number,
    readonly service: string,
    readonly name: string,
    sliceMs: number,
    windowSlices: number,
    latencyParams: LatencyParams,
    errorParams: ErrorParams,
    private readonly maxFreezeSlices: number,
    private readonly retention?: RetentionBudget,
  ) {
    this.window = new SliceWindow(sliceMs, windowSlices, SKETCH_ALPHA);
    this.latency = new LatencyBaseline(latencyParams, SKETCH_ALPHA);
    this.errorBase = new ErrorBaseline(errorParams);
  }

  // Built when asked (each evaluation, per key) rather than held: two strings a key are ~0.3 KiB at 10 000 keys.
  get perfKey(): string {
    return `performance:${this.kind === KIND_HANDLER ? 'handler' : 'sequence'}:${this.service}:${this.name}`;
  }
  get errorKey(): string {
    return `error:${this.kind === KIND_HANDLER ? 'handler' : 'sequence'}:${this.service}:${this.name}`;
  }

  /** The reservoir that takes this key's beats, made now if the budget has room; undefined for other kinds or without room (counted). */
  reservoirWithRoom(): HandlerReservoir | undefined {
    if (this.reservoir !== undefined || this.kind !== KIND_HANDLER) return this.reservoir;
    const budget = this.retention;
    if (budget !== undefined && budget.held >= budget.max) {
      budget.capped++;
      return undefined;
    }
    return (this.reservoir = new HandlerReservoir(200, 50, 200, budget));
  }

  closeSlice(slice: Slice): void {
    this.latency.learnSeason(slice);
    const frozen = (this.latencyFrozen || this.errorFrozen) && this.frozenSlices < this.maxFreezeSlices;
    if (frozen) this.frozenSlices++;
    if (!this.latencyFrozen || !frozen) this.latency.learn(slice);
    if (!this.errorFrozen || !frozen) this.errorBase.learn(slice);
  }

  skipSlices(skipped: number): void {
    this.latency.skip(skipped);
    this.errorBase.skip(skipped);
  }
}

interface VersionSeen {
  version: string;
  firstSeenMs: number;
  lastSeenMs: number;
}

/**
 * The streaming detection core. `observe` is the hot path: per beat a few map lookups, a sketch
 * insert and counter updates in preallocated slices. `evaluate` runs once per slice (live: a
 * timer; offline: data time): it rolls windows into baselines, runs the latency, error,
 * sequence and coverage detectors, and feeds their findings through the anomaly lifecycle.
 * Memory is bounded by detect.maxKeys keys, each with a fixed-size window and reservoirs.
 */
/**
 * A root span named after its own sequence, with no beat number, is the run itself (a
 * MusicalConductor sequence span, or a plain trace root whose name is all we know). Handler
 * spans carry their own name (beat.handler, code.function) or a beat number.
 */
export function isRunSpan(beat: Beat): boolean {
  return beat.parentSpanId === '' && beat.beatNumber === 0 && beat.sequence !== '' && beat.handler === beat.sequence;
}

export class DetectionEngine implements EvidenceSource {
  private readonly cfg: DetectConfig;
  private readonly latencyParams: LatencyParams;
  private readonly errorParams: ErrorParams;
  private readonly keys: KeyTable<KeyState>;
  private readonly sequenceDetector: SequenceDetector;
  private readonly coverageDetector: CoverageDetector;
  private readonly driftDetector: DeclaredDriftDetector;
  /** SLOs the sequence files state in words, per handler (configured ones override them). */
  private readonly declaredSlo: Map<string, SloTarget>;
  private readonly lifecycle: AnomalyLifecycle;
  private readonly scratch = new DDSketch({ alpha: SKETCH_ALPHA });
  private readonly shortScratch = new DDSketch({ alpha: SKETCH_ALPHA });
  private readonly laneScratch = new DDSketch({ alpha: SKETCH_ALPHA });
  /** Newest-slice counts of the short-horizon looks, latency and errors (ascending, distinct). */
  private readonly latencyHorizons: number[];
  private readonly errorHorizons: number[];
  private readonly serviceTotals = new Map<string, number>();
  private readonly versionsByService = new Map<string, Map<string, VersionSeen>>();
  private lastVersion: VersionSeen | undefined;
  private lastVersionService = '';
  private late = 0;
  private readonly traffic: TrafficView;
  /** Log templates and log findings (detect.logs); undefined when disabled. */
  readonly logs: LogDetector | undefined;
  /** Beats held by all handler reservoirs together (detect.maxRetainedBeats). */
  private readonly retention: RetentionBudget;

  constructor(opts: DetectionEngineOptions) {
    const cfg = opts.config;
    this.cfg = cfg;
    this.latencyParams = {
      significance: cfg.latency.significance,
      minRelativeEffect: cfg.latency.minRelativeEffect,
      minAbsoluteMs: cfg.latency.minAbsoluteMs,
      minSamples: cfg.minSamples,
      baselineMinSlices: cfg.baselineMinSlices,
      baselineSlices: cfg.baselineSlices,
      sliceMs: cfg.sliceMs,
      noveltyMemory: cfg.latency.noveltyMemory,
    };
    this.errorParams = {
      significance: cfg.errors.significance,
      minRateRatio: cfg.errors.minRateRatio,
      minRateIncrease: cfg.errors.minRateIncrease,
      minErrors: cfg.errors.minErrors,
      minSamples: cfg.minSamples,
      baselineMinSlices: cfg.baselineMinSlices,
      baselineSlices: cfg.baselineSlices,
    };
    const declared = opts.sequences ?? [];
    const retention = new RetentionBudget(cfg.maxRetainedBeats);
    this.retention = retention;
    this.keys = new KeyTable<KeyState>(
      cfg.maxKeys,
      cfg.idleEvictMs,
      (kind, service, name) =>
        new KeyState(kind, service, name, cfg.sliceMs, cfg.windowSlices, this.latencyParams, this.errorParams, cfg.baselineSlices, retention),
      (node) => {
        node.value.evicted = true;
        node.value.reservoir?.release();
      },
      cfg.keyActiveMs,
    );
    this.sequenceDetector = new SequenceDetector(cfg, declared);
    this.coverageDetector = new CoverageDetector(opts.coverage, declared, opts.repoRoot === undefined ? {} : { repoRoot: opts.repoRoot });
    this.driftDetector = new DeclaredDriftDetector(declared, { horizonMs: cfg.sliceMs * cfg.windowSlices });
    this.declaredSlo = declaredSlos(declared).handlers;
    this.lifecycle = new AnomalyLifecycle({ resolveAfter: cfg.resolveAfter, updateEvery: cfg.updateEvery });
    this.traffic = { handlers: () => this.trafficRows() };
    this.logs = cfg.logs.enabled
      ? new LogDetector({ config: cfg.logs, sliceMs: cfg.sliceMs, windowSlices: cfg.windowSlices, baselineSlices: cfg.baselineSlices, baselineMinSlices: cfg.baselineMinSlices })
      : undefined;
    const shorter = (list: number[]): number[] => [...new Set(list)].filter((m) => m >= 1 && m < cfg.windowSlices).sort((a, b) => a - b);
    this.latencyHorizons = shorter([1, cfg.shortSlices]);
    this.errorHorizons = shorter([cfg.shortSlices, 2 * cfg.shortSlices]);
  }

  /** Log records, mined into templates; an ERROR record also marks its span's beat failed (see LogDetector). */
  observeLogs(events: LogEvent[]): void {
    this.logs?.observe(events);
  }

  /** The templates observeLogs(events) mined, by record (undefined without log detection): see LogDetector.templatesOf. */
  logTemplatesOf(events: readonly LogEvent[]): readonly TemplateMatch[] | undefined {
    return this.logs?.templatesOf(events);
  }

  observe(beats: Beat[]): void {
    this.logs?.bindErrorLogs(beats);
    const seqDetector = this.sequenceDetector;
    for (let i = 0; i < beats.length; i++) {
      const beat = beats[i]!;
      seqDetector.observe(beat);
      this.coverageDetector.observe(beat);
      const failed = beat.status === STATUS_ERROR || beat.error !== undefined;
      if (isRunSpan(beat)) {
        // The span that wraps a whole sequence run is the sequence, not a handler: as a handler
        // key it would repeat every child's anomaly (and send healing after the wrong code).
        const runKey = this.keys.get(KIND_SEQUENCE, beat.service, beat.sequence, beat.startMs);
        if (runKey !== undefined && !this.observeKey(runKey, beat, failed)) this.late++;
        this.noteVersion(beat);
        continue;
      }
      this.driftDetector.observe(beat);
      // Undefined: refused, the key table is full of active keys (counted by the table).
      const handlerKey = this.keys.get(KIND_HANDLER, beat.service, beat.handler, beat.startMs);
      if (handlerKey === undefined) continue;
      if (!this.observeKey(handlerKey, beat, failed)) {
        this.late++;
        continue;
      }
      const sequence = beat.sequence !== '' ? beat.sequence : seqDetector.resolvedSequence(beat.traceId);
      if (sequence) {
        handlerKey.lastSequence = sequence;
        const sequenceKey = this.keys.get(KIND_SEQUENCE, beat.service, sequence, beat.startMs);
        if (sequenceKey !== undefined) this.observeKey(sequenceKey, beat, failed);
      }
      if (beat.serviceVersion !== handlerKey.baseVersion) this.routeVersion(handlerKey, beat, failed);
      this.noteVersion(beat);
    }
    // Runs this batch completed are judged now instead of waiting in flight for evaluate().
    seqDetector.closeSatisfied();
  }

  evaluate(nowMs: number): AnomalyChange[] {
    const steps = this.evaluation(nowMs);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return step.value;
  }

  /**
   * `evaluate` in steps: the generator yields after every EVALUATION_STEP keys or closed runs, so
   * a live caller can hand the event loop back between steps at many keys (see
   * evaluate-in-turns.ts). Run to the end without pausing it is exactly `evaluate`. Beats observed
   * while it is paused land in the windows it already advanced, as they would after it.
   */
  *evaluation(nowMs: number): Generator<void, AnomalyChange[], void> {
    this.keys.evictIdle(nowMs);
    const totals = this.serviceTotals;
    totals.clear();
    // The slice holding nowMs - 1 is the newest: evaluating at a slice boundary sees full slices.
    const headMs = nowMs - 1;
    // A snapshot: observe() reorders and may evict keys while the generator is paused.
    const states: KeyState[] = [];
    this.keys.forEach((node) => states.push(node.value));
    for (let i = 0; i < states.length; i++) {
      if (i % EVALUATION_STEP === EVALUATION_STEP - 1) yield;
      const k = states[i]!;
      if (k.evicted) continue;
      k.window.advanceTo(headMs, k);
      // A young key learns each slice once it is past the short-horizon looks instead of when it
      // leaves the long window: a key is judged minutes sooner (baselineMinSlices + shortSlices
      // slices, not + windowSlices), and the slices being tested never teach its baseline.
      if (!k.latency.warm || !k.errorBase.warm) k.window.closeThrough(k.window.head - this.cfg.shortSlices, k);
      const { count, errors } = k.window.totals();
      k.count = count;
      k.errors = errors;
      if (k.lane) this.rollLane(k, headMs, nowMs);
      if (k.kind === KIND_HANDLER) totals.set(k.service, (totals.get(k.service) ?? 0) + count);
    }
    const findings: Finding[] = [];
    const sequenceFindings: Finding[] = [];
    // Type + service + sequence of handler findings: the same problem seen again on the
    // sequence that contains the handler is not reported twice.
    const covered = new Set<string>();
    for (let i = 0; i < states.length; i++) {
      if (i % EVALUATION_STEP === EVALUATION_STEP - 1) yield;
      const k = states[i]!;
      if (k.evicted) continue;
      const total = totals.get(k.service) ?? 0;
      k.share = total > 0 ? Math.min(1, k.count / total) : 0;
      k.reservoir?.promote(k.window.startMs, k.count, k.latencyFrozen || k.errorFrozen);
      if (k.count === 0) continue;
      const out = k.kind === KIND_HANDLER ? findings : sequenceFindings;
      const before = out.length;
      this.latencyFinding(k, nowMs, out);
      this.errorFindings(k, nowMs, out);
      if (k.kind === KIND_HANDLER && k.lastSequence !== '') {
        for (let j = before; j < out.length; j++) covered.add(`${out[j]!.type}|${k.service}|${k.lastSequence}`);
      }
    }
    for (const f of sequenceFindings) if (!covered.has(`${f.type}|${f.service}|${f.sequence}`)) findings.push(f);
    for (const f of yield* this.sequenceDetector.evaluation(nowMs, EVALUATION_STEP)) findings.push(f);
    for (const f of this.coverageDetector.evaluate(nowMs, this.traffic)) findings.push(f);
    for (const f of this.driftDetector.evaluate(nowMs)) findings.push(f);
    if (this.logs) for (const f of this.logs.evaluate(nowMs)) findings.push(f);
    const changes = this.lifecycle.apply(findings, nowMs);
    for (let i = 0; i < states.length; i++) {
      if (i % EVALUATION_STEP === EVALUATION_STEP - 1) yield;
      const k = states[i]!;
      k.latencyFrozen = this.lifecycle.activeId(k.perfKey) !== undefined;
      k.errorFrozen = this.lifecycle.activeId(k.errorKey) !== undefined;
      if (!k.latencyFrozen && !k.errorFrozen) k.frozenSlices = 0;
    }
    return changes;
  }

  handlerFigures(): HandlerFigures[] {
    const out: HandlerFigures[] = [];
    this.keys.forEach((node) => {
      const k = node.value;
      if (k.kind !== KIND_HANDLER) return;
      const sketch = this.windowSketch(k);
      // One row per window slot, empty ones included, so heatmap rows line up across handlers.
      const slices: HandlerFigures['slices'] = [];
      let count = 0;
      let errors = 0;
      const head = k.window.head;
      for (let idx = head - k.window.size + 1; idx <= head; idx++) {
        const s = k.window.sliceAt(idx);
        if (s) {
          count += s.count;
          errors += s.errors;
        }
        slices.push({
          startMs: idx * k.window.sliceMs,
          count: s ? s.count : 0,
          errors: s ? s.errors : 0,
          p95Ms: s && s.count > 0 ? s.sketch.quantile(0.95) : 0,
        });
      }
      out.push({
        service: k.service,
        handler: k.name,
        count,
        errors,
        errorRate: count > 0 ? errors / count : 0,
        p50Ms: count > 0 ? sketch.quantile(0.5) : 0,
        p95Ms: count > 0 ? sketch.quantile(0.95) : 0,
        p99Ms: count > 0 ? sketch.quantile(0.99) : 0,
        baselineP95Ms: k.latency.warm ? k.latency.quantile(0.95) : undefined,
        trafficShare: k.share,
        slices,
      });
    });
    return out;
  }

  /** Window counts per (service, sequence) key. */
  sequenceFigures(): Array<{ service: string; sequence: string; count: number; errors: number }> {
    const out: Array<{ service: string; sequence: string; count: number; errors: number }> = [];
    this.keys.forEach((node) => {
      const k = node.value;
      if (k.kind !== KIND_SEQUENCE) return;
      let count = 0;
      let errors = 0;
      k.window.forEachSlice((s) => {
        count += s.count;
        errors += s.errors;
      });
      out.push({ service: k.service, sequence: k.name, count, errors });
    });
    return out;
  }

  openAnomalies(): Anomaly[] {
    return this.lifecycle.openAnomalies();
  }

  /**
   * Operator verdict on an anomaly. A false positive makes its key harder to flag (significance
   * divided and minimum effects multiplied by a sensitivity factor, x1.5 per verdict, at most 4)
   * and lets the baseline learn the current behaviour; a true positive moves the factor back
   * towards 1. Unknown ids and evicted keys are ignored.
   */
  feedback(anomalyId: string, verdict: 'false-positive' | 'true-positive'): void {
    const a = this.lifecycle.find(anomalyId);
    if (!a) return;
    const k =
      a.handler !== undefined
        ? this.keys.peek(KIND_HANDLER, a.service, a.handler)
        : a.sequence !== undefined
          ? this.keys.peek(KIND_SEQUENCE, a.service, a.sequence)
          : undefined;
    if (!k) return;
    if (verdict === 'false-positive') {
      k.sensitivity = Math.min(SENSITIVITY_MAX, k.sensitivity * SENSITIVITY_STEP);
      k.frozenSlices = this.cfg.baselineSlices;
    } else {
      k.sensitivity = Math.max(1, k.sensitivity / SENSITIVITY_STEP);
    }
  }

  /** Current sensitivity factor of a handler (1 = default; higher = harder to flag). */
  sensitivity(service: string, handler: string): number {
    return this.keys.peek(KIND_HANDLER, service, handler)?.sensitivity ?? 1;
  }

  stats(): { keys: number; evicted: number; refusedBeats: number; lateBeats: number; assembly: AssemblyStats; retainedBeats: number; retentionCapped: number } {
    return {
      keys: this.keys.size,
      evicted: this.keys.evicted,
      refusedBeats: this.keys.refused,
      lateBeats: this.late,
      assembly: this.sequenceDetector.assemblyStats(),
      retainedBeats: this.retention.held,
      retentionCapped: this.retention.capped,
    };
  }

  // EvidenceSource

  recentBeats(service: string, handler: string): Beat[] {
    return this.keys.peek(KIND_HANDLER, service, handler)?.reservoir?.recent.toArray() ?? [];
  }

  /** Recent failing beats of a handler (bounded), newest last. */
  recentErrors(service: string, handler: string): Beat[] {
    return this.keys.peek(KIND_HANDLER, service, handler)?.reservoir?.errors.toArray() ?? [];
  }

  baselineBeats(service: string, handler: string): Beat[] {
    return this.keys.peek(KIND_HANDLER, service, handler)?.reservoir?.baseline.toArray() ?? [];
  }

  traceBeats(traceId: string): Beat[] | undefined {
    return this.sequenceDetector.traceBeats(traceId);
  }

  versions(service: string): Array<{ version: string; firstSeenMs: number; lastSeenMs: number }> {
    const byVersion = this.versionsByService.get(service);
    if (!byVersion) return [];
    return [...byVersion.values()].map((v) => ({ ...v })).sort((a, b) => a.firstSeenMs - b.firstSeenMs);
  }

  /** A handler's latency baseline: slices learnt of those needed, and its p95 band once learnt. */
  latencyLearning(service: string, handler: string): { done: number; needed: number; warm: boolean; band: { lowMs: number; highMs: number } | undefined } | undefined {
    const k = this.keys.peek(KIND_HANDLER, service, handler);
    if (k === undefined) return undefined;
    return { done: k.latency.slices, needed: this.cfg.baselineMinSlices, warm: k.latency.warm, band: k.latency.p95Band() };
  }

  trafficShare(service: string, handler: string): number {
    return this.keys.peek(KIND_HANDLER, service, handler)?.share ?? 0;
  }

  // internals

  /** False when the beat is too late for the key's window. */
  private observeKey(k: KeyState, beat: Beat, failed: boolean): boolean {
    if (!k.window.add(beat, failed, k)) return false;
    k.beatsSeen++;
    if (failed && beat.error !== undefined && k.kind === KIND_HANDLER) {
      // A fingerprint only counts as new once the handler has run long enough for its usual
      // errors to have shown up.
      k.fingerprints.observe(beat, beat.error, k.errorBase.warm && k.beatsSeen > this.cfg.errors.fingerprintWarmupBeats);
    }
    k.reservoirWithRoom()?.add(beat, failed);
    return true;
  }

  private noteVersion(beat: Beat): void {
    const last = this.lastVersion;
    if (last !== undefined && this.lastVersionService === beat.service && last.version === beat.serviceVersion) {
      if (beat.startMs > last.lastSeenMs) last.lastSeenMs = beat.startMs;
      return;
    }
    let byVersion = this.versionsByService.get(beat.service);
    if (!byVersion) {
      if (this.versionsByService.size >= this.cfg.maxKeys) {
        const oldest = this.versionsByService.keys().next().value;
        if (oldest !== undefined) this.versionsByService.delete(oldest);
      }
      byVersion = new Map();
      this.versionsByService.set(beat.service, byVersion);
    }
    let seen = byVersion.get(beat.serviceVersion);
    if (!seen) {
      if (byVersion.size >= MAX_VERSIONS_PER_SERVICE) {
        let oldest: VersionSeen | undefined;
        for (const v of byVersion.values()) if (!oldest || v.lastSeenMs < oldest.lastSeenMs) oldest = v;
        if (oldest) byVersion.delete(oldest.version);
      }
      seen = { version: beat.serviceVersion, firstSeenMs: beat.startMs, lastSeenMs: beat.startMs };
      byVersion.set(beat.serviceVersion, seen);
    } else {
      if (beat.startMs > seen.lastSeenMs) seen.lastSeenMs = beat.startMs;
      if (beat.startMs < seen.firstSeenMs) seen.firstSeenMs = beat.startMs;
    }
    this.lastVersion = seen;
    this.lastVersionService = beat.service;
  }

  /**
   * Sends a handler's beat of another service.version to its version lane. A lane opens only for
   * a version the service first showed within the last window (a release, not an old version
   * still running on some instances), and only one at a time.
   */
  private routeVersion(k: KeyState, beat: Beat, failed: boolean): void {
    const version = beat.serviceVersion;
    if (k.baseVersion === undefined) {
      k.baseVersion = version;
      return;
    }
    const lane = k.lane;
    if (lane) {
      if (lane.version === version) {
        if (lane.window.add(beat, failed, NO_SINK) && beat.startMs > lane.lastMs) lane.lastMs = beat.startMs;
        return;
      }
      // Another version while the lane's own has not run for a full slice: the lane's release
      // was replaced (or rolled back), so the newcomer may take the lane.
      if (beat.startMs - lane.lastMs < this.cfg.sliceMs) return;
    }
    const settled = k.settledVersions;
    if (!this.cfg.versionSplit || settled.includes(version) || !k.latency.warm) return;
    const seen = this.versionsByService.get(beat.service)?.get(version);
    if (seen && seen.firstSeenMs < beat.startMs - this.cfg.windowSlices * this.cfg.sliceMs) {
      if (settled.length >= SETTLED_VERSIONS) settled.shift();
      settled.push(version);
      return;
    }
    const fresh = new VersionLane(version, beat.startMs, this.cfg.sliceMs, this.cfg.windowSlices);
    fresh.window.add(beat, failed, NO_SINK);
    k.lane = fresh;
  }

  /**
   * Rolls a lane with its key's window. A lane whose version stopped running is closed; one older
   * than the baseline horizon is over: the version is what the baseline has learnt by now.
   */
  private rollLane(k: KeyState, headMs: number, nowMs: number): void {
    const lane = k.lane!;
    lane.window.advanceTo(headMs, NO_SINK);
    const { count, errors } = lane.window.totals();
    lane.count = count;
    lane.errors = errors;
    if (count === 0) k.lane = undefined;
    else if (nowMs - lane.sinceMs > this.cfg.baselineSlices * this.cfg.sliceMs) {
      k.baseVersion = lane.version;
      k.settledVersions.length = 0;
      k.lane = undefined;
    }
  }

  /** The lane's share of the handler's beats since the version appeared. */
  private laneShare(k: KeyState, lane: VersionLane): number {
    const from = Math.floor(lane.sinceMs / this.cfg.sliceMs);
    let count = 0;
    k.window.forEachSlice((s) => {
      if (s.index >= from) count += s.count;
    });
    return count > 0 ? Math.min(1, lane.count / count) : 0;
  }

  private laneSketch(lane: VersionLane): DDSketch {
    const sketch = this.laneScratch;
    sketch.clear();
    lane.window.forEachSlice((s) => sketch.merge(s.sketch));
    return sketch;
  }

  /** The newest `slices` slices of a key's window, merged into `into`. */
  private recentPopulation(k: KeyState, slices: number, into: DDSketch): Population {
    into.clear();
    return { ...this.recentCounts(k, slices, into), sketch: into };
  }

  /** Beat and error counts of the newest `slices` slices of a key's window (their sketches merged into `into` when given). */
  private recentCounts(k: KeyState, slices: number, into?: DDSketch): { count: number; errors: number } {
    let count = 0;
    let errors = 0;
    const head = k.window.head;
    for (let idx = head - slices + 1; idx <= head; idx++) {
      const s = k.window.sliceAt(idx);
      if (!s) continue;
      count += s.count;
      errors += s.errors;
      into?.merge(s.sketch);
    }
    return { count, errors };
  }

  private windowSketch(k: KeyState): DDSketch {
    const sketch = this.scratch;
    sketch.clear();
    k.window.forEachSlice((s) => sketch.merge(s.sketch));
    return sketch;
  }

  private sloFor(k: KeyState): SloTarget | undefined {
    if (k.kind !== KIND_HANDLER) return undefined;
    return this.cfg.slo.handlers[k.name] ?? this.declaredSlo.get(k.name) ?? this.cfg.slo.global;
  }

  private target(k: KeyState): { service: string; handler?: string; sequence?: string } {
    return k.kind === KIND_HANDLER ? { service: k.service, handler: k.name } : { service: k.service, sequence: k.name };
  }

  private latencyFinding(k: KeyState, nowMs: number, out: Finding[]): void {
    const slo = this.sloFor(k);
    if (k.count < this.cfg.minSamples && !slo?.maxMs) return;
    const windowSketch = this.windowSketch(k);
    const window = { count: k.count, sketch: windowSketch, startMs: k.window.startMs, endMs: nowMs };
    const params = this.latencyParams;
    let regression = detectLatencyRegression(window, k.latency, params, k.share, k.sensitivity);
    let population: Population = { count: k.count, errors: k.errors, sketch: windowSketch };
    let test = 'binomial-exceedance';
    let horizon = 0;
    // The new version's beats alone: computed whenever a lane exists, so an anomaly found by any
    // test names the release it coincides with.
    const lane = k.lane;
    let laneVerdict: LatencyVerdict | undefined;
    if (lane && lane.count >= this.cfg.minSamples) {
      const laneSketch = this.laneSketch(lane);
      laneVerdict = detectLatencyRegression({ count: lane.count, sketch: laneSketch, startMs: k.window.startMs, endMs: nowMs }, k.latency, params, k.share, k.sensitivity, {
        quantiles: SHIFT_QUANTILES,
      });
      if (!regression && laneVerdict) {
        regression = laneVerdict;
        population = { count: lane.count, errors: lane.errors, sketch: laneSketch };
        test = 'version-exceedance';
      }
    }
    if (!regression) {
      // Short horizons: the newest slice(s) alone, so a shift shows before it fills the window.
      // Every look is a test of its own; together they share latency.shortSignificance.
      const alpha = this.cfg.latency.shortSignificance / this.latencyHorizons.length;
      for (const m of this.latencyHorizons) {
        const recent = this.recentPopulation(k, m, this.shortScratch);
        // The same baseline placement as the window test, so the hour-of-day factor is the same.
        const v = detectLatencyRegression({ count: recent.count, sketch: recent.sketch, startMs: k.window.startMs, endMs: nowMs }, k.latency, params, k.share, k.sensitivity, {
          quantiles: SHIFT_QUANTILES,
          significance: alpha,
          requireAll: true,
        });
        if (v) {
          regression = v;
          population = recent;
          test = 'short-horizon-exceedance';
          horizon = m;
          break;
        }
      }
    }
    const breach = detectSloBreach(window, slo, params, k.share);
    let v: LatencyVerdict | undefined = regression;
    if (breach && (!v || severityRank(breach.severity) > severityRank(v.severity))) {
      v = breach;
      population = { count: k.count, errors: k.errors, sketch: windowSketch };
      test = 'slo';
    }
    if (!v) return;
    const sketch = population.sketch;
    const what = k.kind === KIND_HANDLER ? k.name : `sequence ${k.name}`;
    const ratio = v.observedMs / v.expectedMs;
    const scope = test === 'version-exceedance' ? ` on version ${lane!.version}` : test === 'short-horizon-exceedance' ? ` in the last ${horizon} slice${horizon > 1 ? 's' : ''}` : '';
    const summary =
      v.subtype === 'slo-breach'
        ? `${what} ${v.figure} ${fmtMs(v.observedMs)} breaches SLO ${fmtMs(v.expectedMs)} (${k.count} beats)`
        : `${what} ${v.figure} ${fmtMs(v.observedMs)} vs baseline ${fmtMs(v.expectedMs)} (${ratio.toFixed(1)}x, ${population.count} beats${scope})`;
    const details: Finding['details'] = {
      figure: v.figure,
      test,
      pValue: v.pValue,
      exceedances: v.exceedances,
      expectedExceedances: round(v.expectedExceedances),
      seriesScore: round(v.seriesScore),
      seasonalFactor: round(v.seasonalFactor),
      trafficShare: round(k.share),
      sensitivity: k.sensitivity,
    };
    if (horizon > 0) details.horizonSlices = horizon;
    if (lane && laneVerdict) {
      details.version = lane.version;
      details.versionBeats = lane.count;
      details.versionShare = round(this.laneShare(k, lane));
      details.versionP95Ms = round(laneVerdict.figure === 'p95' ? laneVerdict.observedMs : this.laneScratch.quantile(0.95));
    }
    if (Number.isFinite(v.robustZ)) details.robustZ = round(v.robustZ);
    const expected: Record<string, number> = {};
    if (v.subtype === 'latency-regression') {
      expected.p50Ms = k.latency.quantile(0.5) * v.seasonalFactor;
      expected.p95Ms = k.latency.quantile(0.95) * v.seasonalFactor;
      expected.p99Ms = k.latency.quantile(0.99) * v.seasonalFactor;
    }
    expected[`${v.figure}Ms`] = v.expectedMs;
    out.push({
      key: k.perfKey,
      type: 'performance',
      subtype: v.subtype,
      severity: v.severity,
      confidence: v.confidence,
      ...this.target(k),
      windowStartMs: k.window.startMs,
      windowEndMs: nowMs,
      summary,
      observed: { p50Ms: sketch.quantile(0.5), p95Ms: sketch.quantile(0.95), p99Ms: sketch.quantile(0.99), maxMs: sketch.max, count: population.count },
      expected,
      details,
      // The slowest beats of the population that was tested: on a short horizon, older window
      // outliers would show diagnosis the wrong slowness.
      exemplars: slowExemplarsOf(test === 'version-exceedance' ? lane!.window : k.window, horizon),
    });
  }

  private errorFindings(k: KeyState, nowMs: number, out: Finding[]): void {
    let v = detectErrorSpike(k.count, k.errors, k.errorBase, this.errorParams, k.share, k.sensitivity);
    const what = k.kind === KIND_HANDLER ? k.name : `sequence ${k.name}`;
    let scope = '';
    const extra: Finding['details'] = {};
    const lane = k.lane;
    if (!v && lane && lane.count >= this.cfg.minSamples) {
      v = detectErrorSpike(lane.count, lane.errors, k.errorBase, this.errorParams, k.share, k.sensitivity);
      if (v) {
        scope = ` on version ${lane.version}`;
        extra.version = lane.version;
        extra.versionBeats = lane.count;
      }
    }
    if (!v && k.errors >= this.errorParams.minErrors) {
      const alpha = this.cfg.errors.shortSignificance / this.errorHorizons.length;
      for (const m of this.errorHorizons) {
        const recent = this.recentCounts(k, m);
        v = detectErrorSpike(recent.count, recent.errors, k.errorBase, this.errorParams, k.share, k.sensitivity, { significance: alpha });
        if (v) {
          scope = ` in the last ${m} slices`;
          extra.horizonSlices = m;
          break;
        }
      }
    }
    if (v) {
      const top = this.topFingerprint(k);
      const details: Finding['details'] = { test: v.test, pValue: v.pValue, trafficShare: round(k.share), sensitivity: k.sensitivity, ...extra };
      if (top) {
        details.topFingerprint = top.fingerprint;
        details.topErrorType = top.type;
        details.topErrorMessage = top.message;
      }
      out.push({
        key: k.errorKey,
        type: 'error',
        subtype: 'error-rate-spike',
        severity: v.severity,
        confidence: v.confidence,
        ...this.target(k),
        windowStartMs: k.window.startMs,
        windowEndMs: nowMs,
        summary: `${what} error rate ${pct(v.observedRate)} vs baseline ${pct(v.expectedRate)} (${v.errors}/${v.count}${scope})`,
        observed: { errorRate: v.observedRate, errors: v.errors, count: v.count },
        expected: { errorRate: v.expectedRate },
        details,
        exemplars: this.failingExemplars(k),
      });
    }
    if (k.kind !== KIND_HANDLER) return;
    const novel = k.fingerprints.novelSince(k.window.startMs);
    if (novel.length === 0) return;
    novel.sort((a, b) => b.count - a.count);
    for (let i = 0; i < novel.length && i < MAX_NEW_FINGERPRINTS_PER_KEY; i++) out.push(this.newFingerprintFinding(k, novel[i]!, nowMs));
  }

  private newFingerprintFinding(k: KeyState, fp: FingerprintEntry, nowMs: number): Finding {
    const err = fp.error;
    const rate = k.count > 0 ? fp.count / k.count : 0;
    return {
      key: `error-fingerprint:${k.service}:${k.name}:${fp.fingerprint}`,
      type: 'error',
      subtype: 'new-error-fingerprint',
      severity: newErrorSeverity(rate, k.share),
      confidence: Math.min(1, 0.6 + 0.4 * k.errorBase.confidence),
      service: k.service,
      handler: k.name,
      windowStartMs: k.window.startMs,
      windowEndMs: nowMs,
      summary: `${k.name} new error ${err.type}: ${truncate(err.message, 120)}${err.topFrame ? ` at ${err.topFrame}` : ''}`,
      observed: { occurrences: fp.count, firstSeenMs: fp.firstSeenMs },
      expected: { occurrences: 0 },
      details: { fingerprint: fp.fingerprint, errorType: err.type, errorMessage: truncate(err.message, 500), topFrame: err.topFrame },
      exemplars: [{ traceId: fp.traceId, spanId: fp.spanId, errorFingerprint: fp.fingerprint }],
    };
  }

  private failingExemplars(k: KeyState): Exemplar[] {
    const all: Exemplar[] = [];
    k.window.forEachSlice((s) => {
      for (let i = 0; i < s.failingCount; i++) {
        const e = s.failing[i]!;
        const ex: Exemplar = { traceId: e.traceId, spanId: e.spanId, durationMs: e.durationMs };
        if (e.fingerprint !== '') ex.errorFingerprint = e.fingerprint;
        all.push(ex);
      }
    });
    return all.slice(-FINDING_EXEMPLARS).reverse();
  }

  private topFingerprint(k: KeyState): { fingerprint: string; type: string; message: string } | undefined {
    const counts = new Map<string, { n: number; type: string; message: string }>();
    k.window.forEachSlice((s) => {
      for (const [fp, t] of s.fingerprints) {
        const c = counts.get(fp);
        if (c) c.n += t.count;
        else counts.set(fp, { n: t.count, type: t.error.type, message: truncate(t.error.message, 200) });
      }
    });
    let best: { fingerprint: string; type: string; message: string; n: number } | undefined;
    for (const [fp, c] of counts) if (!best || c.n > best.n) best = { fingerprint: fp, ...c };
    return best && { fingerprint: best.fingerprint, type: best.type, message: best.message };
  }

  private trafficRows(): Array<{ service: string; handler: string; count: number; share: number }> {
    const rows: Array<{ service: string; handler: string; count: number; share: number }> = [];
    this.keys.forEach((node) => {
      const k = node.value;
      if (k.kind === KIND_HANDLER) rows.push({ service: k.service, handler: k.name, count: k.count, share: k.share });
    });
    return rows;
  }
}

/** The slowest exemplars of a window, or of its newest `newest` slices when newest > 0. */
function slowExemplarsOf(window: SliceWindow, newest = 0): Exemplar[] {
  const all: Exemplar[] = [];
  const from = newest > 0 ? window.head - newest + 1 : -Infinity;
  window.forEachSlice((s) => {
    if (s.index < from) return;
    for (const e of s.slow) if (e.durationMs >= 0) all.push({ traceId: e.traceId, spanId: e.spanId, durationMs: e.durationMs });
  });
  all.sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0));
  return all.slice(0, FINDING_EXEMPLARS);
}

function newErrorSeverity(rate: number, share: number): Anomaly['severity'] {
  // A new error is at least medium; it grows with how much of the handler's traffic it hits.
  const level = rate >= 0.2 ? 3 : rate >= 0.05 ? 2 : 1;
  return (['low', 'medium', 'high', 'critical'] as const)[Math.max(1, Math.min(3, share >= 0.25 ? level + 1 : level))]!;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toPrecision(3)} ms`;
}

function pct(rate: number): string {
  return `${(rate * 100).toFixed(1)} %`;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
