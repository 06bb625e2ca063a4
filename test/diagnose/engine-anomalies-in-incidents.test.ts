import { describe, expect, it } from 'vitest';
import type { SignalScore, SignalSlice } from '../../src/detect/service-signals.js';
import { engineRootCauses, IncidentTracker, type GraphView, type IncidentChange } from '../../src/diagnose/incidents.js';
import type { Anomaly, AnomalyChange } from '../../src/model/anomaly.js';
import { anomaly } from './fixtures.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;

/** frontend -> cart -> pricing, and an unrelated batch service. */
function graph(): GraphView {
  const calls: Record<string, string[]> = { frontend: ['cart'], cart: ['pricing'], pricing: [], batch: [] };
  return {
    callees: (s) => calls[s] ?? [],
    neighbours: (s) => new Set([...(calls[s] ?? []), ...Object.keys(calls).filter((c) => calls[c]!.includes(s))]),
    isEntryService: (s) => s === 'frontend' || s === 'batch',
  };
}

function slice(n: number, scores: SignalScore[] = []): SignalSlice {
  return { startMs: T0 + (n - 1) * SLICE, endMs: T0 + n * SLICE, scores, findings: [] };
}

const selfScore = (service: string, z: number): SignalScore => ({ key: `self:${service}`, kind: 'self', service, z, observed: 90, expected: 30, discovered: true });

/** A service-level anomaly, as the incident engine's own lifecycle makes them. */
function signal(id: string, service: string, atMs: number): Anomaly {
  return anomaly({ id, service, key: `signal:${service}`, firstSeenMs: atMs, lastSeenMs: atMs, summary: `${service} self time` });
}

/** A handler anomaly of the detection engine. */
function handlerAnomaly(id: string, service: string, handler: string, atMs: number, over: Partial<Anomaly> = {}): Anomaly {
  return anomaly({ id, service, handler, key: `performance:${service}:${handler}`, firstSeenMs: atMs, lastSeenMs: atMs, severity: 'critical', ...over });
}

const opened = (a: Anomaly): AnomalyChange => ({ kind: 'opened', anomaly: a });
const updated = (a: Anomaly, atMs: number): AnomalyChange => ({ kind: 'updated', anomaly: { ...a, state: 'ongoing', lastSeenMs: atMs } });
const resolved = (a: Anomaly, atMs: number): AnomalyChange => ({ kind: 'resolved', anomaly: { ...a, state: 'resolved', lastSeenMs: atMs, resolvedMs: atMs } });

describe('engine anomalies in incidents', () => {
  it('by default opens no incident of its own: it joins its service\u2019s incident or none', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 'd', engineHoldSlices: 1 });
    const front = handlerAnomaly('an_front', 'frontend', 'GET /checkout', T0 + SLICE);
    tracker.apply(slice(1), [], [opened(front)], T0 + SLICE);
    for (let n = 2; n < 8; n++) expect(tracker.apply(slice(n), [], [updated(front, T0 + n * SLICE)], T0 + n * SLICE)).toEqual([]);
    expect(tracker.incidents()).toEqual([]);
  });

  it('joins the open incident of its service, and not one of a neighbour', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't' });
    const founder = signal('an_sig', 'pricing', T0 + 10_000);
    const out = tracker.apply(slice(1, [selfScore('pricing', 12)]), [opened(founder)], [], T0 + SLICE);
    expect(out.map((c) => c.kind)).toEqual(['opened']);
    const id = out[0]!.incident.id;

    const price = handlerAnomaly('an_price', 'pricing', 'GET /price', T0 + 20_000);
    const quote = handlerAnomaly('an_quote', 'cart', 'GET /cart', T0 + 20_000);
    const changes = tracker.apply(slice(2), [], [opened(price), opened(quote)], T0 + 2 * SLICE);
    expect(changes.map((c) => c.kind)).toEqual(['updated']);
    expect(changes[0]!.incident.id).toBe(id);
    expect(changes[0]!.incident.anomalyIds).toEqual(['an_sig', 'an_price']);
    expect(changes[0]!.incident.services).toEqual(['pricing']);
    // The service-level ranking stands when the signals rank something.
    expect(changes[0]!.incident.rootCauses[0]?.service).toBe('pricing');
    expect(tracker.incidents()).toHaveLength(1);
  });

  it('joins an incident that a later service-level anomaly of the same fault opens, not one of its own', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't' });
    const price = handlerAnomaly('an_price', 'pricing', 'GET /price', T0 + 10_000);
    expect(tracker.apply(slice(1), [], [opened(price)], T0 + SLICE)).toEqual([]);
    expect(tracker.apply(slice(2), [], [updated(price, T0 + 2 * SLICE)], T0 + 2 * SLICE)).toEqual([]);
    const founder = signal('an_sig', 'pricing', T0 + 3 * SLICE);
    const out = tracker.apply(slice(3, [selfScore('pricing', 9)]), [opened(founder)], [], T0 + 3 * SLICE);
    expect(out.map((c) => c.kind)).toEqual(['opened']);
    expect(out[0]!.incident.anomalyIds.sort()).toEqual(['an_price', 'an_sig']);
    for (let n = 4; n < 20; n++) tracker.apply(slice(n), [], [updated(price, T0 + n * SLICE)], T0 + n * SLICE);
    expect(tracker.incidents()).toHaveLength(1);
  });

  it('opens an incident of its own when none is open (front-door service), ranked by its service and handler', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 3 });
    const price = handlerAnomaly('an_price', 'frontend', 'GET /checkout', T0 + 10_000);
    const all: IncidentChange[] = [];
    all.push(...tracker.apply(slice(1), [], [opened(price)], T0 + SLICE));
    all.push(...tracker.apply(slice(2), [], [updated(price, T0 + 2 * SLICE)], T0 + 2 * SLICE));
    expect(all).toEqual([]);
    all.push(...tracker.apply(slice(3), [], [], T0 + 3 * SLICE));
    expect(all.map((c) => c.kind)).toEqual(['opened']);
    const inc = all[0]!.incident;
    expect(inc.anomalyIds).toEqual(['an_price']);
    expect(inc.services).toEqual(['frontend']);
    expect(inc.startMs).toBe(T0 + 10_000);
    expect(inc.rootCauses[0]).toMatchObject({ service: 'frontend', operation: 'GET /checkout' });
    expect(inc.rootCauses[0]!.reason).toContain('performance/latency-regression');
    // A later anomaly of the same service joins it.
    const login = handlerAnomaly('an_login', 'frontend', 'POST /login', T0 + 4 * SLICE, { severity: 'medium' });
    const next = tracker.apply(slice(4), [], [opened(login)], T0 + 4 * SLICE);
    expect(next.map((c) => [c.kind, c.incident.id])).toEqual([['updated', inc.id]]);
    expect(next[0]!.incident.rootCauses.map((r) => r.operation)).toEqual(['GET /checkout', 'POST /login']);
  });

  it('waits longer while its service-level signals are already discovering the fault', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 2 });
    const price = handlerAnomaly('an_price', 'frontend', 'GET /checkout', T0 + 10_000);
    const discovering = [selfScore('frontend', 6)];
    expect(tracker.apply(slice(1, discovering), [], [opened(price)], T0 + SLICE)).toEqual([]);
    expect(tracker.apply(slice(2, discovering), [], [], T0 + 2 * SLICE)).toEqual([]);
    expect(tracker.apply(slice(3, discovering), [], [], T0 + 3 * SLICE)).toEqual([]);
    expect(tracker.apply(slice(4, discovering), [], [], T0 + 4 * SLICE).map((c) => c.kind)).toEqual(['opened']);
  });

  it('does not join an open incident of an unrelated service: it opens its own', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 1 });
    tracker.apply(slice(1, [selfScore('pricing', 12)]), [opened(signal('an_sig', 'pricing', T0 + SLICE))], [], T0 + SLICE);
    const batch = handlerAnomaly('an_batch', 'batch', 'nightly', T0 + 2 * SLICE);
    const out = tracker.apply(slice(2), [], [opened(batch)], T0 + 2 * SLICE);
    const own = out.find((c) => c.kind === 'opened');
    expect(own?.incident.anomalyIds).toEqual(['an_batch']);
    expect(tracker.incidents()).toHaveLength(2);
  });

  it('resolves with its incident: the incident stays open while the engine anomaly is open and resolves with the last one', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 1 });
    const founder = signal('an_sig', 'pricing', T0 + SLICE);
    tracker.apply(slice(1, [selfScore('pricing', 12)]), [opened(founder)], [], T0 + SLICE);
    const price = handlerAnomaly('an_price', 'pricing', 'GET /price', T0 + 2 * SLICE);
    tracker.apply(slice(2), [], [opened(price)], T0 + 2 * SLICE);
    const afterSignal = tracker.apply(slice(3), [resolved(founder, T0 + 3 * SLICE)], [], T0 + 3 * SLICE);
    expect(afterSignal.map((c) => c.kind)).toEqual(['updated']);
    expect(tracker.incidents()[0]!.state).toBe('open');
    const last = tracker.apply(slice(4), [], [resolved(price, T0 + 4 * SLICE)], T0 + 4 * SLICE);
    expect(last.map((c) => c.kind)).toEqual(['resolved']);
    expect(last[0]!.incident.anomalyIds).toEqual(['an_sig', 'an_price']);
    expect(last[0]!.incident.endMs).toBe(T0 + 4 * SLICE);
  });

  it('keeps its incident open but not fresh: a later fault nearby opens a new incident once the service-level anomalies are over', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't' });
    const founder = signal('an_sig', 'pricing', T0 + SLICE);
    const first = tracker.apply(slice(1, [selfScore('pricing', 12)]), [opened(founder)], [], T0 + SLICE);
    const price = handlerAnomaly('an_price', 'pricing', 'GET /price', T0 + 2 * SLICE);
    tracker.apply(slice(2), [], [opened(price)], T0 + 2 * SLICE);
    tracker.apply(slice(3), [resolved(founder, T0 + 3 * SLICE)], [], T0 + 3 * SLICE);
    // The engine's 5-minute window keeps its anomaly open (and updated) long after the fault.
    for (let n = 4; n < 20; n++) tracker.apply(slice(n), [], [updated(price, T0 + n * SLICE)], T0 + n * SLICE);
    expect(tracker.incidents()[0]!.state).toBe('open');
    // 17 slices after the last service-level sign of the first fault, a new one in a neighbour.
    const next = signal('an_gap', 'cart', T0 + 20 * SLICE);
    const out = tracker.apply(slice(20, [selfScore('cart', 9)]), [opened(next)], [updated(price, T0 + 20 * SLICE)], T0 + 20 * SLICE);
    const openedNow = out.filter((c) => c.kind === 'opened');
    expect(openedNow).toHaveLength(1);
    expect(openedNow[0]!.incident.id).not.toBe(first[0]!.incident.id);
    expect(openedNow[0]!.incident.anomalyIds).toEqual(['an_gap']);
    // The engine anomaly stays with the incident it joined.
    expect(tracker.incidents().find((i) => i.id === first[0]!.incident.id)!.anomalyIds).toEqual(['an_sig', 'an_price']);
  });

  it('a service-level anomaly of a neighbour joins while the incident is fresh', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't' });
    const founder = signal('an_sig', 'pricing', T0 + SLICE);
    tracker.apply(slice(1, [selfScore('pricing', 12)]), [opened(founder)], [], T0 + SLICE);
    for (let n = 2; n < 10; n++) tracker.apply(slice(n), [updated(founder, T0 + n * SLICE)], [], T0 + n * SLICE);
    const next = signal('an_cart', 'cart', T0 + 10 * SLICE);
    const out = tracker.apply(slice(10, [selfScore('cart', 9)]), [opened(next)], [], T0 + 10 * SLICE);
    expect(out.map((c) => c.kind)).toEqual(['updated']);
    expect(out[0]!.incident.anomalyIds).toEqual(['an_sig', 'an_cart']);
  });

  it('an engine anomaly that opened its incident resolves it when it resolves', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 1 });
    const price = handlerAnomaly('an_price', 'frontend', 'GET /checkout', T0 + SLICE);
    expect(tracker.apply(slice(1), [], [opened(price)], T0 + SLICE).map((c) => c.kind)).toEqual(['opened']);
    expect(tracker.apply(slice(2), [], [updated(price, T0 + 2 * SLICE)], T0 + 2 * SLICE).map((c) => c.kind)).toEqual(['updated']);
    const out = tracker.apply(slice(3), [], [resolved(price, T0 + 3 * SLICE)], T0 + 3 * SLICE);
    expect(out.map((c) => c.kind)).toEqual(['resolved']);
    expect(tracker.incidents()[0]!.state).toBe('resolved');
  });

  it('a low or medium engine anomaly alone opens nothing, but joins the incident of its fault within the hold', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 4 });
    const slow = handlerAnomaly('an_slow', 'frontend', 'GET /checkout', T0 + SLICE, { severity: 'medium' });
    tracker.apply(slice(1), [], [opened(slow)], T0 + SLICE);
    for (let n = 2; n < 4; n++) expect(tracker.apply(slice(n), [], [updated(slow, T0 + n * SLICE)], T0 + n * SLICE)).toEqual([]);
    const out = tracker.apply(slice(4, [selfScore('frontend', 9)]), [opened(signal('an_sig', 'frontend', T0 + 4 * SLICE))], [], T0 + 4 * SLICE);
    expect(out[0]!.incident.anomalyIds.sort()).toEqual(['an_sig', 'an_slow']);
    const alone = new IncidentTracker(graph(), { instanceTag: 'u', engineOpens: true, engineHoldSlices: 1 });
    alone.apply(slice(1), [], [opened(slow)], T0 + SLICE);
    for (let n = 2; n < 10; n++) expect(alone.apply(slice(n), [], [updated(slow, T0 + n * SLICE)], T0 + n * SLICE)).toEqual([]);
  });

  it('an anomaly of an inner service never opens an incident, and stops waiting after the hold', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 2 });
    const db = handlerAnomaly('an_db', 'pricing', 'SELECT prices', T0 + SLICE, { severity: 'critical' });
    tracker.apply(slice(1), [], [opened(db)], T0 + SLICE);
    for (let n = 2; n < 6; n++) expect(tracker.apply(slice(n), [], [updated(db, T0 + n * SLICE)], T0 + n * SLICE)).toEqual([]);
    // A later fault of the same service opens an incident without the long-lived anomaly in it.
    const out = tracker.apply(slice(6, [selfScore('pricing', 9)]), [opened(signal('an_sig', 'pricing', T0 + 6 * SLICE))], [], T0 + 6 * SLICE);
    expect(out[0]!.incident.anomalyIds).toEqual(['an_sig']);
    expect(tracker.apply(slice(7), [resolved(signal('an_sig', 'pricing', T0 + 6 * SLICE), T0 + 7 * SLICE)], [], T0 + 7 * SLICE).map((c) => c.kind)).toEqual(['resolved']);
  });

  it('a short engine anomaly that resolves while waiting opens nothing', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 't', engineOpens: true, engineHoldSlices: 3 });
    const blip = handlerAnomaly('an_blip', 'pricing', 'GET /price', T0 + SLICE);
    tracker.apply(slice(1), [], [opened(blip)], T0 + SLICE);
    tracker.apply(slice(2), [], [resolved(blip, T0 + 2 * SLICE)], T0 + 2 * SLICE);
    for (let n = 3; n < 10; n++) expect(tracker.apply(slice(n), [], [], T0 + n * SLICE)).toEqual([]);
    expect(tracker.incidents()).toEqual([]);
  });
});

describe('engineRootCauses', () => {
  it('ranks by severity and confidence, one entry per service and handler, earliest first on ties', () => {
    const ranked = engineRootCauses([
      handlerAnomaly('a', 'cart', 'GET /cart', 5, { severity: 'medium', confidence: 1 }),
      handlerAnomaly('b', 'pricing', 'GET /price', 9, { severity: 'critical', confidence: 0.75 }),
      handlerAnomaly('c', 'pricing', 'GET /price', 3, { severity: 'critical', confidence: 0.5 }),
      handlerAnomaly('d', 'frontend', 'GET /', 1, { severity: 'medium', confidence: 1, handler: undefined }),
    ]);
    expect(ranked.map((r) => [r.service, r.operation])).toEqual([
      ['pricing', 'GET /price'],
      ['frontend', undefined],
      ['cart', 'GET /cart'],
    ]);
    expect(ranked[0]!.score).toBe(3);
    expect(ranked[1]).not.toHaveProperty('operation');
  });
});
