import type { EventEmitter } from 'node:events';
import type { Http2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/**
 * HTTP/2 flow control for the OTLP/gRPC receiver.
 *
 * An OTLP exporter sends batches of a few hundred spans, 100-300 KB per request. With the HTTP/2
 * defaults (64 KiB stream and connection windows, 16 KiB frames) every request arrives as a
 * dozen DATA frames and needs several WINDOW_UPDATE round trips before the client may finish
 * sending: more latency for the exporter and more per-frame work in node:http2 and grpc-js for
 * us (measured: about 0.2 CPU-seconds per million spans, docs/benchmarks.md). grpc-js has no
 * server option for these settings, so they are applied to each new session of its HTTP/2
 * servers. The windows only say how much a client may send before we read it; every request
 * is still bounded by receive.maxRequestBytes and the in-flight span limit.
 */

/** The largest frame size HTTP/2 allows (RFC 9113 §6.5.2). */
const MAX_FRAME_SIZE = 16_777_215;
/** How many streams' worth of data the connection window admits at once. */
const CONNECTION_WINDOW_STREAMS = 4;
/** The largest flow-control window HTTP/2 allows (RFC 9113 §6.9.1). */
const MAX_WINDOW = 2 ** 31 - 1;

export interface FlowControlSettings {
  /** Per-stream initial window (SETTINGS_INITIAL_WINDOW_SIZE) we advertise. */
  initialWindowSize: number;
  /** Largest DATA frame we accept (SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  /** Connection-level receive window. */
  connectionWindowSize: number;
}

/** The HTTP/2 settings for a stream window of `windowBytes` (HTTP/2's default is 65 535). */
export function flowControlSettings(windowBytes: number): FlowControlSettings {
  const window = Math.min(Math.max(Math.floor(windowBytes), 65_535), MAX_WINDOW);
  return {
    initialWindowSize: window,
    maxFrameSize: Math.min(Math.max(window, 16_384), MAX_FRAME_SIZE),
    connectionWindowSize: Math.min(window * CONNECTION_WINDOW_STREAMS, MAX_WINDOW),
  };
}

/** Applies the settings to one session; a session already closing is left alone. */
export function tuneSession(session: Http2Session, settings: FlowControlSettings): void {
  if (session.destroyed || session.closed) return;
  try {
    session.settings({ initialWindowSize: settings.initialWindowSize, maxFrameSize: settings.maxFrameSize });
    session.setLocalWindowSize(settings.connectionWindowSize);
  } catch {
    // The peer went away between the checks and the call: nothing to tune.
  }
}

/**
 * Tunes every future session of the grpc-js server's HTTP/2 servers (call after bindAsync).
 * Returns false when this grpc-js version does not expose them the way 1.14 does; the receiver
 * then runs on the HTTP/2 defaults, which is slower but correct.
 */
export function tuneGrpcServerSessions(server: Server, settings: FlowControlSettings): boolean {
  const servers = grpcHttp2Servers(server);
  if (servers === undefined) return false;
  for (const h2 of servers) h2.on('session', (session: Http2Session) => tuneSession(session, settings));
  return servers.length > 0;
}

/**
 * The node:http2 servers grpc-js listens on (after bindAsync), or undefined when this grpc-js
 * version does not expose them the way 1.14 does. They are net.Server instances underneath.
 */
export function grpcHttp2Servers(server: Server): Array<EventEmitter & { maxConnections?: number }> | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return undefined;
  const out: Array<EventEmitter & { maxConnections?: number }> = [];
  for (const h2 of servers.keys() as Iterable<unknown>) {
    if (typeof (h2 as EventEmitter | undefined)?.on === 'function') out.push(h2 as EventEmitter & { maxConnections?: number });
  }
  return out;
}
