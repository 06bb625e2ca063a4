import { gzipSync } from 'node:zlib';
import { Metadata } from '@grpc/grpc-js';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { Admission } from '../../src/receive/admission.js';
import { createBearerCheck } from '../../src/receive/auth.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { LOGS_EXPORT_PATH } from '../../src/receive/logs-export.js';
import { httpSend, RawTraceClient, receiveConfig, waitFor } from './harness.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTO = { 'content-type': 'application/x-protobuf' };

type Kind = 'http-json' | 'http-proto' | 'grpc';

async function exporterFor(kind: Kind, port: number, headers: Record<string, string>): Promise<LogRecordExporter> {
  if (kind === 'grpc') {
    const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-grpc');
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
    return new OTLPLogExporter({ url: `http://127.0.0.1:${port}`, metadata, compression: 'gzip' as never });
  }
  if (kind === 'http-json') {
    const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-http');
    return new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, headers });
  }
  const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-proto');
  return new OTLPLogExporter({ url: `http://127.0.0.1:${port}/v1/logs`, headers, compression: 'gzip' as never });
}

/** Emits three records through the real OTel JS logs SDK: one bound to a span, one structured, one plain. */
async function emitWithSdk(exporter: LogRecordExporter): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.4.2' }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('orders');
  const ctx = trace.setSpanContext(context.active(), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: 'payment 4711 failed: timeout after 3000 ms', attributes: { 'order.id': 'o-1' }, context: ctx });
  logger.emit({ severityNumber: SeverityNumber.INFO, body: { msg: 'cart loaded', items: 3 }, timestamp: 1_700_000_000_123 });
  logger.emit({ severityText: 'warn', body: 'cache miss', eventName: 'cache.lookup' });
  await provider.forceFlush();
  await provider.shutdown();
}

describe('OTLP logs on the receivers, from the real OpenTelemetry JS logs SDK', () => {
  let metrics: SidecarMetrics;
  let http: HttpReceiver | undefined;
  let grpc: GrpcReceiver | undefined;

  afterEach(async () => {
    await http?.stop();
    await grpc?.stop();
    http = grpc = undefined;
    metrics?.stop();
  });

  async function start(kind: Kind, events: LogEvent[], opts: { token?: string; admission?: Admission } = {}): Promise<number> {
    metrics = createMetrics({ defaultMetrics: false });
    const options = { auth: opts.token === undefined ? null : createBearerCheck(opts.token), tls: null, logSink: (e: LogEvent[]) => void events.push(...e), admission: opts.admission };
    if (kind === 'grpc') {
      grpc = new GrpcReceiver(receiveConfig(), () => undefined, metrics, options);
      await grpc.start();
      return grpc.port;
    }
    http = new HttpReceiver(receiveConfig(), () => undefined, metrics, options);
    await http.start();
    return http.port;
  }

  for (const kind of ['http-json', 'http-proto', 'grpc'] as const) {
    it(`receives the SDK's records over ${kind}, bound to their span, with the resource's service`, async () => {
      const events: LogEvent[] = [];
      const port = await start(kind, events, { token: 's3cret' });
      await emitWithSdk(await exporterFor(kind, port, { authorization: 'Bearer s3cret' }));
      await waitFor(() => events.length >= 3);
      // SimpleLogRecordProcessor exports each record on its own: they may arrive in any order.
      const byBody = (prefix: string): LogEvent | undefined => events.find((e) => e.body.startsWith(prefix));
      const [err, info, warn] = [byBody('payment 4711'), byBody('{"msg"'), byBody('cache miss')];
      expect(err).toMatchObject({
        service: 'checkout',
        serviceVersion: '1.4.2',
        severityNumber: 17,
        severityText: 'ERROR',
        body: 'payment 4711 failed: timeout after 3000 ms',
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        attributes: { 'order.id': 'o-1' },
      });
      expect(info!.body).toBe('{"msg":"cart loaded","items":3}');
      expect(info!.timeMs).toBe(1_700_000_000_123);
      expect(info!.traceId).toBe('');
      // No severity number, only text: the text decides.
      expect(warn!.severityNumber).toBe(13);
      expect(warn!.attributes['event.name']).toBe('cache.lookup');
      // Records without time_unix_nano get the SDK's observed time.
      expect(Math.abs(warn!.timeMs - Date.now())).toBeLessThan(60_000);
      const received = await metrics.registry.getSingleMetricAsString('self_healing_log_records_received_total');
      expect(received).toContain(`protocol="${kind === 'grpc' ? 'grpc' : 'http'}"} 3`);
    });
  }

  it('refuses logs without the bearer token on both transports', async () => {
    const events: LogEvent[] = [];
    const port = await start('http-json', events, { token: 'right' });
    const res = await httpSend(port, '{"resourceLogs":[]}', { ...JSON_TYPE, authorization: 'Bearer wrong' }, { path: '/v1/logs' });
    expect(res.status).toBe(401);
    await http!.stop();
    http = undefined;
    metrics.stop();
    const gport = await start('grpc', events, { token: 'right' });
    const client = new RawTraceClient(gport);
    const answer = await new Promise<{ code: number | undefined }>((resolve) => {
      client.client.makeUnaryRequest(LOGS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new Metadata(), (e) => resolve({ code: e?.code }));
    });
    client.close();
    expect(answer.code).toBe(16);
    expect(events).toHaveLength(0);
  });

  it('answers 503 with Retry-After / UNAVAILABLE while the shared admission is full', async () => {
    const admission = new Admission({ maxInflightSpans: 1 });
    admission.hold(1);
    const events: LogEvent[] = [];
    const port = await start('http-proto', events, { admission });
    const res = await httpSend(port, Buffer.alloc(0), PROTO, { path: '/v1/logs' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    await http!.stop();
    http = undefined;
    metrics.stop();
    const gport = await start('grpc', events, { admission });
    const client = new RawTraceClient(gport);
    const code = await new Promise<number | undefined>((resolve) => {
      client.client.makeUnaryRequest(LOGS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new Metadata(), (e) => resolve(e?.code));
    });
    client.close();
    expect(code).toBe(14);
    admission.release(1);
  });

  it('reports records with broken ids as partial success (JSON, gzip) and keeps the rest', async () => {
    const events: LogEvent[] = [];
    const port = await start('http-json', events);
    const doc = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] },
          scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok line' } }, { traceId: 'abcd', body: { stringValue: 'bad id' } }] }],
        },
      ],
    };
    const res = await httpSend(port, gzipSync(JSON.stringify(doc)), { ...JSON_TYPE, 'content-encoding': 'gzip' }, { path: '/v1/logs' });
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body.toString()) as { partialSuccess: { rejectedLogRecords: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedLogRecords).toBe('1');
    expect(answer.partialSuccess.errorMessage).toContain('invalid trace_id');
    expect(events.map((e) => e.body)).toEqual(['ok line']);
  });

  it('answers 400 for a malformed logs body and names the new route in 404s', async () => {
    const port = await start('http-proto', []);
    const bad = await httpSend(port, Buffer.from([0x0a, 0x05, 0x01]), PROTO, { path: '/v1/logs' });
    expect(bad.status).toBe(400);
    const Status = protobuf.parse('syntax = "proto3"; message Status { int32 code = 1; string message = 2; }').root.lookupType('Status');
    expect((Status.toObject(Status.decode(bad.body)) as { message: string }).message).toMatch(/runs past the end/);
    const missing = await httpSend(port, '{}', JSON_TYPE, { path: '/v1/metrics' });
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toContain('/v1/logs');
  });

  it('answers INVALID_ARGUMENT on gRPC for a malformed request and INTERNAL when the sink throws', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    grpc = new GrpcReceiver(receiveConfig(), () => undefined, metrics, {
      auth: null,
      tls: null,
      logSink: () => {
        throw new Error('sink down');
      },
    });
    await grpc.start();
    const client = new RawTraceClient(grpc.port);
    const call = (body: Buffer): Promise<number | undefined> =>
      new Promise((resolve) => {
        client.client.makeUnaryRequest(LOGS_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), (e) => resolve(e?.code ?? 0));
      });
    expect(await call(Buffer.from([0x0a, 0x05, 0x01]))).toBe(3);
    // resource_logs { scope_logs { log_records { severity_text "x" } } }
    const record = Buffer.from([0x1a, 0x01, 0x78]);
    const scope = Buffer.concat([Buffer.from([0x12, record.length]), record]);
    const rl = Buffer.concat([Buffer.from([0x12, scope.length]), scope]);
    expect(await call(Buffer.concat([Buffer.from([0x0a, rl.length]), rl]))).toBe(13);
    client.close();
  });
});
