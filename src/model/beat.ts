import { z } from 'zod';

/**
 * A beat is one handler execution inside a sequence run (sequence > movement > beat).
 * Beats are produced on the hot path, so the runtime shape is a plain interface; the zod schema
 * exists for the places where beats cross a boundary (files, API, database).
 */
/**
 * The beat's `kind` as declared in its sequence file: MusicalConductor's own `pure` and
 * `stage-crew`, and whatever else applications declare (RenderX uses `io`, `validation`,
 * `orchestration`, ...). Open-ended text, so it is capped at MAX_BEAT_KIND_LENGTH.
 */
export type BeatKind = string;
/** Longer `beat.kind` values are not kinds (they read as ''). */
export const MAX_BEAT_KIND_LENGTH = 64;

/** OTLP status code: 0 unset, 1 ok, 2 error. */
export const STATUS_UNSET = 0;
export const STATUS_OK = 1;
export const STATUS_ERROR = 2;
export type BeatStatus = 0 | 1 | 2;

export type AttrValue = string | number | boolean;

/** OTLP Span.kind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export const SPAN_KIND_UNSPECIFIED = 0;
export const SPAN_KIND_INTERNAL = 1;
export const SPAN_KIND_SERVER = 2;
export const SPAN_KIND_CLIENT = 3;
export const SPAN_KIND_PRODUCER = 4;
export const SPAN_KIND_CONSUMER = 5;
export type SpanKindCode = 0 | 1 | 2 | 3 | 4 | 5;

export interface BeatError {
  /** exception.type, or 'Error' when only a status message is known. */
  type: string;
  message: string;
  /** First stack frame inside application code, "file:line" or "function (file:line)". */
  topFrame: string;
  stacktrace: string;
  /** Stable id for "the same error": type + normalised message + top frame, hashed. */
  fingerprint: string;
}

export interface Beat {
  service: string;
  serviceVersion: string;
  /** Sequence name; '' when it could not be resolved yet (see docs/beat-conventions.md). */
  sequence: string;
  movement: string;
  /** Beat number within its movement; 0 when unknown. */
  beatNumber: number;
  event: string;
  handler: string;
  plugin: string;
  kind: BeatKind | '';
  correlationId: string;
  /** Span start, milliseconds since the Unix epoch (fractional). */
  startMs: number;
  /** Span duration in milliseconds (fractional). */
  durationMs: number;
  status: BeatStatus;
  error: BeatError | undefined;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** Span name as sent, kept because it is the fallback for handler and sequence. */
  spanName: string;
  /**
   * OTLP span kind. The decoders always set it; it is optional only so that beats built by hand
   * (conductor logs, tests) may leave it out, which means SPAN_KIND_UNSPECIFIED. The service graph
   * pairs CLIENT/SERVER and PRODUCER/CONSUMER spans with it.
   */
  spanKind?: SpanKindCode;
  /**
   * Bounded set of low-cardinality attributes kept for diagnosis (see MAX_BEAT_ATTRIBUTES).
   * Read-only: the protobuf decoder hands beats with the same kept attributes one shared, frozen
   * object.
   */
  attributes: Readonly<Record<string, AttrValue>>;
}

/** At most this many extra attributes are kept per beat; the rest are dropped, not stored. */
export const MAX_BEAT_ATTRIBUTES = 16;
/** String attribute values longer than this are not kept (they are rarely low-cardinality). */
export const MAX_BEAT_ATTRIBUTE_LENGTH = 128;
/**
 * Captured handler inputs (`beat.input`, `beat.input.<path>`) are kept up to this length: the fix
 * strategies rebuild real calls from them (docs/beat-conventions.md, docs/fixes.md).
 */
export const MAX_BEAT_INPUT_LENGTH = 512;
export const BEAT_INPUT_ATTR = 'beat.input';

export const BeatErrorSchema = z.object({
  type: z.string(),
  message: z.string(),
  topFrame: z.string(),
  stacktrace: z.string(),
  fingerprint: z.string(),
});

export const BeatSchema = z.object({
  service: z.string(),
  serviceVersion: z.string(),
  sequence: z.string(),
  movement: z.string(),
  beatNumber: z.number().int().nonnegative(),
  event: z.string(),
  handler: z.string().min(1),
  plugin: z.string(),
  kind: z.string().max(MAX_BEAT_KIND_LENGTH),
  correlationId: z.string(),
  startMs: z.number(),
  durationMs: z.number().nonnegative(),
  status: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  error: BeatErrorSchema.optional(),
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string(),
  spanName: z.string(),
  spanKind: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3), z.literal(4), z.literal(5)]).optional(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

/** Where decoded beats go. Receivers call it synchronously; it must not block. */
export type BeatSink = (beats: Beat[]) => void;
