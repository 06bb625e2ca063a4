import {
  Server,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { ReceiveConfig } from '../config/sections/receive.js';
import type { BeatSink } from '../model/beat.js';
import type { LogEventSink } from '../model/log-event.js';
import { exportLogs, LOGS_EXPORT_PATH, type LogsExportReply } from './logs-export.js';
import type { SidecarMetrics } from '../emit/metrics.js';
import { admissionFromConfig, type Admission, type RefusalReason } from './admission.js';
import { bearerCheckFromConfig, type BearerCheck } from './auth.js';
import { deliverExportRequest, type Delivery } from './deliver-request.js';
import { encodeExportResponseProto } from './export-response.js';
import { decodeTraceRequestProto, OtlpDecodeError, type DecodeOptions, type DecodeResult } from './otlp-proto.js';
import { flowControlSettings, tuneGrpcServerSessions } from './grpc-flow-control.js';
import { admissionInterceptor, grpcLimitOptions, limitGrpcConnections, overloadStatus } from './grpc-limits.js';
import { grpcServerCredentials, loadTlsMaterial, type TlsMaterial } from './tls.js';

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export type OtlpContentType = 'application/x-protobuf' | 'application/json';

/** Receives every accepted request unchanged (decompressed), e.g. for the forwarder. */
export type AcceptedRequestHook = (body: Buffer, contentType: OtlpContentType) => void;

/** Options shared by both receivers; everything defaults from the ReceiveConfig. */
export interface ReceiverOptions {
  /** Bearer check; default from receive.auth (null: auth off regardless of config). */
  auth?: BearerCheck | null;
  /** TLS material; default from receive.tls (null: plain regardless of config). */
  tls?: TlsMaterial | null;
  /** Shared between the receivers so both count against one in-flight limit. */
  admission?: Admission;
  onAccepted?: AcceptedRequestHook;
  /** Where OTLP log records go (POST /v1/logs, LogsService/Export); without one they are checked and dropped. */
  logSink?: LogEventSink;
  /** How long stop() waits for in-flight calls before cutting connections. */
  shutdownGraceMs?: number;
}

/** What both receivers derive from the configuration and options: one place, one behaviour. */
export interface ReceiverParts {
  auth: BearerCheck | undefined;
  tls: TlsMaterial | undefined;
  admission: Admission;
  decodeOptions: DecodeOptions;
}

export function receiverParts(config: ReceiveConfig, metrics: SidecarMetrics, options: ReceiverOptions): ReceiverParts {
  return {
    auth: options.auth === undefined ? bearerCheckFromConfig(config) : (options.auth ?? undefined),
    tls: options.tls === undefined ? loadTlsMaterial(config.tls) : (options.tls ?? undefined),
    admission: options.admission ?? admissionFromConfig(config, metrics),
    decodeOptions: { maxAttributesPerSpan: config.maxAttributesPerSpan },
  };
}

interface ExportReply {
  rejected: number;
  message: string;
}

const identity = (b: Buffer): Buffer => b;

/**
 * Hand-made service definition: the request stays a Buffer (our decoder reads it straight into
 * beats) and the tiny response is written by hand, so protobufjs is never on the path.
 */
const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: (r: ExportReply) => encodeExportResponseProto(r.rejected, r.message),
    responseDeserialize: identity,
  },
};

/** LogsService/Export, built like TRACE_SERVICE: the answer has the same wire shape. */
const LOGS_SERVICE: ServiceDefinition = {
  Export: { ...TRACE_SERVICE['Export']!, path: LOGS_EXPORT_PATH },
};

/** OTLP/gRPC TraceService (and LogsService) receiver on @grpc/grpc-js. */
export class GrpcReceiver {
  private readonly server: Server;
  private readonly auth: BearerCheck | undefined;
  private readonly tls: TlsMaterial | undefined;
  readonly admission: Admission;
  private readonly decodeOptions: DecodeOptions;
  private readonly delivery: Delivery;
  private boundPort = 0;
  private started = false;
  private tuned = false;
  private limited = false;

  constructor(
    private readonly config: ReceiveConfig,
    private readonly sink: BeatSink,
    private readonly metrics: SidecarMetrics,
    private readonly options: ReceiverOptions = {},
  ) {
    ({ auth: this.auth, tls: this.tls, admission: this.admission, decodeOptions: this.decodeOptions } = receiverParts(config, metrics, options));
    this.delivery = { admission: this.admission, sink, onBeats: (beats) => metrics.countBeats(beats) };
    this.server = new Server({
      'grpc.max_receive_message_length': config.maxRequestBytes,
      'grpc.max_send_message_length': 64 * 1024,
      ...grpcLimitOptions(config),
      interceptors: [admissionInterceptor(this.admission, config.retryAfterSeconds, (reason) => this.countRefusal(reason))],
    });
    const impl: UntypedServiceImplementation = {
      Export: (call: ServerUnaryCall<Buffer, ExportReply>, callback: sendUnaryData<ExportReply>) => this.export(call, callback),
    };
    this.server.addService(TRACE_SERVICE, impl);
    this.server.addService(LOGS_SERVICE, {
      Export: (call: ServerUnaryCall<Buffer, LogsExportReply>, callback: sendUnaryData<LogsExportReply>) => this.exportLogs(call, callback),
    });
  }

  /** The grpc-js server, so other services (selfhealing.v1.Events) can share the port; add them before start(). */
  get grpcServer(): Server {
    return this.server;
  }

  /** The bound port (after start()). */
  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    const { host, port } = this.config.grpc;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(address, grpcServerCredentials(this.tls), (err, bound) => (err ? reject(err) : resolve(bound)));
    });
    this.started = true;
    this.admission.start();
    this.limited = limitGrpcConnections(this.server, this.config.grpc.maxConnections);
    if (this.config.grpc.flowControlWindow > 65_535) {
      this.tuned = tuneGrpcServerSessions(this.server, flowControlSettings(this.config.grpc.flowControlWindow));
    }
  }

  /**
   * False when receive.grpc.flowControlWindow is set above the HTTP/2 default but this grpc-js
   * version could not be tuned (the receiver then works on the defaults, only slower).
   */
  get flowControlApplied(): boolean {
    return this.tuned || this.config.grpc.flowControlWindow <= 65_535;
  }

  /** False when this grpc-js version hides its HTTP/2 servers, so receive.grpc.maxConnections could not be applied. */
  get connectionLimitApplied(): boolean {
    return this.limited;
  }

  /** Stops accepting calls, lets in-flight ones finish (up to the grace period), then closes. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const grace = this.options.shutdownGraceMs ?? 5_000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, grace);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.admission.stop();
  }

  private countRefusal(reason: RefusalReason): void {
    this.metrics.refusals('grpc', reason).inc();
    this.metrics.requests('grpc', 'overloaded').inc();
  }

  private export(call: ServerUnaryCall<Buffer, ExportReply>, callback: sendUnaryData<ExportReply>): void {
    const m = this.metrics;
    if (this.auth !== undefined) {
      const header = call.metadata.get('authorization')[0];
      if (!this.auth(typeof header === 'string' ? header : undefined)) {
        m.requests('grpc', 'unauthenticated').inc();
        callback({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
        return;
      }
    }
    // The interceptor refused calls at their headers; this catches pressure that rose while the message arrived.
    const body = call.request;
    const reason = this.admission.refusal() ?? (this.admission.reserveBody(body.length) ? undefined : 'body_bytes');
    if (reason !== undefined) {
      this.countRefusal(reason);
      callback(overloadStatus(this.config.retryAfterSeconds, 'receiver overloaded, retry later'));
      return;
    }
    const release = (): void => this.admission.releaseBody(body.length);
    let outcome: DecodeResult | Promise<DecodeResult>;
    try {
      outcome = deliverExportRequest(body, this.decode, this.delivery);
    } catch (err) {
      release();
      this.fail(err, callback);
      return;
    }
    if (!(outcome instanceof Promise)) {
      release();
      this.answer(body, outcome, callback);
      return;
    }
    outcome.then(
      (result) => {
        release();
        this.answer(body, result, callback);
      },
      (err: unknown) => {
        release();
        this.fail(err, callback);
      },
    );
  }

  private readonly decode = (body: Uint8Array): DecodeResult => decodeTraceRequestProto(body, this.decodeOptions);

  /** The status of a request that could not be processed: INVALID_ARGUMENT for bad input, INTERNAL otherwise. */
  private fail<Reply>(err: unknown, callback: sendUnaryData<Reply>, what = 'the request'): void {
    const m = this.metrics;
    if (err instanceof OtlpDecodeError) {
      m.requests('grpc', 'invalid').inc();
      m.decodeErrors('grpc', 'malformed').inc();
      callback({ code: status.INVALID_ARGUMENT, details: err.message });
      return;
    }
    m.requests('grpc', 'error').inc();
    callback({ code: status.INTERNAL, details: `internal error while processing ${what}` });
  }

  private answer(body: Buffer, result: DecodeResult, callback: sendUnaryData<ExportReply>): void {
    const m = this.metrics;
    m.spansReceived('grpc').inc(result.spans);
    if (result.rejected > 0) {
      m.spansRejected('grpc').inc(result.rejected);
      m.requests('grpc', 'partial').inc();
    } else {
      m.requests('grpc', 'ok').inc();
    }
    this.options.onAccepted?.(body, 'application/x-protobuf');
    callback(null, { rejected: result.rejected, message: result.rejected > 0 ? result.rejectMessage : '' });
  }

  /**
   * LogsService/Export: the same auth and admission answers as traces, then exportLogs. Kept
   * apart from export() so each signal's path reads on its own.
   */
  private exportLogs(call: ServerUnaryCall<Buffer, LogsExportReply>, callback: sendUnaryData<LogsExportReply>): void {
    const m = this.metrics;
    if (this.auth !== undefined) {
      const header = call.metadata.get('authorization')[0];
      if (!this.auth(typeof header === 'string' ? header : undefined)) {
        m.requests('grpc', 'unauthenticated').inc();
        callback({ code: status.UNAUTHENTICATED, details: 'missing or invalid bearer token' });
        return;
      }
    }
    // Overload is refused by the admission interceptor when the call's headers arrive (grpc-limits.ts).
    try {
      callback(null, exportLogs(call.request, false, 'grpc', { sink: this.options.logSink, admission: this.admission, metrics: m, decodeOptions: this.decodeOptions }));
    } catch (err) {
      this.fail(err, callback, 'log records');
    }
  }
}
