import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/heal/queue.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerFixesApi } from '../../src/web/fixes-api.js';
import { sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from '../heal/fixtures/samples.js';

describe('fixes API', () => {
  let t: TempDb;
  let server: AdminServer;
  let queue: JobQueue;

  beforeEach(async () => {
    t = tempDb();
    queue = new JobQueue(t.db);
    server = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerFixesApi(server, queue);
    await server.listen();
  });
  afterEach(async () => {
    await server.close();
    t.close();
  });

  async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('lists jobs as summaries, filtered by state', async () => {
    const a = queue.enqueue(sampleDiagnosis(), sampleAnomaly(), 1_000);
    queue.enqueue(sampleDiagnosis({ id: 'dg-2' }), sampleAnomaly({ id: 'an-2' }), 2_000);
    queue.claimDue('w', 1_000, 10_000, 1, a.id);
    const s = queue.startStage(a.id, 'w', 'fix.generate', 1_000)!;
    queue.completeStage(a.id, 'w', s.resultId, 'fix.generate', { result: [{ kind: 'guard', title: 'Guard it' }], nextRunMs: 1_000 }, 1_100);

    const all = await get('/api/v1/fixes');
    expect(all.status).toBe(200);
    const fixes = all.body['fixes'] as Array<Record<string, unknown>>;
    expect(fixes.map((f) => f['anomalyId'])).toEqual(['an-2', 'an-1']);
    expect(fixes[1]).toMatchObject({ state: 'running', stage: 'validation.run', fix: { kind: 'guard', title: 'Guard it' } });
    expect(all.body['counts']).toMatchObject({ queued: 1, running: 1 });

    const running = await get('/api/v1/fixes?state=running&limit=5');
    expect((running.body['fixes'] as unknown[]).length).toBe(1);
    expect((await get('/api/v1/fixes?limit=1')).body['fixes']).toHaveLength(1);
  });

  it('returns one job with its stage history, 404 for unknown ids', async () => {
    const { id } = queue.enqueue(sampleDiagnosis(), sampleAnomaly(), 1_000);
    const one = await get(`/api/v1/fixes/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ fix: { id, state: 'queued' }, diagnosis: { id: 'dg-1' }, anomaly: { id: 'an-1' }, stages: [] });
    const missing = await get('/api/v1/fixes/nope');
    expect(missing).toEqual({ status: 404, body: { error: 'no healing job nope' } });
  });

  it('rejects bad query parameters', async () => {
    expect((await get('/api/v1/fixes?state=bogus')).status).toBe(400);
    expect((await get('/api/v1/fixes?limit=0')).status).toBe(400);
    expect((await get('/api/v1/fixes?limit=abc')).status).toBe(400);
  });
});
