import { z } from 'zod';

/** Defaults of one HTTP server's connection limits. */
export interface HttpServerLimitDefaults {
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}

/**
 * Connection limits of a node:http server (the OTLP/HTTP receiver, the admin server): without
 * them idle or slow clients hold file descriptors and memory for as long as they like.
 */
export function httpServerLimitFields(d: HttpServerLimitDefaults) {
  return {
    idleTimeoutMs: z.number().int().positive().default(d.idleTimeoutMs).describe('A keep-alive connection with no request for this long is closed'),
    headersTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(d.headersTimeoutMs)
      .describe('A connection that has not sent complete request headers this long after it opened (or after its previous request) is closed'),
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(d.requestTimeoutMs)
      .describe('A request whose body has not fully arrived this long after it started is answered 408 and its connection closed'),
    maxConnections: z.number().int().positive().default(d.maxConnections).describe('Connections beyond this many open ones are closed as they arrive'),
  };
}

/** headersTimeoutMs <= requestTimeoutMs, as node:http requires. */
export function headersWithinRequestTimeout(limits: { headersTimeoutMs: number; requestTimeoutMs: number }): boolean {
  return limits.headersTimeoutMs <= limits.requestTimeoutMs;
}

export const HEADERS_WITHIN_REQUEST = { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] };
