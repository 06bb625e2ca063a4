import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import type { ForwardConfig } from '../config/sections/forward.js';
import type { SidecarMetrics } from './metrics.js';

const gzip = promisify(gzipCb);

export type ForwardContentType = 'application/x-protobuf' | 'application/json';

export interface ForwardRequest {
  body: Buffer;
  contentType: ForwardContentType;
}

/** What one delivery attempt came to. */
export type SendOutcome = { ok: true } | { ok: false; retryable: boolean; retryAfterMs: number | undefined; error: string };

/** Moves one request downstream; one per protocol. */
export interface ForwardTransport {
  send(request: ForwardRequest): Promise<SendOutcome>;
  close(): void;
}

const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
// OTLP/gRPC retryable codes (RESOURCE_EXHAUSTED only matters with RetryInfo; treated as retryable).
const RETRYABLE_GRPC = new Set<number>([
  status.CANCELLED,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.OUT_OF_RANGE,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with jitter: a random delay in [d/2, d] where d doubles per attempt up to max. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The traces URL for an endpoint given as a base URL (or already ending in /v1/traces). */
export function tracesUrl(endpoint: string): URL {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith('/v1/traces')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/traces`;
  return url;
}

/** OTLP/HTTP: POST {endpoint}/v1/traces with the request's own content type. */
export function createHttpTransport(config: ForwardConfig): ForwardTransport {
  const url = tracesUrl(config.endpoint);
  const secure = url.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets: config.concurrency }) : new HttpAgent({ keepAlive: true, maxSockets: config.concurrency });
  const send = secure ? httpsRequest : httpRequest;
  return {
    async send(req) {
      const body = config.compression === 'gzip' ? await gzip(req.body) : req.body;
      const headers: Record<string, string | number> = { ...config.headers, 'content-type': req.contentType, 'content-length': body.length };
      if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';
      return new Promise<SendOutcome>((resolve) => {
        const r = send(url, { method: 'POST', agent, headers, timeout: config.timeoutMs }, (res: IncomingMessage) => {
          res.resume();
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve({ ok: true });
            else
              resolve({
                ok: false,
                retryable: RETRYABLE_HTTP.has(code),
                retryAfterMs: parseRetryAfter(res.headers['retry-after']),
                error: `downstream answered HTTP ${code}`,
              });
          });
          res.on('error', (err) => resolve({ ok: false, retryable: true, retryAfterMs: undefined, error: err.message }));
        });
        r.on('timeout', () => r.destroy(new Error(`no answer within ${config.timeoutMs} ms`)));
        r.on('error', (err) => resolve({ ok: false, retryable: true, retryAfterMs: undefined, error: err.message }));
        r.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}

const identity = (b: Buffer): Buffer => b;

/** OTLP/gRPC: the raw request bytes through a grpc-js client with identity serializers. */
export function createGrpcTransport(config: ForwardConfig): ForwardTransport {
  const secure = config.endpoint.startsWith('https://');
  const target = config.endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const options: Record<string, number> = {};
  if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = 2;
  const client = new Client(target, secure ? credentials.createSsl() : credentials.createInsecure(), options);
  return {
    send(req) {
      if (req.contentType !== 'application/x-protobuf') {
        return Promise.resolve({ ok: false, retryable: false, retryAfterMs: undefined, error: 'JSON requests cannot be forwarded over gRPC' });
      }
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(config.headers)) metadata.set(k.toLowerCase(), v);
      return new Promise<SendOutcome>((resolve) => {
        client.makeUnaryRequest(TRACE_EXPORT_PATH, identity, identity, req.body, metadata, { deadline: Date.now() + config.timeoutMs }, (err) => {
          if (err === null) resolve({ ok: true });
          else resolve({ ok: false, retryable: RETRYABLE_GRPC.has(err.code), retryAfterMs: undefined, error: `downstream answered ${status[err.code] ?? err.code}: ${err.details}` });
        });
      });
    },
    close() {
      client.close();
    },
  };
}

export interface ForwarderOptions {
  /** Replaces the transport built from config.protocol. */
  transport?: ForwardTransport;
  /** Jitter source (tests). */
  random?: () => number;
  /** Called with each final failure (no token or body in it). */
  onFailure?: (error: string) => void;
}

/**
 * Passes accepted requests on, unchanged, to a downstream OTLP endpoint. The queue is bounded:
 * when it is full the request is dropped and counted rather than buffered without limit.
 */
export class Forwarder {
  private readonly queue: Array<ForwardRequest | undefined> = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private readonly transport: ForwardTransport;
  private readonly random: () => number;
  private readonly timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly config: ForwardConfig,
    private readonly metrics: SidecarMetrics,
    private readonly options: ForwarderOptions = {},
  ) {
    this.transport = options.transport ?? (config.protocol === 'grpc' ? createGrpcTransport(config) : createHttpTransport(config));
    this.random = options.random ?? Math.random;
  }

  /** Requests waiting (not counting those being sent). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /** Queues a request; false (and counted as dropped) when the queue is full or closed. */
  enqueue(body: Buffer, contentType: ForwardContentType): boolean {
    if (this.closed || this.depth >= this.config.queueRequests) {
      this.metrics.forwardRequests('dropped').inc();
      return false;
    }
    this.queue.push({ body, contentType });
    this.metrics.forwardQueueDepth.set(this.depth);
    this.pump();
    return true;
  }

  /** Waits until everything queued has been sent or given up on; false when timeoutMs passed first. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.idle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
    });
  }

  /** Stops: what is still queued is dropped (counted), pending retries give up, the transport closes. */
  async close(flushTimeoutMs = 0): Promise<void> {
    if (flushTimeoutMs > 0) await this.flush(flushTimeoutMs);
    this.closed = true;
    const left = this.depth;
    if (left > 0) this.metrics.forwardRequests('dropped').inc(left);
    this.queue.length = 0;
    this.head = 0;
    this.metrics.forwardQueueDepth.set(0);
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.wake();
    }
    this.timers.clear();
    this.transport.close();
  }

  private idle(): boolean {
    return this.depth === 0 && this.active === 0;
  }

  private pump(): void {
    while (!this.closed && this.active < this.config.concurrency && this.depth > 0) {
      const req = this.queue[this.head]!;
      // Clear the slot: a sent body must not stay reachable until the next compaction.
      this.queue[this.head] = undefined;
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      // Compact now and then so the array does not grow with total traffic.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.metrics.forwardQueueDepth.set(this.depth);
      this.active++;
      void this.deliver(req).finally(() => {
        this.active--;
        this.pump();
        if (this.idle() && this.idleWaiters.length > 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }

  private async deliver(req: ForwardRequest): Promise<void> {
    const m = this.metrics;
    for (let attempt = 1; ; attempt++) {
      let outcome: SendOutcome;
      try {
        outcome = await this.transport.send(req);
      } catch (err) {
        outcome = { ok: false, retryable: true, retryAfterMs: undefined, error: (err as Error).message };
      }
      if (outcome.ok) {
        m.forwardRequests('sent').inc();
        return;
      }
      if (!outcome.retryable || attempt >= this.config.maxAttempts || this.closed) {
        m.forwardRequests('failed').inc();
        this.options.onFailure?.(outcome.error);
        return;
      }
      m.forwardRequests('retried').inc();
      const delay = outcome.retryAfterMs ?? backoffDelay(attempt, this.config.initialBackoffMs, this.config.maxBackoffMs, this.random);
      await this.sleep(delay);
      if (this.closed) {
        m.forwardRequests('failed').inc();
        this.options.onFailure?.(`forwarder closed while waiting to retry: ${outcome.error}`);
        return;
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.timers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.timers.add(entry);
    });
  }
}
