import type { Anomaly } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { ExemplarTrace } from '../model/incident.js';

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
