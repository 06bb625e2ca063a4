import {
  BeatBatch,
  KEY_CORRELATION_ID,
  KEY_EXCEPTION_MESSAGE,
  KEY_EXCEPTION_STACKTRACE,
  KEY_EXCEPTION_TYPE,
  KEY_REQUEST_ID,
  KEY_SKIP,
  ResourceFields,
  SpanFields,
  classifyKey,
  classifyResourceKey,
  sharedInterner,
  spanKindOf,
  type DecodeOptions,
  type DecodeResult,
} from './beat-builder.js';
import { decodeUtf8 } from './intern.js';
import { OtlpDecodeError } from './protowire.js';
import { asArray, asObject, get, optString, type JsonObject } from './otlp-json-fields.js';
import type { SpanKindCode } from '../model/beat.js';

/**
 * Decodes an OTLP/JSON ExportTraceServiceRequest (https://opentelemetry.io/docs/specs/otlp/ -
 * "JSON Protobuf Encoding") into beats with the same mapping as the protobuf decoder:
 * lowerCamelCase field names (the original snake_case names are accepted too), trace and span
 * ids as hex strings, enums as integers (or their names), 64-bit integers as strings or numbers.
 * Unknown fields are ignored, as the specification requires.
 */
export function decodeTraceRequestJson(body: string | Uint8Array, opts: DecodeOptions): DecodeResult {
  return decodeTraceRequestObject(parseRequestJson(body), opts);
}

/** An OTLP/JSON request body (any signal) parsed; invalid UTF-8 or JSON is the protocol's decode error. */
export function parseRequestJson(body: string | Uint8Array): unknown {
  const text = typeof body === 'string' ? body : decodeUtf8(body, 0, body.length, 'request body');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`request body is not JSON: ${(err as Error).message}`);
  }
}

/** Same as decodeTraceRequestJson for an already parsed document (e.g. one line of a file). */
export function decodeTraceRequestObject(doc: unknown, opts: DecodeOptions): DecodeResult {
  const request = asObject(doc, 'ExportTraceServiceRequest');
  const batch = new BeatBatch(sharedInterner);
  const max = opts.maxAttributesPerSpan;
  for (const rs of asArray(get(request, 'resourceSpans', 'resource_spans'), 'resourceSpans')) {
    const resourceSpans = asObject(rs, 'resourceSpans[]');
    resource.reset();
    const res = get(resourceSpans, 'resource', 'resource');
    if (res !== undefined && res !== null) readResource(asObject(res, 'resource'));
    for (const ss of asArray(get(resourceSpans, 'scopeSpans', 'scope_spans'), 'scopeSpans')) {
      const scopeSpans = asObject(ss, 'scopeSpans[]');
      for (const span of asArray(scopeSpans['spans'], 'spans')) {
        readSpan(asObject(span, 'spans[]'), batch.spans, max);
        batch.finishSpan(fields, resource);
      }
    }
  }
  return batch.result();
}

const fields = new SpanFields();
const resource = new ResourceFields();

const HEX_RE = /^[0-9a-fA-F]*$/;
const ZERO_RE = /^0*$/;

/** A hex id of `bytes` bytes, lowercased; sets a rejection on the span when invalid. */
function hexId(v: unknown, bytes: number, what: string, optional: boolean): string {
  const s = optString(v, what);
  if (s === '') return '';
  if (!HEX_RE.test(s)) {
    fields.reject(`invalid ${what} (not hex)`);
    return '';
  }
  if (s.length !== bytes * 2) {
    fields.reject(`invalid ${what} (${s.length / 2} bytes)`);
    return '';
  }
  if (ZERO_RE.test(s)) {
    if (!optional) fields.reject(`invalid ${what} (all zeros)`);
    return '';
  }
  return s.toLowerCase();
}

const TWO_64 = 1n << 64n;
const LOW_32 = 0xffffffffn;
const DIGITS_RE = /^\d+$/;

/** A fixed64 nanosecond time into [hi, lo] via the shared scratch pair. */
function readNanos(v: unknown, what: string): void {
  let big: bigint;
  if (v === undefined || v === null) big = 0n;
  else if (typeof v === 'string' && DIGITS_RE.test(v)) big = BigInt(v);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0) big = BigInt(v);
  else throw new OtlpDecodeError(`${what}: expected an unsigned integer (string or number)`);
  if (big >= TWO_64) throw new OtlpDecodeError(`${what}: out of range for fixed64`);
  nanosHi = Number(big >> 32n);
  nanosLo = Number(big & LOW_32);
}
let nanosHi = 0;
let nanosLo = 0;

const STATUS_NAMES = new Map([
  ['STATUS_CODE_UNSET', 0],
  ['STATUS_CODE_OK', 1],
  ['STATUS_CODE_ERROR', 2],
]);

const SPAN_KIND_NAMES = new Map<string, SpanKindCode>([
  ['SPAN_KIND_UNSPECIFIED', 0],
  ['SPAN_KIND_INTERNAL', 1],
  ['SPAN_KIND_SERVER', 2],
  ['SPAN_KIND_CLIENT', 3],
  ['SPAN_KIND_PRODUCER', 4],
  ['SPAN_KIND_CONSUMER', 5],
]);

function readSpan(span: JsonObject, index: number, maxAttributes: number): void {
  const f = fields;
  f.reset();
  f.traceId = hexId(get(span, 'traceId', 'trace_id'), 16, 'trace_id', false);
  f.spanId = hexId(get(span, 'spanId', 'span_id'), 8, 'span_id', false);
  f.parentSpanId = hexId(get(span, 'parentSpanId', 'parent_span_id'), 8, 'parent_span_id', true);
  f.name = sharedInterner.intern(optString(span['name'], 'span name'));
  readNanos(get(span, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano');
  f.startHi = nanosHi;
  f.startLo = nanosLo;
  readNanos(get(span, 'endTimeUnixNano', 'end_time_unix_nano'), 'endTimeUnixNano');
  f.endHi = nanosHi;
  f.endLo = nanosLo;

  const attributes = asArray(span['attributes'], 'attributes');
  if (attributes.length > maxAttributes) {
    throw new OtlpDecodeError(`span ${index}: more than ${maxAttributes} attributes (receive.maxAttributesPerSpan)`);
  }
  for (const kv of attributes) {
    readKeyValue(kv);
    if (valueKind !== VALUE_SCALAR) continue;
    const code = classifyKey(key);
    if (code === KEY_SKIP) continue;
    const v = value;
    const unique = code === KEY_CORRELATION_ID || code === KEY_REQUEST_ID || code >= KEY_EXCEPTION_TYPE;
    f.setAttribute(code, key, typeof v === 'string' && !unique ? sharedInterner.intern(v) : v);
  }

  for (const ev of asArray(span['events'], 'events')) {
    const event = asObject(ev, 'events[]');
    if (optString(event['name'], 'event name') !== 'exception') continue;
    f.hasExceptionEvent = true;
    for (const kv of asArray(event['attributes'], 'event attributes')) {
      readKeyValue(kv);
      if (valueKind !== VALUE_SCALAR) continue;
      const code = classifyKey(key);
      if (code === KEY_EXCEPTION_TYPE || code === KEY_EXCEPTION_MESSAGE || code === KEY_EXCEPTION_STACKTRACE) {
        f.setExceptionAttribute(code, value);
      }
    }
    break;
  }

  const kind = span['kind'];
  if (typeof kind === 'number') f.spanKind = spanKindOf(kind);
  else if (typeof kind === 'string') f.spanKind = SPAN_KIND_NAMES.get(kind) ?? 0;
  else if (kind !== undefined && kind !== null) throw new OtlpDecodeError('span kind: expected an integer or a SpanKind name');

  const st = span['status'];
  if (st !== undefined && st !== null) {
    const status = asObject(st, 'status');
    f.statusMessage = optString(status['message'], 'status message');
    const code = status['code'];
    if (typeof code === 'number' && Number.isInteger(code)) f.statusCode = code;
    else if (typeof code === 'string' && STATUS_NAMES.has(code)) f.statusCode = STATUS_NAMES.get(code)!;
    else if (code !== undefined && code !== null) throw new OtlpDecodeError('status code: expected an integer or a StatusCode name');
  }
}

function readResource(res: JsonObject): void {
  for (const kv of asArray(res['attributes'], 'resource attributes')) {
    readKeyValue(kv);
    if (valueKind !== VALUE_SCALAR) continue;
    const code = classifyResourceKey(key);
    if (code !== 0) resource.set(code, typeof value === 'string' ? sharedInterner.intern(value) : value);
  }
}

const VALUE_NONE = 0;
const VALUE_SCALAR = 1;
const VALUE_COMPOUND = 2;

// The last KeyValue read (decoding is synchronous, so module state is safe).
let key = '';
let valueKind = VALUE_NONE;
let value: string | number | boolean = '';

function readKeyValue(kv: unknown): void {
  const o = asObject(kv, 'KeyValue');
  key = sharedInterner.intern(optString(o['key'], 'KeyValue.key'));
  valueKind = VALUE_NONE;
  const v = o['value'];
  if (v === undefined || v === null) return;
  readAnyValue(asObject(v, `attribute ${key}`));
}

function readAnyValue(v: JsonObject): void {
  let x = get(v, 'stringValue', 'string_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'string') throw new OtlpDecodeError(`attribute ${key}: stringValue must be a string`);
    valueKind = VALUE_SCALAR;
    value = x;
    return;
  }
  x = get(v, 'boolValue', 'bool_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'boolean') throw new OtlpDecodeError(`attribute ${key}: boolValue must be a boolean`);
    valueKind = VALUE_SCALAR;
    value = x;
    return;
  }
  x = get(v, 'intValue', 'int_value');
  if (x !== undefined && x !== null) {
    const n = typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : typeof x === 'number' && Number.isInteger(x) ? x : NaN;
    if (Number.isNaN(n)) throw new OtlpDecodeError(`attribute ${key}: intValue must be an integer (string or number)`);
    valueKind = VALUE_SCALAR;
    value = n;
    return;
  }
  x = get(v, 'doubleValue', 'double_value');
  if (x !== undefined && x !== null) {
    const n = typeof x === 'number' ? x : x === 'NaN' || x === 'Infinity' || x === '-Infinity' ? Number(x) : NaN;
    if (Number.isNaN(n) && x !== 'NaN') throw new OtlpDecodeError(`attribute ${key}: doubleValue must be a number`);
    valueKind = VALUE_SCALAR;
    value = n;
    return;
  }
  for (const name of COMPOUND_FIELDS) {
    if (v[name] !== undefined && v[name] !== null) {
      valueKind = VALUE_COMPOUND;
      return;
    }
  }
}

const COMPOUND_FIELDS = ['arrayValue', 'array_value', 'kvlistValue', 'kvlist_value', 'bytesValue', 'bytes_value'];
