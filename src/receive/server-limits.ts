import type { Server } from 'node:http';

/** The connection limits of one node:http server (config: receive.http.*, admin.*). */
export interface HttpServerLimits {
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/**
 * Applies the limits before the server listens. node:http closes
 * - a keep-alive connection idle for keepAliveTimeout (plus its own 1 s margin),
 * - a connection whose request headers are incomplete after headersTimeout, counted from when it
 *   opened or from the end of its previous request: this also closes connections that never send,
 * - a request whose body is incomplete after requestTimeout (408),
 * and drops connections beyond maxConnections as they arrive. The header and request timeouts are
 * checked every connectionsCheckingInterval (30 s by default), so that is brought in line with them.
 * Responses are not limited: an event stream (SSE) may stay open.
 */
export function applyHttpServerLimits(server: Server, limits: HttpServerLimits): void {
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.maxConnections = limits.maxConnections;
  const check = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 2;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(check)));
}
