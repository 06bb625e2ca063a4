import { z } from 'zod';

export const AdminSchema = z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787).describe('Health, metrics, HTTP API and dashboard'),
  })
  .prefault({});
export type AdminConfig = z.infer<typeof AdminSchema>;
