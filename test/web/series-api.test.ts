import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_BAND } from '../../src/web/history-band.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import { RollupStore, rollupMigrations } from '../../src/store/rollup-store.js';
import { RollupRecorder } from '../../src/store/rollup-recorder.js';
import { AnomalyWindows } from '../../src/store/anomaly-windows.js';
import { IncidentEngine } from '../../src/diagnose/incident-engine.js';
import { EventBus } from '../../src/emit/event-bus.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerApiRoutes } from '../../src/web/api.js';
import { registerSeriesApi, serviceGraphRoute, type SeriesApiDeps } from '../../src/web/series-api.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import type { Incident } from '../../src/model/incident.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const MIN = 60_000;
const T0 = 1_700_002_800_000; // on an hour boundary
const NOW = T0 + 30 * MIN;
const TIERS = [
  { resolutionMs: 10_000, retentionMs: 6 * 3_600_000 },
  { resolutionMs: 60_000, retentionMs: 48 * 3_600_000 },
  { resolutionMs: 600_000, retentionMs: 8 * 86_400_000 },
];

function anomaly(over: Partial<Anomaly>): Anomaly {
  return {
    id: 'an_x',
    key: 'k',
    type: 'performance',
    subtype: 'latency-regression',
    severity: 'high',
    confidence: 0.9,
    state: 'open',
    service: 'svc',
    windowStartMs: T0,
    windowEndMs: T0,
    firstSeenMs: T0,
    lastSeenMs: T0,
    summary: 's',
    observed: {},
    expected: {},
    details: {},
    exemplars: [],
    ...over,
  };
}

interface Point {
  t: number;
  requests: number;
  errors: number;
  ratePerSec: number;
  errorRate: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}
interface SeriesReply {
  service: string;
  operation: string | null;
  from: number;
  to: number;
  stepMs: number;
  points: Point[];
  baseline: Array<{ t: number; p95LowMs: number; p95HighMs: number }>;
  deploys: Array<{ t: number; version: string }>;
  marks: Array<{ t: number; endT: number | null; kind: string; id: string; severity: string }>;
}
interface ServicesReply {
  from: number;
  to: number;
  services: Array<{
    name: string;
    requests: number;
    errors: number;
    ratePerSec: number;
    errorRate: number;
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
    versions: Array<{ version: string; firstSeenMs: number }>;
    operations: Array<{ name: string; requests: number; errors: number; ratePerSec: number; errorRate: number; p95Ms: number | null; learning: { done: number; needed: number } | null }>;
    openAnomalies: number;
    openIncidents: number;
  }>;
}
interface GraphReply {
  edges: Array<{ caller: string; callee: string; calls: number; errors: number; ratePerSec: number; errorRate: number; gapP95Ms: number | null; anomalous: boolean }>;
  services: Array<{ name: string; anomalous: boolean }>;
  keys: unknown[];
}

describe('RED history API over a real admin server and SQLite file', () => {
  let dir: string;
  let db: SqliteDatabase;
  let admin: AdminServer;
  let bus: EventBus;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-series-api-'));
    db = openDatabase(join(dir, 'state.db'), [...coreMigrations, ...rollupMigrations]);
    const store = new AnomalyStore(db);
    const rollups = new RollupStore(db);
    const { beats } = generateTraffic(T0, NOW, 2, { checkoutFails: (t) => t >= T0 + 20 * MIN && t < T0 + 25 * MIN, cartToPricingDelayMs: (t) => (t >= T0 + 20 * MIN ? 50 : 0) });
    const live = new IncidentEngine({ graph: { sliceMs: 10_000, traceGraceMs: 1_000 } });
    live.observe(beats);
    const slices = live.evaluate(NOW + 30_000).slices!.filter((s) => s.startMs < NOW);
    const recorder = new RollupRecorder(rollups, TIERS, {
      band: (s, op) => (s === 'cart' && op === 'GET /cart' ? { lowMs: 10, highMs: 30 } : undefined),
      versions: (s) => (s === 'frontend' ? [{ version: '1.0', firstSeenMs: T0 }, { version: '1.1', firstSeenMs: T0 + 15 * MIN }] : []),
    });
    recorder.record(slices, NOW);
    store.saveAnomaly(anomaly({ id: 'an_gap', service: 'pricing', details: { caller: 'cart' }, firstSeenMs: T0 + 21 * MIN, lastSeenMs: NOW }));
    store.saveAnomaly(anomaly({ id: 'an_fe', service: 'frontend', handler: 'GET /checkout', severity: 'medium', type: 'error', subtype: 'error-rate-spike', state: 'resolved', firstSeenMs: T0 + 20 * MIN, lastSeenMs: T0 + 26 * MIN, resolvedMs: T0 + 26 * MIN }));
    store.saveAnomaly(anomaly({ id: 'an_old', service: 'frontend', state: 'resolved', firstSeenMs: T0 - 86_400_000, lastSeenMs: T0 - 86_000_000, resolvedMs: T0 - 86_000_000 }));
    const incident: Incident = { id: 'inc_1', startMs: T0 + 20 * MIN, endMs: T0 + 27 * MIN, anomalyIds: ['an_fe'], rootCauses: [], state: 'open', severity: 'high', services: ['frontend', 'cart'], summary: 'checkout fails' };
    const deps: SeriesApiDeps = {
      rollups,
      tiers: TIERS,
      anomalies: new AnomalyWindows(db),
      incidents: { incidents: () => [incident] },
      liveGraph: () => live.graphFigures(),
      learning: (s, op) => (s === 'cart' && op === 'GET /cart' ? null : { done: 3, needed: 10 }),
      now: () => NOW,
    };
    bus = new EventBus(store);
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerApiRoutes(admin, { store, bus, engine: { handlerFigures: () => [], feedback: () => undefined }, incidents: live, serviceGraph: serviceGraphRoute(deps) });
    registerSeriesApi(admin, deps);
    await admin.listen();
  });

  afterAll(async () => {
    bus.close();
    await admin.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${admin.url}${path}`);
    expect(r.headers.get('content-type')).toContain('application/json');
    return { status: r.status, body: (await r.json()) as T };
  };

  describe('GET /api/v1/services', () => {
    it('gives each service its RED figures over the last hour by default, sorted by name', async () => {
      const { status, body } = await get<ServicesReply>('/api/v1/services');
      expect(status).toBe(200);
      expect(body.to).toBe(NOW);
      expect(body.from).toBe(NOW - 3_600_000);
      expect(body.services.map((s) => s.name)).toEqual(['cart', 'frontend', 'pricing']);
      const fe = body.services.find((s) => s.name === 'frontend')!;
      // 2 requests/s for 30 min, failing for 5 of them; per request, never per span.
      expect(fe.requests).toBe(3600);
      expect(fe.errors).toBe(600);
      expect(fe.ratePerSec).toBe(2);
      expect(fe.errorRate).toBeCloseTo(600 / 3600, 3);
      expect(fe.p50Ms).toBeGreaterThan(0);
      expect(fe.p99Ms!).toBeGreaterThanOrEqual(fe.p95Ms!);
      expect(fe.p95Ms!).toBeGreaterThanOrEqual(fe.p50Ms!);
      expect(fe.versions).toEqual([{ version: '1.0', firstSeenMs: T0 }, { version: '1.1', firstSeenMs: T0 + 15 * MIN }]);
      expect(fe.operations.map((o) => o.name)).toEqual(['GET /checkout']);
      expect(fe.operations[0]).toMatchObject({ requests: 3600, errors: 600, ratePerSec: 2, learning: { done: 3, needed: 10 } });
      expect(body.services.find((s) => s.name === 'cart')!.operations[0]!.learning).toBeNull();
      expect(fe.openAnomalies).toBe(0);
      expect(fe.openIncidents).toBe(1);
      expect(body.services.find((s) => s.name === 'pricing')!.openAnomalies).toBe(1);
    });

    it('counts only the range asked for', async () => {
      const { body } = await get<ServicesReply>(`/api/v1/services?from=${T0 + 20 * MIN}&to=${T0 + 25 * MIN}`);
      const fe = body.services.find((s) => s.name === 'frontend')!;
      expect(fe.requests).toBe(600);
      expect(fe.errorRate).toBe(1);
    });

    it('answers an empty range with an empty list, and bad parameters with 400 naming them', async () => {
      expect((await get<ServicesReply>(`/api/v1/services?from=1000&to=2000`)).body).toEqual({ from: 1000, to: 2000, services: [] });
      for (const [query, field] of [
        ['from=abc', 'from'],
        ['to=-5', 'to'],
        [`from=${NOW}&to=${NOW - 1}`, 'to'],
        ['service=x', 'service'],
      ] as const) {
        const { status, body } = await get<{ error: string }>(`/api/v1/services?${query}`);
        expect(status).toBe(400);
        expect(body.error).toContain(`'${field}'`);
      }
    });
  });

  describe('GET /api/v1/series', () => {
    it('returns a service series of closed 10 s buckets with deploy and anomaly/incident marks', async () => {
      const { status, body } = await get<SeriesReply>('/api/v1/series?service=frontend');
      expect(status).toBe(200);
      expect(body).toMatchObject({ service: 'frontend', operation: null, from: NOW - 3_600_000, to: NOW, stepMs: 10_000 });
      expect(body.points).toHaveLength(180);
      expect(body.points[0]!.t).toBe(T0);
      expect(body.points.every((p) => p.requests === 20 && p.ratePerSec === 2)).toBe(true);
      const failing = body.points.filter((p) => p.errors > 0);
      expect(failing).toHaveLength(30);
      expect(failing[0]!.t).toBe(T0 + 20 * MIN);
      expect(failing.every((p) => p.errorRate === 1)).toBe(true);
      expect(body.points.at(-1)!.t + body.stepMs).toBeLessThanOrEqual(NOW);
      expect(body.deploys).toEqual([{ t: T0 + 15 * MIN, version: '1.1' }]);
      expect(body.marks).toEqual([
        { t: T0 + 20 * MIN, endT: T0 + 26 * MIN, kind: 'anomaly', id: 'an_fe', severity: 'medium' },
        { t: T0 + 20 * MIN, endT: null, kind: 'incident', id: 'inc_1', severity: 'high' },
      ]);
      // No detector keeps a whole-service band: it is learned from the series' own earlier points.
      expect(body.baseline[0]!.t).toBe(body.points[DEFAULT_HISTORY_BAND.minPoints]!.t);
      expect(body.baseline).toHaveLength(body.points.length - DEFAULT_HISTORY_BAND.minPoints);
      const calm = body.points[12]!;
      const band = body.baseline.find((b) => b.t === calm.t)!;
      expect(band.p95LowMs).toBeLessThanOrEqual(calm.p95Ms!);
      expect(band.p95HighMs).toBeGreaterThanOrEqual(calm.p95Ms!);
    });

    it('returns an operation series at a coarser step with its learned band', async () => {
      const { body } = await get<SeriesReply>(`/api/v1/series?service=cart&operation=${encodeURIComponent('GET /cart')}&step=60000`);
      expect(body.operation).toBe('GET /cart');
      expect(body.stepMs).toBe(60_000);
      expect(body.points).toHaveLength(30);
      expect(body.points.every((p) => p.requests === 120)).toBe(true);
      expect(body.baseline).toHaveLength(30);
      expect(body.baseline[0]).toEqual({ t: T0, p95LowMs: 10, p95HighMs: 30 });
      // The gap added from minute 20 shows in cart's latency.
      const before = body.points.find((p) => p.t === T0 + 10 * MIN)!.p50Ms!;
      const after = body.points.find((p) => p.t === T0 + 25 * MIN)!.p50Ms!;
      expect(after - before).toBeGreaterThan(40);
    });

    it('reads a week from the 10-minute tier and raises a step below the resolution', async () => {
      const week = await get<SeriesReply>(`/api/v1/series?service=pricing&from=${NOW - 7 * 86_400_000}&to=${NOW}`);
      expect(week.body.stepMs).toBe(1_800_000);
      expect(week.body.points).toEqual([expect.objectContaining({ t: T0, requests: 3600 })]);
      expect(week.body.marks.map((m) => m.id)).toEqual(['an_gap']);
      const raised = await get<SeriesReply>('/api/v1/series?service=pricing&step=1');
      expect(raised.body.stepMs).toBe(10_000);
    });

    it('answers empty ranges and unknown services with empty arrays', async () => {
      const empty = await get<SeriesReply>('/api/v1/series?service=frontend&from=1000&to=2000');
      expect(empty.status).toBe(200);
      expect(empty.body).toMatchObject({ points: [], baseline: [], deploys: [], marks: [] });
      const unknown = await get<SeriesReply>('/api/v1/series?service=nope');
      expect(unknown.body).toMatchObject({ service: 'nope', points: [], baseline: [], deploys: [], marks: [] });
    });

    it('refuses bad parameters with 400 naming the field', async () => {
      for (const [query, field] of [
        ['', 'service'],
        ['service=', 'service'],
        ['service=a&step=0', 'step'],
        ['service=a&step=x', 'step'],
        ['service=a&from=1.5', 'from'],
        ['service=a&to=99999999999999999', 'to'],
        [`service=a&from=${NOW}&to=${NOW}`, 'to'],
        ['service=a&bogus=1', 'bogus'],
      ] as const) {
        const { status, body } = await get<{ error: string }>(`/api/v1/series?${query}`);
        expect(status, query).toBe(400);
        expect(body.error, query).toContain(`'${field}'`);
      }
    });
  });

  describe('GET /api/v1/service-graph', () => {
    it('with a range, reads stored edges: calls, rates, errors, gap p95 and anomalous flags', async () => {
      const { status, body } = await get<GraphReply & { from: number; to: number }>(`/api/v1/service-graph?from=${T0}&to=${NOW}`);
      expect(status).toBe(200);
      const byName = new Map(body.edges.map((e) => [`${e.caller}->${e.callee}`, e]));
      expect([...byName.keys()].sort()).toEqual(['cart->pricing', 'frontend->cart']);
      expect(byName.get('frontend->cart')).toMatchObject({ calls: 3600, ratePerSec: 2, anomalous: false });
      expect(byName.get('cart->pricing')!.anomalous).toBe(true);
      expect(byName.get('cart->pricing')!.gapP95Ms!).toBeGreaterThan(40);
      expect(body.services).toEqual([
        { name: 'cart', anomalous: false },
        { name: 'frontend', anomalous: true },
        { name: 'pricing', anomalous: true },
      ]);
      const early = await get<GraphReply>(`/api/v1/service-graph?from=${T0}&to=${T0 + 10 * MIN}`);
      expect(early.body.edges.find((e) => e.callee === 'pricing')!.gapP95Ms!).toBeLessThan(40);
      expect(early.body.edges.every((e) => !e.anomalous)).toBe(true);
    });

    it('without a range stays the live graph, with rates, gap p95 and open anomalies added', async () => {
      const { body } = await get<Omit<GraphReply, 'edges'> & { edges: Array<GraphReply['edges'][number] & { callsPerMinute: number; gapP50Ms: number }> }>('/api/v1/service-graph');
      expect(body.edges).toHaveLength(2);
      const gap = body.edges.find((e) => e.callee === 'pricing')!;
      expect(gap.calls).toBe(3600);
      expect(gap.ratePerSec).toBeCloseTo(gap.callsPerMinute / 60, 3);
      expect(gap.gapP95Ms!).toBeGreaterThanOrEqual(gap.gapP50Ms);
      expect(gap.anomalous).toBe(true);
      expect(body.services.find((s) => s.name === 'frontend')!.anomalous).toBe(false);
      expect(body.keys.length).toBeGreaterThan(0);
    });

    it('answers an empty range with empty edges and a bad one with 400', async () => {
      const { body } = await get<GraphReply>('/api/v1/service-graph?from=1000&to=2000');
      expect(body.edges).toEqual([]);
      expect(body.services).toEqual([]);
      const bad = await get<{ error: string }>('/api/v1/service-graph?from=yesterday');
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain("'from'");
    });
  });
});
