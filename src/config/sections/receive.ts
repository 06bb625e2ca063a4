import { z } from 'zod';

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
      })
      .prefault({}),
    http: z.strictObject({
        enabled: z.boolean().default(true),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4318),
      })
      .prefault({}),
    maxRequestBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024)
      .describe('Largest accepted request body (after gzip decompression); larger gets 413 / RESOURCE_EXHAUSTED'),
    maxAttributesPerSpan: z.number().int().positive().default(1024).describe('More attributes than this on one span rejects the request as malformed'),
    maxInflightSpans: z
      .number()
      .int()
      .positive()
      .default(200_000)
      .describe('Spans accepted but not yet processed; above it receivers answer 503 / UNAVAILABLE with Retry-After'),
    retryAfterSeconds: z.number().int().positive().default(1),
    tls: TlsSchema.prefault({}),
    auth: AuthSchema.prefault({}),
  })
  .prefault({});
export type ReceiveConfig = z.infer<typeof ReceiveSchema>;
