import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createGunzip } from 'node:zlib';
import type { ReceiveConfig } from '../config/sections/receive.js';
import type { BeatSink } from '../model/beat.js';
import type { DecodeErrorReason, RequestOutcome, SidecarMetrics } from '../emit/metrics.js';
import type { Admission } from './admission.js';
import type { BearerCheck } from './auth.js';
import { BodyPool } from './body-pool.js';
import { encodeExportResponseJson, encodeExportResponseProto, encodeStatusJson, encodeStatusProto, RPC_CODE } from './export-response.js';
import { receiverParts, type OtlpContentType, type ReceiverOptions } from './grpc-server.js';
import { decodeTraceRequestJson } from './otlp-json.js';
import { decodeTraceRequestProto, OtlpDecodeError, type DecodeOptions, type DecodeResult } from './otlp-proto.js';
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
  private readonly bodies = new BodyPool();

  constructor(
    private readonly config: ReceiveConfig,
    private readonly sink: BeatSink,
    private readonly metrics: SidecarMetrics,
    private readonly options: ReceiverOptions = {},
  ) {
    ({ auth: this.auth, tls: this.tls, admission: this.admission, decodeOptions: this.decodeOptions } = receiverParts(config, metrics, options));
    this.maxBytes = config.maxRequestBytes;
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = this.tls === undefined ? createHttpServer(handler) : createHttpsServer(httpsServerOptions(this.tls), handler);
    // Exporters keep connections open between batches; outlive their typical 5-10 s export interval.
    this.server.keepAliveTimeout = 30_000;
    this.server.headersTimeout = 35_000;
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
    if (!this.admission.admits()) {
      res.setHeader('retry-after', String(this.config.retryAfterSeconds));
      this.reject(req, res, type, fail(503, RPC_CODE.UNAVAILABLE, 'overloaded', undefined, 'receiver overloaded, retry later'), this.config.retryAfterSeconds);
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
    if (encoding === 'gzip') this.readGzip(req, res, type);
    else this.readPlain(req, res, type, declared);
  }

  private requestDone(): void {
    this.inflightRequests--;
    if (this.inflightRequests === 0 && this.drained !== undefined) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }

  private readPlain(req: IncomingMessage, res: ServerResponse, type: OtlpContentType, declared: number): void {
    // With a content-length the body is copied once into a (pooled) buffer of the right size.
    let body = declared >= 0 ? this.bodies.take(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (body !== undefined && size + chunk.length <= body.length) chunk.copy(body, size);
      else {
        if (body !== undefined) {
          chunks.push(body.subarray(0, size));
          body = undefined;
        }
        chunks.push(chunk);
      }
      size += chunk.length;
      if (size > this.maxBytes) {
        failed = true;
        res.setHeader('connection', 'close');
        this.reject(req, res, type, fail(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', 'too_large', `request larger than ${this.maxBytes} bytes`));
      }
    });
    req.on('end', () => {
      if (failed) return;
      if (body !== undefined) {
        const full = body.subarray(0, size);
        this.process(res, type, full, true);
        // Decoding is synchronous and keeps no reference to the bytes, and the forwarder gets a
        // copy of exactly the body, so the pooled buffer can always be reused.
        this.bodies.give(body);
      } else {
        this.process(res, type, Buffer.concat(chunks, size));
      }
    });
    req.on('error', () => res.destroy());
  }

  private readGzip(req: IncomingMessage, res: ServerResponse, type: OtlpContentType): void {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let compressed = 0;
    let size = 0;
    let failed = false;
    const stop = (f: Failure): void => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      req.unpipe(gunzip);
      res.setHeader('connection', 'close');
      this.reject(req, res, type, f);
    };
    req.on('data', (chunk: Buffer) => {
      compressed += chunk.length;
      if (compressed > this.maxBytes) stop(fail(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', 'too_large', `compressed request larger than ${this.maxBytes} bytes`));
    });
    // Counting decompressed bytes as they come out stops a gzip bomb after maxBytes, not after inflating it.
    gunzip.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > this.maxBytes) stop(fail(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', 'too_large', `request decompresses to more than ${this.maxBytes} bytes`));
      else chunks.push(chunk);
    });
    gunzip.on('error', (err) => stop(fail(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'bad_gzip', `invalid gzip body: ${err.message}`)));
    gunzip.on('end', () => {
      if (!failed) this.process(res, type, Buffer.concat(chunks, size));
    });
    req.on('error', () => {
      failed = true;
      gunzip.destroy();
      res.destroy();
    });
    req.pipe(gunzip);
  }

  private process(res: ServerResponse, type: OtlpContentType, body: Buffer, pooled = false): void {
    if (res.req.url?.startsWith(LOGS_PATH) === true) {
      this.processLogs(res, type, body);
      return;
    }
    const m = this.metrics;
    let result: DecodeResult;
    try {
      result = type === 'application/x-protobuf' ? decodeTraceRequestProto(body, this.decodeOptions) : decodeTraceRequestJson(body, this.decodeOptions);
    } catch (err) {
      const f =
        err instanceof OtlpDecodeError
          ? fail(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'malformed', err.message)
          : fail(500, RPC_CODE.INTERNAL, 'error', undefined, 'internal error while decoding');
      this.respondError(res, type, f);
      return;
    }
    try {
      if (result.beats.length > 0) {
        this.admission.deliver(this.sink, result.beats, result.beats.length);
        m.countBeats(result.beats);
      }
    } catch {
      this.respondError(res, type, fail(500, RPC_CODE.INTERNAL, 'error', undefined, 'internal error while processing spans'));
      return;
    }
    m.spansReceived('http').inc(result.spans);
    const message = result.rejected > 0 ? result.rejectMessage : '';
    if (result.rejected > 0) {
      m.spansRejected('http').inc(result.rejected);
      m.requests('http', 'partial').inc();
    } else {
      m.requests('http', 'ok').inc();
    }
    // A pooled body is reused for the next request: the forwarder keeps its own exact-size copy.
    if (this.options.onAccepted) this.options.onAccepted(pooled ? Buffer.from(body) : body, type);
    const out = type === 'application/x-protobuf' ? encodeExportResponseProto(result.rejected, message) : encodeExportResponseJson(result.rejected, message);
    res.writeHead(200, { 'content-type': type, 'content-length': out.length });
    // An empty chunk would turn the single header write into a writev.
    if (out.length === 0) res.end();
    else res.end(out);
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
