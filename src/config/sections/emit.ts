import { z } from 'zod';

export const EmitSchema = z.strictObject({
    otlp: z.strictObject({
        enabled: z.boolean().default(true).describe('Send anomaly and healing spans over OTLP/gRPC'),
        endpoint: z
          .string()
          .default('http://127.0.0.1:4317')
          .describe('Where anomaly spans go (a collector or Jaeger); OTEL_EXPORTER_OTLP_ENDPOINT overrides the default'),
      })
      .prefault({}),
    jaegerUrl: z.string().optional().describe('Jaeger UI base URL, used to link traces in PR bodies and the dashboard'),
  })
  .prefault({});
export type EmitConfig = z.infer<typeof EmitSchema>;
