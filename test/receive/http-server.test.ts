import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { Admission } from '../../src/receive/admission.js';
import { createBearerCheck } from '../../src/receive/auth.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { beatSpans, encodeTraceRequest, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';
import { httpSend, receiveConfig, waitFor, heldSink } from './harness.js';
import { encodeProto } from './fixtures/otlp-request.js';

const root = protobuf.parse(`
syntax = "proto3";
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message PartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message Response { PartialSuccess partial_success = 1; }
`).root;
const Status = root.lookupType('Status');
const Response = root.lookupType('Response');

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_TYPE = { 'content-type': 'application/json' };

function status(body: Buffer): { code?: number; message?: string } {
  return Status.toObject(Status.decode(body)) as { code?: number; message?: string };
}

describe('HttpReceiver', () => {
  let receiver: HttpReceiver | undefined;
  let metrics: SidecarMetrics;
  let beats: Beat[];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  afterEach(async () => {
    await receiver?.stop();
    receiver = undefined;
    metrics?.stop();
  });

  async function start(
    overrides: Parameters<typeof receiveConfig>[0] = {},
    opts: ConstructorParameters<typeof HttpReceiver>[3] = {},
    sink?: (b: Beat[]) => void,
  ): Promise<number> {
    metrics = createMetrics({ defaultMetrics: false });
    beats = [];
    receiver = new HttpReceiver(receiveConfig(overrides), sink ?? ((b) => beats.push(...b)), metrics, { auth: null, tls: null, ...opts });
    await receiver.start();
    expect(receiver.listening).toBe(true);
    return receiver.port;
  }

  it('accepts protobuf, answers an empty protobuf response and hands beats to the sink', async () => {
    const accepted: Array<[number, string]> = [];
    const port = await start({}, { onAccepted: (body, type) => accepted.push([body.length, type]) });
    const body = encodeTraceRequest([beatSpans(20, 1)]);
    const res = await httpSend(port, body, PROTO, { agent });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-protobuf');
    expect(res.body.length).toBe(0);
    expect(beats).toHaveLength(20);
    expect(beats[0]!.service).toBe('checkout-api');
    expect(beats[0]!.handler).toBe('checkoutHandler1');
    expect(accepted).toEqual([[body.length, 'application/x-protobuf']]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('self_healing_spans_received_total{protocol="http"} 20');
    expect(text).toContain('self_healing_receive_requests_total{protocol="http",outcome="ok"} 1');
    expect(text).toContain('self_healing_beats_total{service="checkout-api"} 20');
  });

  it('reuses body buffers between requests of different sizes without mixing them up', async () => {
    const port = await start();
    const sizes = [300, 40, 512, 3, 200];
    for (const [i, n] of sizes.entries()) {
      beats = [];
      const res = await httpSend(port, encodeTraceRequest([beatSpans(n, i + 1, `svc-${i}`)]), PROTO, { agent });
      expect(res.status).toBe(200);
      expect(beats).toHaveLength(n);
      expect(beats.every((b) => b.service === `svc-${i}`)).toBe(true);
    }
  });

  it('never reuses a body handed to onAccepted (the forwarder sends it later)', async () => {
    const kept: Buffer[] = [];
    const port = await start({}, { onAccepted: (body) => kept.push(body) });
    const first = encodeTraceRequest([beatSpans(200, 1, 'first')]);
    const second = encodeTraceRequest([beatSpans(200, 2, 'second')]);
    expect((await httpSend(port, first, PROTO, { agent })).status).toBe(200);
    expect((await httpSend(port, second, PROTO, { agent })).status).toBe(200);
    expect(kept).toHaveLength(2);
    expect(kept[0]!.equals(first)).toBe(true);
    expect(kept[1]!.equals(second)).toBe(true);
    // The forwarder holds an exact-size copy, not a view into a larger pooled buffer.
    expect(kept[0]!.buffer.byteLength).toBe(first.length);
  });

  it('accepts JSON (also gzip-compressed) and answers JSON', async () => {
    const port = await start();
    const text = encodeTraceRequestJsonText([beatSpans(5, 2)]);
    const res = await httpSend(port, text, JSON_TYPE, { agent });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body.toString())).toEqual({});
    const gz = await httpSend(port, gzipSync(text), { ...JSON_TYPE, 'content-encoding': 'gzip' }, { agent });
    expect(gz.status).toBe(200);
    expect(beats).toHaveLength(10);
    expect(beats[0]!.beatNumber).toBe(1);
  });

  it('reports rejected spans as partial success in both content types', async () => {
    const port = await start();
    const rs = beatSpans(4, 3);
    rs.spans[1]!.endNs = rs.spans[1]!.startNs - 5n;
    const res = await httpSend(port, encodeTraceRequest([rs]), PROTO, { agent });
    expect(res.status).toBe(200);
    const decoded = Response.toObject(Response.decode(res.body), { longs: Number }) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(decoded.partialSuccess.rejectedSpans).toBe(1);
    expect(decoded.partialSuccess.errorMessage).not.toBe('');
    const json = await httpSend(port, encodeTraceRequestJsonText([rs]), JSON_TYPE, { agent });
    expect(JSON.parse(json.body.toString()).partialSuccess.rejectedSpans).toBe('1');
    expect(beats).toHaveLength(6);
    expect(await metrics.registry.metrics()).toContain('self_healing_spans_rejected_total{protocol="http"} 2');
  });

  it('accepts gzip protobuf and rejects truncated gzip with 400', async () => {
    const port = await start();
    const body = gzipSync(encodeTraceRequest([beatSpans(30, 4)]));
    const ok = await httpSend(port, body, { ...PROTO, 'content-encoding': 'gzip' }, { agent });
    expect(ok.status).toBe(200);
    expect(beats).toHaveLength(30);
    const bad = await httpSend(port, body.subarray(0, body.length - 20), { ...PROTO, 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(status(bad.body).code).toBe(3);
    expect(status(bad.body).message).toMatch(/gzip/);
    const garbage = await httpSend(port, Buffer.from('definitely not gzip'), { ...PROTO, 'content-encoding': 'gzip' });
    expect(garbage.status).toBe(400);
    expect(await metrics.registry.metrics()).toContain('self_healing_decode_errors_total{protocol="http",reason="bad_gzip"} 2');
  });

  it('stops a gzip bomb at maxRequestBytes of output (413)', async () => {
    const port = await start({ maxRequestBytes: 1024 * 1024 });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const res = await httpSend(port, bomb, { ...PROTO, 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(status(res.body).code).toBe(8);
    expect(beats).toHaveLength(0);
  });

  it('rejects bodies over maxRequestBytes by content-length, by chunked size and by compressed size', async () => {
    const port = await start({ maxRequestBytes: 4096 });
    const big = Buffer.alloc(10_000, 1);
    const declared = await httpSend(port, big, PROTO);
    expect(declared.status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { ...PROTO, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(1000, 2));
      req.end();
    });
    expect(chunked).toBe(413);
    const { randomBytes } = await import('node:crypto');
    const incompressible = gzipSync(randomBytes(8000));
    const compressed = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { ...PROTO, 'content-encoding': 'gzip' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(incompressible.subarray(0, 4000));
      req.end(incompressible.subarray(4000));
    });
    expect(compressed).toBe(413);
  });

  it('answers 415, 404 and 405 with a Status body', async () => {
    const port = await start();
    const wrongType = await httpSend(port, 'x', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(JSON.parse(wrongType.body.toString()).code).toBe(3);
    const noType = await httpSend(port, 'x', {});
    expect(noType.status).toBe(415);
    const deflate = await httpSend(port, 'x', { ...PROTO, 'content-encoding': 'br' });
    expect(deflate.status).toBe(415);
    expect(status(deflate.body).message).toContain('br');
    const notFound = await httpSend(port, 'x', PROTO, { path: '/v1/metrics' });
    expect(notFound.status).toBe(404);
    expect(status(notFound.body).code).toBe(5);
    const wrongMethod = await httpSend(port, '', JSON_TYPE, { method: 'GET', path: '/v1/traces?x=1' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('answers malformed protobuf and JSON with 400 and the decoder message', async () => {
    const port = await start();
    const res = await httpSend(port, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), PROTO, { agent });
    expect(res.status).toBe(400);
    expect(status(res.body).code).toBe(3);
    expect(status(res.body).message).not.toBe('');
    const json = await httpSend(port, '{"resourceSpans": [', JSON_TYPE, { agent });
    expect(json.status).toBe(400);
    expect(JSON.parse(json.body.toString()).code).toBe(3);
    // The connection is still good afterwards.
    const ok = await httpSend(port, encodeTraceRequest([beatSpans(2, 5)]), PROTO, { agent });
    expect(ok.status).toBe(200);
    expect(await metrics.registry.metrics()).toContain('self_healing_decode_errors_total{protocol="http",reason="malformed"} 2');
  });

  it('answers 400 for invalid UTF-8 in a resource attribute the decoder drops, and keeps no beat of it', async () => {
    const port = await start();
    const body = Buffer.from(encodeProto([{ attributes: { 'service.name': 'svc', 'host.name': 'wxyz' }, spans: [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', name: 'op', startNs: 1_700_000_000_000_000_000n, endNs: 1_700_000_000_001_000_000n }] }]));
    body.set([0xff, 0xfe, 0xfd, 0xfc], body.indexOf('wxyz'));
    const res = await httpSend(port, body, PROTO, { agent });
    expect(res.status).toBe(400);
    expect(status(res.body).code).toBe(3);
    expect(status(res.body).message).toBe('Resource attribute: invalid UTF-8');
    expect(beats).toHaveLength(0);
  });

  it('requires the bearer token when auth is on', async () => {
    const port = await start({}, { auth: createBearerCheck('tok-123') });
    const body = encodeTraceRequest([beatSpans(3, 6)]);
    const missing = await httpSend(port, body, PROTO);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(status(missing.body).code).toBe(16);
    const wrong = await httpSend(port, body, { ...PROTO, authorization: 'Bearer tok-124' });
    expect(wrong.status).toBe(401);
    const right = await httpSend(port, body, { ...PROTO, authorization: 'Bearer tok-123' });
    expect(right.status).toBe(200);
    expect(beats).toHaveLength(3);
  });

  it('answers 503 with Retry-After while a held sink keeps spans in flight, answers the held request once processed, then recovers', async () => {
    const { sink: asyncSink, releases: pending } = heldSink(beats);
    const admission = new Admission({ maxInflightSpans: 10 });
    const port = await start({ retryAfterSeconds: 3 }, { admission }, asyncSink);
    const first = httpSend(port, encodeTraceRequest([beatSpans(12, 7)]), PROTO);
    await waitFor(() => admission.inflight === 12);
    const refused = await httpSend(port, encodeTraceRequest([beatSpans(1, 8)]), PROTO);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('3');
    expect(status(refused.body).code).toBe(14);
    const refusedJson = await httpSend(port, '{}', JSON_TYPE);
    expect(JSON.parse(refusedJson.body.toString()).details[0].retryDelay).toBe('3s');
    for (const p of pending.splice(0)) p();
    expect((await first).status).toBe(200);
    expect(admission.inflight).toBe(0);
    const again = httpSend(port, encodeTraceRequest([beatSpans(1, 8)]), PROTO);
    await waitFor(() => pending.length === 1);
    pending[0]!();
    expect((await again).status).toBe(200);
    const text = await metrics.registry.metrics();
    expect(text).toContain('self_healing_receive_requests_total{protocol="http",outcome="overloaded"} 2');
    expect(text).toContain('self_healing_receive_refusals_total{protocol="http",reason="inflight_spans"} 2');
  });

  it('refuses under simulated heap pressure and admits again once the heap is collected', async () => {
    let used = 10;
    const admission = new Admission({ maxInflightSpans: 1000, maxHeapUsedRatio: 0.7 }, { probes: { heap: () => ({ used, limit: 100 }), collectGarbage: undefined } });
    const port = await start({}, { admission });
    admission.monitor.sample();
    expect((await httpSend(port, encodeTraceRequest([beatSpans(2, 1)]), PROTO)).status).toBe(200);
    used = 75;
    admission.monitor.sample();
    const refused = await httpSend(port, encodeTraceRequest([beatSpans(2, 2)]), PROTO);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    used = 40;
    admission.monitor.sample();
    expect((await httpSend(port, encodeTraceRequest([beatSpans(2, 3)]), PROTO)).status).toBe(200);
    expect(beats).toHaveLength(4);
    expect(await metrics.registry.metrics()).toContain('self_healing_receive_refusals_total{protocol="http",reason="heap"} 1');
  });

  it('answers 500 when the sink throws, and keeps serving', async () => {
    let broken = true;
    const port = await start({}, {}, (b) => {
      if (broken) throw new Error('sink broke');
      beats.push(...b);
    });
    const res = await httpSend(port, encodeTraceRequest([beatSpans(2, 9)]), PROTO);
    expect(res.status).toBe(500);
    expect(status(res.body).code).toBe(13);
    broken = false;
    expect((await httpSend(port, encodeTraceRequest([beatSpans(2, 9)]), PROTO)).status).toBe(200);
  });

  it('finishes in-flight requests on stop and refuses new connections after', async () => {
    const port = await start({}, { shutdownGraceMs: 20_000 });
    const body = encodeTraceRequest([beatSpans(8, 10)]);
    const answer = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { ...PROTO, 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.subarray(0, 10));
      // The rest follows after stop() has begun.
      setTimeout(() => req.end(body.subarray(10)), 300);
    });
    await waitFor(() => (receiver as unknown as { inflightRequests: number }).inflightRequests === 1);
    const stopping = receiver!.stop();
    expect(await answer).toBe(200);
    await stopping;
    expect(beats).toHaveLength(8);
    await expect(httpSend(port, body, PROTO)).rejects.toThrow();
    receiver = undefined;
  });

  it('cuts requests that do not finish within the shutdown grace period', async () => {
    const port = await start({}, { shutdownGraceMs: 200 });
    const stalled = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { ...PROTO, 'content-length': '1000' } }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('error', (err) => resolve(`error ${err.message}`));
      req.write(Buffer.alloc(10));
    });
    await waitFor(() => (receiver as unknown as { inflightRequests: number }).inflightRequests === 1);
    await receiver!.stop();
    expect(await stalled).toMatch(/^error/);
    expect(receiver!.listening).toBe(false);
    await receiver!.stop();
    receiver = undefined;
  });

  it('takes the bearer token from the environment variable named in the config by default', async () => {
    process.env.OTLP_TEST_TOKEN_VAR = 'env-token';
    try {
      const port = await start({ auth: { tokenEnv: 'OTLP_TEST_TOKEN_VAR' } }, { auth: undefined });
      const body = encodeTraceRequest([beatSpans(1, 11)]);
      expect((await httpSend(port, body, PROTO)).status).toBe(401);
      expect((await httpSend(port, body, { ...PROTO, authorization: 'Bearer env-token' })).status).toBe(200);
    } finally {
      delete process.env.OTLP_TEST_TOKEN_VAR;
    }
  });
});
