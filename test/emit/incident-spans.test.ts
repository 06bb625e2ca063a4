import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnomalySpanEmitter, anomalySpanContext, SCHEMA_URL, SCOPE_NAME } from '../../src/emit/anomaly-spans.js';
import { IncidentSpanEmitter, incidentSpanContext, INCIDENT_SPAN_NAME } from '../../src/emit/incident-spans.js';
import type { Incident } from '../../src/model/incident.js';
import { VERSION } from '../../src/version.js';
import { anomaly } from '../diagnose/fixtures.js';
import { OtlpTestReceiver } from './otlp-test-receiver.js';
import { waitFor } from './store-fixture.js';

const T0 = 1_700_000_000_000;

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_1',
    startMs: T0,
    endMs: T0 + 30_000,
    anomalyIds: ['an_a', 'an_b'],
    rootCauses: [
      { service: 'pricing', operation: 'GET /price', score: 3, reason: 'own time per request grew' },
      { service: 'cart', score: 1.25, reason: 'callee time grew' },
    ],
    state: 'open',
    severity: 'high',
    services: ['cart', 'pricing'],
    summary: '2 anomalies <b>across</b> 2 service(s)',
    impact: { requests: 1200, errors: 30 },
    ...over,
  };
}

describe('IncidentSpanEmitter (real OTLP/gRPC receiver on loopback)', () => {
  let receiver: OtlpTestReceiver;
  let anomalies: AnomalySpanEmitter;
  beforeEach(async () => {
    receiver = new OtlpTestReceiver();
    await receiver.start();
    anomalies = new AnomalySpanEmitter({ endpoint: `http://127.0.0.1:${receiver.port}`, serviceName: 'self-healing-test', scheduledDelayMillis: 10 });
  });
  afterEach(async () => {
    await anomalies.shutdown();
    await receiver.stop();
  });

  it('emits one span per incident, linked to its anomaly spans, and a child span only for changes that matter', async () => {
    const spans = new IncidentSpanEmitter(anomalies);
    anomalies.emit({ kind: 'opened', anomaly: anomaly({ id: 'an_a' }) });
    anomalies.emit({ kind: 'opened', anomaly: anomaly({ id: 'an_b' }) });
    spans.emit({ kind: 'opened', incident: incident() });
    spans.emit({ kind: 'updated', incident: incident({ endMs: T0 + 40_000 }) }); // same facts: no span
    spans.emit({ kind: 'updated', incident: incident({ endMs: T0 + 50_000, anomalyIds: ['an_a', 'an_b', 'an_c'], rootCauses: [{ service: 'pricing', operation: 'GET /price', score: 4, reason: 'x' }] }) });
    spans.emit({ kind: 'resolved', incident: incident({ endMs: T0 + 90_000, state: 'resolved', anomalyIds: ['an_a', 'an_b', 'an_c'], severity: 'medium' }) });
    await anomalies.flush();
    await waitFor(() => receiver.spans.length === 5, 20_000, 'two anomaly spans and three incident spans');

    const root = receiver.spans.find((s) => s.name === INCIDENT_SPAN_NAME)!;
    expect(root.scope).toBe(SCOPE_NAME);
    expect(root.scopeVersion).toBe(VERSION);
    expect(root.schemaUrl).toBe(SCHEMA_URL);
    expect(root.service).toBe('self-healing-test');
    expect(root.traceId).toBe(incidentSpanContext('inc_1').traceId);
    expect(root.spanId).toBe(incidentSpanContext('inc_1').spanId);
    expect(root.parentSpanId).toBe('');
    expect([root.startMs, root.endMs]).toEqual([T0, T0 + 30_000]);
    expect(root.attributes).toMatchObject({
      'self_healing.incident.id': 'inc_1',
      'self_healing.incident.state': 'open',
      'self_healing.incident.severity': 'high',
      'self_healing.incident.summary': '2 anomalies <b>across</b> 2 service(s)',
      'self_healing.incident.anomaly_count': 2,
      'self_healing.incident.services': ['cart', 'pricing'],
      'self_healing.incident.root_cause.service': 'pricing',
      'self_healing.incident.root_cause.operation': 'GET /price',
      'self_healing.incident.root_cause.score_milli': 3000,
      'self_healing.incident.impact.requests': 1200,
      'self_healing.incident.impact.errors': 30,
    });
    // Integers stay integers whatever the value (a score of 3 and one of 1.25 are both ints).
    expect(root.attributeTypes['self_healing.incident.root_cause.score_milli']).toBe('int');
    expect(root.attributeTypes['self_healing.incident.start_ms']).toBe('int');
    expect(root.status.code).toBe(2);
    expect(root.events.map((e) => [e.name, e.attributes['self_healing.root_cause.rank'], e.attributes['self_healing.root_cause.score_milli']])).toEqual([
      ['incident.root_cause', 1, 3000],
      ['incident.root_cause', 2, 1250],
    ]);

    // The links point at the anomaly spans this process exported.
    const anomalySpans = receiver.spans.filter((s) => s.name.startsWith('anomaly '));
    expect(root.links.map((l) => `${l.traceId}/${l.spanId}`).sort()).toEqual(anomalySpans.map((s) => `${s.traceId}/${s.spanId}`).sort());
    expect(root.links[0]!.attributes).toEqual({ 'self_healing.link.reason': 'incident-anomaly', 'self_healing.anomaly.id': 'an_a' });

    const updated = receiver.spans.find((s) => s.name === 'incident.updated')!;
    expect(updated.traceId).toBe(root.traceId);
    expect(updated.parentSpanId).toBe(root.spanId);
    expect(updated.links).toEqual([{ traceId: anomalySpanContext('an_c').traceId, spanId: anomalySpanContext('an_c').spanId, attributes: { 'self_healing.link.reason': 'incident-anomaly', 'self_healing.anomaly.id': 'an_c' } }]);
    expect(updated.attributes['self_healing.incident.anomaly_count']).toBe(3);

    const resolved = receiver.spans.find((s) => s.name === 'incident.resolved')!;
    expect(resolved.parentSpanId).toBe(root.spanId);
    expect(resolved.links).toEqual([]);
    expect(resolved.attributes['self_healing.incident.state']).toBe('resolved');
    expect(resolved.status.code).toBe(0);
    expect(new Set(receiver.spans.map((s) => s.name))).toEqual(new Set(['anomaly performance/latency-regression', 'incident', 'incident.updated', 'incident.resolved']));
  });
});
