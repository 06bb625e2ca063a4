import { serviceSignalKey, type SignalKind, type SignalScore } from '../detect/service-signals.js';
import type { RootCause } from '../model/incident.js';
import { logChangeExplainedByCallee, strongestCallee } from './callee-explained.js';
import { corroboratedScore } from './corroboration.js';

/**
 * The strongest evidence an incident collected per signal key (robust z-scores from
 * ServiceSignals), with the edges of the service graph it happened on.
 */
export interface IncidentEvidence {
  /** key -> strongest score seen while the incident was young. */
  scores: Map<string, SignalScore>;
  /** caller -> callees, as seen in the traces. */
  callees: (service: string) => Iterable<string>;
  /** When each service's first discovery happened (ms). */
  firstSeenMs: Map<string, number>;
}

interface Candidate {
  service: string;
  operation?: string;
  score: number;
  reasons: Array<{ kind: SignalKind; w: number; text: string }>;
}

/** Weights: how strongly each signal says "the fault is here" rather than "it arrived here". */
const ORIGIN_WEIGHT: Record<SignalKind, number> = {
  self: 1,
  'own-failures': 1,
  'error-logs': 1,
  'edge-gap': 1,
  pattern: 1,
  'endpoint-failures': 0.3,
  latency: 0.15,
};
/** Share of an edge gap also held against the caller (its own egress may be the slow part). */
const GAP_CALLER_SHARE = 0.6;
/** A service whose callee shows the same kind of evidence is more likely a victim. */
const PROPAGATED_DISCOUNT = 0.5;
/** z below this is noise for ranking. */
const MIN_Z = 3;
/** A cap so that one extremely steady key cannot drown every other signal. */
const MAX_Z = 60;
/**
 * A key that never passed the false-discovery control during the incident only corroborates: with
 * hundreds of keys, scores of 3-5 happen somewhere in every slice, and summed over many keys such
 * noise would outrank the one key that truly moved.
 */
const UNDISCOVERED_SHARE = 0.2;

/** The score a key contributes: its z, capped, in full only when it was a discovery. */
function weightOf(s: SignalScore): number {
  return Math.min(MAX_Z, s.z) * (s.discovered ? 1 : UNDISCOVERED_SHARE);
}

/**
 * Ranks services by evidence that the fault originates there rather than propagates there:
 * - self time (the service's own spans, callees and gaps excluded) grew: CPU, GC, locks, slow code;
 * - an edge's client/server gap grew while the callee's server time did not: network or queueing,
 *   blamed on the callee, and on the service common to several grown edges (a slow NIC delays
 *   both its requests and its responses);
 * - failures and error logs that start at the service (no callee failed first);
 * - latency and endpoint failures count a little: they propagate upstream to every caller.
 * A service whose callee shows the same kind of evidence is discounted (it inherited it).
 */
export function rankRootCauses(ev: IncidentEvidence, max = 5): RootCause[] {
  const bySvc = new Map<string, Candidate>();
  const cand = (service: string): Candidate => {
    let c = bySvc.get(service);
    if (c === undefined) bySvc.set(service, (c = { service, score: 0, reasons: [] }));
    return c;
  };
  const strength = new Map<string, Map<SignalKind, number>>();
  const add = (service: string, kind: SignalKind, z: number): void => {
    let m = strength.get(service);
    if (m === undefined) strength.set(service, (m = new Map()));
    m.set(kind, Math.max(m.get(kind) ?? 0, z));
  };
  for (const s of ev.scores.values()) {
    if (s.z < MIN_Z) continue;
    let w = weightOf(s);
    if (s.kind === 'self' && gapExplains(ev, s)) w *= PROPAGATED_DISCOUNT;
    // An own-time shift seen only in the tail (p90 moved; median own time and request latency did
    // not) is a few slow requests, the way a heavy-tailed service looks on a busy minute, rather
    // than a change in the service (CPU, GC, a slow code path) that slows most of its requests:
    // it only corroborates, like a key that never passed the false-discovery control.
    if (tailOnly(ev, s)) w *= UNDISCOVERED_SHARE;
    if (namesCallee(ev, s)) w *= PROPAGATED_DISCOUNT;
    add(s.service, s.kind, w);
  }
  const gapTotals = new Map<string, number>();
  const gapNotes = new Map<string, string[]>();
  for (const s of ev.scores.values()) {
    if (s.kind !== 'edge-gap' || s.z < MIN_Z || s.caller === undefined) continue;
    const z = weightOf(s);
    const note = `${s.caller} -> ${s.service} gap ${s.observed.toFixed(1)} ms vs ${s.expected.toFixed(1)} ms`;
    for (const [svc, share] of [
      [s.service, 1],
      [s.caller, GAP_CALLER_SHARE],
    ] as const) {
      gapTotals.set(svc, (gapTotals.get(svc) ?? 0) + z * share);
      const notes = gapNotes.get(svc) ?? [];
      notes.push(note);
      gapNotes.set(svc, notes);
    }
  }
  for (const [service, kinds] of strength) {
    const c = cand(service);
    for (const [kind, z] of kinds) {
      if (kind === 'edge-gap') continue;
      let w = ORIGIN_WEIGHT[kind];
      if (kind === 'latency' && !calleeMoved(ev, service, strength)) w = ORIGIN_WEIGHT.self;
      else if (kind !== 'latency' && kind !== 'endpoint-failures' && (calleeHas(ev, service, kind, strength) || (kind === 'pattern' && logChangeExplainedByCallee(service, strength, ev.callees(service), MIN_Z)))) w *= PROPAGATED_DISCOUNT;
      c.reasons.push({ kind, w: w * z, text: describe(kind, service, ev) });
    }
  }
  for (const [service, total] of gapTotals) {
    cand(service).reasons.push({ kind: 'edge-gap', w: ORIGIN_WEIGHT['edge-gap'] * total, text: `network/queueing gap grew (${(gapNotes.get(service) ?? []).slice(0, 3).join('; ')})` });
  }
  for (const c of bySvc.values()) {
    c.reasons.sort((a, b) => b.w - a.w);
    c.score = corroboratedScore(c.reasons);
    const op = bestOperation(ev, c.service);
    if (op !== undefined) c.operation = op;
  }
  const first = (s: string): number => ev.firstSeenMs.get(s) ?? Infinity;
  return [...bySvc.values()]
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || first(a.service) - first(b.service) || a.service.localeCompare(b.service))
    .slice(0, max)
    .map((c) => ({
      service: c.service,
      ...(c.operation !== undefined ? { operation: c.operation } : {}),
      score: Number(c.score.toFixed(2)),
      reason: c.reasons
        .slice(0, 2)
        .map((r) => r.text)
        .join('; '),
    }));
}

/**
 * Counterfactual for own time: had the calls the service makes not slowed in the network, would
 * its own time have grown anyway? When one of its outgoing edges' gap grew by at least as many ms
 * as its own time did, that gap alone accounts for the growth (a caller whose waiting on a delayed
 * call lands in its own spans, e.g. a client span missing or asynchronous): it is inherited.
 */
function gapExplains(ev: IncidentEvidence, self: SignalScore): boolean {
  const grew = self.observed - self.expected;
  if (!(grew > 0)) return false;
  for (const g of ev.scores.values()) if (g.kind === 'edge-gap' && g.caller === self.service && g.z >= MIN_Z && g.observed - g.expected >= grew) return true;
  return false;
}

/**
 * Whether a new or surging log line names one of the service's callees ("No instances available
 * for ts-train-service", "connection refused: payments"): the writer reports a failure of that
 * dependency, so the line is inherited evidence, like a failure its callee also shows.
 */
function namesCallee(ev: IncidentEvidence, s: SignalScore): boolean {
  if (s.kind !== 'pattern' || s.direction !== 'surge' || s.label === undefined) return false;
  for (const callee of ev.callees(s.service)) if (callee !== s.service && namesWord(s.label, callee)) return true;
  return false;
}

/** `name` occurs in `text` as a whole name (not inside a longer identifier). */
function namesWord(text: string, name: string): boolean {
  const inName = (c: string | undefined): boolean => c !== undefined && /[\w.-]/.test(c);
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) if (!inName(text[i - 1]) && !inName(text[i + name.length])) return true;
  return false;
}

/** Whether an own-time score is a tail figure whose service's median own time and latency did not move. */
function tailOnly(ev: IncidentEvidence, s: SignalScore): boolean {
  if (s.kind !== 'self' || s.key !== serviceSignalKey.selfTail(s.service)) return false;
  for (const key of [serviceSignalKey.selfMedian(s.service), serviceSignalKey.latencyMedian(s.service)]) if ((ev.scores.get(key)?.z ?? 0) >= MIN_Z) return false;
  return true;
}

/**
 * Failures, error logs and changed event patterns are one family for propagation: a callee that
 * returns a wrong answer may only log it (or stop a line), while its caller, which cannot use the
 * answer, fails its requests; either way the caller's failure evidence arrived from below.
 */
const FAILURE_FAMILY: ReadonlySet<SignalKind> = new Set<SignalKind>(['own-failures', 'error-logs', 'pattern']);

function calleeHas(ev: IncidentEvidence, service: string, kind: SignalKind, strength: Map<string, Map<SignalKind, number>>): boolean {
  return strongestCallee(service, strength, ev.callees(service), FAILURE_FAMILY.has(kind) ? FAILURE_FAMILY : [kind]) >= MIN_Z * UNDISCOVERED_SHARE;
}

/**
 * Whether any service it calls shows evidence of its own (any kind, including a grown gap of the
 * call to it). Request latency counts little because it propagates to every caller; when nothing
 * it calls moved, the growth cannot have come from below: it is the service's own time or its
 * host's, whatever share of it the own-time figures caught (the deepest slow service of a call
 * chain is where the latency starts).
 */
function calleeMoved(ev: IncidentEvidence, service: string, strength: Map<string, Map<SignalKind, number>>): boolean {
  return strongestCallee(service, strength, ev.callees(service)) >= MIN_Z * UNDISCOVERED_SHARE;
}

function describe(kind: SignalKind, service: string, ev: IncidentEvidence): string {
  const s = [...ev.scores.values()].filter((x) => x.service === service && x.kind === kind).sort((a, b) => b.z - a.z)[0];
  const fig = s === undefined ? '' : ` (${fmt(kind, s.observed)} vs ${fmt(kind, s.expected)}, z ${s.z.toFixed(1)})`;
  switch (kind) {
    case 'self':
      return `own time per request grew${fig}`;
    case 'own-failures':
      return `requests fail here first${fig}`;
    case 'error-logs':
      return `error logs surged${fig}`;
    case 'endpoint-failures':
      return `failing requests${fig}`;
    case 'latency':
      return `request latency grew${fig}`;
    case 'pattern':
      return s === undefined ? 'its events changed' : `${s.direction === 'drop' ? 'fewer' : 'more'} ${s.label ?? 'events'} (${s.observed.toFixed(0)} vs ${s.expected.toFixed(1)} expected, z ${s.z.toFixed(1)})`;
    default:
      return `${kind}${fig}`;
  }
}

function fmt(kind: SignalKind, v: number): string {
  if (!Number.isFinite(v)) return '?';
  if (kind === 'own-failures' || kind === 'endpoint-failures') return `${(v * 100).toFixed(0)} %`;
  if (kind === 'error-logs') return v.toFixed(0);
  return `${v.toFixed(1)} ms`;
}

/** The endpoint of the service with the strongest failure evidence, if any. */
function bestOperation(ev: IncidentEvidence, service: string): string | undefined {
  let best: SignalScore | undefined;
  for (const s of ev.scores.values()) {
    if (s.service !== service || s.kind !== 'endpoint-failures' || s.operation === undefined || s.z < MIN_Z) continue;
    if (best === undefined || s.z > best.z) best = s;
  }
  return best?.operation;
}
