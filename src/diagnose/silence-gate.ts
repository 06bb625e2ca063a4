import type { Anomaly } from '../model/anomaly.js';

/** Where silences and stored incident membership are read (the incident store). */
export interface SilenceLookup {
  silencedUntil(incidentId: string, nowMs: number): number | undefined;
  incidentIdsOfAnomaly(anomalyId: string): string[];
}

/** The live grouping: which open incident an anomaly belongs to or would join now. */
export interface LiveMembership {
  incidentFor(a: Pick<Anomaly, 'id' | 'service' | 'firstSeenMs'>): { id: string } | undefined;
}

export interface Silenced {
  incidentId: string;
  untilMs: number;
}

/** An event as the bus carries it (only what the gate reads). */
export interface GateEvent {
  kind: string;
  anomalyId?: string;
  payload: unknown;
}

/**
 * Answers "is this silenced?" for anomalies, incidents and events. An anomaly is silenced when an
 * incident it was stored with, or the open incident it belongs to or would join now, is
 * silenced: the engine's anomalies are diagnosed (and healing is decided) before the next
 * grouping runs, so waiting for the stored membership would let the first one through.
 */
export class SilenceGate {
  constructor(
    private readonly store: SilenceLookup,
    private readonly live: LiveMembership | undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  incident(incidentId: string): Silenced | undefined {
    const untilMs = this.store.silencedUntil(incidentId, this.clock());
    return untilMs === undefined ? undefined : { incidentId, untilMs };
  }

  anomaly(a: Pick<Anomaly, 'id' | 'service' | 'firstSeenMs'>): Silenced | undefined {
    for (const id of this.store.incidentIdsOfAnomaly(a.id)) {
      const s = this.incident(id);
      if (s !== undefined) return s;
    }
    const live = this.live?.incidentFor(a);
    return live === undefined ? undefined : this.incident(live.id);
  }

  /** An alert or event subject: `incident` by its id, `anomaly` by stored or live membership. */
  subject(family: string, id: string): Silenced | undefined {
    if (family === 'incident') return this.incident(id);
    if (family === 'anomaly') return this.anomaly({ id, service: '', firstSeenMs: 0 });
    return undefined;
  }

  /**
   * incident.* events by the incident in the payload; anomaly.* events by the anomaly in the
   * payload; any other event that names an anomaly (diagnosis.created, fix.*) by that anomaly.
   */
  event(e: GateEvent): Silenced | undefined {
    const p = (e.payload ?? {}) as { id?: unknown; service?: unknown; firstSeenMs?: unknown };
    if (e.kind.startsWith('incident.')) return typeof p.id === 'string' ? this.incident(p.id) : undefined;
    if (e.kind.startsWith('anomaly.') && typeof p.id === 'string') {
      return this.anomaly({ id: p.id, service: typeof p.service === 'string' ? p.service : '', firstSeenMs: typeof p.firstSeenMs === 'number' ? p.firstSeenMs : 0 });
    }
    return e.anomalyId === undefined ? undefined : this.subject('anomaly', e.anomalyId);
  }
}
