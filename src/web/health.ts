import type { Registry } from 'prom-client';
import { sendJson, type AdminServer } from './admin-server.js';

export type Readiness = boolean | { ready: boolean; reasons: string[] };

export interface HealthOptions {
  /** Whether the sidecar can take traffic now (receivers bound, store open, not shutting down). */
  ready: () => Readiness;
  registry: Registry;
}

function normalise(r: Readiness): { ready: boolean; reasons: string[] } {
  return typeof r === 'boolean' ? { ready: r, reasons: r ? [] : ['not ready'] } : r;
}

/**
 * Registers /healthz (liveness: the event loop answers), /readyz (503 with reasons until ready)
 * and /metrics (Prometheus text format) on the admin server.
 */
export function registerHealthRoutes(admin: AdminServer, opts: HealthOptions): void {
  admin.addRoute('GET', '/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  }, 'open');
  admin.addRoute('GET', '/readyz', (_req, res) => {
    let state: { ready: boolean; reasons: string[] };
    try {
      state = normalise(opts.ready());
    } catch (err) {
      state = { ready: false, reasons: [`readiness check failed: ${(err as Error).message}`] };
    }
    sendJson(res, state.ready ? 200 : 503, { status: state.ready ? 'ready' : 'not ready', reasons: state.reasons });
  }, 'open');
  admin.addRoute('GET', '/metrics', async (_req, res) => {
    const text = await opts.registry.metrics();
    res.writeHead(200, { 'content-type': opts.registry.contentType, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }, 'metrics');
}
