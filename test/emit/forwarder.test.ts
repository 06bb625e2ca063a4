import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { ForwardConfig } from '../../src/config/sections/forward.js';
import { backoffDelay, Forwarder, parseRetryAfter, tracesUrl, type ForwardTransport, type SendOutcome } from '../../src/emit/forwarder.js';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { receiveConfig } from '../receive/harness.js';

function forwardConfig(overrides: Partial<ForwardConfig>): ForwardConfig {
  return { ...ConfigSchema.parse({ forward: { enabled: true } }).forward, ...overrides };
}

interface Downstream {
  server: Server;
  url: string;
  spans: number;
  requests: Array<{ path: string; type: string; encoding: string; auth: string }>;
}

/** A downstream OTLP/HTTP receiver that counts the spans it gets; `answer` decides each status. */
async function startDownstream(answer: (n: number, res: ServerResponse) => number = () => 200): Promise<Downstream> {
  const d: Downstream = { server: undefined as unknown as Server, url: '', spans: 0, requests: [] };
  d.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      d.requests.push({
        path: req.url ?? '',
        type: req.headers['content-type'] ?? '',
        encoding: req.headers['content-encoding'] ?? '',
        auth: req.headers.authorization ?? '',
      });
      const code = answer(d.requests.length, res);
      if (code === 200) {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        d.spans += decodeTraceRequestProto(body, { maxAttributesPerSpan: 1024 }).spans;
      }
      res.writeHead(code, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => d.server.listen(0, '127.0.0.1', r));
  d.url = `http://127.0.0.1:${(d.server.address() as AddressInfo).port}`;
  return d;
}

async function counter(m: SidecarMetrics, result: string): Promise<number> {
  const data = await m.registry.getSingleMetric('self_healing_forward_requests_total')!.get();
  return data.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('Forwarder', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function make(config: ForwardConfig, transport?: ForwardTransport): { f: Forwarder; m: SidecarMetrics } {
    const m = createMetrics({ defaultMetrics: false });
    const f = new Forwarder(config, m, { random: () => 0.5, ...(transport ? { transport } : {}) });
    cleanups.push(() => f.close(), () => m.stop());
    return { f, m };
  }

  it('delivers every span to a downstream OTLP/HTTP receiver, gzip and headers included', async () => {
    const d = await startDownstream();
    cleanups.push(() => new Promise<void>((r) => d.server.close(() => r())));
    const { f, m } = make(forwardConfig({ endpoint: `${d.url}/`, compression: 'gzip', headers: { authorization: 'Bearer down' }, concurrency: 3 }));
    let sent = 0;
    for (let i = 0; i < 20; i++) {
      expect(f.enqueue(encodeTraceRequest([beatSpans(10 + i, i + 1)]), 'application/x-protobuf')).toBe(true);
      sent += 10 + i;
    }
    expect(await f.flush(20_000)).toBe(true);
    expect(d.spans).toBe(sent);
    expect(d.requests).toHaveLength(20);
    expect(d.requests[0]).toEqual({ path: '/v1/traces', type: 'application/x-protobuf', encoding: 'gzip', auth: 'Bearer down' });
    expect(await counter(m, 'sent')).toBe(20);
    expect(f.depth).toBe(0);
  });

  it('delivers every span to a downstream OTLP/gRPC receiver', async () => {
    const got: Beat[] = [];
    const dm = createMetrics({ defaultMetrics: false });
    const downstream = new GrpcReceiver(receiveConfig(), (b) => got.push(...b), dm, { auth: null, tls: null });
    await downstream.start();
    cleanups.push(() => downstream.stop(), () => dm.stop());
    const { f, m } = make(forwardConfig({ protocol: 'grpc', endpoint: `http://127.0.0.1:${downstream.port}`, compression: 'gzip', headers: { 'X-Tenant': 'a' } }));
    for (let i = 0; i < 10; i++) f.enqueue(encodeTraceRequest([beatSpans(15, i + 1)]), 'application/x-protobuf');
    expect(f.enqueue(Buffer.from('{}'), 'application/json')).toBe(true);
    expect(await f.flush(20_000)).toBe(true);
    expect(got).toHaveLength(150);
    expect(await counter(m, 'sent')).toBe(10);
    // JSON cannot travel over gRPC: a final failure, not retried.
    expect(await counter(m, 'failed')).toBe(1);
    expect(await counter(m, 'retried')).toBe(0);
  });

  it('retries after a downstream 503, honouring Retry-After', async () => {
    const d = await startDownstream((n, res) => {
      if (n <= 2) {
        res.setHeader('retry-after', '0');
        return 503;
      }
      return 200;
    });
    cleanups.push(() => new Promise<void>((r) => d.server.close(() => r())));
    // A huge backoff shows Retry-After (0 s) was used instead.
    const { f, m } = make(forwardConfig({ endpoint: d.url, initialBackoffMs: 600_000, maxBackoffMs: 600_000 }));
    f.enqueue(encodeTraceRequest([beatSpans(7, 1)]), 'application/x-protobuf');
    expect(await f.flush(20_000)).toBe(true);
    expect(d.spans).toBe(7);
    expect(d.requests).toHaveLength(3);
    expect(await counter(m, 'retried')).toBe(2);
    expect(await counter(m, 'sent')).toBe(1);
  });

  it('backs off on 502 and gives up on non-retryable answers and exhausted retries', async () => {
    const d = await startDownstream((n) => (n === 1 ? 502 : n === 2 ? 200 : 400));
    cleanups.push(() => new Promise<void>((r) => d.server.close(() => r())));
    const failures: string[] = [];
    const m = createMetrics({ defaultMetrics: false });
    const f = new Forwarder(forwardConfig({ endpoint: d.url, initialBackoffMs: 5, maxBackoffMs: 10, concurrency: 1 }), m, { onFailure: (e) => failures.push(e) });
    cleanups.push(() => f.close(), () => m.stop());
    f.enqueue(encodeTraceRequest([beatSpans(3, 1)]), 'application/x-protobuf');
    expect(await f.flush(20_000)).toBe(true);
    f.enqueue(encodeTraceRequest([beatSpans(3, 2)]), 'application/x-protobuf');
    expect(await f.flush(20_000)).toBe(true);
    expect(d.requests).toHaveLength(3);
    expect(failures).toEqual(['downstream answered HTTP 400']);
    expect(await counter(m, 'sent')).toBe(1);
    expect(await counter(m, 'failed')).toBe(1);

    const refused = await startDownstream();
    const deadUrl = refused.url;
    await new Promise<void>((r) => refused.server.close(() => r()));
    const { f: g, m: gm } = make(forwardConfig({ endpoint: deadUrl, maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 }));
    g.enqueue(Buffer.from('x'), 'application/x-protobuf');
    expect(await g.flush(20_000)).toBe(true);
    expect(await counter(gm, 'retried')).toBe(2);
    expect(await counter(gm, 'failed')).toBe(1);
  });

  it('counts drops when the queue is full and when closing with requests left', async () => {
    const calls: Array<(o: SendOutcome) => void> = [];
    const blocked: ForwardTransport = { send: () => new Promise<SendOutcome>((resolve) => calls.push(resolve)), close: () => {} };
    const { f, m } = make(forwardConfig({ queueRequests: 2, concurrency: 1 }), blocked);
    const results = [1, 2, 3, 4, 5].map(() => f.enqueue(Buffer.from('x'), 'application/x-protobuf'));
    // One is being sent, two wait, two are dropped.
    expect(results).toEqual([true, true, true, false, false]);
    expect(f.depth).toBe(2);
    expect(await counter(m, 'dropped')).toBe(2);
    expect(await m.registry.metrics()).toContain('self_healing_forward_queue_depth 2');
    expect(await f.flush(50)).toBe(false);
    calls[0]!({ ok: true });
    await f.close();
    expect(await counter(m, 'dropped')).toBe(4);
    expect(f.enqueue(Buffer.from('x'), 'application/x-protobuf')).toBe(false);
    expect(await counter(m, 'dropped')).toBe(5);
  });

  it('wakes a pending retry on close and counts it failed', async () => {
    let attempts = 0;
    const flaky: ForwardTransport = {
      send: () => {
        attempts++;
        return Promise.reject(new Error('socket hang up'));
      },
      close: () => {},
    };
    const { f, m } = make(forwardConfig({ initialBackoffMs: 600_000, maxBackoffMs: 600_000 }), flaky);
    f.enqueue(Buffer.from('x'), 'application/x-protobuf');
    await new Promise((r) => setTimeout(r, 20));
    await f.close(10);
    await f.flush(5_000);
    expect(attempts).toBe(1);
    expect(await counter(m, 'failed')).toBe(1);
  });
});

describe('forwarder helpers', () => {
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(' ')).toBeUndefined();
    expect(parseRetryAfter('5')).toBe(5000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:10 GMT', Date.parse('Wed, 25 Nov 2026 10:00:00 GMT'))).toBe(10_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:00 GMT', Date.parse('Wed, 25 Nov 2026 10:00:10 GMT'))).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('doubles the backoff ceiling per attempt, capped, with jitter in [d/2, d]', () => {
    expect(backoffDelay(1, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 1000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 1)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.5)).toBe(750);
  });

  it('builds the traces URL from a base endpoint', () => {
    expect(tracesUrl('http://collector:4318').href).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('http://collector:4318/otlp/').href).toBe('http://collector:4318/otlp/v1/traces');
    expect(tracesUrl('https://c/v1/traces').href).toBe('https://c/v1/traces');
  });
});
