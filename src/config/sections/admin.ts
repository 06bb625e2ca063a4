import { z } from 'zod';
import { HEADERS_WITHIN_REQUEST, headersWithinRequestTimeout, httpServerLimitFields } from './server-limits.js';

export const AdminSchema = z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787).describe('Health, metrics, HTTP API and dashboard'),
    auth: z
      .strictObject({
        tokenEnv: z
          .string()
          .default('SELF_HEALING_ADMIN_TOKEN')
          .describe('Environment variable holding the admin token; when neither it nor tokenFile is set, the receivers\' token (receive.auth) is used, and with none at all the admin server is open'),
        tokenFile: z.string().optional().describe('File holding the admin token (e.g. a mounted Secret); wins over tokenEnv'),
      })
      .prefault({}),
    allowedHosts: z
      .array(z.string().min(1))
      .default([])
      .describe('Host names (without port) the admin server answers besides localhost and IP addresses; any other Host header gets 403 (DNS rebinding)'),
    metricsAuth: z.boolean().default(true).describe('Whether /metrics needs the admin token when one is configured'),
    sessionTtlMs: z.number().int().positive().default(43_200_000).describe('Lifetime of a dashboard sign-in session cookie'),
    // Event streams (SSE) stay open past these: the timeouts bound receiving a request, not answering it.
    ...httpServerLimitFields({ idleTimeoutMs: 5_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 256 }),
  })
  .refine(headersWithinRequestTimeout, HEADERS_WITHIN_REQUEST)
  .prefault({});
export type AdminConfig = z.infer<typeof AdminSchema>;
