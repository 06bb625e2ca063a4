import type { Config } from '../config/index.js';
import type { Anomaly } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { Incident } from '../model/incident.js';
import type { LogEvent } from '../model/log-event.js';
import { engineFromConfig } from '../detect/engine-from-config.js';
import { AnomalyRecorder } from '../diagnose/anomaly-recorder.js';
import { IncidentEngine, type IncidentEngineOptions } from '../diagnose/incident-engine.js';

export interface OfflineResult {
  anomalies: Anomaly[];
  diagnoses: Diagnosis[];
  /** Best first (the same order as GET /api/v1/incidents). */
  incidents: Incident[];
  beats: number;
  logs: number;
  fromMs: number;
  toMs: number;
  /** Declared sequence files that were skipped, with the reason. */
  skippedSequenceFiles: Array<{ file: string; reason: string }>;
}

/**
 * Replays beats through the live detectors at data time: beats are sorted by start, fed slice by
 * slice, and the engine and the incident engine are evaluated at each slice boundary exactly as
 * the live timer would. Afterwards a few empty slices let "incomplete run" and lifecycle timeouts
 * conclude. Log records go in the same way, each slice's logs before its beats (an error log is
 * written while its span is open, so it must be known when the span's beat arrives).
 */
export async function analyzeBeats(
  beats: Beat[],
  config: Config,
  cwd = process.cwd(),
  logs: LogEvent[] = [],
  incidentOptions: IncidentEngineOptions = {},
): Promise<OfflineResult> {
  const { engine, sequenceFiles } = await engineFromConfig(config, cwd);
  const skippedSequenceFiles = sequenceFiles.filter((f) => f.status === 'skipped').map((f) => ({ file: f.file, reason: f.reason ?? '' }));
  const incidents = new IncidentEngine({ ...incidentOptions, graph: { sliceMs: config.detect.sliceMs, ...config.detect.serviceGraph, ...incidentOptions.graph } });
  const latest = new Map<string, Anomaly>();
  const diagnoses: Diagnosis[] = [];
  let now = 0;
  const recorder = new AnomalyRecorder({
    store: { saveAnomaly: (a) => latest.set(a.id, a), saveDiagnosis: (d) => diagnoses.push(d) },
    events: { publishAnomalyChange: () => undefined, publishDiagnosis: () => undefined },
    evidence: engine,
    openAnomalies: () => engine.openAnomalies(),
    clock: () => now,
  });
  if (beats.length === 0 && logs.length === 0) {
    return { anomalies: [], diagnoses: [], incidents: [], beats: 0, logs: 0, fromMs: 0, toMs: 0, skippedSequenceFiles };
  }
  beats.sort((a, b) => a.startMs - b.startMs);
  logs.sort((a, b) => a.timeMs - b.timeMs);
  const step = (at: number): void => {
    now = at;
    const changes = engine.evaluate(at);
    for (const change of changes) recorder.handle(change);
    incidents.noteAnomalyChanges(changes);
    for (const change of incidents.evaluate(at).anomalyChanges) latest.set(change.anomaly.id, change.anomaly);
  };
  const slice = config.detect.sliceMs;
  const lastBeat = beats[beats.length - 1];
  const fromMs = Math.min(beats[0]?.startMs ?? Infinity, logs[0]?.timeMs ?? Infinity);
  const toMs = Math.max(lastBeat ? lastBeat.startMs + lastBeat.durationMs : -Infinity, logs[logs.length - 1]?.timeMs ?? -Infinity);
  let boundary = Math.floor(fromMs / slice) * slice + slice;
  let i = 0;
  let j = 0;
  while (i < beats.length || j < logs.length) {
    const logBatch: LogEvent[] = [];
    while (j < logs.length && logs[j]!.timeMs < boundary) logBatch.push(logs[j++]!);
    if (logBatch.length > 0) {
      engine.observeLogs(logBatch);
      incidents.observeLogs(logBatch, engine.logTemplatesOf(logBatch));
    }
    const batch: Beat[] = [];
    while (i < beats.length && beats[i]!.startMs < boundary) batch.push(beats[i++]!);
    if (batch.length > 0) {
      engine.observe(batch);
      incidents.observe(batch);
    }
    step(boundary);
    boundary += slice;
  }
  const drainUntil = boundary + Math.max(config.detect.runTimeoutMs, slice * 3);
  for (; boundary <= drainUntil; boundary += slice) step(boundary);
  return { anomalies: [...latest.values()], diagnoses, incidents: incidents.incidents(), beats: beats.length, logs: logs.length, fromMs, toMs, skippedSequenceFiles };
}
