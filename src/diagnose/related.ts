import type { Anomaly } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { Hypothesis } from '../model/diagnosis.js';
import type { EvidenceSource } from '../model/evidence.js';

export type Relation = 'upstream' | 'downstream';

export interface RelatedAnomaly {
  anomaly: Anomaly;
  relation: Relation;
  /** How the relation was established. */
  via: string;
}

/**
 * Other open anomalies in the same runs. "Upstream" means a fault there can flow into this
 * anomaly: an earlier beat in the run, or a child call this handler waits on. "Downstream" is
 * the reverse: a later beat, or a caller whose time includes this handler's.
 */
export function relatedAnomalies(
  anomaly: Anomaly,
  openAnomalies: readonly Anomaly[],
  evidence: EvidenceSource,
  ownBeats: readonly Beat[],
): RelatedAnomaly[] {
  const others = openAnomalies.filter((o) => o.id !== anomaly.id && o.state !== 'resolved');
  if (others.length === 0) return [];
  const traces = new Map<string, Beat[]>();
  const traceIds = new Set<string>([...anomaly.exemplars.map((e) => e.traceId), ...ownBeats.map((b) => b.traceId)]);
  for (const id of [...traceIds].slice(0, 25)) {
    const beats = evidence.traceBeats(id);
    if (beats !== undefined) traces.set(id, beats);
  }
  const out: RelatedAnomaly[] = [];
  for (const other of others) {
    const rel = relationInTraces(anomaly, other, traces) ?? relationBySequence(anomaly, other);
    if (rel !== undefined) out.push({ anomaly: other, ...rel });
  }
  return out;
}

function relationInTraces(
  self: Anomaly,
  other: Anomaly,
  traces: Map<string, Beat[]>,
): { relation: Relation; via: string } | undefined {
  if (self.handler === undefined || other.handler === undefined || other.service === '') return undefined;
  let up = 0;
  let down = 0;
  for (const beats of traces.values()) {
    const mine = beats.filter((b) => b.handler === self.handler && b.service === self.service);
    const theirs = beats.filter((b) => b.handler === other.handler && b.service === other.service);
    if (theirs.length === 0) continue;
    if (mine.length === 0) {
      // A run that lacks our beat but failed in theirs stopped there: their fault is upstream.
      if (self.type === 'behavioral' && theirs.some((b) => b.status === STATUS_ERROR)) up++;
      continue;
    }
    const byId = new Map(beats.map((b) => [b.spanId, b] as const));
    for (const m of mine) {
      for (const t of theirs) {
        if (isAncestor(m, t, byId)) up++; // t is our (indirect) child call
        else if (isAncestor(t, m, byId)) down++; // t encloses us
        else if (t.startMs < m.startMs) up++;
        else down++;
      }
    }
  }
  if (up === 0 && down === 0) return undefined;
  return up >= down
    ? { relation: 'upstream', via: `runs before or beneath ${self.handler} in ${traces.size} shared trace(s)` }
    : { relation: 'downstream', via: `runs after or around ${self.handler} in ${traces.size} shared trace(s)` };
}

function isAncestor(ancestor: Beat, beat: Beat, byId: Map<string, Beat>): boolean {
  let cur = byId.get(beat.parentSpanId);
  for (let depth = 0; cur !== undefined && depth < 64; depth++) {
    if (cur.spanId === ancestor.spanId) return true;
    cur = byId.get(cur.parentSpanId);
  }
  return false;
}

function relationBySequence(self: Anomaly, other: Anomaly): { relation: Relation; via: string } | undefined {
  if (self.sequence === undefined || other.sequence !== self.sequence) return undefined;
  return other.firstSeenMs <= self.firstSeenMs
    ? { relation: 'upstream', via: `same sequence ${self.sequence}, opened earlier` }
    : { relation: 'downstream', via: `same sequence ${self.sequence}, opened later` };
}

function target(a: Anomaly): string {
  return `${a.type}/${a.subtype} on ${a.handler ?? a.sequence ?? a.service}`;
}

/** 'upstream-cause' if something upstream is also abnormal; 'downstream-symptom' for the reverse. */
export function relatedHypotheses(self: Anomaly, related: readonly RelatedAnomaly[]): Hypothesis[] {
  const out: Hypothesis[] = [];
  const up = related.filter((r) => r.relation === 'upstream');
  const down = related.filter((r) => r.relation === 'downstream');
  if (up.length > 0) {
    const earlier = up.filter((r) => r.anomaly.firstSeenMs <= self.firstSeenMs).length;
    out.push({
      cause: 'upstream-cause',
      description: `anomalies upstream in the same runs may cause this one: ${up.map((r) => target(r.anomaly)).join(', ')}`,
      score: Math.round(Math.min(0.8, 0.4 + 0.1 * up.length + 0.2 * (earlier / up.length)) * 1000) / 1000,
      evidence: up.map((r) => `${r.anomaly.id} (${target(r.anomaly)}) ${r.via}`),
    });
  }
  if (down.length > 0) {
    out.push({
      cause: 'downstream-symptom',
      description: `this anomaly shows up downstream as: ${down.map((r) => target(r.anomaly)).join(', ')}`,
      score: Math.round(Math.min(0.5, 0.2 + 0.1 * down.length) * 1000) / 1000,
      evidence: down.map((r) => `${r.anomaly.id} (${target(r.anomaly)}) ${r.via}`),
    });
  }
  return out;
}
