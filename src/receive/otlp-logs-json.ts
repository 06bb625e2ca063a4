import { classifyResourceKey, RESOURCE_SERVICE_NAME, RESOURCE_SERVICE_VERSION } from './beat-builder.js';
import { parseRequestJson } from './otlp-json.js';
import { bodyText, LogBatch, LogRecordFields, type LogDecodeOptions, type LogDecodeResult } from './log-builder.js';
import { OtlpDecodeError } from './protowire.js';
import { asArray, asObject, get, optString, type JsonObject } from './otlp-json-fields.js';
import { bodyShapes } from './body-shapes.js';

/**
 * Decodes an OTLP/JSON ExportLogsServiceRequest (https://opentelemetry.io/docs/specs/otlp/ -
 * "JSON Protobuf Encoding") into LogEvents with the same mapping as the protobuf decoder:
 * lowerCamelCase field names (snake_case accepted too), ids as hex strings, enums as integers or
 * names, 64-bit integers as strings or numbers. Unknown fields are ignored.
 */
export function decodeLogsRequestJson(body: string | Uint8Array, opts: LogDecodeOptions): LogDecodeResult {
  return decodeLogsRequestObject(parseRequestJson(body), opts);
}

/** Same as decodeLogsRequestJson for an already parsed document (e.g. one line of a file). */
export function decodeLogsRequestObject(doc: unknown, opts: LogDecodeOptions): LogDecodeResult {
  const request = asObject(doc, 'ExportLogsServiceRequest');
  const batch = new LogBatch(opts.nowMs ?? Date.now());
  const f = new LogRecordFields();
  for (const rl of asArray(get(request, 'resourceLogs', 'resource_logs'), 'resourceLogs')) {
    const resourceLogs = asObject(rl, 'resourceLogs[]');
    let service = '';
    let serviceVersion = '';
    const res = resourceLogs['resource'];
    if (res !== undefined && res !== null) {
      for (const kv of asArray(asObject(res, 'resource')['attributes'], 'resource attributes')) {
        const [key, value] = keyValue(kv, 0);
        if (typeof value === 'object' || value === undefined) continue;
        const code = classifyResourceKey(key);
        if (code === RESOURCE_SERVICE_NAME) service = String(value);
        else if (code === RESOURCE_SERVICE_VERSION) serviceVersion = String(value);
      }
    }
    for (const sl of asArray(get(resourceLogs, 'scopeLogs', 'scope_logs'), 'scopeLogs')) {
      const scopeLogs = asObject(sl, 'scopeLogs[]');
      for (const rec of asArray(get(scopeLogs, 'logRecords', 'log_records'), 'logRecords')) {
        readRecord(f, asObject(rec, 'logRecords[]'), batch.records, opts.maxAttributesPerSpan);
        batch.finishRecord(f, service, serviceVersion);
      }
    }
  }
  return batch.result();
}

const DIGITS_RE = /^\d+$/;
const TWO_64 = 1n << 64n;

/** A fixed64 nanosecond time as [hi, lo]. */
function nanos(v: unknown, what: string): [number, number] {
  let big: bigint;
  if (v === undefined || v === null) big = 0n;
  else if (typeof v === 'string' && DIGITS_RE.test(v)) big = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) big = BigInt(v);
  else throw new OtlpDecodeError(`${what}: expected an unsigned integer (string or number)`);
  if (big >= TWO_64) throw new OtlpDecodeError(`${what}: out of range for fixed64`);
  return [Number(big >> 32n), Number(big & 0xffffffffn)];
}

const SEVERITY_NAME_RE = /^SEVERITY_NUMBER_(UNSPECIFIED|TRACE|DEBUG|INFO|WARN|ERROR|FATAL)([234]?)$/;
const SEVERITY_BASE: Record<string, number> = { UNSPECIFIED: 0, TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

function severityNumber(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') {
    const m = SEVERITY_NAME_RE.exec(v);
    if (m !== null) {
      const base = SEVERITY_BASE[m[1]!]!;
      return base === 0 ? 0 : base + (m[2] === '' ? 0 : Number(m[2]) - 1);
    }
  }
  throw new OtlpDecodeError('severityNumber: expected an integer or a SeverityNumber name');
}

function readRecord(f: LogRecordFields, rec: JsonObject, index: number, maxAttributes: number): void {
  f.reset();
  [f.timeHi, f.timeLo] = nanos(get(rec, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano');
  [f.observedHi, f.observedLo] = nanos(get(rec, 'observedTimeUnixNano', 'observed_time_unix_nano'), 'observedTimeUnixNano');
  f.severityNumber = severityNumber(get(rec, 'severityNumber', 'severity_number'));
  f.severityText = optString(get(rec, 'severityText', 'severity_text'), 'severityText');
  f.eventName = optString(get(rec, 'eventName', 'event_name'), 'eventName');
  const body = rec['body'];
  if (body !== undefined && body !== null) {
    f.body = bodyText(anyValue(asObject(body, 'body'), 0));
    f.bodyShape = bodyShapes.ofString(f.body);
  }
  f.setIdHex('trace', optString(get(rec, 'traceId', 'trace_id'), 'traceId'));
  f.setIdHex('span', optString(get(rec, 'spanId', 'span_id'), 'spanId'));
  const attributes = asArray(rec['attributes'], 'attributes');
  if (attributes.length > maxAttributes) {
    throw new OtlpDecodeError(`log record ${index}: more than ${maxAttributes} attributes (receive.maxAttributesPerSpan)`);
  }
  for (const kv of attributes) {
    const [key, value] = keyValue(kv, 0);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') f.setAttribute(key, value);
  }
}

const MAX_BODY_DEPTH = 8;

function keyValue(kv: unknown, depth: number): [string, unknown] {
  const o = asObject(kv, 'KeyValue');
  const key = optString(o['key'], 'KeyValue.key');
  const v = o['value'];
  return [key, v === undefined || v === null ? undefined : anyValue(asObject(v, `attribute ${key}`), depth)];
}

/** An AnyValue as a plain value, as the protobuf decoder returns it. */
function anyValue(v: JsonObject, depth: number): unknown {
  let x = get(v, 'stringValue', 'string_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'string') throw new OtlpDecodeError('stringValue must be a string');
    return x;
  }
  x = get(v, 'boolValue', 'bool_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'boolean') throw new OtlpDecodeError('boolValue must be a boolean');
    return x;
  }
  x = get(v, 'intValue', 'int_value');
  if (x !== undefined && x !== null) {
    const n = typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : typeof x === 'number' && Number.isInteger(x) ? x : NaN;
    if (Number.isNaN(n)) throw new OtlpDecodeError('intValue must be an integer (string or number)');
    return n;
  }
  x = get(v, 'doubleValue', 'double_value');
  if (x !== undefined && x !== null) {
    if (typeof x === 'number') return x;
    if (x === 'NaN' || x === 'Infinity' || x === '-Infinity') return Number(x);
    throw new OtlpDecodeError('doubleValue must be a number');
  }
  x = get(v, 'bytesValue', 'bytes_value');
  if (x !== undefined && x !== null) return optString(x, 'bytesValue');
  x = get(v, 'arrayValue', 'array_value');
  if (x !== undefined && x !== null) {
    if (depth >= MAX_BODY_DEPTH) return '…';
    return asArray(asObject(x, 'arrayValue')['values'], 'arrayValue.values').map((e) => anyValue(asObject(e, 'arrayValue.values[]'), depth + 1) ?? null);
  }
  x = get(v, 'kvlistValue', 'kvlist_value');
  if (x !== undefined && x !== null) {
    if (depth >= MAX_BODY_DEPTH) return '…';
    const out: Record<string, unknown> = {};
    for (const kv of asArray(asObject(x, 'kvlistValue')['values'], 'kvlistValue.values')) {
      const [key, value] = keyValue(kv, depth + 1);
      Object.defineProperty(out, key, { value: value ?? null, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return undefined;
}
