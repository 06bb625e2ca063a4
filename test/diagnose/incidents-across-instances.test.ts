import { describe, expect, it } from 'vitest';
import { IncidentEngine } from '../../src/diagnose/incident-engine.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import type { Incident } from '../../src/model/incident.js';
import { generateTraffic } from './service-traffic.js';
import { anomaly } from './fixtures.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;
const FAULT_FROM = T0 + 6 * 60_000;

/** A peer's service-level anomaly, as its event stream carries it. */
const peerSignal = (id: string, service: string, atMs: number): Anomaly =>
  anomaly({ id, key: `svc|self.p50|${service}`, service, handler: undefined, sequence: undefined, firstSeenMs: atMs, lastSeenMs: atMs, details: { signal: 'self', z: 40 }, observed: { valueMs: 90 }, expected: { valueMs: 8 } });

/**
 * Replays slow-pricing traffic into one engine; once its own incident is open, a peer's anomaly
 * on `peerService` arrives. Returns the engine's incidents and every anomaly change it published.
 */
function run(peerService: string, joinUnseenServices: boolean): { incidents: Incident[]; published: string[] } {
  const engine = new IncidentEngine({ instanceTag: 'test', graph: { sliceMs: SLICE }, incidents: { joinUnseenServices } });
  const end = T0 + 10 * 60_000;
  const { beats } = generateTraffic(T0, end, 20, { slowPricingMs: (t) => (t >= FAULT_FROM ? 80 : 0) });
  beats.sort((a, b) => a.startMs - b.startMs);
  const published: string[] = [];
  let i = 0;
  let sent = false;
  for (let t = T0 + SLICE; t <= end; t += SLICE) {
    const batch = [];
    while (i < beats.length && beats[i]!.startMs < t) batch.push(beats[i++]!);
    engine.observe(batch);
    if (!sent && engine.incidents().some((x) => x.state === 'open')) {
      engine.notePeerAnomalyChanges([
        { kind: 'opened', anomaly: peerSignal('an_peer', peerService, t - SLICE) },
        { kind: 'opened', anomaly: anomaly({ id: 'an_peer_handler', service: peerService, firstSeenMs: t - SLICE, lastSeenMs: t - SLICE }) },
      ]);
      sent = true;
    }
    for (const c of engine.evaluate(t).anomalyChanges) published.push(c.anomaly.id);
  }
  expect(sent).toBe(true);
  return { incidents: engine.incidents(), published };
}

describe('incidents across scaled-out instances (the correlator)', () => {
  it('routing by trace: a peer anomaly on a service this instance also sees joins its incident', () => {
    const { incidents, published } = run('pricing', false);
    const withPeer = incidents.filter((x) => x.anomalyIds.includes('an_peer'));
    expect(withPeer).toHaveLength(1);
    expect(withPeer[0]!.anomalyIds).toContain('an_peer_handler');
    expect(withPeer[0]!.anomalyIds.length).toBeGreaterThan(2);
    // Grouped, never published again as this instance's own anomaly.
    expect(published.filter((id) => id.startsWith('an_peer'))).toEqual([]);
  });

  it('routing by service: a peer anomaly on a service only the peer sees joins by time when enabled', () => {
    const joined = run('inventory', true).incidents.filter((x) => x.anomalyIds.includes('an_peer'));
    expect(joined).toHaveLength(1);
    expect(joined[0]!.services).toEqual(expect.arrayContaining(['inventory', 'pricing']));
    // The peer's score is evidence in the ranking.
    expect(joined[0]!.rootCauses.map((r) => r.service)).toContain('inventory');
    // Off (a single instance): no edge connects the services, so it is an incident of its own.
    const apart = run('inventory', false).incidents.filter((x) => x.anomalyIds.includes('an_peer'));
    expect(apart).toHaveLength(1);
    expect(apart[0]!.services).toEqual(['inventory']);
  });
});

describe('a correlator that owns no traffic', () => {
  it('still groups its peers\' anomalies into incidents (no slice of its own ever closes)', () => {
    const engine = new IncidentEngine({ instanceTag: 'test', graph: { sliceMs: SLICE }, incidents: { joinUnseenServices: true } });
    const t = T0 + 60_000;
    engine.notePeerAnomalyChanges([
      { kind: 'opened', anomaly: peerSignal('an_a', 'pricing', t) },
      { kind: 'opened', anomaly: peerSignal('an_b', 'cart', t + 1_000) },
    ]);
    const first = engine.evaluate(t + SLICE);
    expect(first.anomalyChanges).toEqual([]);
    expect(first.incidentChanges.map((c) => c.kind)).toEqual(['opened']);
    const [inc] = engine.incidents();
    expect(inc!.anomalyIds.sort()).toEqual(['an_a', 'an_b']);
    expect(inc!.rootCauses.map((r) => r.service).sort()).toEqual(['cart', 'pricing']);
    // Their resolution resolves it; nothing is left pending.
    engine.notePeerAnomalyChanges([
      { kind: 'resolved', anomaly: { ...peerSignal('an_a', 'pricing', t), state: 'resolved' } },
      { kind: 'resolved', anomaly: { ...peerSignal('an_b', 'cart', t + 1_000), state: 'resolved' } },
    ]);
    expect(engine.evaluate(t + 2 * SLICE).incidentChanges.map((c) => c.kind)).toEqual(['resolved']);
    expect(engine.evaluate(t + 3 * SLICE).incidentChanges).toEqual([]);
  });
});
