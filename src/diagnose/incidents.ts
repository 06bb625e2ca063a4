import { signalKeyOfAnomaly, type SignalScore, type SignalSlice } from '../detect/service-signals.js';
import type { Anomaly, AnomalyChange, Severity } from '../model/anomaly.js';
import type { Incident, IncidentImpact, RootCause } from '../model/incident.js';
import { EvidenceLedger, type EvidenceLedgerOptions } from './evidence-ledger.js';
import { rankRootCauses } from './root-causes.js';

export interface IncidentChange {
  kind: 'opened' | 'updated' | 'resolved';
  incident: Incident;
}

export interface IncidentTrackerOptions {
  /** An anomaly opening this long after an incident's last activity starts a new incident. */
  joinMs: number;
  /** Slices after the onset whose evidence ranks the root causes (the onset is what tells). */
  evidenceSlices: number;
  /** Resolved incidents kept for the API. */
  rememberResolved: number;
  instanceTag?: string;
  /**
   * Scaled-out correlator: an anomaly of a service this instance never sees traffic of (another
   * instance owns it) joins an open incident by time alone, since no local edge can say whether
   * the services are connected. Off for a single instance.
   */
  joinUnseenServices?: boolean;
  /**
   * Slices an engine anomaly (handler, sequence, coverage) that found no incident waits before it
   * opens one of its own: the service-level signals confirm a fault over 4 windows, and the same
   * fault's service-level anomaly, when it comes, is the better founder (it ranks root causes).
   */
  engineHoldSlices: number;
  /** The least severity with which an engine anomaly opens an incident of its own. */
  engineOpenSeverity: Severity;
  /**
   * Whether a high or critical engine anomaly of a front-door service that waited in vain opens an
   * incident of its own. Off by default: on bench:rca (Train Ticket) it added 0.09 false incidents
   * per fault-free minute and cost 9 points of detection (stale incidents swallowed later faults).
   */
  engineOpens: boolean;
  /** How each key's scores over the evidence slices become its evidence (see EvidenceLedger). */
  evidence?: Partial<EvidenceLedgerOptions>;
}

/**
 * Engine anomalies join incidents of their own service only: joining graph neighbours too kept
 * incidents open through noisy handlers of busy services and cost detection on bench:rca.
 */
const ENGINE_REACH = 'service' as const;

export const DEFAULT_INCIDENT_OPTIONS: IncidentTrackerOptions = { joinMs: 120_000, evidenceSlices: 6, rememberResolved: 200, engineHoldSlices: 6, engineOpenSeverity: 'high', engineOpens: false };

/** What the tracker needs to know of the service graph. */
export interface GraphView {
  neighbours(service: string): Set<string>;
  callees(service: string): Iterable<string>;
  /** Services nobody calls: the front door, where users feel a fault. */
  isEntryService(service: string): boolean;
  /** Whether this instance sees the service's traffic (undefined: it sees every service). */
  observes?(service: string): boolean;
}

interface Tracked {
  incident: Incident;
  anomalies: Map<string, Anomaly>;
  openAnomalies: Set<string>;
  evidence: EvidenceLedger;
  firstSeenMs: Map<string, number>;
  evidenceLeft: number;
  /**
   * Service-level anomalies that joined after the evidence window closed: each key's own window
   * (the slice before it joined and `evidenceSlices` from it), and the slices it has left.
   */
  late: Map<string, { evidence: EvidenceLedger; left: number }>;
  lastActiveMs: number;
  /** The latest onset of its service-level anomalies: how close in time a new one of another service starts. */
  lastOnsetMs: number;
  impact: IncidentImpact;
  /** Ids of the engine's anomalies (their services rank root causes when the signals show none). */
  engine: Set<string>;
}

/** An engine anomaly that found no incident yet, with the slices it has waited. */
interface Waiting {
  change: AnomalyChange;
  slices: number;
}

/** Requests and failed requests of one service in one slice. */
export interface ServiceTraffic {
  requests: number;
  failed: number;
}

const SEVERITY_ORDER: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/**
 * One fault, one incident: anomalies that open close in time (`joinMs`) and touch the same part
 * of the service graph (same service or neighbours) are grouped. Service-level signal anomalies
 * open incidents at once (they passed the false-discovery control); the engine's handler and
 * sequence anomalies join by the same rule, and one that finds no incident waits
 * `engineHoldSlices` for one (its fault's service-level anomaly usually follows) before it opens
 * its own, so one fault is one incident. An incident resolves when all its anomalies have.
 */
export class IncidentTracker {
  private readonly opts: IncidentTrackerOptions;
  private readonly open = new Map<string, Tracked>();
  private readonly resolved: Incident[] = [];
  private readonly waiting = new Map<string, Waiting>();
  /** Engine anomalies that waited in vain: they join no incident until they resolve. */
  private readonly gaveUp = new Set<string>();
  private previous: SignalScore[] = [];
  private counter = 0;
  private readonly tag: string;

  constructor(
    private readonly graph: GraphView,
    opts: Partial<IncidentTrackerOptions> = {},
  ) {
    this.opts = { ...DEFAULT_INCIDENT_OPTIONS, ...opts };
    this.tag = this.opts.instanceTag ?? Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  }

  /**
   * One slice: the signal scores, the anomaly changes they caused (`signalChanges`) and those of
   * the engine (`otherChanges`); `traffic` (per service) counts towards each open incident's impact.
   */
  apply(
    slice: SignalSlice,
    signalChanges: readonly AnomalyChange[],
    otherChanges: readonly AnomalyChange[],
    nowMs: number,
    traffic?: ReadonlyMap<string, ServiceTraffic>,
  ): IncidentChange[] {
    const touched = new Set<Tracked>();
    const opened = new Set<Tracked>();
    for (const ch of signalChanges) {
      const a = ch.anomaly;
      let t = this.owner(a.id);
      if (t === undefined && ch.kind === 'opened') {
        t = this.joinable(a.service, a.firstSeenMs);
        if (t === undefined) {
          t = this.create(a, slice);
          opened.add(t);
        } else if (t.evidenceLeft <= 0) this.followLate(t, a, slice);
      }
      if (t === undefined) continue;
      this.attach(t, ch);
      touched.add(t);
    }
    for (const ch of otherChanges) {
      const t = this.owner(ch.anomaly.id);
      if (t !== undefined) {
        this.attach(t, ch, true);
        touched.add(t);
      } else if (ch.kind === 'resolved') {
        this.waiting.delete(ch.anomaly.id);
        this.gaveUp.delete(ch.anomaly.id);
      } else if (!this.gaveUp.has(ch.anomaly.id)) this.waiting.set(ch.anomaly.id, { change: ch, slices: this.waiting.get(ch.anomaly.id)?.slices ?? 0 });
    }
    this.placeWaiting(slice, touched, opened);
    for (const t of this.open.values()) {
      if (t.evidenceLeft <= 0) continue;
      t.evidenceLeft--;
      this.note(t, slice.scores, slice.startMs);
      touched.add(t);
    }
    for (const t of this.open.values()) if (noteLate(t, slice)) touched.add(t);
    this.previous = slice.scores;
    if (traffic !== undefined) for (const t of this.open.values()) this.countImpact(t, traffic);
    const changes: IncidentChange[] = [];
    for (const t of touched) {
      this.refresh(t, nowMs);
      if (opened.has(t)) changes.push({ kind: 'opened', incident: snapshot(t.incident) });
      else if (t.openAnomalies.size > 0) changes.push({ kind: 'updated', incident: snapshot(t.incident) });
    }
    for (const [id, t] of this.open) {
      if (t.openAnomalies.size > 0) continue;
      t.incident.state = 'resolved';
      t.incident.endMs = nowMs;
      this.open.delete(id);
      this.resolved.push(t.incident);
      if (this.resolved.length > this.opts.rememberResolved) this.resolved.shift();
      changes.push({ kind: 'resolved', incident: snapshot(t.incident) });
    }
    return changes;
  }

  /**
   * Engine anomalies without an incident join one by the grouping rule (an incident opened since
   * may be their fault's); those still alone after `engineHoldSlices` open their own, unless the
   * service-level signals of their service are already discovering the fault (its anomaly is on
   * its way and will found the incident).
   */
  private placeWaiting(slice: SignalSlice, touched: Set<Tracked>, opened: Set<Tracked>): void {
    const discovering = new Set(slice.scores.filter((s) => s.discovered).map((s) => s.service));
    for (const [id, w] of this.waiting) {
      const a = w.change.anomaly;
      let t = this.joinable(a.service, a.firstSeenMs, ENGINE_REACH);
      if (t === undefined) {
        w.slices++;
        if (w.slices < this.opts.engineHoldSlices || (discovering.has(a.service) && w.slices < 2 * this.opts.engineHoldSlices)) continue;
        // Only what users feel at the front door founds an incident. Anything else stops waiting:
        // a long-lived handler anomaly (a noisy database call) that joined a much later incident
        // would keep it open and swallow the next fault (measured on bench:rca).
        if (!this.opts.engineOpens || SEVERITY_ORDER.indexOf(a.severity) < SEVERITY_ORDER.indexOf(this.opts.engineOpenSeverity) || !this.graph.isEntryService(a.service)) {
          this.waiting.delete(id);
          this.gaveUp.add(id);
          continue;
        }
        t = this.create(a, slice);
        opened.add(t);
      }
      this.waiting.delete(id);
      this.attach(t, { ...w.change, kind: 'opened' }, true);
      touched.add(t);
    }
  }

  /** Open and remembered incidents, best first: open before resolved, then severity, then score. */
  incidents(): Incident[] {
    const all = [...[...this.open.values()].map((t) => t.incident), ...this.resolved].map(snapshot);
    return all.sort(
      (a, b) =>
        Number(b.state === 'open') - Number(a.state === 'open') ||
        SEVERITY_ORDER.indexOf(b.severity) - SEVERITY_ORDER.indexOf(a.severity) ||
        (b.rootCauses[0]?.score ?? 0) - (a.rootCauses[0]?.score ?? 0) ||
        b.startMs - a.startMs,
    );
  }

  /**
   * The incident an anomaly belongs to, or would join if it were grouped now: the same rule the
   * grouping applies to the engine's anomalies (an open incident of its service or a graph
   * neighbour, recently active).
   */
  incidentFor(a: Pick<Anomaly, 'id' | 'service' | 'firstSeenMs'>): Incident | undefined {
    const t = this.owner(a.id) ?? this.joinable(a.service, a.firstSeenMs, ENGINE_REACH);
    return t === undefined ? undefined : snapshot(t.incident);
  }

  /** An open or remembered incident by id. */
  incidentById(id: string): Incident | undefined {
    const t = this.open.get(id)?.incident ?? this.resolved.find((i) => i.id === id);
    return t === undefined ? undefined : snapshot(t);
  }

  /**
   * Impact is what users felt: requests at the front door (services nobody calls) whose calls
   * can reach one of the incident's services.
   */
  private countImpact(t: Tracked, traffic: ReadonlyMap<string, ServiceTraffic>): void {
    for (const [service, figures] of traffic) {
      if (!this.graph.isEntryService(service) || !this.reaches(service, t.incident.services)) continue;
      t.impact.requests += figures.requests;
      t.impact.errors += figures.failed;
    }
    t.incident.impact = { ...t.impact };
  }

  private reaches(from: string, targets: readonly string[]): boolean {
    const seen = new Set([from]);
    const queue = [from];
    while (queue.length > 0) {
      const s = queue.pop()!;
      if (targets.includes(s)) return true;
      for (const c of this.graph.callees(s)) {
        if (seen.has(c)) continue;
        seen.add(c);
        queue.push(c);
      }
    }
    return false;
  }

  private owner(anomalyId: string): Tracked | undefined {
    for (const t of this.open.values()) if (t.anomalies.has(anomalyId)) return t;
    return undefined;
  }

  /**
   * `reach`: 'graph' joins anything connected to the incident's services (service-level anomalies,
   * which passed the false-discovery control); 'service' only the incident's own services.
   */
  private joinable(service: string, atMs: number, reach: 'graph' | 'service' = 'graph'): Tracked | undefined {
    let best: Tracked | undefined;
    for (const t of this.open.values()) {
      if (atMs - t.lastActiveMs > this.opts.joinMs) continue;
      // Another service joins only an anomaly that started close in time: one that merely stays
      // open (a slow key held above keepZ for minutes) says nothing about a fault that starts
      // later, and would otherwise absorb every connected fault while it lasts.
      const own = t.incident.services.includes(service);
      const near =
        own ||
        (reach === 'graph' && atMs - t.lastOnsetMs <= this.opts.joinMs && (this.connected(t.incident.services, service) || this.acrossInstances(t.incident.services, service)));
      if (near && (best === undefined || t.incident.startMs < best.incident.startMs)) best = t;
    }
    return best;
  }

  /** Whether one side is a service only another instance sees, when such joins are on. */
  private acrossInstances(services: readonly string[], service: string): boolean {
    const graph = this.graph;
    if (this.opts.joinUnseenServices !== true || graph.observes === undefined) return false;
    return !graph.observes(service) || services.some((s) => !graph.observes!(s));
  }

  /** Whether `service` is reachable from any of `services` over the graph's edges (either way). */
  private connected(services: readonly string[], service: string): boolean {
    const seen = new Set(services);
    const queue = [...services];
    while (queue.length > 0) {
      const s = queue.pop()!;
      if (s === service) return true;
      for (const n of this.graph.neighbours(s)) {
        if (seen.has(n)) continue;
        seen.add(n);
        queue.push(n);
      }
    }
    return false;
  }

  private create(a: Anomaly, slice: SignalSlice): Tracked {
    this.counter++;
    const id = `inc_${Math.max(0, Math.floor(a.firstSeenMs)).toString(36)}_${this.tag}${this.counter.toString(36)}`;
    const t: Tracked = {
      incident: { id, startMs: a.firstSeenMs, endMs: a.lastSeenMs, anomalyIds: [], rootCauses: [], state: 'open', severity: 'low', services: [], summary: '' },
      anomalies: new Map(),
      openAnomalies: new Set(),
      evidence: new EvidenceLedger(this.opts.evidence),
      firstSeenMs: new Map(),
      evidenceLeft: this.opts.evidenceSlices,
      late: new Map(),
      lastActiveMs: a.firstSeenMs,
      lastOnsetMs: a.firstSeenMs,
      impact: { requests: 0, errors: 0 },
      engine: new Set(),
    };
    // The slice before the onset often holds the first, still sub-threshold, sign of the fault.
    this.note(t, this.previous, slice.startMs - (slice.endMs - slice.startMs));
    this.open.set(id, t);
    return t;
  }

  private attach(t: Tracked, ch: AnomalyChange, engine = false): void {
    const a = ch.anomaly;
    t.anomalies.set(a.id, a);
    if (engine) t.engine.add(a.id);
    if (ch.kind === 'resolved') t.openAnomalies.delete(a.id);
    else {
      t.openAnomalies.add(a.id);
      // Only service-level anomalies keep an incident fresh for grouping: an engine anomaly's
      // 5-minute window stays open minutes after its fault is over, and a later fault nearby
      // would join the stale incident (the multi-service e2e test's slow callee, then a network
      // delay 150 s later).
      if (!engine) {
        t.lastActiveMs = Math.max(t.lastActiveMs, a.lastSeenMs);
        t.lastOnsetMs = Math.max(t.lastOnsetMs, a.firstSeenMs);
      }
    }
    if (!t.firstSeenMs.has(a.service)) t.firstSeenMs.set(a.service, a.firstSeenMs);
    // Visible to joinable() for the next anomaly of the same evaluation.
    if (!t.incident.services.includes(a.service)) t.incident.services.push(a.service);
  }

  /**
   * A fault that shows up after an unrelated discovery opened the incident joins it once its own
   * evidence is confirmed, by then past the window that ranks the causes, which then never saw
   * it. Its key gets a window of its own, as long as the founder's and placed the same way (the
   * slice before it joined, then `evidenceSlices`): every anomaly of the incident is judged over
   * the same number of slices from its own start, no key for longer (the incident's other keys
   * are not followed: that collected noise, see docs/incidents.md).
   */
  private followLate(t: Tracked, a: Anomaly, slice: SignalSlice): void {
    const key = signalKeyOfAnomaly(a.key);
    if (key === undefined || t.late.has(key)) return;
    const evidence = new EvidenceLedger(this.opts.evidence);
    evidence.noteSlice(
      this.previous.filter((s) => s.key === key),
      slice.startMs - (slice.endMs - slice.startMs),
    );
    t.late.set(key, { evidence, left: this.opts.evidenceSlices });
  }

  /** One slice's scores as the incident's evidence (in slice order: a burst is told by its run). */
  private note(t: Tracked, scores: readonly SignalScore[], atMs: number): void {
    t.evidence.noteSlice(scores, atMs);
    for (const s of scores) if (s.z > 0 && s.discovered && !t.firstSeenMs.has(s.service)) t.firstSeenMs.set(s.service, atMs);
  }

  private refresh(t: Tracked, nowMs: number): void {
    const inc = t.incident;
    const anomalies = [...t.anomalies.values()];
    inc.anomalyIds = anomalies.map((a) => a.id);
    inc.services = [...new Set(anomalies.map((a) => a.service))].sort();
    inc.endMs = Math.max(inc.endMs, ...anomalies.map((a) => a.lastSeenMs), Math.min(nowMs, t.lastActiveMs));
    const scores = t.evidence.scores();
    for (const [key, l] of t.late) {
      const s = l.evidence.scores().get(key);
      if (s !== undefined && !(s.z <= (scores.get(key)?.z ?? 0))) scores.set(key, s);
    }
    inc.rootCauses = rankRootCauses({ scores, callees: (s) => this.graph.callees(s), firstSeenMs: t.firstSeenMs });
    if (inc.rootCauses.length === 0) inc.rootCauses = engineRootCauses(anomalies.filter((a) => t.engine.has(a.id)));
    inc.severity = this.severity(scores.values(), t.anomalies.size);
    const top = inc.rootCauses[0];
    inc.summary = `${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'} across ${inc.services.length} service(s)${top ? `; most likely origin ${top.service}: ${top.reason}` : ''}`;
  }

  /** Severity from user impact: what the front-door services' requests felt. */
  private severity(evidence: Iterable<SignalScore>, anomalies: number): Severity {
    let failing = 0;
    let slow = 0;
    for (const s of evidence) {
      if (!this.graph.isEntryService(s.service) || s.z < 5) continue;
      if (s.kind === 'endpoint-failures') failing = Math.max(failing, s.observed);
      if (s.kind === 'latency') slow = Math.max(slow, s.z);
    }
    if (failing >= 0.2) return 'critical';
    if (failing > 0 || slow >= 10) return 'high';
    if (slow > 0 || anomalies > 1) return 'medium';
    return 'low';
  }
}

/**
 * When the service-level signals rank nothing (the fault shows only in one handler or sequence),
 * the engine's anomalies are the evidence: their services, each with the handler that moved, the
 * most severe and earliest first.
 */
export function engineRootCauses(anomalies: readonly Anomaly[]): RootCause[] {
  const best = new Map<string, { a: Anomaly; score: number }>();
  for (const a of anomalies) {
    const score = (SEVERITY_ORDER.indexOf(a.severity) + 1) * a.confidence;
    const key = `${a.service}\u0000${a.handler ?? ''}`;
    const prev = best.get(key);
    if (prev === undefined || score > prev.score || (score === prev.score && a.firstSeenMs < prev.a.firstSeenMs)) best.set(key, { a, score });
  }
  return [...best.values()]
    .sort((x, y) => y.score - x.score || x.a.firstSeenMs - y.a.firstSeenMs)
    .map(({ a, score }) => ({
      service: a.service,
      ...(a.handler !== undefined ? { operation: a.handler } : {}),
      score: Math.round(score * 1000) / 1000,
      reason: `${a.type}/${a.subtype} anomaly of the detection engine (no service-level signal moved)`,
    }));
}

/** The slice's score of each late key still inside its own window; whether any was noted. */
function noteLate(t: Tracked, slice: SignalSlice): boolean {
  let noted = false;
  for (const [key, l] of t.late) {
    if (l.left <= 0) continue;
    l.left--;
    l.evidence.noteSlice(
      slice.scores.filter((s) => s.key === key),
      slice.startMs,
    );
    noted = true;
  }
  return noted;
}

function snapshot(i: Incident): Incident {
  return {
    ...i,
    anomalyIds: [...i.anomalyIds],
    rootCauses: i.rootCauses.map((r) => ({ ...r })),
    services: [...i.services],
    ...(i.impact !== undefined && i.impact !== null ? { impact: { ...i.impact } } : {}),
  };
}
