import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { coreMigrations } from '../../src/store/anomaly-store.js';
import { RollupStore, rollupMigrations } from '../../src/store/rollup-store.js';
import { RollupRecorder } from '../../src/store/rollup-recorder.js';
import { AnomalyWindows } from '../../src/store/anomaly-windows.js';
import { ServiceGraph } from '../../src/detect/service-graph.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerSeriesApi, serviceGraphRoute } from '../../src/web/series-api.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER } from '../../src/model/beat.js';
import { beat } from '../diagnose/service-traffic.js';
import { HOSTILE } from '../heal/text/hostile-corpus.js';

const T0 = 1_700_000_400_000;
const TIERS = [
  { resolutionMs: 10_000, retentionMs: 3_600_000 },
  { resolutionMs: 60_000, retentionMs: 7_200_000 },
];
const SQL = "x'); DROP TABLE rollup_series; --";
const NAMES = [...Object.values(HOSTILE), SQL];

/**
 * Service, operation and version names are telemetry text: they reach SQLite only as bound
 * parameters and the API only through JSON serialization, and must come back exactly as sent.
 */
describe('hostile service, operation and version names in the rollups and their API', () => {
  let dir: string;
  let db: SqliteDatabase;
  let admin: AdminServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-series-hostile-'));
    db = openDatabase(join(dir, 'state.db'), [...coreMigrations, ...rollupMigrations]);
    const graph = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    NAMES.forEach((name, i) => {
      const trace = `h${i}`;
      graph.observe([
        beat({ service: name, traceId: trace, spanId: `${trace}a`, spanName: name, startMs: T0 + i, durationMs: 10 }, SPAN_KIND_SERVER),
        beat({ service: name, traceId: trace, spanId: `${trace}b`, parentSpanId: `${trace}a`, spanName: 'call', startMs: T0 + i + 1, durationMs: 8 }, SPAN_KIND_CLIENT),
        beat({ service: 'sink', traceId: trace, spanId: `${trace}c`, parentSpanId: `${trace}b`, spanName: 'GET /x', startMs: T0 + i + 2, durationMs: 5 }, SPAN_KIND_SERVER),
      ]);
    });
    const rollups = new RollupStore(db);
    new RollupRecorder(rollups, TIERS, { versions: (s) => (s === 'sink' ? [] : [{ version: 'v0', firstSeenMs: T0 }, { version: s, firstSeenMs: T0 + 1 }]) }).record(graph.advance(T0 + 60_000), T0 + 60_000);
    const deps = { rollups, tiers: TIERS, anomalies: new AnomalyWindows(db), now: () => T0 + 60_000 };
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerSeriesApi(admin, deps);
    admin.addRoute('GET', '/api/v1/service-graph', serviceGraphRoute(deps));
    await admin.listen();
  });

  afterAll(async () => {
    await admin.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every name exactly as received, and the tables are intact', async () => {
    const body = (await (await fetch(`${admin.url}/api/v1/services?from=${T0}&to=${T0 + 60_000}`)).json()) as { services: Array<{ name: string; requests: number; operations: Array<{ name: string }>; versions: Array<{ version: string }> }> };
    const byName = new Map(body.services.map((s) => [s.name, s]));
    for (const name of NAMES) {
      const s = byName.get(name);
      expect(s, JSON.stringify(name.slice(0, 40))).toBeDefined();
      expect(s!.requests).toBe(1);
      expect(s!.operations.map((o) => o.name)).toEqual([name]);
      expect(s!.versions.map((v) => v.version)).toEqual(['v0', name]);
    }
    expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'rollup_series'").pluck().get()).toBe(1);
  });

  it('serves each name\'s series and graph edges; a name beyond the query limit is refused with 400', async () => {
    for (const name of NAMES) {
      const r = await fetch(`${admin.url}/api/v1/series?service=${encodeURIComponent(name)}&operation=${encodeURIComponent(name)}&from=${T0}&to=${T0 + 60_000}`);
      if ([...name].length > 500) {
        // Over the parameter limit: 400 naming it, or node's own 431 for a URL beyond 16 KiB.
        expect([400, 431]).toContain(r.status);
        if (r.status === 400) expect(((await r.json()) as { error: string }).error).toContain("'service'");
        continue;
      }
      expect(r.status).toBe(200);
      const body = (await r.json()) as { service: string; operation: string; points: Array<{ requests: number }>; deploys: Array<{ version: string }> };
      expect(body.service).toBe(name);
      expect(body.operation).toBe(name);
      expect(body.points.reduce((n, p) => n + p.requests, 0)).toBe(1);
    }
    const graph = (await (await fetch(`${admin.url}/api/v1/service-graph?from=${T0}&to=${T0 + 60_000}`)).json()) as { edges: Array<{ caller: string; callee: string }> };
    expect(graph.edges.map((e) => e.caller).sort()).toEqual([...NAMES].sort());
    expect(graph.edges.every((e) => e.callee === 'sink')).toBe(true);
  });
});
