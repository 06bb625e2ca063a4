import { AnomalyLifecycle } from '../detect/lifecycle.js';
import { ServiceGraph, type EdgeSummary, type GraphSlice, type ServiceGraphBudget, type ServiceGraphOptions } from '../detect/service-graph.js';
import { ServiceSignals, type ServiceSignalOptions, type SignalSlice } from '../detect/service-signals.js';
import type { Anomaly, AnomalyChange } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Incident } from '../model/incident.js';
import type { LogEvent } from '../model/log-event.js';
import type { TemplateMatch } from '../detect/log-templates.js';
import { IncidentTracker, type IncidentChange, type IncidentTrackerOptions } from './incidents.js';
import { signalScoreOf } from './peer-anomalies.js';
import type { SignalScore } from '../detect/service-signals.js';

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
  /** The service-graph slices this evaluation closed, oldest first (for the RED rollups). */
  slices?: GraphSlice[];
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
  private pendingPeerSignals: AnomalyChange[] = [];
  private pendingPeerScores: SignalScore[] = [];
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
      { neighbours: (s) => graph.neighbours(s), callees: (s) => graph.callees(s), isEntryService: (s) => graph.isEntryService(s), observes: (s) => graph.observes(s) },
      {
        ...opts.incidents,
        // A burst is one slice repeated by the signals' windows: the ledger must know their length.
        ...(opts.signals?.windowSlices !== undefined ? { evidence: { burstSlices: opts.signals.windowSlices, ...opts.incidents?.evidence } } : {}),
        ...(opts.instanceTag !== undefined ? { instanceTag: opts.instanceTag } : {}),
      },
    );
  }

  observe(beats: readonly Beat[]): void {
    this.graph.observe(beats);
  }

  /** `templates`: what the detection engine mined from these records (ServiceGraph.observeLogs). */
  observeLogs(events: readonly LogEvent[], templates?: readonly TemplateMatch[]): void {
    this.graph.observeLogs(events, templates);
  }

  /** The engine's anomaly changes, to be grouped into incidents at the next evaluation. */
  noteAnomalyChanges(changes: readonly AnomalyChange[]): void {
    for (const c of changes) this.pendingOther.push(c);
  }

  /**
   * Other instances' anomaly changes (the correlator of a scaled-out shape): their service-level
   * anomalies open and join incidents like this instance's own, with their scores as evidence.
   * They are grouped, never published again: they stay out of `anomalyChanges`.
   */
  notePeerAnomalyChanges(changes: readonly AnomalyChange[]): void {
    for (const c of changes) {
      const score = signalScoreOf(c.anomaly);
      if (score === undefined) {
        this.pendingOther.push(c);
        continue;
      }
      this.pendingPeerSignals.push(c);
      if (c.kind !== 'resolved') this.pendingPeerScores.push(score);
    }
  }

  evaluate(nowMs: number): IncidentEvaluation {
    const anomalyChanges: AnomalyChange[] = [];
    const incidentChanges: IncidentChange[] = [];
    const slices = this.graph.advance(nowMs);
    // A correlator that owns no traffic (routing put every service elsewhere) closes no slices:
    // peer anomalies are grouped anyway, at an empty slice ending now.
    if (slices.length === 0 && this.pendingPeerSignals.length > 0) {
      const other = this.pendingOther;
      const peer = this.pendingPeerSignals;
      const empty = { startMs: nowMs, endMs: nowMs, scores: this.pendingPeerScores, findings: [] };
      this.pendingOther = [];
      this.pendingPeerSignals = [];
      this.pendingPeerScores = [];
      for (const c of this.tracker.apply(empty, peer, other, nowMs)) incidentChanges.push(c);
    }
    for (const slice of slices) {
      const scored = this.signals.score(slice, (s, k) => this.graph.patternLabel(s, k));
      this.onSlice?.(scored);
      const changes = this.lifecycle.apply(scored.findings, slice.endMs);
      for (const c of changes) anomalyChanges.push(c);
      const other = this.pendingOther;
      this.pendingOther = [];
      const peer = this.pendingPeerSignals;
      const peerScores = this.pendingPeerScores;
      this.pendingPeerSignals = [];
      this.pendingPeerScores = [];
      const evidence = peerScores.length > 0 ? { ...scored, scores: [...scored.scores, ...peerScores] } : scored;
      for (const c of this.tracker.apply(evidence, peer.length > 0 ? [...changes, ...peer] : changes, other, slice.endMs, slice.services)) incidentChanges.push(c);
    }
    return { anomalyChanges, incidentChanges, slices };
  }

  openAnomalies(): Anomaly[] {
    return this.lifecycle.openAnomalies();
  }

  incidents(): Incident[] {
    return this.tracker.incidents();
  }

  /** The incident the anomaly belongs to or would join now (see IncidentTracker.incidentFor). */
  incidentFor(a: Pick<Anomaly, 'id' | 'service' | 'firstSeenMs'>): Incident | undefined {
    return this.tracker.incidentFor(a);
  }

  incidentById(id: string): Incident | undefined {
    return this.tracker.incidentById(id);
  }

  /** The service graph's budget figures (buffered traces, early folds, dropped keys). */
  graphBudget(): ServiceGraphBudget {
    return this.graph.budget();
  }

  /** The service graph's edges and each signal key's warm-up ("learning (k/n)" until baselined). */
  graphFigures(): { edges: EdgeSummary[]; keys: Array<{ key: string; status: string }> } {
    return { edges: this.graph.edges(), keys: this.signals.learning().map((k) => ({ key: k.key, status: k.learning || 'baselined' })) };
  }
}

/** Where the live sidecar sends an evaluation: anomalies and incidents to the store, spans to the emitter. */
export interface IncidentOutlets {
  saveAnomaly(a: Anomaly): void;
  /** Persists an incident change; runs before its event is published, so a reader finds it. */
  saveIncident?(c: IncidentChange): void;
  /** Spans of the service-level anomalies (the incident spans link to them) and of the incidents. */
  anomalySpan?(c: AnomalyChange): void;
  incidentSpan?(c: IncidentChange): void;
}
export interface IncidentEventBus {
  publishAnomalyChange(c: AnomalyChange): unknown;
  publish(kind: string, payload: unknown, ids?: { anomalyId?: string }): unknown;
}

/**
 * Persists, publishes and emits one evaluation: service-level anomaly changes like any other
 * anomaly change, and `incident.opened` / `incident.updated` / `incident.resolved` events
 * carrying the incident, each stored first.
 */
export function publishIncidentEvaluation(ev: IncidentEvaluation, store: IncidentOutlets, bus: IncidentEventBus): void {
  for (const c of ev.anomalyChanges) {
    store.saveAnomaly(c.anomaly);
    bus.publishAnomalyChange(c);
    store.anomalySpan?.(c);
  }
  for (const c of ev.incidentChanges) {
    store.saveIncident?.(c);
    const first = c.incident.anomalyIds[0];
    bus.publish(`incident.${c.kind}`, c.incident, first !== undefined ? { anomalyId: first } : {});
    store.incidentSpan?.(c);
  }
}
