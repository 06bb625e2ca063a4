import { describe, expect, it } from 'vitest';
import { collectBeatSets, errorFingerprintOf, exemplarBeatsOf, slowThreshold } from '../../src/diagnose/beat-sets.js';
import { anomaly, beat, failing, FakeEvidence } from './fixtures.js';

describe('collectBeatSets', () => {
  it('splits a latency anomaly at the baseline p95 and includes exemplars once', () => {
    const ev = new FakeEvidence();
    ev.baseline = Array.from({ length: 20 }, () => beat({ durationMs: 10 }));
    const slow = beat({ durationMs: 100 });
    const fast = beat({ durationMs: 9 });
    const exemplarOnly = beat({ durationMs: 150, traceId: slow.traceId });
    ev.recent = [slow, fast];
    ev.addTrace([slow, exemplarOnly]);
    const a = anomaly({ exemplars: [{ traceId: slow.traceId, spanId: slow.spanId }, { traceId: slow.traceId, spanId: exemplarOnly.spanId }] });
    const sets = collectBeatSets(a, ev);
    expect(sets.slowThresholdMs).toBe(10);
    expect(sets.anomalous.map((b) => b.spanId)).toEqual([slow.spanId, exemplarOnly.spanId]);
    expect(sets.normal).toContain(fast);
    expect(sets.normal).toHaveLength(21);
  });

  it('falls back to the expected figure when the baseline is thin', () => {
    expect(slowThreshold(anomaly({ expected: { p95Ms: 30 } }), [])).toBe(30);
    expect(slowThreshold(anomaly({ expected: { p99Ms: 40 } }), [])).toBe(40);
    expect(slowThreshold(anomaly({ expected: { p50Ms: 5 } }), [])).toBe(10);
    expect(slowThreshold(anomaly({ expected: {} }), [])).toBeUndefined();
    const ev = new FakeEvidence();
    ev.recent = [beat({ durationMs: 1000 })];
    const sets = collectBeatSets(anomaly({ expected: {} }), ev);
    expect(sets.anomalous).toEqual([]);
    expect(sets.normal).toHaveLength(1);
  });

  it('selects failing beats with the anomaly fingerprint for error anomalies', () => {
    const ev = new FakeEvidence();
    const f1 = failing({ fingerprint: 'fp1' });
    const f2 = failing({ fingerprint: 'other' });
    const ok = beat();
    const oldFailure = failing({ fingerprint: 'fp1' });
    ev.recent = [f1, f2, ok];
    ev.baseline = [oldFailure, beat()];
    const sets = collectBeatSets(anomaly({ type: 'error', subtype: 'error-rate-spike', details: { fingerprint: 'fp1' } }), ev);
    expect(sets.anomalous).toEqual([f1]);
    expect(sets.normal).toContain(f2);
    expect(sets.normal).not.toContain(oldFailure);
  });

  it('uses exemplar traces only for anomalies without a handler', () => {
    const ev = new FakeEvidence();
    const root = beat({ handler: 'start' });
    ev.addTrace([root]);
    const a = anomaly({ type: 'behavioral', subtype: 'missing-beat', handler: undefined, exemplars: [{ traceId: root.traceId, spanId: root.spanId }, { traceId: 'gone', spanId: 'x' }] });
    const sets = collectBeatSets(a, ev);
    expect(sets.anomalous).toEqual([root]);
    expect(sets.recent).toEqual([]);
    expect(exemplarBeatsOf(a, ev)).toEqual([root]);
  });

  it('reads the fingerprint from details or exemplars', () => {
    expect(errorFingerprintOf(anomaly({ details: { fingerprint: 'x' } }))).toBe('x');
    expect(errorFingerprintOf(anomaly({ exemplars: [{ traceId: 't', spanId: 's' }, { traceId: 't', spanId: 's', errorFingerprint: 'y' }] }))).toBe('y');
    expect(errorFingerprintOf(anomaly())).toBeUndefined();
  });
});
