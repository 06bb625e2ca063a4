import { Agent } from 'node:http';
import { gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { beatSpans, encodeTraceRequest, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';
import { httpSend, RawTraceClient, receiveConfig } from './harness.js';

// Fixed by default so a failure reproduces; FUZZ_SEED=<n> explores other inputs.
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);

const PROTO_BODIES = [encodeTraceRequest([beatSpans(3, 1)]), encodeTraceRequest([beatSpans(12, 2), beatSpans(2, 3, 'billing')])];
const JSON_BODIES = [Buffer.from(encodeTraceRequestJsonText([beatSpans(3, 4)])), Buffer.from(encodeTraceRequestJsonText([beatSpans(8, 5)]))];

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; bit: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'random'; bytes: Uint8Array }
  | { kind: 'splice'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
);

function mutate(body: Buffer, m: Mutation): Buffer {
  switch (m.kind) {
    case 'none':
      return body;
    case 'flip': {
      const out = Buffer.from(body);
      for (let i = 0; i < m.count; i++) {
        const at = (m.at + i * 31) % out.length;
        out[at] = out[at]! ^ (1 << m.bit);
      }
      return out;
    }
    case 'truncate':
      return body.subarray(0, m.at % body.length);
    case 'random':
      return Buffer.from(m.bytes);
    case 'splice': {
      const at = m.at % body.length;
      return Buffer.concat([body.subarray(0, at), Buffer.from(m.bytes), body.subarray(at + m.bytes.length)]);
    }
  }
}

const CONTENT_TYPES = ['application/x-protobuf', 'application/json', 'application/x-protobuf; charset=binary', 'APPLICATION/JSON', 'text/plain', ''];

interface HttpCase {
  json: boolean;
  which: number;
  mutation: Mutation;
  contentType: number;
  gzip: 'none' | 'before' | 'after';
}

const httpCase: fc.Arbitrary<HttpCase> = fc.record({
  json: fc.boolean(),
  which: fc.integer({ min: 0, max: 1 }),
  mutation,
  // Mostly the matching type, so most requests reach the decoders.
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: CONTENT_TYPES.length - 1 }) }),
  gzip: fc.constantFrom('none', 'none', 'before', 'after'),
});

describe('receivers under random and mutated input', () => {
  let metrics: SidecarMetrics;
  let http: HttpReceiver;
  let grpc: GrpcReceiver;
  let client: RawTraceClient;
  let gzipClient: RawTraceClient;
  const beats: Beat[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const config = receiveConfig({ maxRequestBytes: 256 * 1024 });
    http = new HttpReceiver(config, (b) => beats.push(...b), metrics, { auth: null, tls: null });
    grpc = new GrpcReceiver(config, (b) => beats.push(...b), metrics, { auth: null, tls: null });
    await http.start();
    await grpc.start();
    client = new RawTraceClient(grpc.port);
    gzipClient = new RawTraceClient(grpc.port, undefined, { 'grpc.default_compression_algorithm': 2 });
  });

  afterAll(async () => {
    client.close();
    gzipClient.close();
    agent.destroy();
    await http.stop();
    await grpc.stop();
    metrics.stop();
  });

  it('answers 7000 HTTP requests with a protocol error or success, then still accepts good ones', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(httpCase, async (c) => {
        const base = (c.json ? JSON_BODIES : PROTO_BODIES)[c.which]!;
        let body: Buffer;
        const headers: Record<string, string> = {
          'content-type': c.contentType === -1 ? (c.json ? 'application/json' : 'application/x-protobuf') : CONTENT_TYPES[c.contentType]!,
        };
        if (c.gzip === 'before') body = gzipSync(mutate(base, c.mutation));
        else if (c.gzip === 'after') body = mutate(gzipSync(base), c.mutation);
        else body = mutate(base, c.mutation);
        if (c.gzip !== 'none') headers['content-encoding'] = 'gzip';
        const res = await httpSend(http.port, body, headers, { agent });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        expect([200, 400, 413, 415]).toContain(res.status);
      }),
      { numRuns: 7000, seed: SEED },
    );
    // Both success and each error kind were exercised.
    expect(seen.get(200)).toBeGreaterThan(100);
    expect(seen.get(400)).toBeGreaterThan(100);
    expect(seen.get(415)).toBeGreaterThan(10);
    const before = beats.length;
    for (const body of PROTO_BODIES) expect((await httpSend(http.port, body, { 'content-type': 'application/x-protobuf' }, { agent })).status).toBe(200);
    expect((await httpSend(http.port, JSON_BODIES[0]!, { 'content-type': 'application/json' })).status).toBe(200);
    expect(beats.length - before).toBe(3 + 14 + 3);
  });

  it('answers 3000 gRPC calls with OK, INVALID_ARGUMENT or RESOURCE_EXHAUSTED, then still accepts good ones', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1 }), mutation, fc.boolean(), async (which, m, compressed) => {
        const body = mutate(PROTO_BODIES[which]!, m);
        const { error } = await (compressed ? gzipClient : client).export(body);
        const code = error === null ? status.OK : error.code;
        seen.set(code, (seen.get(code) ?? 0) + 1);
        expect([status.OK, status.INVALID_ARGUMENT, status.RESOURCE_EXHAUSTED]).toContain(code);
      }),
      { numRuns: 3000, seed: SEED + 1 },
    );
    expect(seen.get(status.OK)).toBeGreaterThan(100);
    expect(seen.get(status.INVALID_ARGUMENT)).toBeGreaterThan(100);
    const before = beats.length;
    for (const body of PROTO_BODIES) expect((await client.export(body)).error).toBeNull();
    expect(beats.length - before).toBe(17);
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('outcome="error"');
  });
});
