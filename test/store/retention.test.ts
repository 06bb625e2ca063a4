import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import { healMigrations } from '../../src/heal/migrations.js';
import { JobQueue } from '../../src/heal/queue.js';
import { pruneBefore } from '../../src/store/retention.js';
import { IncidentStore } from '../../src/store/incident-store.js';
import type { Incident } from '../../src/model/incident.js';
import { anomaly } from '../diagnose/fixtures.js';
import { sampleAnomaly, sampleDiagnosis } from '../heal/fixtures/samples.js';

const DAY = 86_400_000;

describe('pruneBefore', () => {
  let dir: string;
  let db: SqliteDatabase;
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes old events, resolved anomalies with their diagnoses, and finished jobs; keeps open work', () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-retention-'));
    db = openDatabase(join(dir, 'state.db'), [...coreMigrations, ...healMigrations]);
    const store = new AnomalyStore(db);
    const queue = new JobQueue(db);
    const old = 1 * DAY;
    const recent = 40 * DAY;
    store.saveAnomaly(anomaly({ id: 'gone', state: 'resolved', firstSeenMs: old, lastSeenMs: old, resolvedMs: old }));
    store.saveAnomaly(anomaly({ id: 'still-open', state: 'ongoing', firstSeenMs: old, lastSeenMs: old }));
    store.saveAnomaly(anomaly({ id: 'fresh', state: 'resolved', firstSeenMs: recent, lastSeenMs: recent, resolvedMs: recent }));
    store.saveDiagnosis({ ...sampleDiagnosis(), id: 'd-gone', anomalyId: 'gone' });
    store.saveDiagnosis({ ...sampleDiagnosis(), id: 'd-open', anomalyId: 'still-open' });
    store.saveFeedback('gone', 'false-positive', 'noise', old);
    store.appendEvent({ kind: 'anomaly.opened', timeMs: old, payload: {} });
    store.appendEvent({ kind: 'anomaly.opened', timeMs: recent, payload: {} });
    const finished = queue.enqueue({ ...sampleDiagnosis(), id: 'dg-old' }, sampleAnomaly(), old).id;
    db.prepare("UPDATE heal_jobs SET state = 'succeeded', updated_ms = ? WHERE id = ?").run(old, finished);
    const waiting = queue.enqueue({ ...sampleDiagnosis(), id: 'dg-queued' }, sampleAnomaly(), old).id;

    const incidents = new IncidentStore(db);
    const inc = (id: string, state: Incident['state'], endMs: number): Incident => ({
      id, startMs: endMs - 1000, endMs, anomalyIds: [`an-${id}`], rootCauses: [], state, severity: 'high', services: ['shop'], summary: id,
    });
    incidents.saveIncident(inc('inc-old', 'resolved', old), old);
    incidents.saveExemplar('inc-old', { traceId: 't', spans: [] });
    incidents.saveIncident(inc('inc-old-open', 'open', old), old);
    incidents.saveIncident(inc('inc-fresh', 'resolved', recent), recent);

    const counts = pruneBefore(db, 30 * DAY);
    expect(counts).toEqual({ events: 1, anomalies: 1, diagnoses: 1, jobs: 1, incidents: 1 });
    expect(incidents.incident('inc-old')).toBeUndefined();
    expect(incidents.timeline('inc-old')).toEqual([]);
    expect(incidents.exemplars('inc-old')).toEqual([]);
    expect(incidents.incidentIdsOfAnomaly('an-inc-old')).toEqual([]);
    expect(incidents.incident('inc-old-open')).toBeDefined();
    expect(incidents.incident('inc-fresh')).toBeDefined();
    expect(store.getAnomaly('gone')).toBeUndefined();
    expect(store.getDiagnosis('d-gone')).toBeUndefined();
    expect(store.feedbackFor('gone')).toEqual([]);
    expect(store.getAnomaly('still-open')).toBeDefined();
    expect(store.getDiagnosis('d-open')).toBeDefined();
    expect(store.getAnomaly('fresh')).toBeDefined();
    expect(store.eventsSince(0, 10).map((e) => e.timeMs)).toEqual([recent]);
    expect(queue.get(finished)).toBeUndefined();
    expect(queue.get(waiting)).toBeDefined();
  });
});
