import { z } from 'zod';

export const ForwardSchema = z.strictObject({
    enabled: z.boolean().default(false).describe('Pass every received span on, unchanged, to a downstream OTLP endpoint'),
    endpoint: z.string().default('http://127.0.0.1:4318').describe('Downstream OTLP endpoint (base URL for http, host:port for grpc)'),
    protocol: z.enum(['http', 'grpc']).default('http'),
    headers: z.record(z.string(), z.string()).default({}).describe('Headers sent with every forwarded request; put secrets in headersEnv or headersFile instead'),
    headersEnv: z.string().optional().describe('Environment variable holding more headers as name=value,name2=value2 (values percent-encoded, as OTEL_EXPORTER_OTLP_HEADERS)'),
    headersFile: z.string().optional().describe('File holding more headers in the same format, or one name=value a line (e.g. a mounted Secret)'),
    queueRequests: z.number().int().positive().default(1000).describe('Bounded queue of requests waiting to be forwarded; overflow is dropped and counted'),
    maxAttempts: z.number().int().positive().default(5),
    initialBackoffMs: z.number().int().positive().default(200),
    maxBackoffMs: z.number().int().positive().default(10_000),
    timeoutMs: z.number().int().positive().default(10_000),
    concurrency: z.number().int().positive().default(2).describe('Requests sent downstream at the same time'),
    compression: z.enum(['none', 'gzip']).default('none').describe('Compress forwarded requests (gzip: Content-Encoding for http, grpc-encoding for grpc)'),
  })
  .prefault({});
export type ForwardConfig = z.infer<typeof ForwardSchema>;
