import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ReceiveConfig } from '../config/sections/receive.js';
import type { BeatSink } from '../model/beat.js';
import type { DecodeErrorReason, RequestOutcome, SidecarMetrics } from '../emit/metrics.js';
import type { Admission, RefusalReason } from './admission.js';
import type { BearerCheck } from './auth.js';
import { BodyPool } from './body-pool.js';
import { readRequestBody, type BodyReaderParts, type RequestBody } from './body-reader.js';
import { deliverExportRequest, deliverRequest, deliverSlices, type Delivery } from './deliver-request.js';
import { encodeExportResponseJson, encodeExportResponseProto, encodeStatusJson, encodeStatusProto, RPC_CODE } from './export-response.js';
import { receiverParts, type OtlpContentType, type ReceiverOptions } from './grpc-server.js';
import type { JsonBounds } from './json-bounds.js';
import { jsonSliceDecoder, parseJsonBody, sliceJsonTraceRequest } from './json-request-slices.js';
import { decodeTraceRequestProto, OtlpDecodeError, type DecodeOptions, type DecodeResult } from './otlp-proto.js';
import { applyHttpServerLimits } from './server-limits.js';
import { httpsServerOptions, type TlsMaterial } from './tls.js';
import { encodeLogsResponseJson, exportLogs, LOGS_PATH } from './logs-export.js';

export const TRACES_PATH = '/v1/traces';

/** A failure with its HTTP status, google.rpc code, metrics outcome and decode-error reason. */
interface Failure {
  http: number;
  code: number;
  outcome: RequestOutcome;
  reason: DecodeErrorReason | undefined;
  message: string;
}

const fail = (http: number, code: number, outcome: RequestOutcome, reason: DecodeErrorReason | undefined, message: string): Failure => ({
  http,
  code,
  outcome,
  reason,
  message,
});

/** Spans per slice of a large JSON request (JSON spans are several times larger than protobuf ones). */
const JSON_SLICE_SPANS = 1024;

/** Sent with every refusal for overload; the reason goes to metrics, not to the client. */
export const REFUSAL_MESSAGE = 'receiver overloaded, retry later';

/** A decode or sink error as the answer it gets. */
function failureOf(err: unknown): Failure {
  if (err instanceof OtlpDecodeError) return fail(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'malformed', err.message);
  return fail(500, RPC_CODE.INTERNAL, 'error', undefined, 'internal error while processing the request');
}

function mediaType(header: string | undefined): OtlpContentType | undefined {
  if (header === undefined) return undefined;
  const semi = header.indexOf(';');
  const type = (semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase();
  return type === 'application/x-protobuf' || type === 'application/json' ? type : undefined;
}

/**
 * OTLP/HTTP receiver on node:http (or node:https with TLS): POST /v1/traces with protobuf or JSON
 * bodies, optionally gzip-compressed. Answers in the request's content type, errors as a
 * google.rpc.Status as the OTLP specification asks.
 */
export class HttpReceiver {
  private readonly server: Server;
  private readonly auth: BearerCheck | undefined;
  private readonly tls: TlsMaterial | undefined;
  readonly admission: Admission;
  private readonly decodeOptions: DecodeOptions;
  private readonly maxBytes: number;
  private boundPort = 0;
  private inflightRequests = 0;
  private drained: (() => void) | undefined;
  private readonly bodyParts: BodyReaderParts;
  private readonly delivery: Delivery;
  private readonly decodeProto = (body: Uint8Array): DecodeResult => decodeTraceRequestProto(body, this.decodeOptions);
  private readonly decodeJsonSlice: (slice: unknown) => DecodeResult;
  private readonly jsonBounds: JsonBounds;

  constructor(
    private readonly config: ReceiveConfig,
    private readonly sink: BeatSink,
    private readonly metrics: SidecarMetrics,
    private readonly options: ReceiverOptions = {},
  ) {
    ({ auth: this.auth, tls: this.tls, admission: this.admission, decodeOptions: this.decodeOptions } = receiverParts(config, metrics, options));
    this.maxBytes = config.maxRequestBytes;
    this.jsonBounds = { maxDepth: config.maxJsonDepth, maxElements: config.maxJsonElements };
    this.decodeJsonSlice = jsonSliceDecoder(this.decodeOptions);
    this.bodyParts = { maxBytes: this.maxBytes, admission: this.admission, pool: new BodyPool(8, 1024 * 1024) };
    this.delivery = { admission: this.admission, sink, onBeats: (beats) => metrics.countBeats(beats) };
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = this.tls === undefined ? createHttpServer(handler) : createHttpsServer(httpsServerOptions(this.tls), handler);
    // Exporters keep connections open between batches: the idle timeout should outlive their 5-10 s export interval.
    applyHttpServerLimits(this.server, config.http);
  }

  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** The underlying server (tests, connection tracking). */
  get httpServer(): Server {
    return this.server;
  }

  async start(): Promise<void> {
    const { host, port } = this.config.http;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.admission.start();
  }

  /** Stops accepting connections, waits for in-flight requests (up to the grace period), then closes. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const grace = this.options.shutdownGraceMs ?? 5_000;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inflightRequests > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, grace);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.server.closeAllConnections();
    await closed;
    this.admission.stop();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const type = mediaType(req.headers['content-type']);
    if (path !== TRACES_PATH && path !== LOGS_PATH) {
      this.reject(req, res, type, fail(404, RPC_CODE.NOT_FOUND, 'not_found', undefined, `no route for ${path}; OTLP traces go to ${TRACES_PATH}, logs to ${LOGS_PATH}`));
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      this.reject(req, res, type, fail(405, RPC_CODE.UNIMPLEMENTED, 'unsupported', undefined, `method ${req.method ?? ''} not allowed; use POST`));
      return;
    }
    if (this.auth !== undefined && !this.auth(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer');
      this.reject(req, res, type, fail(401, RPC_CODE.UNAUTHENTICATED, 'unauthenticated', undefined, 'missing or invalid bearer token'));
      return;
    }
    if (type === undefined) {
      this.reject(req, res, type, fail(415, RPC_CODE.INVALID_ARGUMENT, 'unsupported', 'unsupported_media_type', 'content-type must be application/x-protobuf or application/json'));
      return;
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      this.reject(req, res, type, fail(415, RPC_CODE.INVALID_ARGUMENT, 'unsupported', 'unsupported_media_type', `content-encoding ${encoding} not supported; use gzip or identity`));
      return;
    }
    const refusal = this.admission.refusal();
    if (refusal !== undefined) {
      this.refuse(req, res, type, refusal, REFUSAL_MESSAGE);
      return;
    }
    const declared = Number(req.headers['content-length'] ?? -1);
    if (declared > this.maxBytes) {
      res.setHeader('connection', 'close');
      this.reject(req, res, type, fail(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', 'too_large', `request larger than ${this.maxBytes} bytes`));
      return;
    }
    this.inflightRequests++;
    res.once('close', () => this.requestDone());
    req.on('error', () => res.destroy());
    readRequestBody(req, encoding === 'gzip', declared, this.bodyParts, {
      onBody: (body) => this.process(res, type, body),
      onFailure: (failure, message) => {
        res.setHeader('connection', 'close');
        if (failure === 'budget') this.refuse(req, res, type, 'body_bytes', message);
        else if (failure === 'too_large') this.reject(req, res, type, fail(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', 'too_large', message));
        else this.reject(req, res, type, fail(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'bad_gzip', message));
      },
    });
  }

  private requestDone(): void {
    this.inflightRequests--;
    if (this.inflightRequests === 0 && this.drained !== undefined) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }

  private process(res: ServerResponse, type: OtlpContentType, body: RequestBody): void {
    if (res.req.url?.startsWith(LOGS_PATH) === true) {
      try {
        this.processLogs(res, type, body.bytes);
      } finally {
        body.release();
      }
      return;
    }
    let outcome: DecodeResult | Promise<DecodeResult>;
    try {
      outcome = type === 'application/x-protobuf' ? deliverExportRequest(body.bytes, this.decodeProto, this.delivery) : this.deliverJson(body.bytes);
    } catch (err) {
      body.release();
      this.respondError(res, type, failureOf(err));
      return;
    }
    if (!(outcome instanceof Promise)) {
      this.answer(res, type, body, outcome);
      return;
    }
    outcome.then(
      (result) => this.answer(res, type, body, result),
      (err: unknown) => {
        body.release();
        this.respondError(res, type, failureOf(err));
      },
    );
  }

  /** JSON.parse builds the whole document in one go (bounded by json-bounds); decoding goes in slices. */
  private deliverJson(body: Buffer): DecodeResult | Promise<DecodeResult> {
    const doc = parseJsonBody(body, this.jsonBounds);
    const sliced = sliceJsonTraceRequest(doc, JSON_SLICE_SPANS);
    if (sliced === undefined) return deliverRequest(doc, this.decodeJsonSlice, this.delivery);
    return deliverSlices(sliced.slices, sliced.records, this.decodeJsonSlice, this.delivery);
  }

  private answer(res: ServerResponse, type: OtlpContentType, body: RequestBody, result: DecodeResult): void {
    const m = this.metrics;
    m.spansReceived('http').inc(result.spans);
    const message = result.rejected > 0 ? result.rejectMessage : '';
    if (result.rejected > 0) {
      m.spansRejected('http').inc(result.rejected);
      m.requests('http', 'partial').inc();
    } else {
      m.requests('http', 'ok').inc();
    }
    // A pooled body is reused for the next request: the forwarder keeps its own exact-size copy.
    if (this.options.onAccepted) this.options.onAccepted(body.pooled ? Buffer.from(body.bytes) : body.bytes, type);
    body.release();
    const out = type === 'application/x-protobuf' ? encodeExportResponseProto(result.rejected, message) : encodeExportResponseJson(result.rejected, message);
    res.writeHead(200, { 'content-type': type, 'content-length': out.length });
    // An empty chunk would turn the single header write into a writev.
    if (out.length === 0) res.end();
    else res.end(out);
  }

  /** Refuses a request for overload: 503 with Retry-After (and RetryInfo in the Status). */
  private refuse(req: IncomingMessage, res: ServerResponse, type: OtlpContentType | undefined, reason: RefusalReason, message: string): void {
    this.metrics.refusals('http', reason).inc();
    const retryAfter = this.config.retryAfterSeconds;
    res.setHeader('retry-after', String(retryAfter));
    this.reject(req, res, type, fail(503, RPC_CODE.UNAVAILABLE, 'overloaded', undefined, message), retryAfter);
  }

  /** POST /v1/logs after the body is read: the same answers as for traces (see exportLogs). */
  private processLogs(res: ServerResponse, type: OtlpContentType, body: Buffer): void {
    const json = type === 'application/json';
    let reply;
    try {
      reply = exportLogs(body, json, 'http', { sink: this.options.logSink, admission: this.admission, metrics: this.metrics, decodeOptions: this.decodeOptions });
    } catch (err) {
      const f =
        err instanceof OtlpDecodeError
          ? fail(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'malformed', err.message)
          : fail(500, RPC_CODE.INTERNAL, 'error', undefined, 'internal error while processing log records');
      this.respondError(res, type, f);
      return;
    }
    const out = json ? encodeLogsResponseJson(reply.rejected, reply.message) : encodeExportResponseProto(reply.rejected, reply.message);
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(out) });
    if (out.length === 0) res.end();
    else res.end(out);
  }

  /** Answers an error without having consumed the body; node discards the rest of it. */
  private reject(req: IncomingMessage, res: ServerResponse, type: OtlpContentType | undefined, f: Failure, retryAfter?: number): void {
    this.respondError(res, type, f, retryAfter);
    // Keep reading (and discarding) so the client can finish sending and read the answer.
    req.resume();
  }

  private respondError(res: ServerResponse, type: OtlpContentType | undefined, f: Failure, retryAfter?: number): void {
    const m = this.metrics;
    m.requests('http', f.outcome).inc();
    if (f.reason !== undefined) m.decodeErrors('http', f.reason).inc();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = type === 'application/x-protobuf' ? encodeStatusProto(f.code, f.message, retryAfter) : encodeStatusJson(f.code, f.message, retryAfter);
    res.writeHead(f.http, { 'content-type': type ?? 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
