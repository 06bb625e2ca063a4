import { z } from 'zod';

export const EmitSchema = z.strictObject({
    otlp: z.strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe('Send anomaly, incident and healing spans over OTLP once an endpoint is set (OTEL_SDK_DISABLED=true turns it off)'),
        endpoint: z
          .string()
          .url()
          .optional()
          .describe(
            'Where those spans go (a collector or Jaeger), e.g. http://jaeger:4318; unset means nothing is exported. ' +
              'An endpoint that is one of the sidecar\'s own receivers is refused (it would watch itself). OTEL_EXPORTER_OTLP_ENDPOINT sets it',
          ),
        protocol: z
          .enum(['http/protobuf', 'grpc'])
          .default('http/protobuf')
          .describe('OTLP transport, as OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf appends /v1/traces to the endpoint, grpc uses it as is'),
      })
      .prefault({}),
    resourceAttributes: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra resource attributes of emitted spans (OTEL_RESOURCE_ATTRIBUTES); service.name comes from serviceName'),
    jaegerUrl: z.string().optional().describe('Jaeger UI base URL, used to link traces in PR bodies and the dashboard'),
  })
  .prefault({});
export type EmitConfig = z.infer<typeof EmitSchema>;
