import type { Config } from '../config/index.js';
import type { Anomaly } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { engineFromConfig } from '../detect/engine-from-config.js';
import { AnomalyRecorder } from '../diagnose/anomaly-recorder.js';

export interface OfflineResult {
  anomalies: Anomaly[];
  diagnoses: Diagnosis[];
  beats: number;
  fromMs: number;
  toMs: number;
  /** Declared sequence files that were skipped, with the reason. */
  skippedSequenceFiles: Array<{ file: string; reason: string }>;
}

/**
 * Replays beats through the live detectors at data time: beats are sorted by start, fed slice by
 * slice, and the engine is evaluated at each slice boundary exactly as the live timer would.
 * Afterwards a few empty slices let "incomplete run" and lifecycle timeouts conclude.
 */
export async function analyzeBeats(beats: Beat[], config: Config, cwd = process.cwd()): Promise<OfflineResult> {
  const { engine, sequenceFiles } = await engineFromConfig(config, cwd);
  const skippedSequenceFiles = sequenceFiles.filter((f) => f.status === 'skipped').map((f) => ({ file: f.file, reason: f.reason ?? '' }));
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
  if (beats.length === 0) return { anomalies: [], diagnoses: [], beats: 0, fromMs: 0, toMs: 0, skippedSequenceFiles };
  beats.sort((a, b) => a.startMs - b.startMs);
  const slice = config.detect.sliceMs;
  const fromMs = beats[0]!.startMs;
  const toMs = beats[beats.length - 1]!.startMs + beats[beats.length - 1]!.durationMs;
  let boundary = Math.floor(fromMs / slice) * slice + slice;
  let i = 0;
  while (i < beats.length) {
    const batch: Beat[] = [];
    while (i < beats.length && beats[i]!.startMs < boundary) batch.push(beats[i++]!);
    if (batch.length > 0) engine.observe(batch);
    now = boundary;
    for (const change of engine.evaluate(boundary)) recorder.handle(change);
    boundary += slice;
  }
  const drainUntil = boundary + Math.max(config.detect.runTimeoutMs, slice * 3);
  for (; boundary <= drainUntil; boundary += slice) {
    now = boundary;
    for (const change of engine.evaluate(boundary)) recorder.handle(change);
  }
  return { anomalies: [...latest.values()], diagnoses, beats: beats.length, fromMs, toMs, skippedSequenceFiles };
}

