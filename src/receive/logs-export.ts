import type { ReceiveProtocol, SidecarMetrics } from '../emit/metrics.js';
import type { LogEventSink } from '../model/log-event.js';
import type { Admission } from './admission.js';
import type { LogDecodeOptions } from './log-builder.js';
import { decodeLogsRequestJson } from './otlp-logs-json.js';
import { decodeLogsRequestProto } from './otlp-logs-proto.js';

export const LOGS_PATH = '/v1/logs';
export const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

export interface LogsExportParts {
  /** Where decoded log events go; without one, requests are still checked and answered. */
  sink: LogEventSink | undefined;
  admission: Admission;
  metrics: SidecarMetrics;
  decodeOptions: LogDecodeOptions;
}

export interface LogsExportReply {
  rejected: number;
  message: string;
}

/**
 * One logs export request after transport, auth and admission: decode, hand the events to the
 * sink while they count against the shared in-flight limit, count them. Throws OtlpDecodeError
 * for a malformed request (the caller answers 400 / INVALID_ARGUMENT) and rethrows sink errors.
 * The protobuf answer is byte-identical to the trace one (partial_success = 1 { int64 = 1;
 * string = 2 }), so the receivers encode it with encodeExportResponseProto.
 */
export function exportLogs(body: Uint8Array, json: boolean, protocol: ReceiveProtocol, parts: LogsExportParts): LogsExportReply {
  const opts = { ...parts.decodeOptions, nowMs: Date.now() };
  const result = json ? decodeLogsRequestJson(body, opts) : decodeLogsRequestProto(body, opts);
  const n = result.events.length;
  if (n > 0 && parts.sink !== undefined) {
    parts.admission.hold(n);
    try {
      parts.sink(result.events);
    } finally {
      parts.admission.release(n);
    }
  }
  const m = parts.metrics;
  m.logRecordsReceived(protocol).inc(result.records);
  if (result.rejected > 0) {
    m.logRecordsRejected(protocol).inc(result.rejected);
    m.requests(protocol, 'partial').inc();
  } else {
    m.requests(protocol, 'ok').inc();
  }
  return { rejected: result.rejected, message: result.rejected > 0 ? result.rejectMessage : '' };
}

/** JSON ExportLogsServiceResponse (proto3 JSON mapping: int64 as a string); '{}' on full success. */
export function encodeLogsResponseJson(rejected: number, errorMessage: string): string {
  if (rejected <= 0 && errorMessage === '') return '{}';
  return JSON.stringify({ partialSuccess: { rejectedLogRecords: String(rejected), errorMessage } });
}
