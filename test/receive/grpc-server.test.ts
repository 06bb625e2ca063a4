import { Metadata, status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { Admission } from '../../src/receive/admission.js';
import { createBearerCheck } from '../../src/receive/auth.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { RawTraceClient, receiveConfig, waitFor, heldSink } from './harness.js';

const root = protobuf.parse(`
syntax = "proto3";
message Any { string type_url = 1; bytes value = 2; }
message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
message Duration { int64 seconds = 1; }
message RetryInfo { Duration retry_delay = 1; }
message PartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message Response { PartialSuccess partial_success = 1; }
`).root;
const Response = root.lookupType('Response');
const Status = root.lookupType('Status');
const RetryInfo = root.lookupType('RetryInfo');

describe('GrpcReceiver', () => {
  let receiver: GrpcReceiver | undefined;
  let client: RawTraceClient | undefined;
  let metrics: SidecarMetrics;
  let beats: Beat[];

  afterEach(async () => {
    client?.close();
    client = undefined;
    await receiver?.stop();
    receiver = undefined;
    metrics?.stop();
  });

  async function start(
    overrides: Parameters<typeof receiveConfig>[0] = {},
    opts: ConstructorParameters<typeof GrpcReceiver>[3] = {},
    sink?: (b: Beat[]) => void,
    clientOptions: Record<string, string | number> = {},
  ): Promise<RawTraceClient> {
    metrics = createMetrics({ defaultMetrics: false });
    beats = [];
    receiver = new GrpcReceiver(receiveConfig(overrides), sink ?? ((b) => beats.push(...b)), metrics, { auth: null, tls: null, ...opts });
    await receiver.start();
    expect(receiver.listening).toBe(true);
    expect(receiver.port).toBeGreaterThan(0);
    client = new RawTraceClient(receiver.port, undefined, clientOptions);
    return client;
  }

  it('serves TraceService/Export from raw bytes and answers an empty response', async () => {
    const accepted: Array<[number, string]> = [];
    const c = await start({}, { onAccepted: (b, t) => accepted.push([b.length, t]) });
    const body = encodeTraceRequest([beatSpans(25, 1)]);
    const { error, response } = await c.export(body);
    expect(error).toBeNull();
    expect(response!.length).toBe(0);
    expect(beats).toHaveLength(25);
    expect(beats[3]!.sequence).toBe('search');
    expect(accepted).toEqual([[body.length, 'application/x-protobuf']]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('self_healing_spans_received_total{protocol="grpc"} 25');
    expect(text).toContain('self_healing_receive_requests_total{protocol="grpc",outcome="ok"} 1');
  });

  it('accepts gzip-compressed messages', async () => {
    const c = await start({}, {}, undefined, { 'grpc.default_compression_algorithm': 2 });
    const { error } = await c.export(encodeTraceRequest([beatSpans(40, 2)]));
    expect(error).toBeNull();
    expect(beats).toHaveLength(40);
  });

  it('reports rejected spans as partial success', async () => {
    const c = await start();
    const rs = beatSpans(5, 3);
    rs.spans[0]!.traceId = 'abcd';
    const { error, response } = await c.export(encodeTraceRequest([rs]));
    expect(error).toBeNull();
    const decoded = Response.toObject(Response.decode(response!), { longs: Number }) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(decoded.partialSuccess.rejectedSpans).toBe(1);
    expect(decoded.partialSuccess.errorMessage).not.toBe('');
    expect(beats).toHaveLength(4);
    expect(await metrics.registry.metrics()).toContain('self_healing_receive_requests_total{protocol="grpc",outcome="partial"} 1');
  });

  it('answers INVALID_ARGUMENT with the decoder message for malformed input', async () => {
    const c = await start();
    const { error } = await c.export(Buffer.from([0x0a, 0x05, 0x01]));
    expect(error!.code).toBe(status.INVALID_ARGUMENT);
    expect(error!.details).not.toBe('');
    expect((await c.export(encodeTraceRequest([beatSpans(1, 4)]))).error).toBeNull();
    expect(await metrics.registry.metrics()).toContain('self_healing_decode_errors_total{protocol="grpc",reason="malformed"} 1');
  });

  it('answers RESOURCE_EXHAUSTED above maxRequestBytes, compressed or not', async () => {
    const body = encodeTraceRequest([beatSpans(200, 5)]);
    const c = await start({ maxRequestBytes: Math.floor(body.length / 2) }, {}, undefined, { 'grpc.default_compression_algorithm': 2 });
    const { error } = await c.export(body);
    expect(error!.code).toBe(status.RESOURCE_EXHAUSTED);
    const plain = new RawTraceClient(receiver!.port);
    expect((await plain.export(body)).error!.code).toBe(status.RESOURCE_EXHAUSTED);
    plain.close();
    expect(beats).toHaveLength(0);
  });

  it('answers UNAUTHENTICATED without the right bearer token', async () => {
    const c = await start({}, { auth: createBearerCheck('grpc-token') });
    const body = encodeTraceRequest([beatSpans(2, 6)]);
    expect((await c.export(body)).error!.code).toBe(status.UNAUTHENTICATED);
    const wrong = new Metadata();
    wrong.set('authorization', 'Bearer nope');
    expect((await c.export(body, wrong)).error!.code).toBe(status.UNAUTHENTICATED);
    const right = new Metadata();
    right.set('authorization', 'Bearer grpc-token');
    expect((await c.export(body, right)).error).toBeNull();
    expect(beats).toHaveLength(2);
  });

  it('answers UNAVAILABLE with RetryInfo while a held sink keeps spans in flight, then recovers', async () => {
    const { sink: asyncSink, releases: pending } = heldSink(beats);
    const admission = new Admission({ maxInflightSpans: 5 });
    const c = await start({ retryAfterSeconds: 4 }, { admission }, asyncSink);
    const first = c.export(encodeTraceRequest([beatSpans(6, 7)]));
    await waitFor(() => admission.inflight === 6);
    const { error } = await c.export(encodeTraceRequest([beatSpans(1, 8)]));
    expect(error!.code).toBe(status.UNAVAILABLE);
    const details = error!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    const st = Status.decode(details) as unknown as { code: number; details: Array<{ value: Uint8Array }> };
    expect(st.code).toBe(14);
    expect(RetryInfo.toObject(RetryInfo.decode(st.details[0]!.value), { longs: Number })).toEqual({ retryDelay: { seconds: 4 } });
    for (const p of pending.splice(0)) p();
    expect((await first).error).toBeNull();
    expect(admission.inflight).toBe(0);
    const again = c.export(encodeTraceRequest([beatSpans(1, 8)]));
    await waitFor(() => pending.length === 1);
    pending[0]!();
    expect((await again).error).toBeNull();
    expect(await metrics.registry.metrics()).toContain('self_healing_receive_refusals_total{protocol="grpc",reason="inflight_spans"} 1');
  });

  it('refuses under simulated heap pressure at the call headers and admits again once the heap is collected', async () => {
    let used = 10;
    const admission = new Admission({ maxInflightSpans: 1000, maxHeapUsedRatio: 0.7 }, { probes: { heap: () => ({ used, limit: 100 }), collectGarbage: undefined } });
    const c = await start({}, { admission });
    admission.monitor.sample();
    expect((await c.export(encodeTraceRequest([beatSpans(2, 1)]))).error).toBeNull();
    used = 75;
    admission.monitor.sample();
    const refused = await c.export(encodeTraceRequest([beatSpans(2, 2)]));
    expect(refused.error!.code).toBe(status.UNAVAILABLE);
    expect(refused.error!.metadata.get('grpc-status-details-bin')).toHaveLength(1);
    used = 40;
    admission.monitor.sample();
    expect((await c.export(encodeTraceRequest([beatSpans(2, 3)]))).error).toBeNull();
    expect(beats).toHaveLength(4);
    expect(await metrics.registry.metrics()).toContain('self_healing_receive_refusals_total{protocol="grpc",reason="heap"} 1');
  });

  it('refuses a call whose message would go over the body budget', async () => {
    const admission = new Admission({ maxInflightSpans: 1000, maxConcurrentBodyBytes: 64 * 1024 });
    const c = await start({}, { admission });
    expect(admission.reserveBody(60 * 1024)).toBe(true);
    const body = encodeTraceRequest([beatSpans(40, 4)]);
    expect(body.length).toBeGreaterThan(4 * 1024);
    expect((await c.export(body)).error!.code).toBe(status.UNAVAILABLE);
    admission.releaseBody(60 * 1024);
    expect((await c.export(body)).error).toBeNull();
    expect(admission.heldBodyBytes).toBe(0);
    expect(await metrics.registry.metrics()).toContain('self_healing_receive_refusals_total{protocol="grpc",reason="body_bytes"} 1');
  });

  it('answers INTERNAL when the sink throws', async () => {
    const c = await start({}, {}, () => {
      throw new Error('sink broke');
    });
    expect((await c.export(encodeTraceRequest([beatSpans(1, 9)]))).error!.code).toBe(status.INTERNAL);
  });

  it('stops gracefully and refuses calls afterwards', async () => {
    const c = await start({}, { shutdownGraceMs: 10_000 });
    expect((await c.export(encodeTraceRequest([beatSpans(3, 10)]))).error).toBeNull();
    await receiver!.stop();
    expect(receiver!.listening).toBe(false);
    await receiver!.stop();
    const after = await c.export(encodeTraceRequest([beatSpans(1, 10)]), new Metadata(), 2_000);
    expect(after.error).not.toBeNull();
    receiver = undefined;
  });

  it('builds auth from the config and counts in-flight spans in its own admission by default', async () => {
    process.env.OTLP_GRPC_TEST_TOKEN = 'cfg-token';
    try {
      const c = await start({ auth: { tokenEnv: 'OTLP_GRPC_TEST_TOKEN' }, maxInflightSpans: 77 }, { auth: undefined });
      expect(receiver!.admission.maxInflightSpans).toBe(77);
      const body = encodeTraceRequest([beatSpans(2, 12)]);
      expect((await c.export(body)).error!.code).toBe(status.UNAUTHENTICATED);
      const md = new Metadata();
      md.set('authorization', 'Bearer cfg-token');
      expect((await c.export(body, md)).error).toBeNull();
      expect(await metrics.registry.metrics()).toContain('self_healing_inflight_spans 0');
    } finally {
      delete process.env.OTLP_GRPC_TEST_TOKEN;
    }
  });
});
