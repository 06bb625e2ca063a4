import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AnomalySpanEmitter,
  anomalyParentContext,
  anomalySpanContext,
  anomalyTraceUrl,
  exemplarLinks,
  SCHEMA_URL,
  SCOPE_NAME,
} from '../../src/emit/anomaly-spans.js';
import { VERSION } from '../../src/version.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import { anomaly } from '../diagnose/fixtures.js';
import { OtlpTestReceiver } from './otlp-test-receiver.js';
import { waitFor } from './store-fixture.js';
import { trace } from '@opentelemetry/api';

const T1 = '0af7651916cd43dd8448eb211c80319c';
const S1 = 'b7ad6b7169203331';
const T2 = '1bf7651916cd43dd8448eb211c80319d';
const S2 = 'c7ad6b7169203332';

function diagnosis(): Diagnosis {
  const root = { cause: 'self-time-regression', description: 'own code slower', score: 0.8, evidence: ['self 108 ms vs 10 ms'] };
  return {
    id: 'd1',
    anomalyId: 'a1',
    createdMs: 2_061_000,
    service: 'shop',
    handler: 'chargeCard',
    rootCause: root,
    hypotheses: [root, { cause: 'new-release', description: 'release 1.5.0', score: 0.4, evidence: ['v'] }],
    affected: { handlers: ['chargeCard'], sequences: ['checkout'], services: ['shop'] },
    impact: { trafficShare: 0.25, affectedRuns: 12, affectedCorrelationIds: 3, severity: 'high' },
    recommendedFixes: ['regression-test', 'documentation'],
    suspects: [],
    context: {},
  };
}

describe('AnomalySpanEmitter', () => {
  let receiver: OtlpTestReceiver;
  let emitter: AnomalySpanEmitter | undefined;
  beforeEach(async () => {
    receiver = new OtlpTestReceiver();
    await receiver.start();
  });
  afterEach(async () => {
    await emitter?.shutdown();
    emitter = undefined;
    await receiver.stop();
  });

  it('exports one span per anomaly with attributes, diagnosis events, exemplar links and status', async () => {
    emitter = new AnomalySpanEmitter({
      endpoint: `http://127.0.0.1:${receiver.port}`,
      serviceName: 'self-healing-test',
      jaegerUrl: 'http://jaeger:16686/',
    });
    const a = anomaly({
      windowStartMs: 1_700_000_000_000,
      windowEndMs: 1_700_000_060_000,
      details: { detector: 'latency' },
      exemplars: [
        { traceId: T1, spanId: S1, durationMs: 480 },
        { traceId: T2, spanId: S2, errorFingerprint: 'fp9' },
        { traceId: 'not-hex', spanId: 'x' },
      ],
    });
    emitter.emit({ kind: 'opened', anomaly: a }, diagnosis());
    expect(emitter.spanContextFor('a1')).toEqual(anomalySpanContext('a1'));
    expect(emitter.spanContextFor('other')).toBeUndefined();
    await emitter.flush();
    await waitFor(() => receiver.spans.length === 1, 20_000, 'anomaly span');
    const s = receiver.spans[0]!;
    expect(s.service).toBe('self-healing-test');
    expect(s.scope).toBe(SCOPE_NAME);
    expect(s.scopeVersion).toBe(VERSION);
    expect(s.schemaUrl).toBe(SCHEMA_URL);
    expect(s.name).toBe('anomaly performance/latency-regression');
    expect(s.traceId).toBe(anomalySpanContext('a1').traceId);
    expect(s.spanId).toBe(anomalySpanContext('a1').spanId);
    expect(s.parentSpanId).toBe('');
    expect(s.startMs).toBe(1_700_000_000_000);
    expect(s.endMs).toBe(1_700_000_060_000);
    expect(s.attributes).toMatchObject({
      'self_healing.anomaly.id': 'a1',
      'self_healing.anomaly.type': 'performance',
      'self_healing.anomaly.subtype': 'latency-regression',
      'self_healing.anomaly.severity': 'high',
      'self_healing.anomaly.confidence_pct': 90,
      'self_healing.anomaly.service': 'shop',
      'self_healing.anomaly.handler': 'chargeCard',
      'self_healing.anomaly.sequence': 'checkout',
      'self_healing.anomaly.observed.p95Ms': 120,
      'self_healing.anomaly.expected.p95Ms': 12,
      'self_healing.anomaly.details.detector': 'latency',
      'self_healing.anomaly.window.start_ms': 1_700_000_000_000,
      'self_healing.anomaly.trace_url': `http://jaeger:16686/trace/${s.traceId}`,
    });
    expect(s.status).toEqual({ code: 2, message: 'chargeCard p95 120 ms vs 12 ms' });
    expect(s.events.map((e) => e.name)).toEqual([
      'diagnosis.root_cause',
      'diagnosis.hypothesis',
      'diagnosis.hypothesis',
      'diagnosis.recommended_fix',
      'diagnosis.recommended_fix',
    ]);
    expect(s.events[0]!.attributes).toMatchObject({
      'self_healing.diagnosis.cause': 'self-time-regression',
      'self_healing.diagnosis.score': 0.8,
      'self_healing.diagnosis.evidence': ['self 108 ms vs 10 ms'],
      'self_healing.diagnosis.impact.affected_runs': 12,
    });
    expect(s.events[2]!.attributes).toMatchObject({ 'self_healing.hypothesis.rank': 2, 'self_healing.hypothesis.cause': 'new-release' });
    expect(s.events[4]!.attributes).toEqual({ 'self_healing.fix.kind': 'documentation' });
    expect(s.links).toEqual([
      { traceId: T1, spanId: S1, attributes: { 'self_healing.link.rank': 1, 'self_healing.exemplar.duration_ms': 480, 'self_healing.link.reason': 'slow run: 480 ms (expected p95 12 ms)' } },
      { traceId: T2, spanId: S2, attributes: { 'self_healing.link.rank': 2, 'self_healing.exemplar.error_fingerprint': 'fp9', 'self_healing.link.reason': 'failing run: error fp9' } },
    ]);
  });

  it('puts later changes and heal spans into the anomaly trace as children', async () => {
    emitter = new AnomalySpanEmitter({ endpoint: `http://127.0.0.1:${receiver.port}`, serviceName: 'sh' });
    const a = anomaly({ severity: 'low', windowStartMs: 1_700_000_000_000, windowEndMs: 1_700_000_060_000, lastSeenMs: 1_700_000_070_000 });
    emitter.emit({ kind: 'opened', anomaly: a });
    emitter.emit({ kind: 'opened', anomaly: a }, diagnosis());
    emitter.emit({ kind: 'updated', anomaly: { ...a, severity: 'critical', exemplars: [{ traceId: T1, spanId: S1 }] } });
    emitter.emit({ kind: 'resolved', anomaly: { ...a, state: 'resolved', resolvedMs: 1_700_000_090_000 } });
    emitter.emit({ kind: 'updated', anomaly: { ...a, lastSeenMs: 1_700_000_080_000 } });
    const heal = emitter.getTracer().startSpan('heal.fix', {}, anomalyParentContext('a1'));
    heal.end();
    await emitter.flush();
    await waitFor(() => receiver.spans.length === 6, 20_000, 'six spans');
    const byName = new Map(receiver.spans.map((s) => [s.name, s]));
    const root = byName.get('anomaly performance/latency-regression')!;
    expect(root.status.code).toBe(0); // low severity
    expect(root.events).toEqual([]);
    const traceId = anomalySpanContext('a1').traceId;
    for (const s of receiver.spans) expect(s.traceId).toBe(traceId);
    for (const s of receiver.spans.filter((x) => x !== root)) expect(s.parentSpanId).toBe(root.spanId);
    expect(byName.get('anomaly.diagnosed')!.events[0]!.name).toBe('diagnosis.root_cause');
    const updated = receiver.spans.filter((s) => s.name === 'anomaly.updated');
    expect(updated.map((s) => s.status.code).sort()).toEqual([0, 2]);
    expect(updated.find((s) => s.status.code === 2)!.links[0]!.attributes['self_healing.link.reason']).toBe('exemplar of performance/latency-regression');
    const resolved = byName.get('anomaly.resolved')!;
    expect(resolved.startMs).toBe(1_700_000_090_000);
    expect(resolved.attributes['self_healing.anomaly.state']).toBe('resolved');
    expect(byName.get('heal.fix')!.parentSpanId).toBe(root.spanId);
  });

  it('derives stable ids and urls without an emitter', () => {
    const c = anomalySpanContext('x');
    expect(c.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(anomalySpanContext('x')).toEqual(c);
    expect(anomalySpanContext('y').traceId).not.toBe(c.traceId);
    expect(trace.getSpanContext(anomalyParentContext('x'))).toEqual(c);
    expect(anomalyTraceUrl('http://j:16686///', 'x')).toBe(`http://j:16686/trace/${c.traceId}`);
    expect(exemplarLinks(anomaly({ exemplars: [{ traceId: T1.toUpperCase(), spanId: S1 }] }))[0]!.context.traceId).toBe(T1);
  });
});
