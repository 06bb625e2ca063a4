import { z } from 'zod';
import { HEADERS_WITHIN_REQUEST, headersWithinRequestTimeout, httpServerLimitFields } from './server-limits.js';

const TlsSchema = z.strictObject({
    enabled: z.boolean().default(false),
    certFile: z.string().optional().describe('PEM certificate chain served by the receivers'),
    keyFile: z.string().optional().describe('PEM private key'),
    caFile: z.string().optional().describe('PEM CA bundle used to verify client certificates (mutual TLS)'),
    requireClientCert: z.boolean().default(false).describe('Mutual TLS: reject clients without a certificate signed by caFile'),
  })
  .refine((t) => !t.enabled || (t.certFile !== undefined && t.keyFile !== undefined), {
    message: 'certFile and keyFile are required when tls.enabled is true',
  })
  .refine((t) => !t.requireClientCert || t.caFile !== undefined, {
    message: 'caFile is required when requireClientCert is true',
  });

const AuthSchema = z.strictObject({
  tokenEnv: z
    .string()
    .default('SELF_HEALING_AUTH_TOKEN')
    .describe('Environment variable holding the bearer token; auth is on when it (or tokenFile) is set'),
  tokenFile: z.string().optional().describe('File holding the bearer token (e.g. a mounted Secret)'),
});

export const ReceiveSchema = z.strictObject({
    grpc: z.strictObject({
        enabled: z.boolean().default(true),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4317),
        flowControlWindow: z
          .number()
          .int()
          .min(65_535)
          .max(2 ** 31 - 1)
          .default(1024 * 1024)
          .describe(
            'HTTP/2 stream window in bytes the gRPC receiver advertises (also its max frame size, up to 16 MiB; the connection window is 4x). 65535 keeps the HTTP/2 defaults',
          ),
        maxConnections: z.number().int().positive().default(1000).describe('Connections beyond this many open ones are closed as they arrive'),
        maxConcurrentStreams: z.number().int().positive().default(32).describe('Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS)'),
        idleTimeoutMs: z.number().int().positive().default(60_000).describe('A connection without calls for this long is closed with GOAWAY (grpc.max_connection_idle_ms)'),
        maxConnectionAgeMs: z
          .number()
          .int()
          .min(0)
          .default(0)
          .describe('Connections older than this are closed with GOAWAY after their calls end (grpc.max_connection_age_ms); 0: no limit'),
        keepaliveTimeMs: z.number().int().positive().default(60_000).describe('The server pings a connection after this long without traffic (grpc.keepalive_time_ms)'),
        keepaliveTimeoutMs: z.number().int().positive().default(20_000).describe('A connection that does not answer a ping within this time is closed (grpc.keepalive_timeout_ms)'),
      })
      .prefault({}),
    http: z.strictObject({
        enabled: z.boolean().default(true),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4318),
        ...httpServerLimitFields({ idleTimeoutMs: 30_000, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, maxConnections: 1000 }),
      })
      .refine(headersWithinRequestTimeout, HEADERS_WITHIN_REQUEST)
      .prefault({}),
    maxRequestBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024)
      .describe('Largest accepted request body (after gzip decompression); larger gets 413 / RESOURCE_EXHAUSTED'),
    maxAttributesPerSpan: z.number().int().positive().default(1024).describe('More attributes than this on one span rejects the request as malformed'),
    maxJsonDepth: z.number().int().positive().default(64).describe('OTLP/JSON bodies nested deeper than this are refused (400) before they are parsed'),
    maxJsonElements: z
      .number()
      .int()
      .positive()
      .default(2_000_000)
      .describe(
        'OTLP/JSON bodies with more elements than this (objects, arrays, members and list items after the first) are refused (400) before they are parsed; a 16 MiB request of typical spans has about 1 M',
      ),
    maxInflightSpans: z
      .number()
      .int()
      .positive()
      .default(200_000)
      .describe('Spans accepted but not yet processed; above it receivers answer 503 / UNAVAILABLE with Retry-After'),
    maxConcurrentBodyBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024)
      .describe('Request body bytes held at once over all connections and both receivers (counted as they arrive); above it requests are refused with 503 / UNAVAILABLE'),
    maxHeapUsedRatio: z
      .number()
      .min(0)
      .max(1)
      .default(0.7)
      .describe('Refuse requests (503 / UNAVAILABLE) while V8 heap used is at least this share of the heap limit (--max-old-space-size); 0 turns the check off'),
    maxEventLoopDelayMs: z
      .number()
      .int()
      .min(0)
      .default(500)
      .describe('Refuse requests (503 / UNAVAILABLE) while the event loop lags by at least this much; 0 turns the check off'),
    retryAfterSeconds: z.number().int().positive().default(1).describe('Retry-After (and gRPC RetryInfo) sent with every refusal for overload'),
    tls: TlsSchema.prefault({}),
    auth: AuthSchema.prefault({}),
  })
  .refine((r) => r.maxConcurrentBodyBytes >= r.maxRequestBytes, {
    message: 'maxConcurrentBodyBytes must be at least maxRequestBytes, or the largest request could never be read',
    path: ['maxConcurrentBodyBytes'],
  })
  .prefault({});
export type ReceiveConfig = z.infer<typeof ReceiveSchema>;
