import { describe, expect, it } from 'vitest';
import { relatedAnomalies, relatedHypotheses } from '../../src/diagnose/related.js';
import { anomaly, beat, FakeEvidence } from './fixtures.js';
import { STATUS_ERROR } from '../../src/model/beat.js';

describe('related anomalies', () => {
  it('classifies by position in shared traces', () => {
    const ev = new FakeEvidence();
    const root = beat({ handler: 'checkout', startMs: 0, durationMs: 100 });
    const early = beat({ handler: 'validateCart', traceId: root.traceId, parentSpanId: root.spanId, startMs: 1, durationMs: 5 });
    const mine = beat({ handler: 'chargeCard', traceId: root.traceId, parentSpanId: root.spanId, startMs: 10, durationMs: 50 });
    const child = beat({ handler: 'queryDb', traceId: root.traceId, parentSpanId: mine.spanId, startMs: 11, durationMs: 40 });
    const later = beat({ handler: 'sendEmail', traceId: root.traceId, parentSpanId: root.spanId, startMs: 70, durationMs: 5 });
    ev.addTrace([root, early, mine, child, later]);
    const self = anomaly({ exemplars: [{ traceId: root.traceId, spanId: mine.spanId }] });
    const others = [
      anomaly({ id: 'up1', handler: 'validateCart', firstSeenMs: 1 }),
      anomaly({ id: 'up2', handler: 'queryDb' }),
      anomaly({ id: 'down1', handler: 'sendEmail' }),
      anomaly({ id: 'down2', handler: 'checkout' }),
      anomaly({ id: 'gone', handler: 'validateCart', state: 'resolved' }),
      anomaly({ id: 'a1' }),
      anomaly({ id: 'elsewhere', handler: 'other', sequence: 'browse' }),
    ];
    const rel = relatedAnomalies(self, others, ev, [mine]);
    expect(Object.fromEntries(rel.map((r) => [r.anomaly.id, r.relation]))).toEqual({
      up1: 'upstream',
      up2: 'upstream',
      down1: 'downstream',
      down2: 'downstream',
    });
    const hs = relatedHypotheses(self, rel);
    expect(hs.map((h) => h.cause)).toEqual(['upstream-cause', 'downstream-symptom']);
    expect(hs[0]!.evidence).toHaveLength(2);
    expect(hs[0]!.score).toBeGreaterThan(hs[1]!.score);
  });

  it('traces a missing beat to the beat that failed earlier in the same runs', () => {
    const ev = new FakeEvidence();
    const root = beat({ handler: 'create', startMs: 0, durationMs: 10 });
    const failed = beat({ handler: 'createComponent', traceId: root.traceId, parentSpanId: root.spanId, startMs: 1, durationMs: 2, status: STATUS_ERROR });
    ev.addTrace([root, failed]);
    const self = anomaly({ type: 'behavioral', subtype: 'missing-beat', handler: 'renderComponent', sequence: undefined, exemplars: [{ traceId: root.traceId, spanId: root.spanId }] });
    const cause = anomaly({ id: 'err', type: 'error', subtype: 'new-error-fingerprint', handler: 'createComponent', sequence: undefined, firstSeenMs: 5 });
    const rel = relatedAnomalies(self, [cause], ev, []);
    expect(rel).toMatchObject([{ anomaly: { id: 'err' }, relation: 'upstream' }]);
    // A performance anomaly on the same handler does not make a run stop: no relation from traces.
    const calm = beat({ handler: 'createComponent', traceId: root.traceId, parentSpanId: root.spanId, startMs: 1, durationMs: 2 });
    const ev2 = new FakeEvidence();
    ev2.addTrace([root, calm]);
    expect(relatedAnomalies(self, [cause], ev2, [])).toEqual([]);
  });

  it('falls back to the sequence and first-seen order without traces', () => {
    const ev = new FakeEvidence();
    const self = anomaly({ firstSeenMs: 100 });
    const rel = relatedAnomalies(
      self,
      [anomaly({ id: 'b', handler: undefined, firstSeenMs: 50 }), anomaly({ id: 'c', handler: 'x', firstSeenMs: 200 })],
      ev,
      [],
    );
    expect(rel.map((r) => [r.anomaly.id, r.relation])).toEqual([
      ['b', 'upstream'],
      ['c', 'downstream'],
    ]);
    expect(relatedAnomalies(self, [], ev, [])).toEqual([]);
    expect(relatedHypotheses(self, [])).toEqual([]);
  });
});
