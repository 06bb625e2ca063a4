import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerHealthRoutes } from '../../src/web/health.js';
import { beatSpans, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';
import { bigTraceRequest } from './fixtures/big-request.js';
import { httpSend, RawTraceClient, receiveConfig } from './harness.js';

/**
 * One valid 16 MiB request (~270 k spans) must not take the event loop for itself: while it is
 * processed, /healthz on the admin server of the same process keeps answering. Checked by order
 * of events, not by time: health answers must arrive after the first slice of the request was
 * processed and before its last.
 */
describe('a 16 MiB request is processed in slices', () => {
  let admin: AdminServer | undefined;
  let http: HttpReceiver | undefined;
  let grpc: GrpcReceiver | undefined;
  let client: RawTraceClient | undefined;
  let metrics: SidecarMetrics;
  const big = bigTraceRequest(16 * 1024 * 1024);

  afterEach(async () => {
    client?.close();
    await http?.stop();
    await grpc?.stop();
    await admin?.close();
    admin = http = grpc = client = undefined;
    metrics?.stop();
  });

  async function startAdmin(): Promise<void> {
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerHealthRoutes(admin, { ready: () => ({ ready: true, reasons: [] }), registry: new Registry() });
    await admin.listen();
  }

  /** Polls /healthz until `done` settles; returns how many beats had been delivered at each answer. */
  async function pollHealth(done: Promise<unknown>, delivered: () => number): Promise<number[]> {
    let finished = false;
    void done.finally(() => (finished = true));
    const seen: number[] = [];
    while (!finished) {
      const res = await fetch(`${admin!.url}/healthz`);
      expect(res.status).toBe(200);
      await res.text();
      seen.push(delivered());
    }
    return seen;
  }

  function expectAnsweredMidRequest(seen: number[], total: number): void {
    expect(seen.some((n) => n > 0 && n < total), `beats delivered at each health answer: ${seen.join(',')}`).toBe(true);
  }

  it('over OTLP/HTTP protobuf, with /healthz answered in between and every span delivered', async () => {
    await startAdmin();
    metrics = createMetrics({ defaultMetrics: false });
    let delivered = 0;
    let sinkCalls = 0;
    http = new HttpReceiver(receiveConfig(), (b: Beat[]) => ((delivered += b.length), sinkCalls++), metrics, { auth: null, tls: null });
    await http.start();
    const answer = httpSend(http.port, big.body, { 'content-type': 'application/x-protobuf' });
    let inflightSeen = 0;
    const seen = await pollHealth(answer, () => ((inflightSeen = Math.max(inflightSeen, http!.admission.inflight)), delivered));
    expect((await answer).status).toBe(200);
    expect(delivered).toBe(big.spans);
    expect(sinkCalls).toBeGreaterThan(10);
    expectAnsweredMidRequest(seen, big.spans);
    expect(inflightSeen).toBeGreaterThan(0);
    expect(http.admission.inflight).toBe(0);
    expect(http.admission.heldBodyBytes).toBe(0);
  }, 120_000);

  it('over OTLP/gRPC, with /healthz answered in between and every span delivered', async () => {
    await startAdmin();
    metrics = createMetrics({ defaultMetrics: false });
    let delivered = 0;
    grpc = new GrpcReceiver(receiveConfig(), (b: Beat[]) => (delivered += b.length), metrics, { auth: null, tls: null });
    await grpc.start();
    client = new RawTraceClient(grpc.port, undefined, { 'grpc.max_send_message_length': 32 * 1024 * 1024 });
    const answer = client.export(big.body, undefined, 120_000);
    const seen = await pollHealth(answer, () => delivered);
    expect((await answer).error).toBeNull();
    expect(delivered).toBe(big.spans);
    expectAnsweredMidRequest(seen, big.spans);
    expect(grpc.admission.heldBodyBytes).toBe(0);
  }, 120_000);

  it('over OTLP/HTTP JSON: a large JSON request is decoded in slices too', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    let sinkCalls = 0;
    let delivered = 0;
    http = new HttpReceiver(receiveConfig(), (b: Beat[]) => ((delivered += b.length), sinkCalls++), metrics, { auth: null, tls: null });
    await http.start();
    const res = await httpSend(http.port, encodeTraceRequestJsonText([beatSpans(3000, 1)]), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(delivered).toBe(3000);
    expect(sinkCalls).toBe(3);
    expect(http.admission.inflight).toBe(0);
  }, 60_000);
});
