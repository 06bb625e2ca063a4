import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/emit/event-bus.js';
import { IncidentSchema, type Incident } from '../../src/model/incident.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerApiRoutes } from '../../src/web/api.js';
import { tempStore } from '../emit/store-fixture.js';
import { IncidentEngine } from '../../src/diagnose/incident-engine.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const T0 = 1_700_000_000_000;

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

describe('GET /api/v1/incidents', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function serve(incidents?: { incidents(): Incident[] }): Promise<AdminServer> {
    const { store, cleanup } = tempStore();
    const bus = new EventBus(store);
    const admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerApiRoutes(admin, { store, bus, engine: { handlerFigures: () => [], feedback: () => undefined }, ...(incidents ? { incidents } : {}) });
    await admin.listen();
    cleanups.push(async () => {
      bus.close();
      await admin.close();
      cleanup();
    });
    return admin;
  }

  it('returns the incidents in the order the tracker ranks them, in the analyze --json shape', async () => {
    const admin = await serve({ incidents: () => [incident('b', 9), incident('a', 3)] });
    const r = await fetch(`${admin.url}/api/v1/incidents`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/json');
    const body = (await r.json()) as unknown[];
    expect(body.map((i) => IncidentSchema.parse(i).id)).toEqual(['b', 'a']);
    expect((body[0] as Incident).summary).toBe('<script>x</script>'); // JSON-encoded, never HTML
  });

  it('returns an empty array when no incident engine is wired', async () => {
    const admin = await serve();
    const r = await fetch(`${admin.url}/api/v1/incidents`);
    expect(await r.json()).toEqual([]);
    expect(await (await fetch(`${admin.url}/api/v1/service-graph`)).json()).toEqual({ edges: [], keys: [] });
  });

  it('shows the service graph and which keys are still learning', async () => {
    const engine = new IncidentEngine({ graph: { sliceMs: 1_000, traceGraceMs: 100 } });
    const { beats } = generateTraffic(T0, T0 + 3_000, 10);
    engine.observe(beats);
    engine.evaluate(T0 + 10_000);
    const admin = await serve(engine);
    const body = (await (await fetch(`${admin.url}/api/v1/service-graph`)).json()) as { edges: Array<{ caller: string; callee: string }>; keys: Array<{ key: string; status: string }> };
    expect(body.edges.map((e) => `${e.caller}->${e.callee}`).sort()).toEqual(['cart->pricing', 'frontend->cart']);
    expect(body.keys.find((k) => k.key === 'self.p50|pricing')!.status).toMatch(/^learning \(\d+\/12\)$/);
  });
});
