import { MAX_BEAT_ATTRIBUTE_LENGTH, MAX_BEAT_ATTRIBUTES } from '../model/beat.js';
import { SEVERITY_ERROR, SEVERITY_FATAL, SEVERITY_WARN, type LogEvent } from '../model/log-event.js';
import { nanosToMs, UNKNOWN_SERVICE } from './beat-builder.js';

/**
 * The LogRecord -> LogEvent mapping shared by the protobuf and JSON log decoders, so both
 * encodings of one request produce identical events (the logs counterpart of beat-builder.ts).
 */

export interface LogDecodeOptions {
  /** More attributes than this on one record makes the request malformed (receive.maxAttributesPerSpan). */
  maxAttributesPerSpan: number;
  /** Time given to records that carry neither time_unix_nano nor observed_time_unix_nano. */
  nowMs?: number;
}

export interface LogDecodeResult {
  events: LogEvent[];
  /** Log records in the request. */
  records: number;
  /** Records that could not become events; the request still succeeds (OTLP partial success). */
  rejected: number;
  /** Why records were rejected (the first few reasons); '' when none were. */
  rejectMessage: string;
}

/** Bodies are cut to this many characters: templates need the start of a line, not a whole dump. */
export const MAX_LOG_BODY_LENGTH = 2048;
/** Attribute holding LogRecord.event_name (OTLP has no LogEvent field for it). */
export const EVENT_NAME_ATTRIBUTE = 'event.name';

/**
 * The attributes of a record that kept none. Nothing downstream writes LogEvent.attributes, so
 * records share one frozen object instead of an empty one each.
 */
const NO_ATTRIBUTES: Readonly<Record<string, string | number | boolean>> = Object.freeze({});

/** Everything read from one log record; reused from record to record. */
export class LogRecordFields {
  timeHi = 0;
  timeLo = 0;
  observedHi = 0;
  observedLo = 0;
  severityNumber = 0;
  severityText = '';
  body = '';
  /** Shape id of `body` (body-shapes.ts), 0 when unknown. */
  bodyShape = 0;
  eventName = '';
  traceId = '';
  spanId = '';
  exceptionType = '';
  exceptionMessage = '';
  /**
   * Shared and frozen (NO_ATTRIBUTES, or a decoder's attribute template) until a property is set
   * on it: ownAttributes() makes it the record's own first.
   */
  attributes: Readonly<Record<string, string | number | boolean>> = NO_ATTRIBUTES;
  attributeCount = 0;
  keptCount = 0;
  invalid = '';

  reset(): void {
    this.timeHi = this.timeLo = this.observedHi = this.observedLo = 0;
    this.severityNumber = 0;
    this.severityText = '';
    this.body = '';
    this.bodyShape = 0;
    this.eventName = '';
    this.traceId = '';
    this.spanId = '';
    this.exceptionType = '';
    this.exceptionMessage = '';
    this.attributes = NO_ATTRIBUTES;
    this.attributeCount = 0;
    this.keptCount = 0;
    this.invalid = '';
  }

  reject(reason: string): void {
    if (this.invalid === '') this.invalid = reason;
  }

  /** The record's attributes as an object of its own, copied from the shared one on first write. */
  ownAttributes(): Record<string, string | number | boolean> {
    if (this.attributes === NO_ATTRIBUTES) this.attributes = {};
    else if (Object.isFrozen(this.attributes)) this.attributes = { ...this.attributes };
    return this.attributes as Record<string, string | number | boolean>;
  }

  /** Keeps a scalar attribute (bounded count and length, like beat attributes); notes exception fields. */
  setAttribute(key: string, value: string | number | boolean): void {
    if (key === 'exception.type') this.exceptionType = String(value);
    else if (key === 'exception.message') this.exceptionMessage = String(value);
    else if (key === 'exception.stacktrace') return;
    if (this.keptCount >= MAX_BEAT_ATTRIBUTES) return;
    if (typeof value === 'string' && value.length > MAX_BEAT_ATTRIBUTE_LENGTH) return;
    // A key named __proto__ must stay a plain key (defineProperty); any other key is an own data
    // property either way, and a plain store is several times cheaper per record.
    const attributes = this.ownAttributes();
    if (key === '__proto__') Object.defineProperty(attributes, key, { value, enumerable: true, writable: true, configurable: true });
    else attributes[key] = value;
    this.keptCount++;
  }

  /**
   * Sets a trace or span id given as raw bytes (protobuf). Empty or all-zero ids mean "not bound"
   * (the OTLP spec); any other length than the spec's is a broken record and is rejected.
   */
  setIdBytes(which: 'trace' | 'span', buf: Uint8Array, start: number, end: number): void {
    const want = which === 'trace' ? 16 : 8;
    const len = end - start;
    if (len === 0) return;
    if (len !== want) {
      this.reject(`invalid ${which}_id (${len} bytes)`);
      return;
    }
    let zero = true;
    for (let i = start; i < end; i++) if (buf[i] !== 0) zero = false;
    if (zero) return;
    const hex = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('hex');
    if (which === 'trace') this.traceId = hex;
    else this.spanId = hex;
  }

  /** Same as setIdBytes for a hex string (OTLP/JSON). */
  setIdHex(which: 'trace' | 'span', hex: string): void {
    const want = which === 'trace' ? 32 : 16;
    if (hex === '') return;
    if (!HEX_RE.test(hex)) {
      this.reject(`invalid ${which}_id (not hex)`);
      return;
    }
    if (hex.length !== want) {
      this.reject(`invalid ${which}_id (${hex.length / 2} bytes)`);
      return;
    }
    if (ZERO_RE.test(hex)) return;
    if (which === 'trace') this.traceId = hex.toLowerCase();
    else this.spanId = hex.toLowerCase();
  }
}

const HEX_RE = /^[0-9a-fA-F]*$/;
const ZERO_RE = /^0*$/;

/** Severity number from common severity texts, for records that send only the text. */
export function severityFromText(text: string): number {
  switch (text.trim().toUpperCase()) {
    case 'TRACE':
      return 1;
    case 'DEBUG':
      return 5;
    case 'INFO':
    case 'INFORMATION':
    case 'NOTICE':
      return 9;
    case 'WARN':
    case 'WARNING':
      return SEVERITY_WARN;
    case 'ERROR':
    case 'ERR':
    case 'SEVERE':
      return SEVERITY_ERROR;
    case 'FATAL':
    case 'CRITICAL':
    case 'CRIT':
    case 'PANIC':
    case 'EMERGENCY':
    case 'ALERT':
      return SEVERITY_FATAL;
    default:
      return 0;
  }
}

const MAX_REASONS = 3;

/** Collects the log events of one request. */
export class LogBatch {
  readonly events: LogEvent[] = [];
  records = 0;
  rejected = 0;
  private readonly reasons: string[] = [];

  constructor(private readonly nowMs: number) {}

  finishRecord(f: LogRecordFields, service: string, serviceVersion: string): void {
    const index = this.records++;
    if (f.invalid !== '') {
      this.rejected++;
      if (this.reasons.length < MAX_REASONS) this.reasons.push(`log record ${index}: ${f.invalid}`);
      return;
    }
    let timeMs = nanosToMs(f.timeHi, f.timeLo);
    if (timeMs === 0) timeMs = nanosToMs(f.observedHi, f.observedLo);
    if (timeMs === 0) timeMs = this.nowMs;
    let severityNumber = f.severityNumber >= 0 && f.severityNumber <= 24 ? f.severityNumber : 0;
    if (severityNumber === 0 && f.severityText !== '') severityNumber = severityFromText(f.severityText);
    let body = f.body;
    // An exception logged without a message still says what went wrong in its attributes.
    if (body === '') body = f.exceptionMessage !== '' ? `${f.exceptionType}: ${f.exceptionMessage}` : f.exceptionType !== '' ? f.exceptionType : f.eventName;
    if (body.length > MAX_LOG_BODY_LENGTH) body = body.slice(0, MAX_LOG_BODY_LENGTH);
    if (f.eventName !== '' && f.keptCount < MAX_BEAT_ATTRIBUTES && !(EVENT_NAME_ATTRIBUTE in f.attributes)) {
      f.ownAttributes()[EVENT_NAME_ATTRIBUTE] = f.eventName.slice(0, MAX_BEAT_ATTRIBUTE_LENGTH);
    }
    this.events.push({
      service: service === '' ? UNKNOWN_SERVICE : service,
      serviceVersion,
      timeMs,
      severityNumber,
      severityText: f.severityText,
      body,
      // The shape is of the decoded body: none when the body was replaced or cut above.
      bodyShape: body === f.body ? f.bodyShape : 0,
      traceId: f.traceId,
      spanId: f.spanId,
      attributes: f.attributes,
    });
  }

  result(): LogDecodeResult {
    return {
      events: this.events,
      records: this.records,
      rejected: this.rejected,
      rejectMessage: this.reasons.length === 0 ? '' : this.reasons.join('; ') + (this.rejected > this.reasons.length ? `; and ${this.rejected - this.reasons.length} more` : ''),
    };
  }
}

/**
 * A structured body (kvlist, array, bytes) as text: JSON of the plain value, so templates can
 * still be mined from it. Keys keep their order, which is what makes equal shapes equal text.
 */
export function bodyText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value) ?? '';
}
