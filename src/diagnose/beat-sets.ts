import type { Anomaly } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { EvidenceSource } from '../model/evidence.js';
import { quantile } from './beat-stats.js';

/** Beats a diagnosis looks at, split into "showing the problem" and "normal". */
export interface BeatSets {
  /** Beats that show the anomaly: slow (above the baseline p95) or failing, exemplars included. */
  anomalous: Beat[];
  /** Comparison beats: the baseline plus recent beats that do not show the anomaly. */
  normal: Beat[];
  recent: Beat[];
  baseline: Beat[];
  /** Duration above which a beat counted as slow, when the anomaly is about latency. */
  slowThresholdMs?: number;
}

/** Baseline p95 needs a few samples to mean anything; below this the detector's figure is used. */
const MIN_BASELINE_FOR_P95 = 5;

/** Collects and splits the beats relevant to an anomaly. */
export function collectBeatSets(anomaly: Anomaly, evidence: EvidenceSource): BeatSets {
  const handler = anomaly.handler;
  const recent = handler === undefined ? [] : evidence.recentBeats(anomaly.service, handler);
  const baseline = handler === undefined ? [] : evidence.baselineBeats(anomaly.service, handler);
  const exemplarBeats = exemplarBeatsOf(anomaly, evidence);

  let isAnomalous: (b: Beat) => boolean;
  let slowThresholdMs: number | undefined;
  if (anomaly.type === 'performance') {
    slowThresholdMs = slowThreshold(anomaly, baseline);
    const t = slowThresholdMs;
    isAnomalous = t === undefined ? () => false : (b) => b.durationMs > t;
  } else if (anomaly.type === 'error') {
    const fingerprint = errorFingerprintOf(anomaly);
    isAnomalous = (b) =>
      b.status === STATUS_ERROR && (fingerprint === undefined || b.error === undefined || b.error.fingerprint === fingerprint);
  } else {
    // Behavioural and coverage anomalies have no per-beat test: only the exemplars show them.
    isAnomalous = () => false;
  }

  const anomalous: Beat[] = [];
  const normal: Beat[] = [];
  const seen = new Set<string>();
  for (const b of exemplarBeats) {
    if (seen.has(b.spanId)) continue;
    seen.add(b.spanId);
    anomalous.push(b);
  }
  for (const b of recent) {
    if (seen.has(b.spanId)) continue;
    seen.add(b.spanId);
    (isAnomalous(b) ? anomalous : normal).push(b);
  }
  for (const b of baseline) {
    if (seen.has(b.spanId)) continue;
    seen.add(b.spanId);
    // A failing or slow beat in the baseline is not "normal" either; leave it out of both sets.
    if (!isAnomalous(b)) normal.push(b);
  }
  const sets: BeatSets = { anomalous, normal, recent, baseline };
  if (slowThresholdMs !== undefined) sets.slowThresholdMs = slowThresholdMs;
  return sets;
}

/** Baseline p95, or the detector's expected figure when the baseline reservoir is thin. */
export function slowThreshold(anomaly: Anomaly, baseline: readonly Beat[]): number | undefined {
  if (baseline.length >= MIN_BASELINE_FOR_P95) return quantile(baseline.map((b) => b.durationMs), 0.95);
  const e = anomaly.expected;
  return e['p95Ms'] ?? e['p99Ms'] ?? (e['p50Ms'] === undefined ? undefined : e['p50Ms'] * 2);
}

export function errorFingerprintOf(anomaly: Anomaly): string | undefined {
  const f = anomaly.details['fingerprint'];
  if (typeof f === 'string' && f !== '') return f;
  return anomaly.exemplars.find((e) => e.errorFingerprint !== undefined)?.errorFingerprint;
}

/** The exemplar spans themselves, for those traces still held. */
export function exemplarBeatsOf(anomaly: Anomaly, evidence: EvidenceSource): Beat[] {
  const out: Beat[] = [];
  for (const ex of anomaly.exemplars) {
    const beats = evidence.traceBeats(ex.traceId);
    const beat = beats?.find((b) => b.spanId === ex.spanId);
    if (beat !== undefined) out.push(beat);
  }
  return out;
}
