import { AnomalyLifecycle } from '../detect/lifecycle.js';
import { ServiceGraph, type EdgeSummary, type ServiceGraphOptions } from '../detect/service-graph.js';
import { ServiceSignals, type ServiceSignalOptions, type SignalSlice } from '../detect/service-signals.js';
import type { Anomaly, AnomalyChange } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Incident } from '../model/incident.js';
import type { LogEvent } from '../model/log-event.js';
import { IncidentTracker, type IncidentChange, type IncidentTrackerOptions } from './incidents.js';

export interface IncidentEngineOptions {
  graph?: Partial<ServiceGraphOptions>;
  signals?: Partial<ServiceSignalOptions>;
  incidents?: Partial<IncidentTrackerOptions>;
  /** Clean slices before a service-level anomaly resolves (a sustained return to normal). */
  resolveAfter?: number;
  updateEvery?: number;
  instanceTag?: string;
  /** Sees every scored slice (benchmarks print per-case diagnostics from it). */
  onSlice?: (slice: SignalSlice) => void;
}

export interface IncidentEvaluation {
  /** Service-level anomalies opened, updated or resolved. */
  anomalyChanges: AnomalyChange[];
  incidentChanges: IncidentChange[];
}

/**
 * Wires the service graph, its service-level signals, their anomaly lifecycle and the incident
 * tracker together. The sidecar and offline analysis feed it the same beats and log events as the
 * DetectionEngine and hand it the engine's anomaly changes so they can join incidents.
 */
export class IncidentEngine {
  readonly graph: ServiceGraph;
  readonly signals: ServiceSignals;
  private readonly lifecycle: AnomalyLifecycle;
  private readonly tracker: IncidentTracker;
  private pendingOther: AnomalyChange[] = [];
  private readonly onSlice: ((slice: SignalSlice) => void) | undefined;

  constructor(opts: IncidentEngineOptions = {}) {
    this.graph = new ServiceGraph(opts.graph);
    this.signals = new ServiceSignals(opts.signals);
    this.onSlice = opts.onSlice;
    this.lifecycle = new AnomalyLifecycle({
      resolveAfter: opts.resolveAfter ?? 3,
      updateEvery: opts.updateEvery ?? 6,
      ...(opts.instanceTag !== undefined ? { instanceTag: opts.instanceTag } : {}),
    });
    const graph = this.graph;
    this.tracker = new IncidentTracker(
      { neighbours: (s) => graph.neighbours(s), callees: (s) => graph.callees(s), isEntryService: (s) => graph.isEntryService(s) },
      { ...opts.incidents, ...(opts.instanceTag !== undefined ? { instanceTag: opts.instanceTag } : {}) },
    );
  }

  observe(beats: readonly Beat[]): void {
    this.graph.observe(beats);
  }

  observeLogs(events: readonly LogEvent[]): void {
    this.graph.observeLogs(events);
  }

  /** The engine's anomaly changes, to be grouped into incidents at the next evaluation. */
  noteAnomalyChanges(changes: readonly AnomalyChange[]): void {
    for (const c of changes) this.pendingOther.push(c);
  }

  evaluate(nowMs: number): IncidentEvaluation {
    const anomalyChanges: AnomalyChange[] = [];
    const incidentChanges: IncidentChange[] = [];
    for (const slice of this.graph.advance(nowMs)) {
      const scored = this.signals.score(slice, (s, k) => this.graph.patternLabel(s, k));
      this.onSlice?.(scored);
      const changes = this.lifecycle.apply(scored.findings, slice.endMs);
      for (const c of changes) anomalyChanges.push(c);
      const other = this.pendingOther;
      this.pendingOther = [];
      for (const c of this.tracker.apply(scored, changes, other, slice.endMs)) incidentChanges.push(c);
    }
    return { anomalyChanges, incidentChanges };
  }

  openAnomalies(): Anomaly[] {
    return this.lifecycle.openAnomalies();
  }

  incidents(): Incident[] {
    return this.tracker.incidents();
  }

  /** The service graph's edges and each signal key's warm-up ("learning (k/n)" until baselined). */
  graphFigures(): { edges: EdgeSummary[]; keys: Array<{ key: string; status: string }> } {
    return { edges: this.graph.edges(), keys: this.signals.learning().map((k) => ({ key: k.key, status: k.learning || 'baselined' })) };
  }
}

/** Where the live sidecar sends an evaluation: anomalies to the store, everything to the bus. */
export interface IncidentOutlets {
  saveAnomaly(a: Anomaly): void;
}
export interface IncidentEventBus {
  publishAnomalyChange(c: AnomalyChange): unknown;
  publish(kind: string, payload: unknown, ids?: { anomalyId?: string }): unknown;
}

/**
 * Persists and publishes one evaluation: service-level anomaly changes like any other anomaly
 * change, and `incident.opened` / `incident.updated` / `incident.resolved` events carrying the
 * incident (the event log is the incidents' durable record).
 */
export function publishIncidentEvaluation(ev: IncidentEvaluation, store: IncidentOutlets, bus: IncidentEventBus): void {
  for (const c of ev.anomalyChanges) {
    store.saveAnomaly(c.anomaly);
    bus.publishAnomalyChange(c);
  }
  for (const c of ev.incidentChanges) {
    const first = c.incident.anomalyIds[0];
    bus.publish(`incident.${c.kind}`, c.incident, first !== undefined ? { anomalyId: first } : {});
  }
}
