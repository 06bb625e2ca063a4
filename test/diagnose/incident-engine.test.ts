import { describe, expect, it } from 'vitest';
import { IncidentEngine, publishIncidentEvaluation } from '../../src/diagnose/incident-engine.js';
import type { Anomaly, AnomalyChange } from '../../src/model/anomaly.js';
import type { Beat } from '../../src/model/beat.js';
import type { Incident } from '../../src/model/incident.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { generateTraffic, type TrafficFaults } from './service-traffic.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;

interface Run {
  engine: IncidentEngine;
  anomalies: Map<string, Anomaly>;
  opened: Incident[];
  events: string[];
  changes: AnomalyChange[];
}

/** Replays traffic slice by slice in data time, as offline analysis and the live timer do. */
function replay(beats: Beat[], logs: LogEvent[], untilMs: number): Run {
  const engine = new IncidentEngine({ instanceTag: 'test' });
  const anomalies = new Map<string, Anomaly>();
  const opened: Incident[] = [];
  const events: string[] = [];
  const changes: AnomalyChange[] = [];
  beats.sort((a, b) => a.startMs - b.startMs);
  logs.sort((a, b) => a.timeMs - b.timeMs);
  let i = 0;
  let li = 0;
  for (let b = T0 + SLICE; b <= untilMs; b += SLICE) {
    const batch: Beat[] = [];
    while (i < beats.length && beats[i]!.startMs < b) batch.push(beats[i++]!);
    engine.observe(batch);
    const lb: LogEvent[] = [];
    while (li < logs.length && logs[li]!.timeMs < b) lb.push(logs[li++]!);
    engine.observeLogs(lb);
    const ev = engine.evaluate(b);
    for (const c of ev.anomalyChanges) {
      anomalies.set(c.anomaly.id, c.anomaly);
      changes.push(c);
    }
    for (const c of ev.incidentChanges) {
      events.push(`incident.${c.kind}`);
      if (c.kind === 'opened') opened.push(c.incident);
    }
  }
  return { engine, anomalies, opened, events, changes };
}

/** steadyMin of normal traffic, faultMin with the fault, then two minutes of recovery. */
function withFault(faults: TrafficFaults, steadyMin: number, faultMin: number): Run {
  const faultFrom = T0 + steadyMin * 60_000;
  const end = faultFrom + (faultMin + 2) * 60_000;
  const { beats, logs } = generateTraffic(T0, end, 20, faults);
  return replay(beats, logs, end + 60_000);
}

const FAULT_MIN = 3;
const during = (steadyMin: number, faultMin = FAULT_MIN) => (t: number) => t >= T0 + steadyMin * 60_000 && t < T0 + (steadyMin + faultMin) * 60_000;

describe('IncidentEngine', () => {
  it('stays quiet over a long steady period with heavy-tailed noisy keys', () => {
    const end = T0 + 60 * 60_000;
    const { beats, logs } = generateTraffic(T0, end, 20, {}, 11);
    const run = replay(beats, logs, end);
    expect(run.opened).toEqual([]);
    expect(run.anomalies.size).toBe(0);
  });

  it('blames the slow callee itself, not its callers', () => {
    const run = withFault({ slowPricingMs: (t) => (during(6)(t) ? 80 : 0) }, 6, 3);
    expect(run.opened).toHaveLength(1);
    const inc = run.engine.incidents()[0]!;
    expect(inc.rootCauses[0]!.service).toBe('pricing');
    expect(inc.rootCauses[0]!.reason).toContain('own time');
    expect(inc.anomalyIds.length).toBeGreaterThan(0);
  });

  it('blames the callee of an edge whose client/server gap grows (network delay)', () => {
    const run = withFault({ cartToPricingDelayMs: (t) => (during(6)(t) ? 120 : 0) }, 6, 3);
    expect(run.opened).toHaveLength(1);
    const inc = run.engine.incidents()[0]!;
    expect(inc.rootCauses[0]!.service).toBe('pricing');
    expect(inc.rootCauses[0]!.reason).toContain('cart -> pricing');
  });

  it('finds an exception that is only logged (no span status) in the service that logged it', () => {
    const run = withFault({ pricingErrorLog: during(6) }, 6, 3);
    expect(run.opened).toHaveLength(1);
    const inc = run.engine.incidents()[0]!;
    expect(inc.rootCauses[0]!.service).toBe('pricing');
  });

  it('reports a route failing on every request at >= 90 % per request, under one anomaly id', () => {
    const run = withFault({ checkoutFails: during(6, 4) }, 6, 4);
    const failing = [...run.anomalies.values()].filter((a) => a.key.startsWith('svc|endpoint-failures|frontend|GET /checkout'));
    expect(failing).toHaveLength(1);
    const rates = run.changes.filter((c) => c.anomaly.id === failing[0]!.id).map((c) => c.anomaly.observed['rate'] ?? 0);
    expect(Math.max(...rates)).toBeGreaterThanOrEqual(0.9);
    expect(failing[0]!.state).toBe('resolved');
    // The one id covers the whole fault: opened within a minute of its start, never resolved
    // before its end (a resolve and reopen would have shown as a second id, or a resolved change).
    const faultFrom = T0 + 6 * 60_000;
    const faultTo = T0 + 10 * 60_000;
    expect(failing[0]!.firstSeenMs).toBeGreaterThanOrEqual(faultFrom);
    expect(failing[0]!.firstSeenMs).toBeLessThan(faultFrom + 60_000);
    expect(failing[0]!.resolvedMs!).toBeGreaterThanOrEqual(faultTo);
    const resolvedAt = run.changes.filter((c) => c.anomaly.id === failing[0]!.id && c.kind === 'resolved').map((c) => c.anomaly.resolvedMs ?? 0);
    expect(resolvedAt).toHaveLength(1);
    // Framework-internal spans of the same request do not become anomalies of their own.
    expect([...run.anomalies.values()].some((a) => (a.handler ?? '').startsWith('middleware'))).toBe(false);
    expect(run.opened).toHaveLength(1);
    expect(run.engine.incidents()[0]!.rootCauses[0]!.service).toBe('frontend');
    expect(run.events).toContain('incident.resolved');
    expect(run.engine.incidents()[0]!.state).toBe('resolved');
  });

  it('counts the impact at the front door and tells which open incident an anomaly of its service joins', () => {
    const faultFrom = T0 + 6 * 60_000;
    const { beats, logs } = generateTraffic(T0, faultFrom + 5 * 60_000, 20, { checkoutFails: (t) => t >= faultFrom });
    const run = replay(beats, logs, faultFrom + 3 * 60_000);
    expect(run.opened).toHaveLength(1);
    const live = run.engine.incidents()[0]!;
    expect(live.state).toBe('open');
    // Every request failed while the incident was open: errors close to requests, both counted.
    expect(live.impact!.requests).toBeGreaterThan(100);
    expect(live.impact!.errors).toBeGreaterThan(0.8 * live.impact!.requests);
    const service = live.services[0]!;
    expect(run.engine.incidentFor({ id: 'an_new', service, firstSeenMs: faultFrom + 3 * 60_000 })?.id).toBe(live.id);
    expect(run.engine.incidentFor({ id: 'an_new', service: 'elsewhere', firstSeenMs: faultFrom + 3 * 60_000 })).toBeUndefined();
    expect(run.engine.incidentFor({ id: live.anomalyIds[0]!, service: 'elsewhere', firstSeenMs: 0 })?.id).toBe(live.id);
    expect(run.engine.incidentById(live.id)?.impact).toEqual(live.impact);
    expect(run.engine.incidentById('nope')).toBeUndefined();
  });

  it('says which keys are still learning their baseline', () => {
    const { beats } = generateTraffic(T0, T0 + 30_000, 20);
    const run = replay(beats, [], T0 + 40_000);
    const learning = run.engine.signals.learning();
    expect(learning.length).toBeGreaterThan(0);
    expect(learning.every((l) => /^learning \(\d+\/12\)$/.test(l.learning))).toBe(true);
  });

  it('holds an engine anomaly that finds no incident before it opens one of its own', () => {
    const engine = new IncidentEngine({ instanceTag: 'x', incidents: { engineOpens: true } });
    const other: AnomalyChange = {
      kind: 'opened',
      anomaly: {
        id: 'an_1', key: 'k', type: 'performance', subtype: 'latency-regression', severity: 'high', confidence: 1, state: 'open', service: 'frontend',
        windowStartMs: 0, windowEndMs: 1, firstSeenMs: T0, lastSeenMs: T0, summary: '', observed: {}, expected: {}, details: {}, exemplars: [],
      },
    };
    engine.noteAnomalyChanges([other]);
    const { beats } = generateTraffic(T0, T0 + 20_000, 5);
    engine.observe(beats);
    expect(engine.evaluate(T0 + 30_000).incidentChanges).toEqual([]);
    expect(engine.incidents()).toEqual([]);
    // Quiet slices count towards the hold: after 6 the anomaly founds its own incident.
    const later = engine.evaluate(T0 + 120_000).incidentChanges;
    expect(later.map((c) => c.kind).filter((k) => k === 'opened')).toEqual(['opened']);
    expect(later[0]!.kind).toBe('opened');
    expect(later[0]!.incident.anomalyIds).toEqual(['an_1']);
    expect(later[0]!.incident.rootCauses[0]?.service).toBe('frontend');
  });
});

describe('publishIncidentEvaluation', () => {
  it('saves service anomalies and publishes anomaly and incident events', () => {
    const saved: string[] = [];
    const published: string[] = [];
    const anomaly = { id: 'an_9' } as Anomaly;
    const incident: Incident = { id: 'inc_1', startMs: 1, endMs: 2, anomalyIds: ['an_9'], rootCauses: [], state: 'open', severity: 'low', services: ['a'], summary: '' };
    publishIncidentEvaluation(
      { anomalyChanges: [{ kind: 'opened', anomaly }], incidentChanges: [{ kind: 'opened', incident }] },
      { saveAnomaly: (a) => saved.push(a.id) },
      { publishAnomalyChange: (c) => published.push(`anomaly.${c.kind}`), publish: (k, _p, ids) => published.push(`${k}:${ids?.anomalyId ?? ''}`) },
    );
    expect(saved).toEqual(['an_9']);
    expect(published).toEqual(['anomaly.opened', 'incident.opened:an_9']);
  });

  it('stores an incident before publishing it, then emits the spans', () => {
    const order: string[] = [];
    const anomaly = { id: 'an_9' } as Anomaly;
    const incident: Incident = { id: 'inc_1', startMs: 1, endMs: 2, anomalyIds: [], rootCauses: [], state: 'open', severity: 'low', services: ['a'], summary: '' };
    publishIncidentEvaluation(
      { anomalyChanges: [{ kind: 'opened', anomaly }], incidentChanges: [{ kind: 'opened', incident }] },
      {
        saveAnomaly: () => order.push('save anomaly'),
        saveIncident: (c) => order.push(`save ${c.incident.id}`),
        anomalySpan: (c) => order.push(`span ${c.anomaly.id}`),
        incidentSpan: (c) => order.push(`span ${c.incident.id}`),
      },
      { publishAnomalyChange: () => order.push('publish anomaly'), publish: (k, _p, ids) => order.push(`publish ${k} ${JSON.stringify(ids)}`) },
    );
    expect(order).toEqual(['save anomaly', 'publish anomaly', 'span an_9', 'save inc_1', 'publish incident.opened {}', 'span inc_1']);
  });
});
