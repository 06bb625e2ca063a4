import type { Anomaly } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { ExemplarTrace, Incident } from '../model/incident.js';

/** Spans kept per exemplar trace: a waterfall, not an archive. */
export const MAX_EXEMPLAR_SPANS = 200;

/** A trace's beats as the waterfall of a stored exemplar, oldest span first. */
export function exemplarTrace(traceId: string, beats: readonly Beat[]): ExemplarTrace {
  const spans = [...beats]
    .sort((a, b) => a.startMs - b.startMs)
    .slice(0, MAX_EXEMPLAR_SPANS)
    .map((b) => ({
      spanId: b.spanId,
      parentSpanId: b.parentSpanId,
      service: b.service,
      name: b.spanName,
      startMs: b.startMs,
      durationMs: b.durationMs,
      error: b.status === STATUS_ERROR,
    }));
  return { traceId, spans };
}

/**
 * The exemplar traces an incident should keep: its anomalies' exemplars in their order (the
 * first anomaly's slowest or failing runs first), skipping traces already kept and those no
 * longer held in memory, until `max` are kept in all.
 */
export function pickExemplarTraces(
  anomalies: ReadonlyArray<Pick<Anomaly, 'exemplars'>>,
  traceBeats: (traceId: string) => readonly Beat[] | undefined,
  kept: ReadonlySet<string>,
  max: number,
): ExemplarTrace[] {
  const out: ExemplarTrace[] = [];
  const seen = new Set(kept);
  for (const a of anomalies) {
    for (const ex of a.exemplars) {
      if (seen.size >= max) return out;
      if (seen.has(ex.traceId)) continue;
      const beats = traceBeats(ex.traceId);
      if (beats === undefined || beats.length === 0) continue;
      seen.add(ex.traceId);
      out.push(exemplarTrace(ex.traceId, beats));
    }
  }
  return out;
}

/** Exemplar traces kept per incident. */
export const EXEMPLARS_PER_INCIDENT = 3;

/** Where an incident's exemplar traces are kept (the incident store). */
export interface ExemplarKeeper {
  exemplarTraceIds(incidentId: string): string[];
  saveExemplar(incidentId: string, trace: ExemplarTrace): void;
}

/**
 * Keeps the spans of an incident's first exemplar traces while they are still in memory, so its
 * detail can draw a waterfall after the runs have left the detectors' buffers (and a restart).
 */
export function keepIncidentExemplars(
  incident: Pick<Incident, 'id' | 'anomalyIds'>,
  keeper: ExemplarKeeper,
  anomalyOf: (id: string) => Pick<Anomaly, 'exemplars'> | undefined,
  traceBeats: (traceId: string) => readonly Beat[] | undefined,
): number {
  const kept = new Set(keeper.exemplarTraceIds(incident.id));
  if (kept.size >= EXEMPLARS_PER_INCIDENT) return 0;
  const anomalies = incident.anomalyIds.map(anomalyOf).filter((a): a is Pick<Anomaly, 'exemplars'> => a !== undefined);
  const picked = pickExemplarTraces(anomalies, traceBeats, kept, EXEMPLARS_PER_INCIDENT);
  for (const t of picked) keeper.saveExemplar(incident.id, t);
  return picked.length;
}
