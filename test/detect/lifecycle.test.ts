import { describe, expect, it } from 'vitest';
import { AnomalyLifecycle, mergeExemplars } from '../../src/detect/lifecycle.js';
import type { Finding } from '../../src/model/anomaly.js';

function finding(over: Partial<Finding> = {}): Finding {
  return {
    key: 'performance:handler:shop:chargeCard',
    type: 'performance',
    subtype: 'latency-regression',
    severity: 'medium',
    confidence: 0.8,
    service: 'shop',
    handler: 'chargeCard',
    windowStartMs: 0,
    windowEndMs: 1000,
    summary: 'slow',
    observed: { p95Ms: 400 },
    expected: { p95Ms: 40 },
    details: {},
    exemplars: [{ traceId: 't1', spanId: 's1', durationMs: 400 }],
    ...over,
  };
}

describe('AnomalyLifecycle', () => {
  it('opens once, stays one anomaly while the problem persists, resolves after K clean evaluations', () => {
    const lc = new AnomalyLifecycle({ resolveAfter: 3, updateEvery: 5 });
    const opened = lc.apply([finding()], 1000);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.kind).toBe('opened');
    const id = opened[0]!.anomaly.id;
    expect(id).toMatch(/^an_[0-9a-z]+_[0-9a-z]{5,}$/);
    const other = new AnomalyLifecycle({ resolveAfter: 3, updateEvery: 5, instanceTag: 'zz00' });
    expect(other.apply([finding()], 1000)[0]!.anomaly.id).toBe('an_rs_zz001');
    expect(opened[0]!.anomaly.state).toBe('open');
    let updates = 0;
    for (let i = 2; i <= 11; i++) {
      const changes = lc.apply([finding({ exemplars: [{ traceId: `t${i}`, spanId: `s${i}` }] })], i * 1000);
      for (const c of changes) {
        expect(c.kind).toBe('updated');
        expect(c.anomaly.id).toBe(id);
        updates++;
      }
    }
    expect(updates).toBe(2); // every 5 evaluations, not every one
    const open = lc.openAnomalies();
    expect(open).toHaveLength(1);
    expect(open[0]!.state).toBe('ongoing');
    expect(open[0]!.firstSeenMs).toBe(1000);
    expect(open[0]!.lastSeenMs).toBe(11_000);
    expect(open[0]!.exemplars).toHaveLength(10);
    expect(open[0]!.exemplars[0]!.traceId).toBe('t11');
    expect(lc.apply([], 12_000)).toEqual([]);
    expect(lc.apply([], 13_000)).toEqual([]);
    const resolved = lc.apply([], 14_000);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.kind).toBe('resolved');
    expect(resolved[0]!.anomaly.resolvedMs).toBe(14_000);
    expect(lc.openAnomalies()).toEqual([]);
    expect(lc.find(id)!.state).toBe('resolved');
    // After resolution the same key opens a new anomaly with a new id.
    const again = lc.apply([finding()], 20_000);
    expect(again[0]!.kind).toBe('opened');
    expect(again[0]!.anomaly.id).not.toBe(id);
  });

  it('emits an update when severity changes and a clean gap shorter than K does not resolve', () => {
    const lc = new AnomalyLifecycle({ resolveAfter: 2, updateEvery: 100 });
    lc.apply([finding()], 1);
    expect(lc.apply([], 2)).toEqual([]);
    const up = lc.apply([finding({ severity: 'critical', subtype: 'slo-breach' })], 3);
    expect(up).toHaveLength(1);
    expect(up[0]!.kind).toBe('updated');
    expect(up[0]!.anomaly.severity).toBe('critical');
    expect(up[0]!.anomaly.subtype).toBe('slo-breach');
    expect(lc.apply([], 4)).toEqual([]);
    // De-escalation is applied silently (shown at the next periodic update).
    expect(lc.apply([finding({ severity: 'low', subtype: 'slo-breach' })], 5)).toEqual([]);
    expect(lc.openAnomalies()[0]!.severity).toBe('low');
  });

  it('deduplicates findings with the same key in one evaluation and keeps snapshots immutable', () => {
    const lc = new AnomalyLifecycle({ resolveAfter: 1, updateEvery: 1 });
    const changes = lc.apply([finding(), finding({ severity: 'high' }), finding({ key: 'other' })], 1);
    expect(changes).toHaveLength(2);
    changes[0]!.anomaly.observed.p95Ms = -1;
    expect(lc.openAnomalies()[0]!.observed.p95Ms).toBe(400);
    expect(lc.activeId('other')).toBe(changes[1]!.anomaly.id);
    let n = 0;
    lc.forEachActive(() => n++);
    expect(n).toBe(2);
    expect(lc.find('nope')).toBeUndefined();
  });

  it('forgets the oldest resolved anomalies beyond its memory', () => {
    const lc = new AnomalyLifecycle({ resolveAfter: 1, updateEvery: 1, rememberResolved: 1 });
    const a = lc.apply([finding({ key: 'a' })], 1)[0]!.anomaly.id;
    lc.apply([], 2);
    const b = lc.apply([finding({ key: 'b' })], 3)[0]!.anomaly.id;
    lc.apply([], 4);
    expect(lc.find(a)).toBeUndefined();
    expect(lc.find(b)).toBeDefined();
    const none = new AnomalyLifecycle({ resolveAfter: 1, updateEvery: 1, rememberResolved: 0 });
    const c = none.apply([finding()], 1)[0]!.anomaly.id;
    none.apply([], 2);
    expect(none.find(c)).toBeUndefined();
  });

  it('merges exemplars newest first without duplicates', () => {
    const merged = mergeExemplars(
      [
        { traceId: 'a', spanId: '1' },
        { traceId: 'b', spanId: '2' },
      ],
      [
        { traceId: 'c', spanId: '3' },
        { traceId: 'a', spanId: '1' },
      ],
      3,
    );
    expect(merged.map((e) => e.traceId)).toEqual(['c', 'a', 'b']);
  });
});
