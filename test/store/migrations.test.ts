import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase } from '../../src/store/database.js';
import { coreMigrations } from '../../src/store/migrations.js';

describe('coreMigrations', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the core tables and indexes once, under module "core"', () => {
    dir = mkdtempSync(join(tmpdir(), 'core-mig-'));
    const db = openDatabase(join(dir, 'x.db'), coreMigrations);
    try {
      const names = (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index')").all() as Array<{ name: string }>).map((r) => r.name);
      for (const n of ['anomalies', 'diagnoses', 'events', 'anomaly_feedback', 'anomalies_state', 'anomalies_service', 'anomalies_handler', 'anomalies_time']) {
        expect(names).toContain(n);
      }
      for (const n of ['incidents', 'incident_anomalies', 'incident_services', 'incident_timeline', 'incident_exemplars', 'incidents_rank']) expect(names).toContain(n);
      expect(db.prepare("SELECT module, version FROM schema_migrations WHERE module = 'core' ORDER BY version").all()).toEqual(
        coreMigrations.map((m) => ({ module: 'core', version: m.version })),
      );
      expect(applyMigrations(db, coreMigrations)).toBe(0);
      const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM anomalies WHERE state = 'open' ORDER BY last_seen_ms DESC").all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join(' ')).toContain('anomalies_state');
    } finally {
      db.close();
    }
  });
});
