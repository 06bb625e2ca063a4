import { z } from 'zod';

/**
 * One log record, as the receivers and log readers hand it to detection. Like Beat, the runtime
 * shape is a plain interface (log events are produced on the hot path); the schema is for the
 * places where they cross a boundary.
 */
export interface LogEvent {
  service: string;
  serviceVersion: string;
  /** Record time (or observed time when the record has none), ms since the Unix epoch. */
  timeMs: number;
  /** OTLP SeverityNumber, 1 (TRACE) .. 24 (FATAL4); 0 when unspecified. */
  severityNumber: number;
  /** Severity text as sent ('' when absent), e.g. "ERROR". */
  severityText: string;
  /** The record body as text (structured bodies are flattened to JSON by the decoder). */
  body: string;
  /**
   * Id of the body's shape from the receiving decoder (receive/body-shapes.ts): equal non-zero ids
   * are bodies equal up to their digits, which lets template mining skip re-reading them. 0 or
   * absent when unknown (records read from console logs, tests).
   */
  bodyShape?: number;
  /** Lowercase hex, '' when the record is not bound to a trace. */
  traceId: string;
  /** Lowercase hex, '' when the record is not bound to a span. */
  spanId: string;
  /**
   * Bounded set of low-cardinality attributes (same limits as Beat.attributes). Read-only: the
   * decoders hand records with the same attributes one shared frozen object.
   */
  attributes: Readonly<Record<string, string | number | boolean>>;
}

/** SeverityNumber ranges of the OpenTelemetry log data model. */
export const SEVERITY_WARN = 13;
export const SEVERITY_ERROR = 17;
export const SEVERITY_FATAL = 21;

export const LogEventSchema = z.object({
  service: z.string(),
  serviceVersion: z.string(),
  timeMs: z.number(),
  severityNumber: z.number().int().min(0).max(24),
  severityText: z.string(),
  body: z.string(),
  traceId: z.string(),
  spanId: z.string(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

/** Where decoded log events go. Receivers call it synchronously; it must not block. */
export type LogEventSink = (events: LogEvent[]) => void;
