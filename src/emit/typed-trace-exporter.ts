import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { convertLegacyOtlpGrpcOptions, createOtlpGrpcExportDelegate } from '@opentelemetry/otlp-grpc-exporter-base';
import { TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import { isDoubleAttribute } from './attribute-types.js';
import { typedTraceSerializer } from './typed-trace-serializer.js';

/**
 * The OpenTelemetry OTLP trace exporters (same transports, retries and configuration as
 * @opentelemetry/exporter-trace-otlp-proto and -grpc), built with the typed serializer so numeric
 * attributes keep one OTLP type (attribute-types.ts).
 */
export function typedTraceExporter(protocol: 'grpc' | 'http/protobuf', url: string): SpanExporter {
  const serializer = typedTraceSerializer(isDoubleAttribute);
  if (protocol === 'http/protobuf') {
    const options = convertLegacyHttpOptions({ url }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
    return new OTLPExporterBase<ReadableSpan[]>(createOtlpHttpExportDelegate(options, serializer, 'otlp_http_span_exporter', TraceExporterMetricsHelper, undefined));
  }
  const options = convertLegacyOtlpGrpcOptions({ url }, 'TRACES');
  return new OTLPExporterBase<ReadableSpan[]>(
    createOtlpGrpcExportDelegate(options, serializer, 'otlp_grpc_span_exporter', TraceExporterMetricsHelper, undefined, 'TraceExportService', '/opentelemetry.proto.collector.trace.v1.TraceService/Export'),
  );
}
