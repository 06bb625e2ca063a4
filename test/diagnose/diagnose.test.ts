import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/diagnose.js';
import { DiagnosisSchema } from '../../src/model/diagnosis.js';
import { anomaly, beat, failing, FakeEvidence, runWithChild } from './fixtures.js';

const NOW = 2_070_000;

describe('diagnose', () => {
  it('diagnoses a pure handler whose own code got slower, with repeated inputs', () => {
    const ev = new FakeEvidence();
    ev.share = 0.4;
    for (let i = 0; i < 10; i++) {
      const base = runWithChild(12, 5, { kind: 'pure', attributes: { sku: `s${i % 2}` } });
      ev.addTrace(base);
      ev.baseline.push(base[0]!);
      const slow = runWithChild(120, 5, { kind: 'pure', attributes: { sku: `s${i % 2}` }, correlationId: `corr${i % 3}` });
      ev.addTrace(slow);
      ev.recent.push(slow[0]!);
    }
    const a = anomaly({ exemplars: [{ traceId: ev.recent[0]!.traceId, spanId: ev.recent[0]!.spanId, durationMs: 120 }] });
    const d = diagnose(a, ev, { openAnomalies: [a], nowMs: NOW });
    expect(() => DiagnosisSchema.parse(d)).not.toThrow();
    expect(d.id).toBe(`diag-a1-${NOW}`);
    expect(d.rootCause.cause).toBe('self-time-regression');
    expect(d.recommendedFixes).toEqual(['memoize', 'regression-test', 'documentation']);
    expect(d.impact).toEqual({ trafficShare: 0.4, affectedRuns: 10, affectedCorrelationIds: 3, severity: 'high' });
    expect(d.affected).toEqual({ handlers: ['chargeCard'], sequences: ['checkout'], services: ['shop'] });
    expect(d.context).toMatchObject({
      handler: 'chargeCard',
      service: 'shop',
      plugin: 'payments',
      kind: 'pure',
      sequence: 'checkout',
      baseline: { p50Ms: 12, p95Ms: 12, samples: 10, errorRate: 0 },
      observed: { p95Ms: 120 },
      exemplarTraceIds: [a.exemplars[0]!.traceId],
      inputRepetition: 0.8,
    });
    const samples = d.context['sampleInputs'] as Array<{ durationMs: number; attributes: Record<string, unknown> }>;
    expect(samples).toHaveLength(5);
    expect(samples[0]!.durationMs).toBe(120);
    expect(samples[0]!.attributes).toEqual({ sku: 's0' });
  });

  it('names a slow dependency and does not suggest memoizing', () => {
    const ev = new FakeEvidence();
    for (let i = 0; i < 8; i++) {
      const base = runWithChild(12, 8, { kind: 'pure' });
      ev.addTrace(base);
      ev.baseline.push(base[0]!);
      const slow = runWithChild(200, 190, { kind: 'pure' }, 'fetchRates');
      ev.addTrace(slow);
      ev.recent.push(slow[0]!);
    }
    const d = diagnose(anomaly(), ev, { openAnomalies: [], nowMs: NOW });
    expect(d.rootCause.cause).toBe('slow-dependency');
    expect(d.rootCause.description).toContain('fetchRates');
    expect(d.recommendedFixes).toEqual(['regression-test', 'documentation']);
    expect(d.context['timing']).toMatchObject({ slowChild: 'fetchRates' });
  });

  it('diagnoses a null-access error with a guard fix and the failing input first', () => {
    const ev = new FakeEvidence();
    ev.baseline = Array.from({ length: 10 }, () => beat({ attributes: { cart: 'full' } }));
    const fails = Array.from({ length: 6 }, () => failing({}, { attributes: { cart: 'empty' } }));
    ev.recent = [...Array.from({ length: 10 }, () => beat({ attributes: { cart: 'full' } })), ...fails];
    const a = anomaly({
      type: 'error',
      subtype: 'new-error-fingerprint',
      severity: 'critical',
      details: { fingerprint: 'fp1' },
      exemplars: [{ traceId: fails[0]!.traceId, spanId: fails[0]!.spanId, errorFingerprint: 'fp1' }],
    });
    const d = diagnose(a, ev, { openAnomalies: [], nowMs: NOW });
    expect(d.rootCause.cause).toBe('code-defect');
    expect(d.recommendedFixes).toEqual(['guard', 'regression-test']);
    expect(d.context['errorKind']).toBe('null-access');
    expect(d.context['errorProperty']).toBe('amount');
    expect(d.context['error']).toMatchObject({ type: 'TypeError', topFrame: 'src/pay.ts:42', fingerprint: 'fp1' });
    expect((d.context['error'] as { stacktrace: string }).stacktrace).toContain('at charge');
    expect(d.suspects[0]).toMatchObject({ key: 'cart', value: 'empty', anomalousShare: 1, baselineShare: 0 });
    expect(d.hypotheses.map((h) => h.cause)).toContain('attribute:cart=empty');
    const samples = d.context['sampleInputs'] as Array<{ failed: boolean; attributes: Record<string, unknown> }>;
    expect(samples[0]).toMatchObject({ failed: true, attributes: { cart: 'empty' } });
    expect(samples.some((s) => !s.failed)).toBe(true);
    expect(d.impact.affectedRuns).toBe(6);
  });

  it('recommends a rollback for a fresh release and records both versions', () => {
    const ev = new FakeEvidence();
    ev.versionList = [
      { version: '1.4.0', firstSeenMs: 1_000, lastSeenMs: 2_000_000 },
      { version: '1.5.0', firstSeenMs: 1_995_000, lastSeenMs: NOW },
    ];
    ev.baseline = Array.from({ length: 10 }, () => beat({ serviceVersion: '1.4.0' }));
    ev.recent = Array.from({ length: 10 }, () => failing({ type: 'Error', message: 'upstream said 500', fingerprint: 'fpX', topFrame: '' }, { serviceVersion: '1.5.0' }));
    const d = diagnose(anomaly({ type: 'error', subtype: 'error-rate-spike' }), ev, { openAnomalies: [], nowMs: NOW });
    expect(d.hypotheses.map((h) => h.cause)).toContain('new-release');
    expect(d.recommendedFixes).toEqual(['rollback', 'regression-test']);
    expect(d.context).toMatchObject({ previousVersion: '1.4.0', newVersion: '1.5.0', versions: ['1.4.0', '1.5.0'], errorKind: 'other' });
  });

  it('falls back to the detector facts when failing beats are gone', () => {
    const ev = new FakeEvidence();
    const d = diagnose(anomaly({ type: 'error', subtype: 'error-rate-spike', details: { errorRate: 0.3 } }), ev, { openAnomalies: [], nowMs: NOW });
    expect(d.rootCause).toMatchObject({ cause: 'code-defect', score: 0.4 });
    expect(d.rootCause.evidence).toContain('errorRate: 0.3');
    expect(d.recommendedFixes).toEqual(['regression-test']);
  });

  it('handles coverage and behavioural anomalies and related open anomalies', () => {
    const ev = new FakeEvidence();
    const cov = diagnose(anomaly({ type: 'coverage', subtype: 'untested-handler' }), ev, { openAnomalies: [], nowMs: NOW });
    expect(cov.rootCause.cause).toBe('untested-hot-path');
    expect(cov.recommendedFixes).toEqual(['regression-test']);

    const other = anomaly({ id: 'up', handler: 'validateCart', service: 'cart', firstSeenMs: 1 });
    const beh = diagnose(
      anomaly({ type: 'behavioral', subtype: 'missing-beat', handler: undefined, details: { beat: 'pay.2' } }),
      ev,
      { openAnomalies: [other], nowMs: NOW },
    );
    expect(beh.handler).toBeUndefined();
    expect(beh.sequence).toBe('checkout');
    expect(beh.impact.trafficShare).toBe(0);
    expect(beh.hypotheses.map((h) => h.cause)).toEqual(['upstream-cause', 'missing-handler-registration', 'sequence-change']);
    expect(beh.affected).toEqual({ handlers: ['validateCart'], sequences: ['checkout'], services: ['shop', 'cart'] });
    expect(beh.context['relatedAnomalies']).toEqual([{ id: 'up', relation: 'upstream', via: 'same sequence checkout, opened earlier' }]);
    expect(beh.recommendedFixes).toEqual([]);
  });

  it('says unknown when nothing explains the anomaly', () => {
    const ev = new FakeEvidence();
    ev.share = Number.NaN;
    const d = diagnose(anomaly({ sequence: undefined }), ev, { openAnomalies: [], nowMs: NOW });
    expect(d.rootCause).toMatchObject({ cause: 'unknown', score: 0 });
    expect(d.impact.trafficShare).toBe(0);
    expect(d.hypotheses).toEqual([]);
    expect(d.context['baseline']).toMatchObject({ p95Ms: 12, samples: 0 });
  });
});
