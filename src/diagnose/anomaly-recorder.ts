import type { Anomaly, AnomalyChange, Severity } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { EvidenceSource } from '../model/evidence.js';
import { diagnose } from './diagnose.js';

/** What the recorder needs from the store, the event bus and the span emitter (structural, so tests and main can plug anything). */
export interface AnomalyRecorderDeps {
  store: { saveAnomaly(a: Anomaly): void; saveDiagnosis(d: Diagnosis): void };
  events: { publishAnomalyChange(c: AnomalyChange): unknown; publishDiagnosis(d: Diagnosis): unknown };
  spans?: { emit(c: AnomalyChange, d?: Diagnosis): void };
  evidence: EvidenceSource;
  /** Currently open anomalies (the engine's openAnomalies()). */
  openAnomalies: () => Anomaly[];
  clock?: () => number;
  /** Diagnosis or span failures: reported, never thrown into the detection path. */
  onError?: (err: unknown, anomaly: Anomaly) => void;
}

const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
/** Diagnosed severities kept for re-diagnosis decisions; bounded by evicting the oldest. */
const MAX_TRACKED = 10_000;

/**
 * Turns the engine's anomaly changes into durable records, events, a diagnosis and a span, in
 * that order: stored first, so an event consumer can always read what the event names.
 * An anomaly is diagnosed when it opens and again when its severity escalates.
 */
export class AnomalyRecorder {
  private readonly diagnosedAt = new Map<string, Severity>();
  private readonly clock: () => number;

  constructor(private readonly deps: AnomalyRecorderDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  handle(change: AnomalyChange): Diagnosis | undefined {
    const a = change.anomaly;
    this.deps.store.saveAnomaly(a);
    this.deps.events.publishAnomalyChange(change);
    let d: Diagnosis | undefined;
    if (this.needsDiagnosis(change)) {
      try {
        d = diagnose(a, this.deps.evidence, { openAnomalies: this.deps.openAnomalies(), nowMs: this.clock() });
        this.deps.store.saveDiagnosis(d);
        this.deps.events.publishDiagnosis(d);
        this.remember(a.id, a.severity);
      } catch (err) {
        d = undefined;
        this.deps.onError?.(err, a);
      }
    }
    if (change.kind === 'resolved') this.diagnosedAt.delete(a.id);
    try {
      this.deps.spans?.emit(change, d);
    } catch (err) {
      this.deps.onError?.(err, a);
    }
    return d;
  }

  private needsDiagnosis(change: AnomalyChange): boolean {
    if (change.kind === 'resolved') return false;
    const prev = this.diagnosedAt.get(change.anomaly.id);
    return prev === undefined || RANK[change.anomaly.severity] > RANK[prev];
  }

  private remember(id: string, severity: Severity): void {
    this.diagnosedAt.delete(id);
    this.diagnosedAt.set(id, severity);
    if (this.diagnosedAt.size > MAX_TRACKED) {
      const oldest = this.diagnosedAt.keys().next().value;
      if (oldest !== undefined) this.diagnosedAt.delete(oldest);
    }
  }
}
