import { z } from 'zod';
import { HEADERS_WITHIN_REQUEST, headersWithinRequestTimeout, httpServerLimitFields } from './server-limits.js';

export const AdminSchema = z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787).describe('Health, metrics, HTTP API and dashboard'),
    // Event streams (SSE) stay open past these: the timeouts bound receiving a request, not answering it.
    ...httpServerLimitFields({ idleTimeoutMs: 5_000, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 256 }),
  })
  .refine(headersWithinRequestTimeout, HEADERS_WITHIN_REQUEST)
  .prefault({});
export type AdminConfig = z.infer<typeof AdminSchema>;
