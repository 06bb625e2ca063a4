import { afterEach, describe, expect, it } from 'vitest';
import { Registry, Counter } from 'prom-client';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerHealthRoutes, type Readiness } from '../../src/web/health.js';

describe('registerHealthRoutes', () => {
  let admin: AdminServer | undefined;
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function start(ready: () => Readiness): Promise<string> {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'probe', registers: [registry] }).inc(3);
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerHealthRoutes(admin, { ready, registry });
    await admin.listen();
    return admin.url;
  }

  it('answers liveness and Prometheus metrics', async () => {
    const url = await start(() => true);
    const live = await fetch(`${url}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('probe_total 3');
  });

  it('reports readiness changes with reasons', async () => {
    let state: Readiness = { ready: false, reasons: ['grpc receiver not bound'] };
    const url = await start(() => state);
    let res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', reasons: ['grpc receiver not bound'] });
    state = true;
    res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', reasons: [] });
    state = false;
    res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reasons: string[] }).reasons).toEqual(['not ready']);
  });

  it('treats a throwing readiness check as not ready', async () => {
    const url = await start(() => {
      throw new Error('store closed');
    });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reasons: string[] }).reasons[0]).toContain('store closed');
  });
});
