import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/emit/event-bus.js';
import type { AnomalyStore } from '../../src/store/anomaly-store.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerApiRoutes } from '../../src/web/api.js';
import { anomaly } from '../diagnose/fixtures.js';
import { tempStore, waitFor } from '../emit/store-fixture.js';
import { SseClient } from './sse-client.js';

describe('HTTP API', () => {
  let store: AnomalyStore;
  let cleanup: () => void;
  let bus: EventBus;
  let admin: AdminServer;
  let feedback: Array<[string, string]>;
  let sse: SseClient | undefined;

  beforeEach(async () => {
    ({ store, cleanup } = tempStore());
    bus = new EventBus(store);
    feedback = [];
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerApiRoutes(admin, {
      store,
      bus,
      engine: {
        handlerFigures: () => [{ service: 'shop', handler: 'chargeCard', p95Ms: 12 }],
        feedback: (id, v) => feedback.push([id, v]),
      },
    });
    await admin.listen();
    store.saveAnomaly(anomaly({ id: 'a1', lastSeenMs: 100 }));
    store.saveAnomaly(anomaly({ id: 'a2', lastSeenMs: 200, state: 'resolved' }));
    store.saveAnomaly(anomaly({ id: 'a3', lastSeenMs: 300, service: 'cart', handler: 'addItem', type: 'error', subtype: 'error-rate-spike' }));
  });
  afterEach(async () => {
    sse?.close();
    bus.close();
    await admin.close();
    cleanup();
  });

  async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await fetch(`${admin.url}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }

  it('serves live handler figures', async () => {
    expect(await getJson('/api/v1/handlers')).toEqual({ status: 200, body: { handlers: [{ service: 'shop', handler: 'chargeCard', p95Ms: 12 }] } });
  });

  it('lists anomalies with filters and paging', async () => {
    const all = await getJson('/api/v1/anomalies');
    expect(all.status).toBe(200);
    expect((all.body['items'] as Array<{ id: string }>).map((a) => a.id)).toEqual(['a3', 'a2', 'a1']);
    expect(all.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    const page = await getJson('/api/v1/anomalies?state=open&limit=1&offset=1');
    expect((page.body['items'] as Array<{ id: string }>).map((a) => a.id)).toEqual(['a1']);
    expect(page.body['total']).toBe(2);
    const filtered = await getJson('/api/v1/anomalies?type=error&service=cart&handler=addItem');
    expect((filtered.body['items'] as Array<{ id: string }>).map((a) => a.id)).toEqual(['a3']);
  });

  it.each([
    ['limit=501', 'limit'],
    ['limit=0', 'limit'],
    ['offset=-3', 'offset'],
    ['state=closed', 'state'],
    ['type=weird', 'type'],
    ['colour=red', 'colour'],
  ])('rejects %s naming the parameter', async (query, name) => {
    const r = await getJson(`/api/v1/anomalies?${query}`);
    expect(r.status).toBe(400);
    expect(r.body['error']).toContain(`'${name}'`);
  });

  it('returns an anomaly with its diagnoses, and diagnoses by id', async () => {
    const root = { cause: 'code-defect', description: 'd', score: 0.7, evidence: [] };
    store.saveDiagnosis({
      id: 'd1',
      anomalyId: 'a1',
      createdMs: 1,
      service: 'shop',
      rootCause: root,
      hypotheses: [root],
      affected: { handlers: [], sequences: [], services: ['shop'] },
      impact: { trafficShare: 0, affectedRuns: 0, affectedCorrelationIds: 0, severity: 'low' },
      recommendedFixes: [],
      suspects: [],
      context: {},
    });
    const r = await getJson('/api/v1/anomalies/a1');
    expect(r.status).toBe(200);
    expect((r.body['anomaly'] as { id: string }).id).toBe('a1');
    expect((r.body['diagnoses'] as Array<{ id: string }>).map((d) => d.id)).toEqual(['d1']);
    expect((await getJson('/api/v1/diagnoses/d1')).body['rootCause']).toEqual(root);
    expect((await getJson('/api/v1/diagnoses/nope')).status).toBe(404);
    expect((await getJson('/api/v1/anomalies/nope')).status).toBe(404);
  });

  it('records feedback, tells the engine and publishes an event', async () => {
    sse = new SseClient();
    await sse.open(`${admin.url}/api/v1/events?kinds=anomaly.feedback`);
    const post = (id: string, body: string): Promise<Response> =>
      fetch(`${admin.url}/api/v1/anomalies/${id}/feedback`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const ok = await post('a1', JSON.stringify({ verdict: 'false-positive', note: 'canary noise' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ anomalyId: 'a1', verdict: 'false-positive', note: 'canary noise', seq: 1 });
    expect(feedback).toEqual([['a1', 'false-positive']]);
    expect(store.feedbackFor('a1')).toMatchObject([{ verdict: 'false-positive', note: 'canary noise' }]);
    await waitFor(() => sse!.events.length === 1, 20_000, 'feedback event');
    expect(sse.events[0]!.event).toBe('anomaly.feedback');
    const detail = await getJson('/api/v1/anomalies/a1');
    expect((detail.body['feedback'] as unknown[]).length).toBe(1);

    const bad = await post('a1', JSON.stringify({ verdict: 'meh' }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("'verdict'");
    expect((await post('a1', '{not json')).status).toBe(400);
    expect((await post('a1', JSON.stringify({ verdict: 'true-positive', extra: 1 }))).status).toBe(400);
    expect((await post('nope', JSON.stringify({ verdict: 'true-positive' }))).status).toBe(404);
    expect((await post('a1', 'x'.repeat(70 * 1024))).status).toBe(413);
    expect(feedback).toHaveLength(1);
  });
});
