import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { coreMigrations } from '../../src/store/migrations.js';
import { IncidentStore } from '../../src/store/incident-store.js';

import { incidentFixture, T0 } from './incident-fixture.js';

describe('IncidentStore', () => {
  let dir: string;
  let path: string;
  let db: SqliteDatabase;
  let store: IncidentStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sh-incidents-'));
    path = join(dir, 'state.db');
    db = openDatabase(path, coreMigrations);
    store = new IncidentStore(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest version of an incident, its anomalies and a timeline of what changed', () => {
    store.saveIncident(incidentFixture(), T0);
    store.saveIncident(incidentFixture(), T0 + 10_000); // nothing an operator cares about changed
    store.saveIncident(
      incidentFixture({
        anomalyIds: ['an_1', 'an_2'],
        severity: 'critical',
        rootCauses: [{ service: 'db', score: 9, reason: 'errors start here' }],
        startMs: T0 + 5_000, // the start never moves later
      }),
      T0 + 20_000,
    );
    store.saveIncident(incidentFixture({ anomalyIds: ['an_1', 'an_2'], severity: 'critical', state: 'resolved', rootCauses: [{ service: 'db', score: 9, reason: 'errors start here' }] }), T0 + 30_000);
    const got = store.get('inc_1', T0 + 30_000)!;
    expect(got.state).toBe('resolved');
    expect(got.anomalyIds).toEqual(['an_1', 'an_2']);
    expect(got.startMs).toBe(T0);
    expect(got.acknowledged).toBeNull();
    expect(got.silencedUntilMs).toBeNull();
    expect(got.impact).toBeNull();
    expect(store.timeline('inc_1').map((e) => [e.t - T0, e.kind])).toEqual([
      [0, 'opened'],
      [20_000, 'anomaly-joined'],
      [20_000, 'severity'],
      [20_000, 'root-cause'],
      [30_000, 'resolved'],
    ]);
    expect(store.incidentIdsOfAnomaly('an_2')).toEqual(['inc_1']);
    expect(store.incidentIdsOfAnomaly('nope')).toEqual([]);
    expect(store.get('missing', T0)).toBeUndefined();
  });

  it('lists best first with filters, search and paging, and counts the total', () => {
    store.saveIncident(incidentFixture({ id: 'a', state: 'resolved', severity: 'critical' }), T0);
    store.saveIncident(incidentFixture({ id: 'b', severity: 'medium', services: ['search'], rootCauses: [] }), T0);
    store.saveIncident(incidentFixture({ id: 'c', severity: 'high', rootCauses: [{ service: 'pricing', score: 2, reason: 'slow' }] }), T0);
    store.saveIncident(incidentFixture({ id: 'd', severity: 'high', startMs: T0 + 1, rootCauses: [{ service: 'pricing', score: 7, reason: 'slow' }] }), T0);
    store.saveIncident(incidentFixture({ id: 'e', severity: 'low', startMs: T0 - 7_200_000, endMs: T0 - 3_600_000, summary: 'Timeout 100% in checkout' }), T0);
    const ids = (q: Partial<Parameters<IncidentStore['list']>[0]>): string[] => store.list({ limit: 50, offset: 0, ...q }, T0).items.map((i) => i.id);
    expect(ids({})).toEqual(['d', 'c', 'b', 'e', 'a']);
    expect(ids({ states: ['resolved'] })).toEqual(['a']);
    expect(ids({ severities: ['high', 'critical'] })).toEqual(['d', 'c', 'a']);
    expect(ids({ service: 'pricing' })).toEqual(['d', 'c', 'e', 'a']); // root-cause service counts
    expect(ids({ service: 'search' })).toEqual(['b']);
    expect(ids({ q: 'TIMEOUT 100%' })).toEqual(['e']);
    expect(ids({ q: '%' })).toEqual(['e']); // no wildcard meaning
    expect(ids({ fromMs: T0 - 1_000, toMs: T0 + 1_000 })).toEqual(['d', 'c', 'b', 'a']);
    expect(ids({ fromMs: T0 + 3_600_000 })).toEqual([]);
    expect(store.openCountsByService()).toEqual(new Map([['cart', 3], ['frontend', 3], ['pricing', 3], ['search', 1]]));
    const page = store.list({ limit: 2, offset: 1 }, T0);
    expect(page.items.map((i) => i.id)).toEqual(['c', 'b']);
    expect(page.total).toBe(5);
  });

  it('acknowledges and silences; both survive reopening the file and saves by the tracker keep them', () => {
    store.saveIncident(incidentFixture(), T0);
    expect(store.acknowledge('inc_1', 'alice', T0 + 1_000)!.acknowledged).toEqual({ by: 'alice', atMs: T0 + 1_000 });
    const silenced = store.silence('inc_1', T0 + 3_600_000, 'deploy in progress', T0 + 2_000)!;
    expect(silenced.silencedUntilMs).toBe(T0 + 3_600_000);
    expect(silenced.silenceReason).toBe('deploy in progress');
    store.saveIncident(incidentFixture({ anomalyIds: ['an_1', 'an_9'] }), T0 + 3_000);
    db.close();
    db = openDatabase(path, coreMigrations);
    store = new IncidentStore(db);
    const back = store.get('inc_1', T0 + 4_000)!;
    expect(back.acknowledged).toEqual({ by: 'alice', atMs: T0 + 1_000 });
    expect(back.silencedUntilMs).toBe(T0 + 3_600_000);
    expect(back.anomalyIds).toEqual(['an_1', 'an_9']);
    expect(store.silencedUntil('inc_1', T0 + 4_000)).toBe(T0 + 3_600_000);
    // A silence that ran out is no silence.
    expect(store.silencedUntil('inc_1', T0 + 3_600_000)).toBeUndefined();
    expect(store.get('inc_1', T0 + 3_600_000)!.silencedUntilMs).toBeNull();
    expect(store.unsilence('inc_1', T0 + 5_000)!.silencedUntilMs).toBeNull();
    expect(store.silencedUntil('inc_1', T0 + 6_000)).toBeUndefined();
    expect(store.timeline('inc_1').map((e) => e.kind)).toEqual(['opened', 'acknowledged', 'silenced', 'anomaly-joined', 'unsilenced']);
    expect(store.acknowledge('missing', 'x', T0)).toBeUndefined();
    expect(store.silence('missing', T0, '', T0)).toBeUndefined();
    expect(store.unsilence('missing', T0)).toBeUndefined();
  });

  it('keeps exemplar spans per incident and closes incidents an earlier process left open', () => {
    store.saveIncident(incidentFixture({ id: 'left-open' }), T0);
    store.saveIncident(incidentFixture({ id: 'live' }), T0);
    store.saveExemplar('left-open', { traceId: 'abc', spans: [{ spanId: 's1', parentSpanId: '', service: 'cart', name: 'GET /cart', startMs: T0, durationMs: 12, error: true }] });
    store.saveExemplar('left-open', { traceId: 'abc', spans: [] });
    expect(store.exemplarTraceIds('left-open')).toEqual(['abc']);
    expect(store.exemplars('left-open')).toEqual([{ traceId: 'abc', spans: [] }]);
    store.note('left-open', T0 + 1, 'heal-skipped', 'not healing an_1: silenced');
    expect(store.closeInterrupted(new Set(['live']), T0 + 9_000)).toBe(1);
    expect(store.incident('left-open')!.state).toBe('resolved');
    expect(store.incident('live')!.state).toBe('open');
    expect(store.timeline('left-open').map((e) => e.kind)).toEqual(['opened', 'heal-skipped', 'interrupted']);
  });
});
