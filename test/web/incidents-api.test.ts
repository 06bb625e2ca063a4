import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/emit/event-bus.js';
import { IncidentSchema, IncidentViewSchema, type Incident, type IncidentView } from '../../src/model/incident.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerApiRoutes } from '../../src/web/api.js';
import { incidentTimeline, registerIncidentRoutes, type IncidentApiDeps } from '../../src/web/incidents-api.js';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import { IncidentStore } from '../../src/store/incident-store.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { IncidentEngine } from '../../src/diagnose/incident-engine.js';
import { generateTraffic } from '../diagnose/service-traffic.js';
import { anomaly } from '../diagnose/fixtures.js';
import { incidentFixture } from '../store/incident-fixture.js';
import { SseClient } from './sse-client.js';
import { HOSTILE_ENTRIES } from '../heal/text/hostile-corpus.js';
import { waitFor } from '../emit/store-fixture.js';

const T0 = 1_700_000_000_000;
const NOW = T0 + 600_000;

const incident = (id: string, score: number): Incident => ({
  id,
  startMs: 1,
  endMs: 2,
  anomalyIds: [`an_${id}`],
  rootCauses: [{ service: 'pricing', operation: 'GET /price', score, reason: 'own time per request grew' }],
  state: 'open',
  severity: 'high',
  services: ['pricing'],
  summary: '<script>x</script>',
});

interface Served {
  admin: AdminServer;
  db: SqliteDatabase;
  records: IncidentStore;
  anomalies: AnomalyStore;
  bus: EventBus;
  path: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real admin server over a real SQLite file; `path` reopens the same file. */
async function serve(opts: { path?: string; live?: IncidentApiDeps['live']; fixes?: IncidentApiDeps['fixesFor'] } = {}): Promise<Served> {
  let path = opts.path;
  if (path === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sh-incidents-api-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    path = join(dir, 'state.db');
  }
  const db = openDatabase(path, coreMigrations);
  const anomalies = new AnomalyStore(db);
  const records = new IncidentStore(db);
  const bus = new EventBus(anomalies);
  const admin = new AdminServer({ host: '127.0.0.1', port: 0 });
  registerApiRoutes(admin, { store: anomalies, bus, engine: { handlerFigures: () => [], feedback: () => undefined } });
  registerIncidentRoutes(admin, {
    anomalies,
    bus,
    clock: () => NOW,
    records,
    ...(opts.live ? { live: opts.live } : {}),
    ...(opts.fixes ? { fixesFor: opts.fixes } : {}),
  });
  await admin.listen();
  cleanups.push(async () => {
    bus.close();
    await admin.close();
    db.close();
  });
  return { admin, db, records, anomalies, bus, path };
}

const json = { 'content-type': 'application/json' };
async function post(url: string, body?: unknown, method = 'POST'): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { method, headers: json, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('GET /api/v1/incidents', () => {
  it('returns the stored incidents in the analyze --json shape, JSON-encoded, and [] when there are none', async () => {
    const s = await serve();
    const empty = await fetch(`${s.admin.url}/api/v1/incidents`);
    expect(await empty.json()).toEqual([]);
    expect(empty.headers.get('x-total-count')).toBe('0');
    expect(await (await fetch(`${s.admin.url}/api/v1/incidents?from=0&to=1`)).json()).toEqual([]);
    s.records.saveIncident(incident('a', 3), T0);
    s.records.saveIncident(incident('b', 9), T0);
    const r = await fetch(`${s.admin.url}/api/v1/incidents`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    expect(r.headers.get('x-total-count')).toBe('2');
    const body = (await r.json()) as unknown[];
    expect(body.map((i) => IncidentSchema.parse(i).id)).toEqual(['b', 'a']);
    expect((body[0] as Incident).summary).toBe('<script>x</script>'); // JSON-encoded, never HTML
    expect((body[0] as IncidentView).acknowledged).toBeNull();
    expect(await (await fetch(`${s.admin.url}/api/v1/service-graph`)).json()).toEqual({ edges: [], keys: [] });
  });

  it('serves stored incidents best first, with filters, paging and operator fields, overlaid with live figures', async () => {
    const live = incidentFixture({ id: 'd', severity: 'critical', endMs: T0 + 500_000, impact: { requests: 900, errors: 40 } });
    const s = await serve({ live: { incidentById: (id) => (id === 'd' ? live : undefined) } });
    s.records.saveIncident(incidentFixture({ id: 'a', state: 'resolved', severity: 'critical' }), T0);
    s.records.saveIncident(incidentFixture({ id: 'b', severity: 'medium', services: ['search'], rootCauses: [] }), T0);
    s.records.saveIncident(incidentFixture({ id: 'c', severity: 'high' }), T0);
    s.records.saveIncident(incidentFixture({ id: 'd', severity: 'critical' }), T0);
    s.records.acknowledge('c', 'bob', T0 + 1);
    const get = async (query: string): Promise<{ ids: string[]; total: string | null; body: IncidentView[] }> => {
      const r = await fetch(`${s.admin.url}/api/v1/incidents${query}`);
      expect(r.status).toBe(200);
      const body = ((await r.json()) as unknown[]).map((i) => IncidentViewSchema.parse(i));
      return { ids: body.map((i) => i.id), total: r.headers.get('x-total-count'), body };
    };
    const all = await get('');
    expect(all.ids).toEqual(['d', 'c', 'b', 'a']);
    expect(all.total).toBe('4');
    expect(all.body[0]!.impact).toEqual({ requests: 900, errors: 40 }); // the live tracker's figures
    expect(all.body[0]!.endMs).toBe(T0 + 500_000);
    expect(all.body[1]!.acknowledged).toEqual({ by: 'bob', atMs: T0 + 1 });
    expect(all.body[2]!.impact).toBeNull();
    expect((await get('?state=resolved')).ids).toEqual(['a']);
    expect((await get('?state=open,resolved&severity=critical')).ids).toEqual(['d', 'a']);
    expect((await get('?service=search')).ids).toEqual(['b']);
    expect((await get('?q=INC')).ids).toEqual([]);
    expect((await get('?q=b')).ids).toContain('b');
    const page = await get('?limit=2&offset=1');
    expect(page.ids).toEqual(['c', 'b']);
    expect(page.total).toBe('4');
    expect((await get(`?from=${T0 + 3_600_000}&to=${T0 + 7_200_000}`)).ids).toEqual([]);
  });

  it('refuses bad parameters with 400 naming the parameter', async () => {
    const { admin } = await serve();
    for (const [query, name] of [
      ['state=sleeping', 'state'],
      ['severity=high,urgent', 'severity'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['offset=-1', 'offset'],
      ['from=abc', 'from'],
      ['from=10&to=5', 'to'],
      ['service=', 'service'],
      ['colour=red', 'colour'],
    ] as const) {
      const r = await fetch(`${admin.url}/api/v1/incidents?${query}`);
      expect(r.status, query).toBe(400);
      expect(((await r.json()) as { error: string }).error, query).toContain(`query parameter '${name}'`);
    }
    const bad = await fetch(`${admin.url}/api/v1/incidents?severity=high,urgent`);
    expect(((await bad.json()) as { error: string }).error).toContain("got 'urgent'");
  });
});

describe('GET /api/v1/incidents/:id', () => {
  it('shows the incident with its anomalies, diagnoses, fixes, a merged timeline and exemplar traces', async () => {
    const s = await serve({
      fixes: (ids) => (ids.includes('an_1') ? [{ id: 'job-1', anomalyId: 'an_1', state: 'queued', createdMs: T0 + 30_000, fix: { title: 'guard null' } }] : []),
    });
    s.anomalies.saveAnomaly(anomaly({ id: 'an_1', firstSeenMs: T0 + 10_000, exemplars: [{ traceId: 'stored-trace', spanId: 's1' }, { traceId: 'gone-trace', spanId: 's2' }] }));
    s.anomalies.saveAnomaly(anomaly({ id: 'an_2', firstSeenMs: T0 + 20_000, state: 'resolved', resolvedMs: T0 + 50_000, exemplars: [] }));
    s.anomalies.saveDiagnosis({
      id: 'd1', anomalyId: 'an_1', createdMs: T0 + 11_000, service: 'shop', handler: 'chargeCard',
      rootCause: { cause: 'self-time-regression', description: 'own code slower', score: 0.8, evidence: [] }, hypotheses: [],
      affected: { handlers: [], sequences: [], services: [] }, impact: { trafficShare: 0.2, affectedRuns: 3, affectedCorrelationIds: 1, severity: 'high' },
      recommendedFixes: [], suspects: [], context: {},
    });
    s.records.saveIncident(incidentFixture({ anomalyIds: ['an_1', 'an_2', 'an_missing'] }), T0 + 12_000);
    s.records.saveExemplar('inc_1', { traceId: 'stored-trace', spans: [{ spanId: 's1', parentSpanId: '', service: 'shop', name: 'chargeCard', startMs: T0, durationMs: 480, error: false }] });
    const r = await fetch(`${s.admin.url}/api/v1/incidents/inc_1`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { incident: IncidentView; anomalies: Array<{ id: string }>; timeline: Array<{ t: number; kind: string; text: string }>; diagnoses: Array<{ id: string }>; fixes: Array<{ id: string }>; exemplars: Array<{ traceId: string; spans: unknown[] }> };
    expect(IncidentViewSchema.parse(body.incident).id).toBe('inc_1');
    expect(body.anomalies.map((a) => a.id)).toEqual(['an_1', 'an_2']);
    expect(body.diagnoses.map((d) => d.id)).toEqual(['d1']);
    expect(body.fixes.map((f) => f.id)).toEqual(['job-1']);
    expect(body.timeline.map((e) => [e.t - T0, e.kind])).toEqual([
      [10_000, 'anomaly-opened'],
      [11_000, 'diagnosis'],
      [12_000, 'opened'],
      [20_000, 'anomaly-opened'],
      [30_000, 'fix'],
      [50_000, 'anomaly-resolved'],
    ]);
    expect(body.exemplars.map((e) => [e.traceId, e.spans.length])).toEqual([
      ['stored-trace', 1],
      ['gone-trace', 0],
    ]);
  });

  it('falls back to the live tracker, and answers 404 for an unknown id', async () => {
    const live = incidentFixture({ id: 'live-only' });
    const s = await serve({ live: { incidentById: (id) => (id === 'live-only' ? live : undefined) } });
    const ok = await fetch(`${s.admin.url}/api/v1/incidents/live-only`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { incident: IncidentView }).incident.acknowledged).toBeNull();
    const missing = await fetch(`${s.admin.url}/api/v1/incidents/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no incident nope' });
  });

  it('builds the timeline in time order from every source', () => {
    const t = incidentTimeline([{ t: 5, kind: 'opened', text: 'o' }], [anomaly({ id: 'x', firstSeenMs: 1 })], [], [{ id: 'j', anomalyId: 'x', state: 'failed', createdMs: 3 }]);
    expect(t.map((e) => e.kind)).toEqual(['anomaly-opened', 'fix', 'opened']);
    expect(t[1]!.text).toBe('healing job j for x: failed');
  });
});

describe('acknowledge and silence', () => {
  it('acknowledges and silences, publishes both on the event stream, and keeps them across reopening the database', async () => {
    const s = await serve();
    s.records.saveIncident(incidentFixture(), T0);
    const sse = new SseClient();
    await sse.open(`${s.admin.url}/api/v1/events?kinds=incident.*`);
    cleanups.push(() => sse.close());

    const ack = await post(`${s.admin.url}/api/v1/incidents/inc_1/acknowledge`, { by: 'alice' });
    expect(ack.status).toBe(200);
    expect(ack.body['acknowledged']).toEqual({ by: 'alice', atMs: NOW });
    const anon = await fetch(`${s.admin.url}/api/v1/incidents/inc_1/acknowledge`, { method: 'POST', headers: json });
    expect(anon.status).toBe(200); // an empty body is allowed
    expect(((await anon.json()) as IncidentView).acknowledged).toEqual({ by: 'operator', atMs: NOW });

    const silenced = await post(`${s.admin.url}/api/v1/incidents/inc_1/silence`, { forMs: 3_600_000, reason: 'known deploy' });
    expect(silenced.status).toBe(200);
    expect(silenced.body['silencedUntilMs']).toBe(NOW + 3_600_000);
    expect(silenced.body['silenceReason']).toBe('known deploy');

    await waitFor(() => sse.events.length >= 3, 10_000, 'three incident events on SSE');
    expect(sse.events.map((e) => e.event)).toEqual(['incident.acknowledged', 'incident.acknowledged', 'incident.silenced']);
    expect((JSON.parse(sse.events[2]!.data!) as { payload: IncidentView }).payload.silencedUntilMs).toBe(NOW + 3_600_000);

    // Reopen the same file in a new server: acknowledgement and silence are still there.
    const again = await serve({ path: s.path });
    const back = (await (await fetch(`${again.admin.url}/api/v1/incidents/inc_1`)).json()) as { incident: IncidentView; timeline: Array<{ kind: string }> };
    expect(back.incident.acknowledged).toEqual({ by: 'operator', atMs: NOW });
    expect(back.incident.silencedUntilMs).toBe(NOW + 3_600_000);
    expect(back.timeline.map((e) => e.kind)).toEqual(['opened', 'acknowledged', 'acknowledged', 'silenced']);

    const removed = await post(`${again.admin.url}/api/v1/incidents/inc_1/silence`, undefined, 'DELETE');
    expect(removed.status).toBe(200);
    expect(removed.body['silencedUntilMs']).toBeNull();
    expect(again.anomalies.eventsSince(0, 100).map((e) => e.kind)).toContain('incident.unsilenced');
  });

  it('refuses bad bodies with 400 naming the field, and unknown incidents with 404', async () => {
    const s = await serve();
    s.records.saveIncident(incidentFixture(), T0);
    const url = `${s.admin.url}/api/v1/incidents`;
    for (const [path, body, field] of [
      ['inc_1/silence', {}, 'forMs'],
      ['inc_1/silence', { forMs: 1_000 }, 'forMs'],
      ['inc_1/silence', { forMs: 8 * 86_400_000 }, 'forMs'],
      ['inc_1/silence', { forMs: '3600000' }, 'forMs'],
      ['inc_1/silence', { forMs: 60_000, reason: 7 }, 'reason'],
      ['inc_1/silence', { forMs: 60_000, until: 1 }, 'until'],
      ['inc_1/acknowledge', { by: '' }, 'by'],
      ['inc_1/acknowledge', { by: 'x'.repeat(201) }, 'by'],
      ['inc_1/acknowledge', { who: 'x' }, 'who'],
    ] as const) {
      const r = await post(`${url}/${path}`, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(String(r.body['error']), JSON.stringify(body)).toContain(`field '${field}'`);
    }
    const notJson = await post(`${url}/inc_1/silence`, '{"forMs":');
    expect(notJson.status).toBe(400);
    expect(notJson.body['error']).toBe('body is not valid JSON');
    for (const [path, method, body] of [
      ['nope/acknowledge', 'POST', {}],
      ['nope/silence', 'POST', { forMs: 60_000 }],
      ['nope/silence', 'POST', { forMs: 1 }], // the unknown incident is what matters
      ['nope/silence', 'DELETE', undefined],
    ] as const) {
      const r = await post(`${url}/${path}`, body, method);
      expect(r.status, path).toBe(404);
      expect(r.body).toEqual({ error: 'no incident nope' });
    }
    // Nothing was changed by the refused requests.
    expect(s.records.get('inc_1', NOW)!.silencedUntilMs).toBeNull();
    expect(s.records.get('inc_1', NOW)!.acknowledged).toBeNull();
  });
});

describe('hostile telemetry text', () => {
  it('round-trips through the store, the search and the JSON answers byte for byte, and never as HTML', async () => {
    const s = await serve();
    for (const [name, text] of HOSTILE_ENTRIES) {
      s.records.saveIncident(
        incidentFixture({ id: `inc-${name}`, summary: text, services: [text], rootCauses: [{ service: text, operation: text, score: 1, reason: text }] }),
        T0,
      );
    }
    for (const [name, text] of HOSTILE_ENTRIES) {
      const q = text.slice(0, 200);
      const r = await fetch(`${s.admin.url}/api/v1/incidents?q=${encodeURIComponent(q)}&limit=500`);
      expect(r.status, name).toBe(200);
      expect(r.headers.get('content-type'), name).toContain('application/json');
      const body = (await r.json()) as IncidentView[];
      const mine = body.find((i) => i.id === `inc-${name}`);
      expect(mine, name).toBeDefined();
      expect(mine!.summary, name).toBe(text);
      expect(mine!.rootCauses[0]!.operation, name).toBe(text);
      const bySvc = (await (await fetch(`${s.admin.url}/api/v1/incidents?service=${encodeURIComponent(q)}`)).json()) as IncidentView[];
      if (text.length <= 200) expect(bySvc.map((i) => i.id), name).toContain(`inc-${name}`);
      const detail = (await (await fetch(`${s.admin.url}/api/v1/incidents/${encodeURIComponent(`inc-${name}`)}`)).json()) as { timeline: Array<{ text: string }> };
      expect(detail.timeline[0]!.text, name).toContain(text.slice(0, 50));
    }
    const by = HOSTILE_ENTRIES.find(([n]) => n === 'scriptTag')![1];
    const ack = await post(`${s.admin.url}/api/v1/incidents/inc-newlines/acknowledge`, { by });
    expect(ack.body['acknowledged']).toEqual({ by, atMs: NOW });
  });
});

describe('GET /api/v1/service-graph', () => {
  it('shows the service graph and which keys are still learning', async () => {
    const engine = new IncidentEngine({ graph: { sliceMs: 1_000, traceGraceMs: 100 } });
    const { beats } = generateTraffic(T0, T0 + 3_000, 10);
    engine.observe(beats);
    engine.evaluate(T0 + 10_000);
    const dir = mkdtempSync(join(tmpdir(), 'sh-graph-api-'));
    const db = openDatabase(join(dir, 'state.db'), coreMigrations);
    const anomalies = new AnomalyStore(db);
    const events = new EventBus(anomalies);
    const admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerApiRoutes(admin, { store: anomalies, bus: events, engine: { handlerFigures: () => [], feedback: () => undefined }, incidents: engine });
    await admin.listen();
    cleanups.push(async () => {
      events.close();
      await admin.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const body = (await (await fetch(`${admin.url}/api/v1/service-graph`)).json()) as { edges: Array<{ caller: string; callee: string }>; keys: Array<{ key: string; status: string }> };
    expect(body.edges.map((e) => `${e.caller}->${e.callee}`).sort()).toEqual(['cart->pricing', 'frontend->cart']);
    expect(body.keys.find((k) => k.key === 'self.p50|pricing')!.status).toMatch(/^learning \(\d+\/12\)$/);
  });
});
