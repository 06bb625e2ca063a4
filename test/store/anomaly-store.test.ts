import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';

function anomaly(over: Partial<Anomaly> = {}): Anomaly {
  return {
    id: 'a1',
    key: 'perf:svc:h',
    type: 'performance',
    subtype: 'latency-regression',
    severity: 'high',
    confidence: 0.9,
    state: 'open',
    service: 'svc',
    handler: 'h',
    sequence: 'seq',
    windowStartMs: 1000.5,
    windowEndMs: 2000,
    firstSeenMs: 1500,
    lastSeenMs: 1600,
    summary: 'h p95 412ms vs 40ms',
    observed: { p95Ms: 412 },
    expected: { p95Ms: 40 },
    details: { detector: 'latency', flag: true },
    exemplars: [{ traceId: 't1', spanId: 's1', durationMs: 500 }],
    ...over,
  };
}

function diagnosis(over: Partial<Diagnosis> = {}): Diagnosis {
  const root = { cause: 'self-time-regression', description: 'slow', score: 0.8, evidence: ['x'] };
  return {
    id: 'd1',
    anomalyId: 'a1',
    createdMs: 1700,
    service: 'svc',
    handler: 'h',
    rootCause: root,
    hypotheses: [root],
    affected: { handlers: ['h'], sequences: ['seq'], services: ['svc'] },
    impact: { trafficShare: 0.5, affectedRuns: 3, affectedCorrelationIds: 2, severity: 'high' },
    recommendedFixes: ['regression-test'],
    suspects: [],
    context: { handler: 'h', baseline: { p95Ms: 40 } },
    ...over,
  };
}

describe('AnomalyStore', () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: AnomalyStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'anomaly-store-'));
    db = openDatabase(join(dir, 'state.db'), coreMigrations);
    store = new AnomalyStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips an anomaly and upserts updates without moving firstSeen later', () => {
    store.saveAnomaly(anomaly());
    expect(store.getAnomaly('a1')).toEqual(anomaly());
    store.saveAnomaly(anomaly({ state: 'resolved', firstSeenMs: 9999, lastSeenMs: 3000, resolvedMs: 3100, handler: undefined }));
    const got = store.getAnomaly('a1')!;
    expect(got.state).toBe('resolved');
    expect(got.firstSeenMs).toBe(1500);
    expect(got.resolvedMs).toBe(3100);
    expect(got.handler).toBeUndefined();
    expect(store.countAnomalies({})).toBe(1);
    expect(store.getAnomaly('nope')).toBeUndefined();
  });

  it('filters, orders newest first and pages', () => {
    store.saveAnomaly(anomaly({ id: 'a1', lastSeenMs: 100 }));
    store.saveAnomaly(anomaly({ id: 'a2', lastSeenMs: 300, state: 'resolved' }));
    store.saveAnomaly(anomaly({ id: 'a3', lastSeenMs: 200, service: 'other', handler: 'g', type: 'error', subtype: 'error-rate-spike' }));
    expect(store.listAnomalies({ limit: 10, offset: 0 }).map((a) => a.id)).toEqual(['a2', 'a3', 'a1']);
    expect(store.listAnomalies({ limit: 1, offset: 1 }).map((a) => a.id)).toEqual(['a3']);
    expect(store.listAnomalies({ state: 'open', limit: 10, offset: 0 }).map((a) => a.id)).toEqual(['a3', 'a1']);
    expect(store.listAnomalies({ service: 'other', limit: 10, offset: 0 }).map((a) => a.id)).toEqual(['a3']);
    expect(store.listAnomalies({ type: 'error', handler: 'g', limit: 10, offset: 0 }).map((a) => a.id)).toEqual(['a3']);
    expect(store.listAnomalies({ handler: 'h', state: 'resolved', limit: 10, offset: 0 }).map((a) => a.id)).toEqual(['a2']);
    expect(store.countAnomalies({ handler: 'h' })).toBe(2);
  });

  it('stores diagnoses per anomaly, newest first', () => {
    store.saveDiagnosis(diagnosis({ id: 'd2', createdMs: 2000 }));
    store.saveDiagnosis(diagnosis());
    store.saveDiagnosis(diagnosis({ id: 'd3', anomalyId: 'other' }));
    expect(store.getDiagnosis('d1')).toEqual(diagnosis());
    expect(store.diagnosesForAnomaly('a1').map((d) => d.id)).toEqual(['d2', 'd1']);
    expect(store.getDiagnosis('missing')).toBeUndefined();
  });

  it('assigns increasing event sequence numbers and replays after a given seq', () => {
    expect(store.lastEventSeq()).toBe(0);
    const s1 = store.appendEvent({ kind: 'anomaly.opened', timeMs: 10, anomalyId: 'a1', payload: { a: 1 } });
    const s2 = store.appendEvent({ kind: 'diagnosis.created', timeMs: 11, anomalyId: 'a1', diagnosisId: 'd1', payload: { b: 2 } });
    const s3 = store.appendEvent({ kind: 'fix.generated', timeMs: 12, payload: undefined });
    expect([s1, s2, s3]).toEqual([1, 2, 3]);
    expect(store.lastEventSeq()).toBe(3);
    expect(store.eventsSince(1, 10)).toEqual([
      { seq: 2, kind: 'diagnosis.created', timeMs: 11, anomalyId: 'a1', diagnosisId: 'd1', payload: { b: 2 } },
      { seq: 3, kind: 'fix.generated', timeMs: 12, payload: null },
    ]);
    expect(store.eventsSince(0, 1).map((e) => e.seq)).toEqual([1]);
  });

  it('records feedback and keeps data across reopen (real file)', () => {
    store.saveAnomaly(anomaly());
    store.saveFeedback('a1', 'false-positive', 'deploy noise', 42);
    db.close();
    db = openDatabase(join(dir, 'state.db'), coreMigrations);
    store = new AnomalyStore(db);
    expect(store.getAnomaly('a1')?.id).toBe('a1');
    expect(store.feedbackFor('a1')).toEqual([{ anomalyId: 'a1', verdict: 'false-positive', note: 'deploy noise', createdMs: 42 }]);
  });

  it('rejects corrupted rows instead of returning garbage', () => {
    store.saveAnomaly(anomaly());
    db.prepare("UPDATE anomalies SET severity = 'apocalyptic' WHERE id = 'a1'").run();
    expect(() => store.getAnomaly('a1')).toThrow();
  });
});
