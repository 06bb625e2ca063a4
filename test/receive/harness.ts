import type { Beat } from '../../src/model/beat.js';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Client, credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ConfigSchema, type ConfigInput } from '../../src/config/schema.js';
import type { ReceiveConfig } from '../../src/config/sections/receive.js';

export const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/**
 * A receive config for tests: loopback, port 0, optional overrides. Heap and event-loop checks are
 * off unless asked for: a busy test machine must not turn into refusals in unrelated tests (the
 * pressure tests inject their readings).
 */
export function receiveConfig(overrides: ConfigInput['receive'] = {}): ReceiveConfig {
  const base = ConfigSchema.parse({ receive: { maxHeapUsedRatio: 0, maxEventLoopDelayMs: 0, ...overrides } }).receive;
  return { ...base, grpc: { ...base.grpc, port: 0 }, http: { ...base.http, port: 0 } };
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** POSTs (or sends `method`) over a keep-alive agent and collects the answer. */
export function httpSend(
  port: number,
  body: Buffer | string,
  headers: Record<string, string>,
  opts: { path?: string; method?: string; agent?: Agent } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: opts.path ?? '/v1/traces', method: opts.method ?? 'POST', headers, agent: opts.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface GrpcAnswer {
  error: ServiceError | null;
  response: Buffer | undefined;
}

/** A grpc-js client sending raw bytes to the TraceService (identity serializers). */
export class RawTraceClient {
  readonly client: Client;

  constructor(port: number, creds: ChannelCredentials = credentials.createInsecure(), options: Record<string, string | number> = {}) {
    this.client = new Client(`127.0.0.1:${port}`, creds, options);
  }

  export(body: Buffer, metadata: Metadata = new Metadata(), deadlineMs = 20_000): Promise<GrpcAnswer> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        EXPORT_PATH,
        (b: Buffer) => b,
        (b: Buffer) => b,
        body,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error, response) => resolve({ error, response }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Polls until `check` is true or the deadline passes. */
export async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * A sink that keeps its beats "in flight" (the promise admission control waits on) until the test
 * releases them: releases[i]() settles the i-th delivery.
 */
export function heldSink(into: Beat[]): { sink: (b: Beat[]) => void; releases: Array<() => void> } {
  const releases: Array<() => void> = [];
  const sink = ((b: Beat[]) =>
    new Promise<void>((resolve) => {
      into.push(...b);
      releases.push(resolve);
    })) as unknown as (b: Beat[]) => void;
  return { sink, releases };
}
