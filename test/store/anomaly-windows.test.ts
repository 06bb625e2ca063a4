import { afterEach, describe, expect, it } from 'vitest';
import { AnomalyWindows, MAX_WINDOWS } from '../../src/store/anomaly-windows.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import { tempStore } from '../emit/store-fixture.js';

function anomaly(id: string, over: Partial<Anomaly> = {}): Anomaly {
  return {
    id,
    key: `k|${id}`,
    type: 'performance',
    subtype: 'latency-regression',
    severity: 'low',
    confidence: 0.5,
    state: 'open',
    service: 'cart',
    windowStartMs: 0,
    windowEndMs: 0,
    firstSeenMs: 0,
    lastSeenMs: 0,
    summary: '',
    observed: {},
    expected: {},
    details: {},
    exemplars: [],
    ...over,
  };
}

describe('AnomalyWindows', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('finds anomalies open at some time in a range, by service and handler, with an edge caller', () => {
    const { store, db, cleanup } = tempStore();
    cleanups.push(cleanup);
    store.saveAnomaly(anomaly('before', { firstSeenMs: 100, state: 'resolved', resolvedMs: 199 }));
    store.saveAnomaly(anomaly('overlaps', { firstSeenMs: 150, state: 'resolved', resolvedMs: 250, handler: 'GET /cart' }));
    store.saveAnomaly(anomaly('open', { firstSeenMs: 300, details: { caller: 'frontend' } }));
    store.saveAnomaly(anomaly('after', { firstSeenMs: 500 }));
    store.saveAnomaly(anomaly('other', { firstSeenMs: 300, service: 'pricing' }));
    const w = new AnomalyWindows(db);
    expect(w.between(200, 500, { service: 'cart' }).map((a) => a.id)).toEqual(['overlaps', 'open']);
    expect(w.between(200, 500, { service: 'cart', handler: 'GET /cart' }).map((a) => a.id)).toEqual(['overlaps']);
    const open = w.between(200, 500).find((a) => a.id === 'open')!;
    expect(open).toMatchObject({ caller: 'frontend', resolvedMs: null, state: 'open' });
    expect(w.open().map((a) => a.id).sort()).toEqual(['after', 'open', 'other']);
    expect(Object.fromEntries(w.openCounts())).toEqual({ cart: 2, pricing: 1 });
  });

  it('returns the newest anomalies when more than a chart can hold overlap, oldest first', () => {
    const { store, db, cleanup } = tempStore();
    cleanups.push(cleanup);
    for (let i = 0; i < MAX_WINDOWS + 20; i++) store.saveAnomaly(anomaly(`a${i}`, { firstSeenMs: 1000 + i }));
    const got = new AnomalyWindows(db).between(0, 10_000);
    expect(got).toHaveLength(MAX_WINDOWS);
    expect(got[0]!.id).toBe('a20');
    expect(got.at(-1)!.id).toBe(`a${MAX_WINDOWS + 19}`);
  });
});
