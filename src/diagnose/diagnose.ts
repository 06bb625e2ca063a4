import type { Anomaly } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { Diagnosis, FixKind, Hypothesis } from '../model/diagnosis.js';
import type { EvidenceSource } from '../model/evidence.js';
import { collectBeatSets, type BeatSets } from './beat-sets.js';
import { baselineFigures, distinctCount, mostCommon, round } from './beat-stats.js';
import { attributeSuspects, suspectHypotheses } from './drilldown.js';
import { errorHypothesis, type ErrorResult } from './error-analysis.js';
import { relatedAnomalies, relatedHypotheses } from './related.js';
import { releaseHypothesis, type ReleaseResult } from './release.js';
import { sequenceTimingHypothesis } from './sequence-timing.js';
import { shapeHypotheses } from './shape-hypotheses.js';
import { timingHypothesis } from './self-time.js';

export interface DiagnoseContext {
  openAnomalies: Anomaly[];
  nowMs: number;
}

/** A hypothesis must reach this score to drive a fix (rollback) on its own. */
const ACTIONABLE_SCORE = 0.3;
const SAMPLE_INPUTS = 5;
const MAX_HYPOTHESES = 10;

/**
 * From an anomaly and the beats around it to ranked root-cause hypotheses, affected components,
 * impact, recommended fixes and the context the healing stages need. Pure: everything comes
 * from the arguments, so a diagnosis can be recomputed offline from the same evidence.
 */
export function diagnose(anomaly: Anomaly, evidence: EvidenceSource, context: DiagnoseContext): Diagnosis {
  const sets = collectBeatSets(anomaly, evidence);
  const hypotheses: Hypothesis[] = [];
  const ctx: Record<string, unknown> = {};

  let timingFigures: Record<string, unknown> | undefined;
  if (anomaly.type === 'performance') {
    const t = timingHypothesis(sets.anomalous, sets.normal, evidence);
    if (t.hypothesis !== undefined) hypotheses.push(t.hypothesis);
    timingFigures = t.figures;
    const seq = sequenceTimingHypothesis(anomaly, evidence);
    if (seq.hypothesis !== undefined) hypotheses.push(seq.hypothesis);
    if (seq.slowest !== undefined) ctx.slowestBeat = seq.slowest;
  }

  let err: ErrorResult | undefined;
  if (anomaly.type === 'error') {
    err = errorHypothesis(anomaly, sets.anomalous);
    if (err !== undefined) hypotheses.push(err.hypothesis);
  }

  const release = releaseHypothesis(anomaly, evidence, sets.anomalous, sets.normal, undefined, sets.recent);
  if (release.hypothesis !== undefined) hypotheses.push(release.hypothesis);

  const suspects = attributeSuspects(sets.anomalous, sets.normal);
  hypotheses.push(...suspectHypotheses(suspects));

  const related = relatedAnomalies(anomaly, context.openAnomalies, evidence, sets.anomalous);
  hypotheses.push(...relatedHypotheses(anomaly, related));

  hypotheses.push(...shapeHypotheses(anomaly));

  if (anomaly.type === 'error' && err === undefined) {
    // The failing beats are gone from the reservoirs; the detector's facts still say "it throws".
    hypotheses.push({
      cause: 'code-defect',
      description: `the handler fails (${anomaly.summary})`,
      score: 0.4,
      evidence: [anomaly.summary, ...Object.entries(anomaly.details).map(([k, v]) => `${k}: ${String(v)}`)],
    });
  }

  hypotheses.sort((a, b) => b.score - a.score || a.cause.localeCompare(b.cause));
  const ranked = hypotheses.slice(0, MAX_HYPOTHESES);
  const rootCause: Hypothesis = ranked[0] ?? {
    cause: 'unknown',
    description: 'not enough evidence held to explain this anomaly',
    score: 0,
    evidence: [anomaly.summary],
  };

  const handler = anomaly.handler;
  const beatsForFacts = [...sets.anomalous, ...sets.recent];
  const kind = mostCommon(beatsForFacts.map((b) => b.kind));
  const plugin = mostCommon(beatsForFacts.map((b) => b.plugin));
  const sequence = anomaly.sequence ?? mostCommon(beatsForFacts.map((b) => b.sequence));
  const baseline = baselineFigures(sets.baseline);

  ctx['service'] = anomaly.service;
  if (handler !== undefined) ctx['handler'] = handler;
  if (plugin !== undefined) ctx['plugin'] = plugin;
  if (kind !== undefined) ctx['kind'] = kind;
  if (sequence !== undefined) ctx['sequence'] = sequence;
  ctx['anomaly'] = { type: anomaly.type, subtype: anomaly.subtype, summary: anomaly.summary };
  ctx['baseline'] = {
    p50Ms: baseline.p50Ms ?? anomaly.expected['p50Ms'],
    p95Ms: baseline.p95Ms ?? anomaly.expected['p95Ms'],
    p99Ms: baseline.p99Ms ?? anomaly.expected['p99Ms'],
    errorRate: baseline.errorRate ?? anomaly.expected['errorRate'],
    samples: baseline.samples,
  };
  ctx['observed'] = anomaly.observed;
  ctx['expected'] = anomaly.expected;
  if (sets.slowThresholdMs !== undefined) ctx['slowThresholdMs'] = round(sets.slowThresholdMs);
  if (timingFigures !== undefined) ctx['timing'] = timingFigures;
  if (err !== undefined) {
    ctx['error'] = { ...err.error };
    ctx['errorKind'] = err.errorClass.kind;
    if (err.errorClass.property !== undefined) ctx['errorProperty'] = err.errorClass.property;
  }
  ctx['sampleInputs'] = sampleInputs(sets, err);
  ctx['exemplarTraceIds'] = [...new Set(anomaly.exemplars.map((e) => e.traceId))];
  ctx['versions'] = release.versions.map((v) => v.version);
  if (release.previousVersion !== undefined) ctx['previousVersion'] = release.previousVersion;
  if (release.newVersion !== undefined) ctx['newVersion'] = release.newVersion;
  if (related.length > 0) {
    ctx['relatedAnomalies'] = related.map((r) => ({ id: r.anomaly.id, relation: r.relation, via: r.via }));
  }
  if (Object.keys(anomaly.details).length > 0) ctx['details'] = anomaly.details;

  const inputRepetition = repetition(sets.recent);
  if (inputRepetition !== undefined) ctx['inputRepetition'] = round(inputRepetition, 3);

  const affectedHandlers = new Set<string>();
  if (handler !== undefined) affectedHandlers.add(handler);
  const slowest = ctx.slowestBeat as { handler: string } | undefined;
  if (slowest !== undefined) affectedHandlers.add(slowest.handler);
  const affectedSequences = new Set<string>();
  if (sequence !== undefined && sequence !== '') affectedSequences.add(sequence);
  const affectedServices = new Set<string>([anomaly.service]);
  for (const r of related) {
    if (r.anomaly.handler !== undefined) affectedHandlers.add(r.anomaly.handler);
    if (r.anomaly.sequence !== undefined) affectedSequences.add(r.anomaly.sequence);
    affectedServices.add(r.anomaly.service);
  }

  const exemplarTraces = anomaly.exemplars.map((e) => e.traceId);
  const diagnosis: Diagnosis = {
    id: `diag-${anomaly.id}-${Math.round(context.nowMs)}`,
    anomalyId: anomaly.id,
    createdMs: context.nowMs,
    service: anomaly.service,
    rootCause,
    hypotheses: ranked,
    affected: {
      handlers: [...affectedHandlers],
      sequences: [...affectedSequences],
      services: [...affectedServices],
    },
    impact: {
      trafficShare: handler === undefined ? 0 : clamp01(evidence.trafficShare(anomaly.service, handler)),
      affectedRuns: distinctCount([...sets.anomalous.map((b) => b.traceId), ...exemplarTraces]),
      affectedCorrelationIds: distinctCount(sets.anomalous.map((b) => b.correlationId)),
      severity: anomaly.severity,
    },
    recommendedFixes: recommendFixes(anomaly, ranked, err, release, kind, inputRepetition),
    suspects,
    context: ctx,
  };
  if (handler !== undefined) diagnosis.handler = handler;
  if (anomaly.sequence !== undefined) diagnosis.sequence = anomaly.sequence;
  return diagnosis;
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** Signature of a beat's inputs: its kept attributes minus per-run identifiers. */
function inputSignature(b: Beat): string {
  return Object.keys(b.attributes)
    .filter((k) => k !== 'beat.correlation_id' && k !== 'request.id')
    .sort()
    .map((k) => `${k}=${String(b.attributes[k])}`)
    .join('&');
}

/** Share of recent runs whose inputs were already seen: 0 all distinct .. ~1 always the same. */
function repetition(beats: readonly Beat[]): number | undefined {
  const withInputs = beats.filter((b) => inputSignature(b) !== '');
  if (withInputs.length < 4) return undefined;
  return 1 - new Set(withInputs.map(inputSignature)).size / withInputs.length;
}

/** A few concrete runs for tests and prompts, the failing case first. */
function sampleInputs(sets: BeatSets, err: ErrorResult | undefined): Array<Record<string, unknown>> {
  const picked: Beat[] = [];
  const seen = new Set<string>();
  const add = (b: Beat): void => {
    if (picked.length >= SAMPLE_INPUTS || seen.has(b.spanId)) return;
    seen.add(b.spanId);
    picked.push(b);
  };
  const showing = err !== undefined ? [...err.failing].reverse() : sets.anomalous;
  const normal = [...sets.normal].reverse();
  // Mostly runs showing the problem (the failing case first), plus a couple of normal runs for contrast.
  for (const b of showing.slice(0, SAMPLE_INPUTS - Math.min(2, normal.length))) add(b);
  for (const b of normal.slice(0, 2)) add(b);
  for (const b of showing) add(b);
  return picked.map((b) => ({
    traceId: b.traceId,
    spanId: b.spanId,
    durationMs: round(b.durationMs),
    failed: b.status === STATUS_ERROR,
    correlationId: b.correlationId,
    serviceVersion: b.serviceVersion,
    attributes: { ...b.attributes },
  }));
}

function recommendFixes(
  anomaly: Anomaly,
  hypotheses: readonly Hypothesis[],
  err: ErrorResult | undefined,
  release: ReleaseResult,
  kind: string | undefined,
  inputRepetition: number | undefined,
): Array<Diagnosis['recommendedFixes'][number]> {
  const fixes: FixKind[] = [];
  const releaseScore = hypotheses.find((h) => h.cause === 'new-release')?.score ?? 0;
  if (release.previousVersion !== undefined && releaseScore >= ACTIONABLE_SCORE) fixes.push('rollback');
  if (err !== undefined && err.errorClass.kind === 'null-access' && err.error.topFrame !== '') fixes.push('guard');
  const selfSlow = hypotheses.some((h) => h.cause === 'self-time-regression');
  if (
    anomaly.type === 'performance' &&
    kind === 'pure' &&
    inputRepetition !== undefined &&
    inputRepetition >= 0.5 &&
    (selfSlow || !hypotheses.some((h) => h.cause === 'slow-dependency'))
  ) {
    fixes.push('memoize');
  }
  if (anomaly.type === 'performance' || anomaly.type === 'error') fixes.push('regression-test');
  if (anomaly.type === 'coverage' && anomaly.subtype === 'untested-handler') fixes.push('regression-test');
  if (anomaly.type === 'performance') fixes.push('documentation');
  return fixes;
}
