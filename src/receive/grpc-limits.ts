import {
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerOptions,
} from '@grpc/grpc-js';
import type { Server } from '@grpc/grpc-js';
import type { ReceiveConfig } from '../config/sections/receive.js';
import type { Admission, RefusalReason } from './admission.js';
import { encodeStatusProto } from './export-response.js';
import { grpcHttp2Servers } from './grpc-flow-control.js';

/** Export calls of every OTLP collector service (traces, logs, metrics) go through admission. */
const OTLP_SERVICE_PREFIX = '/opentelemetry.proto.collector.';

/** grpc-js server options for the receive.grpc connection limits. */
export function grpcLimitOptions(config: ReceiveConfig): ServerOptions {
  const g = config.grpc;
  return {
    'grpc.max_concurrent_streams': g.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': g.idleTimeoutMs,
    ...(g.maxConnectionAgeMs > 0 ? { 'grpc.max_connection_age_ms': g.maxConnectionAgeMs } : {}),
    'grpc.keepalive_time_ms': g.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': g.keepaliveTimeoutMs,
  };
}

/**
 * Caps open connections of the grpc-js server (call after bindAsync): grpc-js has no option for
 * it, but its HTTP/2 servers are net.Servers, which drop connections beyond maxConnections.
 * False when this grpc-js version hides them.
 */
export function limitGrpcConnections(server: Server, maxConnections: number): boolean {
  const servers = grpcHttp2Servers(server);
  if (servers === undefined || servers.length === 0) return false;
  for (const h2 of servers) h2.maxConnections = maxConnections;
  return true;
}

/** The trailer of a refusal for overload: UNAVAILABLE with a RetryInfo detail, as OTLP asks. */
export function overloadStatus(retryAfterSeconds: number, details: string): { code: status; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', encodeStatusProto(status.UNAVAILABLE, details, retryAfterSeconds));
  return { code: status.UNAVAILABLE, details, metadata };
}

/**
 * Refuses OTLP export calls at their headers while the admission says so: the request message is
 * then never read into memory, unlike a refusal in the handler, which grpc-js calls only once the
 * whole message has arrived.
 */
export function admissionInterceptor(admission: Admission, retryAfterSeconds: number, onRefused: (reason: RefusalReason) => void): ServerInterceptor {
  return (method, call: ServerInterceptingCallInterface) => {
    if (!method.path.startsWith(OTLP_SERVICE_PREFIX)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const reason = admission.refusal();
        if (reason === undefined) {
          next(metadata);
          return;
        }
        onRefused(reason);
        call.sendStatus(overloadStatus(retryAfterSeconds, 'receiver overloaded, retry later'));
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}
