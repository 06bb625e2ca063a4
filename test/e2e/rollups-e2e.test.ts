import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../../src/config/schema.js';
import { Sidecar } from '../../src/sidecar.js';
import { createLogger } from '../../src/emit/logger.js';
import { encodeTraceRequest, type TestResourceSpans, type TestSpan } from '../bench/otlp/encode-request.js';

const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;

/**
 * Two services over OTLP/HTTP: frontend "GET /checkout" calls cart "GET /cart" (client span ->
 * server span), 5 requests a second for a minute, the last 10 s failing in cart; frontend moves
 * from version 1.0 to 1.1 half way.
 */
function traffic(t0: number): TestResourceSpans[] {
  const fe10: TestSpan[] = [];
  const fe11: TestSpan[] = [];
  const cart: TestSpan[] = [];
  const ns = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n;
  for (let i = 0; i < 300; i++) {
    // Mid-bucket times: none sits on a bucket boundary, where ns -> ms rounding could move it.
    const t = t0 + 100 + i * 200;
    const traceId = (i + 1).toString(16).padStart(32, '0');
    const id = (n: number): string => (i * 4 + n).toString(16).padStart(16, '0');
    const fails = t >= t0 + 50_000;
    const fe = t < t0 + 30_000 ? fe10 : fe11;
    fe.push({ traceId, spanId: id(1), name: 'GET /checkout', kind: SERVER, startNs: ns(t), endNs: ns(t + 30), ...(fails ? { status: { code: STATUS_ERROR } } : {}) });
    fe.push({ traceId, spanId: id(2), parentSpanId: id(1), name: 'GET', kind: CLIENT, startNs: ns(t + 5), endNs: ns(t + 25) });
    cart.push({ traceId, spanId: id(3), parentSpanId: id(2), name: 'GET /cart', kind: SERVER, startNs: ns(t + 7), endNs: ns(t + 22), ...(fails ? { status: { code: STATUS_ERROR, message: 'no stock' } } : {}) });
  }
  return [
    { resource: { 'service.name': 'frontend', 'service.version': '1.0' }, spans: fe10 },
    { resource: { 'service.name': 'frontend', 'service.version': '1.1' }, spans: fe11 },
    { resource: { 'service.name': 'cart', 'service.version': '7' }, spans: cart },
  ];
}

interface Series {
  stepMs: number;
  points: Array<{ t: number; requests: number; errors: number; ratePerSec: number; p50Ms: number | null; p95Ms: number | null }>;
  deploys: Array<{ t: number; version: string }>;
}

describe('RED rollups through a real sidecar: OTLP/HTTP in, /api/v1/series out, across a restart', () => {
  let dir: string;
  let sidecar: Sidecar | undefined;
  // Data time a few minutes back, on a minute boundary, so every bucket can close.
  const t0 = Math.floor((Date.now() - 10 * 60_000) / 60_000) * 60_000;
  const range = `from=${t0}&to=${t0 + 120_000}`;

  const start = async (): Promise<Sidecar> =>
    Sidecar.start(
      ConfigSchema.parse({
        receive: { grpc: { enabled: false }, http: { port: 0 } },
        admin: { port: 0 },
        store: { path: join(dir, 'state.db') },
        emit: { otlp: { enabled: false } },
        detect: { sliceMs: 10_000 },
      }),
      { manualEvaluation: true, logger: createLogger('silent') },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-rollups-e2e-'));
    sidecar = await start();
  });

  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the series, services and stored graph of spans it received', async () => {
    const res = await fetch(`http://127.0.0.1:${sidecar!.http!.port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeTraceRequest(traffic(t0)),
    });
    expect(res.status).toBe(200);
    sidecar!.evaluate(t0 + 120_000);
    const api = sidecar!.admin!.url;
    const series = (await (await fetch(`${api}/api/v1/series?service=frontend&${range}`)).json()) as Series;
    expect(series.stepMs).toBe(10_000);
    expect(series.points.map((p) => p.requests)).toEqual([50, 50, 50, 50, 50, 50]);
    expect(series.points.map((p) => p.errors)).toEqual([0, 0, 0, 0, 0, 50]);
    expect(series.points[0]!.ratePerSec).toBe(5);
    expect(series.points[0]!.p50Ms).toBeCloseTo(30, 0);
    expect(series.deploys).toEqual([{ t: t0 + 30_100, version: '1.1' }]);

    const cart = (await (await fetch(`${api}/api/v1/series?service=cart&operation=${encodeURIComponent('GET /cart')}&${range}&step=60000`)).json()) as Series;
    expect(cart.points).toEqual([expect.objectContaining({ t: t0, requests: 300, errors: 50 })]);
    expect(cart.points[0]!.p95Ms).toBeCloseTo(15, 0);

    const services = (await (await fetch(`${api}/api/v1/services?${range}`)).json()) as { services: Array<{ name: string; requests: number; versions: unknown[] }> };
    expect(services.services.map((s) => [s.name, s.requests])).toEqual([
      ['cart', 300],
      ['frontend', 300],
    ]);
    const graph = (await (await fetch(`${api}/api/v1/service-graph?${range}`)).json()) as { edges: Array<{ caller: string; callee: string; calls: number; errors: number; gapP95Ms: number }> };
    expect(graph.edges).toEqual([expect.objectContaining({ caller: 'frontend', callee: 'cart', calls: 300, errors: 50 })]);
    expect(graph.edges[0]!.gapP95Ms).toBeCloseTo(5, 0);
  });

  it('still serves the same history after a restart on the same database file', async () => {
    await sidecar!.stop();
    sidecar = await start();
    const api = sidecar.admin!.url;
    const series = (await (await fetch(`${api}/api/v1/series?service=frontend&${range}`)).json()) as Series;
    expect(series.points.map((p) => p.requests)).toEqual([50, 50, 50, 50, 50, 50]);
    expect(series.deploys).toEqual([{ t: t0 + 30_100, version: '1.1' }]);
    const minute = (await (await fetch(`${api}/api/v1/series?service=cart&${range}&step=60000`)).json()) as Series;
    expect(minute.points.map((p) => p.requests)).toEqual([300]);
  });
});
