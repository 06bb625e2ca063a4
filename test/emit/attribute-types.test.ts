import { afterEach, describe, expect, it } from 'vitest';
import { AnomalySpanEmitter } from '../../src/emit/anomaly-spans.js';
import { isDoubleAttribute } from '../../src/emit/attribute-types.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import { anomaly } from '../diagnose/fixtures.js';
import { OtlpTestReceiver, type ReceivedSpan } from './otlp-test-receiver.js';
import { waitFor } from './store-fixture.js';

const T = '0af7651916cd43dd8448eb211c80319c';
const S = 'b7ad6b7169203331';

function diagnosis(score: number, share: number): Diagnosis {
  const root = { cause: 'self-time-regression', description: 'own code slower', score, evidence: ['e'] };
  return {
    id: 'd1',
    anomalyId: 'a1',
    createdMs: 2_061_000,
    service: 'shop',
    handler: 'chargeCard',
    rootCause: root,
    hypotheses: [root],
    affected: { handlers: ['chargeCard'], sequences: ['checkout'], services: ['shop'] },
    impact: { trafficShare: share, affectedRuns: 12, affectedCorrelationIds: 3, severity: 'high' },
    recommendedFixes: [],
    suspects: [],
    context: {},
  };
}

describe('isDoubleAttribute', () => {
  it('declares measured figures double and counts, ranks and times integer', () => {
    for (const name of ['self_healing.anomaly.observed.p95Ms', 'self_healing.anomaly.expected.rate', 'self_healing.anomaly.details.z', 'self_healing.diagnosis.score', 'self_healing.hypothesis.score', 'self_healing.diagnosis.impact.traffic_share', 'self_healing.exemplar.duration_ms']) {
      expect(isDoubleAttribute(name), name).toBe(true);
    }
    for (const name of ['self_healing.anomaly.confidence_pct', 'self_healing.anomaly.first_seen_ms', 'self_healing.link.rank', 'self_healing.hypothesis.rank', 'self_healing.diagnosis.impact.affected_runs', 'service.name']) {
      expect(isDoubleAttribute(name), name).toBe(false);
    }
  });
});

describe.each(['grpc', 'http'] as const)('anomaly span attribute types on the OTLP wire (%s)', (protocol) => {
  let receiver: OtlpTestReceiver;
  let emitter: AnomalySpanEmitter | undefined;
  afterEach(async () => {
    await emitter?.shutdown();
    emitter = undefined;
    await receiver.stop();
  });

  it('sends observed/expected figures, details, scores and shares as double even when integral, and counts as int', async () => {
    receiver = new OtlpTestReceiver(protocol);
    await receiver.start();
    emitter = new AnomalySpanEmitter({
      endpoint: protocol === 'grpc' ? `http://127.0.0.1:${receiver.port}` : `http://127.0.0.1:${receiver.port}/v1/traces`,
      protocol: protocol === 'grpc' ? 'grpc' : 'http/protobuf',
      serviceName: 'typed',
      scheduledDelayMillis: 10,
    });
    // One anomaly with integral figures, one with fractional ones: the types must not differ.
    const integral = anomaly({ id: 'a-int', observed: { p95Ms: 120 }, expected: { p95Ms: 12 }, details: { z: 9, count: 3, fingerprint: 'fp' }, confidence: 0.9, exemplars: [{ traceId: T, spanId: S, durationMs: 400 }] });
    const fractional = anomaly({ id: 'a-frac', observed: { p95Ms: 120.5 }, expected: { p95Ms: 12.25 }, details: { z: 9.5, count: 3.5, fingerprint: 'fp' }, confidence: 0.915, exemplars: [{ traceId: T, spanId: S, durationMs: 400.5 }] });
    emitter.emit({ kind: 'opened', anomaly: integral }, diagnosis(1, 1));
    emitter.emit({ kind: 'opened', anomaly: fractional }, diagnosis(0.75, 0.25));
    await emitter.flush();
    await waitFor(() => receiver.spans.length === 2, 20_000, 'two anomaly spans');
    const byId = (id: string): ReceivedSpan => receiver.spans.find((s) => s.attributes['self_healing.anomaly.id'] === id)!;
    const a = byId('a-int');
    const b = byId('a-frac');
    const expected = {
      'self_healing.anomaly.observed.p95Ms': 'double',
      'self_healing.anomaly.expected.p95Ms': 'double',
      'self_healing.anomaly.details.z': 'double',
      'self_healing.anomaly.details.count': 'double',
      'self_healing.anomaly.details.fingerprint': 'string',
      'self_healing.diagnosis.score': 'double',
      'self_healing.diagnosis.impact.traffic_share': 'double',
      'self_healing.exemplar.duration_ms': 'double',
      'self_healing.anomaly.confidence_pct': 'int',
      'self_healing.anomaly.first_seen_ms': 'int',
      'self_healing.anomaly.window.start_ms': 'int',
      'self_healing.diagnosis.impact.affected_runs': 'int',
      'self_healing.link.rank': 'int',
      'self_healing.hypothesis.rank': 'int',
    };
    for (const [key, type] of Object.entries(expected)) {
      expect(a.wireTypes[key], `${key} (integral)`).toBe(type);
      expect(b.wireTypes[key], `${key} (fractional)`).toBe(type);
    }
    // Values survive the re-typing.
    expect(a.attributes['self_healing.anomaly.observed.p95Ms']).toBe(120);
    expect(b.attributes['self_healing.anomaly.observed.p95Ms']).toBe(120.5);
    expect(a.attributes['self_healing.anomaly.confidence_pct']).toBe(90);
    expect(b.attributes['self_healing.anomaly.confidence_pct']).toBe(92);
    expect(a.events.find((e) => e.name === 'diagnosis.root_cause')!.attributes['self_healing.diagnosis.score']).toBe(1);
    expect(a.links[0]!.attributes['self_healing.exemplar.duration_ms']).toBe(400);
  });
});
