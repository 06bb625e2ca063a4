import { MAX_BEAT_ATTRIBUTE_LENGTH, MAX_BEAT_ATTRIBUTES } from '../model/beat.js';
import { AttributeTemplates } from './attribute-templates.js';
import { ResourceFields } from './beat-builder.js';
import { ByteSlots, decodeUtf8, releaseInput, Utf8Cache } from './intern.js';
import { bodyShapes } from './body-shapes.js';
import { bodyText, LogBatch, LogRecordFields, type LogDecodeOptions, type LogDecodeResult } from './log-builder.js';
import { KeyValueReader, readResource, VALUE_COMPOUND, VALUE_NONE, VALUE_STRING } from './proto-key-value.js';
import { hex16, hex8 } from './otlp-proto.js';
import { OtlpDecodeError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader, int64ToNumber } from './protowire.js';

export type { LogDecodeOptions, LogDecodeResult } from './log-builder.js';

/**
 * Decodes a protobuf ExportLogsServiceRequest straight into LogEvents: one pass over the buffer,
 * reading only the fields detection needs (field numbers from proto/opentelemetry/proto/logs/v1/
 * logs.proto) and skipping the rest by wire type. Throws OtlpDecodeError for a malformed
 * request; records that are well-formed protobuf but unusable (ids of the wrong length) are
 * counted in `rejected` instead.
 */
export function decodeLogsRequestProto(buf: Uint8Array, opts: LogDecodeOptions): LogDecodeResult {
  try {
    return new ProtoLogsDecoder(buf, opts).decode();
  } finally {
    releaseInput();
    bodyShapes.release();
  }
}

// Decoding is synchronous, so one set of scratch objects serves every request.
const cache = new Utf8Cache(2048);
const fields = new LogRecordFields();
const kv = new KeyValueReader();
/** Scalar attribute KeyValues up to this size are remembered whole, by their bytes. */
const MAX_KV_CACHE_BYTES = 128;
const kvSlots = new ByteSlots(1024, MAX_KV_CACHE_BYTES);
const kvKeys = new Array<string>(kvSlots.size).fill('');
const kvValues = new Array<string | number | boolean>(kvSlots.size).fill('');
/** Bumped whenever a slot is refilled, so attribute templates built from its old KeyValue are not reused. */
const kvGenerations = new Int32Array(kvSlots.size);
/**
 * 1 when the slot's KeyValue is kept as a plain property (LogRecordFields.setAttribute would only
 * store it): not an exception.* key, not __proto__, a value short enough to keep.
 */
const kvPlain = new Uint8Array(kvSlots.size);
const templates = new AttributeTemplates(256);
const resource = new ResourceFields();

/**
 * Severity texts seen last, by their bytes (up to 8: "INFO", "WARNING"): a record repeating one
 * costs two int compares instead of a string cache lookup. Entries only ever hold what the
 * validating cache decoded from the same bytes.
 */
const SEVERITY_ENTRIES = 8;
const severityLengths = new Int32Array(SEVERITY_ENTRIES).fill(-1);
const severityLo = new Int32Array(SEVERITY_ENTRIES);
const severityHi = new Int32Array(SEVERITY_ENTRIES);
const severityTexts = new Array<string>(SEVERITY_ENTRIES).fill('');
let severityNext = 0;

function severityText(buf: Uint8Array, start: number, stop: number): string {
  const n = stop - start;
  if (n === 0 || n > 8) return cache.decode(buf, start, stop, 'LogRecord.severity_text');
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    if (i < 4) lo |= buf[start + i]! << (8 * i);
    else hi |= buf[start + i]! << (8 * (i - 4));
  }
  for (let k = 0; k < SEVERITY_ENTRIES; k++) {
    if (severityLengths[k] === n && severityLo[k] === lo && severityHi[k] === hi) return severityTexts[k]!;
  }
  const text = cache.decode(buf, start, stop, 'LogRecord.severity_text');
  const k = severityNext;
  severityNext = (k + 1) % SEVERITY_ENTRIES;
  severityLengths[k] = n;
  severityLo[k] = lo;
  severityHi[k] = hi;
  severityTexts[k] = text;
  return text;
}

/** Structured bodies nest; deeper than this is flattened to a marker rather than recursed into. */
const MAX_BODY_DEPTH = 8;

class ProtoLogsDecoder {
  private readonly r: WireReader;
  /** The input read four bytes at a time (id comparisons). */
  private readonly view: DataView;
  private readonly batch: LogBatch;
  private readonly maxAttributes: number;
  /** Where the last trace and span ids decoded start in buf (-1: none yet), and their hex. */
  private lastTraceAt = -1;
  private lastTrace = '';
  private lastSpanAt = -1;
  private lastSpan = '';
  /**
   * Plain attributes of the current record (fields.keptCount of them) are only noted as KeyValue
   * cache slots while `keptDirect` is false; the object is then copied from a template built for
   * the same slots at the end of the record (AttributeTemplates). Any other attribute first turns
   * the noted ones into properties of fields.attributes, in order.
   */
  private readonly keptSlots = new Int32Array(MAX_BEAT_ATTRIBUTES);
  private keptDirect = false;
  /** Validates a compound resource attribute value (decoded like a body, then dropped). */
  private readonly checkCompound = (k: KeyValueReader): void => {
    this.compound(k.compoundField, k.valueStart, k.valueEnd, 0);
  };

  constructor(
    private readonly buf: Uint8Array,
    opts: LogDecodeOptions,
  ) {
    this.r = new WireReader(buf);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.batch = new LogBatch(opts.nowMs ?? Date.now());
    this.maxAttributes = opts.maxAttributesPerSpan;
  }

  decode(): LogDecodeResult {
    const r = this.r;
    const end = this.buf.length;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ExportLogsServiceRequest.resource_logs');
        const stop = r.delimited(end);
        this.resourceLogs(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return this.batch.result();
  }

  private resourceLogs(end: number): void {
    const r = this.r;
    const start = r.pos;
    resource.reset();
    // The resource may follow its scope_logs on the wire, so find it first.
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ResourceLogs.resource');
        const stop = r.delimited(end);
        readResource(r, this.buf, stop, kv, cache, resource, this.checkCompound);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    r.pos = start;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ResourceLogs.scope_logs');
        const stop = r.delimited(end);
        this.scopeLogs(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
  }

  private scopeLogs(end: number): void {
    const r = this.r;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ScopeLogs.log_records');
        const stop = r.delimited(end);
        this.keptDirect = false;
        this.logRecord(stop);
        r.pos = stop;
        // Templates are frozen and shared, by log events as by beats (nothing downstream writes
        // LogEvent.attributes); finishRecord copies one before adding the event name to it.
        if (!this.keptDirect && fields.keptCount > 0) fields.attributes = templates.build(this.keptSlots, fields.keptCount, kvGenerations, kvKeys, kvValues, '');
        this.batch.finishRecord(fields, resource.service, resource.serviceVersion);
      } else {
        r.skip(end);
      }
    }
  }

  private logRecord(end: number): void {
    const r = this.r;
    const f = fields;
    f.reset();
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      switch (field) {
        case 1:
          r.expect(WIRE_FIXED64, 'LogRecord.time_unix_nano');
          r.fixed64(end);
          f.timeLo = r.lo;
          f.timeHi = r.hi;
          break;
        case 11:
          r.expect(WIRE_FIXED64, 'LogRecord.observed_time_unix_nano');
          r.fixed64(end);
          f.observedLo = r.lo;
          f.observedHi = r.hi;
          break;
        case 2:
          r.expect(WIRE_VARINT, 'LogRecord.severity_number');
          f.severityNumber = r.varint32(end);
          break;
        case 3: {
          r.expect(WIRE_LEN, 'LogRecord.severity_text');
          const stop = r.delimited(end);
          f.severityText = severityText(this.buf, r.pos, stop);
          r.pos = stop;
          break;
        }
        case 5: {
          r.expect(WIRE_LEN, 'LogRecord.body');
          const stop = r.delimited(end);
          f.body = this.body(stop);
          r.pos = stop;
          break;
        }
        case 6: {
          r.expect(WIRE_LEN, 'LogRecord.attributes');
          const stop = r.delimited(end);
          if (++f.attributeCount > this.maxAttributes) {
            throw new OtlpDecodeError(`log record ${this.batch.records}: more than ${this.maxAttributes} attributes (receive.maxAttributesPerSpan)`);
          }
          this.attribute(r.pos, stop);
          r.pos = stop;
          break;
        }
        case 9: {
          r.expect(WIRE_LEN, 'LogRecord.trace_id');
          const stop = r.delimited(end);
          this.traceId(r.pos, stop);
          r.pos = stop;
          break;
        }
        case 10: {
          r.expect(WIRE_LEN, 'LogRecord.span_id');
          const stop = r.delimited(end);
          this.spanId(r.pos, stop);
          r.pos = stop;
          break;
        }
        case 12: {
          r.expect(WIRE_LEN, 'LogRecord.event_name');
          const stop = r.delimited(end);
          f.eventName = cache.decode(this.buf, r.pos, stop, 'LogRecord.event_name');
          r.pos = stop;
          break;
        }
        case 8:
          r.expect(WIRE_FIXED32, 'LogRecord.flags');
          r.skip(end);
          break;
        default:
          r.skip(end);
      }
    }
  }

  /**
   * Applies the attribute KeyValue in buf[start, stop). Whole KeyValues repeat from record to
   * record ("thread.name" = "main"), so a scalar one is remembered by its bytes: a repeat skips
   * parsing and decoding.
   */
  private attribute(start: number, stop: number): void {
    const len = stop - start;
    const cacheable = len > 0 && len <= MAX_KV_CACHE_BYTES;
    if (cacheable && kvSlots.findHinted(this.buf, start, stop)) {
      const slot = kvSlots.slot;
      const f = fields;
      if (kvPlain[slot] === 1 && !this.keptDirect) {
        // What setAttribute would do for it, with the property added at the end of the record.
        if (f.keptCount < MAX_BEAT_ATTRIBUTES) this.keptSlots[f.keptCount++] = slot;
        return;
      }
      this.keepDirectly();
      f.setAttribute(kvKeys[slot]!, kvValues[slot]!);
      return;
    }
    kv.keyValue(this.r, stop);
    const key = kv.key(this.buf, cache);
    if (kv.valueKind === VALUE_COMPOUND) {
      this.compound(kv.compoundField, kv.valueStart, kv.valueEnd, 0);
      return;
    }
    if (kv.valueKind === VALUE_NONE) return;
    const value = kv.scalar(this.buf, cache, 'AnyValue.string_value')!;
    this.keepDirectly();
    fields.setAttribute(key, value);
    if (cacheable) {
      // findHinted() above left the slot to fill; nothing else has used kvSlots since.
      kvSlots.store(this.buf, start, stop);
      const slot = kvSlots.slot;
      kvKeys[slot] = key;
      kvValues[slot] = value;
      kvGenerations[slot] = kvGenerations[slot]! + 1;
      kvPlain[slot] = isPlainAttribute(key, value) ? 1 : 0;
    }
  }

  /** Turns the noted attribute slots into properties of fields.attributes, in order (see keptSlots). */
  private keepDirectly(): void {
    if (this.keptDirect) return;
    this.keptDirect = true;
    const f = fields;
    if (f.keptCount === 0) return;
    const attributes = f.ownAttributes();
    for (let i = 0; i < f.keptCount; i++) {
      const slot = this.keptSlots[i]!;
      attributes[kvKeys[slot]!] = kvValues[slot]!;
    }
  }

  /**
   * The body text: a string as is, a scalar as its JSON, a compound value as JSON of its plain
   * value (bodyText). String bodies rarely repeat whole (they carry ids and numbers), so they are
   * decoded directly rather than through the string cache.
   */
  private body(end: number): string {
    kv.valueKind = VALUE_NONE;
    kv.anyValue(this.r, end);
    let text: string;
    switch (kv.valueKind) {
      case VALUE_STRING: {
        // The shape id also says the bytes are ASCII, so they need no further check.
        const shape = bodyShapes.ofBytes(this.buf, kv.valueStart, kv.valueEnd);
        fields.bodyShape = shape;
        return shape !== 0 ? latin1(this.buf, kv.valueStart, kv.valueEnd) : decodeText(this.buf, kv.valueStart, kv.valueEnd);
      }
      case VALUE_COMPOUND:
        text = bodyText(this.compound(kv.compoundField, kv.valueStart, kv.valueEnd, 0));
        break;
      case VALUE_NONE:
        text = '';
        break;
      default:
        text = bodyText(kv.scalar(this.buf, cache, 'AnyValue'));
    }
    fields.bodyShape = bodyShapes.ofString(text);
    return text;
  }

  /** The plain value of a compound AnyValue field (5 array, 6 kvlist, 7 bytes) in buf[start, stop). */
  private compound(field: number, start: number, stop: number, depth: number): unknown {
    const r = this.r;
    const at = r.pos;
    r.pos = start;
    const value = depth >= MAX_BODY_DEPTH ? '…' : field === 5 ? this.arrayValue(stop, depth + 1) : field === 6 ? this.kvlistValue(stop, depth + 1) : Buffer.from(this.buf.buffer, this.buf.byteOffset + start, stop - start).toString('base64');
    r.pos = at;
    return value;
  }

  /**
   * Sets the record's trace id. Records of one trace come in runs, so a repeat of the last id's
   * bytes reuses its hex; empty, all-zero and wrong-length ids go through setIdBytes.
   */
  private traceId(start: number, stop: number): void {
    const buf = this.buf;
    if (stop - start !== 16 || zeroWords(this.view, start, 4)) {
      fields.setIdBytes('trace', buf, start, stop);
      return;
    }
    const last = this.lastTraceAt;
    if (last >= 0 && sameWords(this.view, last, start, 4)) {
      fields.traceId = this.lastTrace;
      return;
    }
    fields.traceId = this.lastTrace = hex16(buf, start);
    this.lastTraceAt = start;
  }

  private spanId(start: number, stop: number): void {
    const buf = this.buf;
    if (stop - start !== 8 || zeroWords(this.view, start, 2)) {
      fields.setIdBytes('span', buf, start, stop);
      return;
    }
    const last = this.lastSpanAt;
    if (last >= 0 && sameWords(this.view, last, start, 2)) {
      fields.spanId = this.lastSpan;
      return;
    }
    fields.spanId = this.lastSpan = hex8(buf, start);
    this.lastSpanAt = start;
  }

  /** A KeyValue as [key, plain value] (inside kvlist values); undefined value when absent. */
  private keyValue(end: number, depth: number): [string, unknown] {
    const r = this.r;
    let key = '';
    let value: unknown = undefined;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'KeyValue.key');
        const stop = r.delimited(end);
        key = cache.decode(this.buf, r.pos, stop, 'KeyValue.key');
        r.pos = stop;
      } else if (field === 2) {
        r.expect(WIRE_LEN, 'KeyValue.value');
        const stop = r.delimited(end);
        value = this.anyValue(stop, depth);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return [key, value];
  }

  /** An AnyValue as a plain value (string, number, boolean, array, object; bytes as base64). */
  private anyValue(end: number, depth: number): unknown {
    const r = this.r;
    let value: unknown = undefined;
    let field: number;
    // A oneof: the last value on the wire wins.
    while ((field = r.tag(end)) !== 0) {
      switch (field) {
        case 1: {
          r.expect(WIRE_LEN, 'AnyValue.string_value');
          const stop = r.delimited(end);
          value = stop - r.pos <= 64 ? cache.decode(this.buf, r.pos, stop, 'AnyValue.string_value') : decodeUtf8(this.buf, r.pos, stop, 'AnyValue.string_value');
          r.pos = stop;
          break;
        }
        case 2:
          r.expect(WIRE_VARINT, 'AnyValue.bool_value');
          value = r.varint32(end) !== 0;
          break;
        case 3:
          r.expect(WIRE_VARINT, 'AnyValue.int_value');
          r.varint64(end);
          value = int64ToNumber(r.lo, r.hi);
          break;
        case 4:
          r.expect(WIRE_FIXED64, 'AnyValue.double_value');
          value = r.double(end);
          break;
        case 5:
        case 6: {
          r.expect(WIRE_LEN, field === 5 ? 'AnyValue.array_value' : 'AnyValue.kvlist_value');
          const stop = r.delimited(end);
          value = depth >= MAX_BODY_DEPTH ? '…' : field === 5 ? this.arrayValue(stop, depth + 1) : this.kvlistValue(stop, depth + 1);
          r.pos = stop;
          break;
        }
        case 7: {
          r.expect(WIRE_LEN, 'AnyValue.bytes_value');
          const stop = r.delimited(end);
          value = Buffer.from(this.buf.buffer, this.buf.byteOffset + r.pos, stop - r.pos).toString('base64');
          r.pos = stop;
          break;
        }
        default:
          r.skip(end);
      }
    }
    return value;
  }

  private arrayValue(end: number, depth: number): unknown[] {
    const r = this.r;
    const out: unknown[] = [];
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ArrayValue.values');
        const stop = r.delimited(end);
        out.push(this.anyValue(stop, depth) ?? null);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return out;
  }

  private kvlistValue(end: number, depth: number): Record<string, unknown> {
    const r = this.r;
    const out: Record<string, unknown> = {};
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'KeyValueList.values');
        const stop = r.delimited(end);
        const [key, value] = this.keyValue(stop, depth);
        r.pos = stop;
        // defineProperty: a key named __proto__ must stay a plain key.
        Object.defineProperty(out, key, { value: value ?? null, enumerable: true, writable: true, configurable: true });
      } else {
        r.skip(end);
      }
    }
    return out;
  }
}

/** True when the `words` four-byte words at a are all zero. */
function zeroWords(v: DataView, a: number, words: number): boolean {
  let any = 0;
  for (let i = 0; i < words * 4; i += 4) any |= v.getInt32(a + i, true);
  return any === 0;
}

/** True when LogRecordFields.setAttribute would only store this attribute (see kvPlain). */
function isPlainAttribute(key: string, value: string | number | boolean): boolean {
  if (key === '__proto__' || key === 'exception.type' || key === 'exception.message' || key === 'exception.stacktrace') return false;
  return typeof value !== 'string' || value.length <= MAX_BEAT_ATTRIBUTE_LENGTH;
}

/** True when the `words` four-byte words at a and b are equal. */
function sameWords(v: DataView, a: number, b: number, words: number): boolean {
  for (let i = 0; i < words * 4; i += 4) if (v.getInt32(a + i, true) !== v.getInt32(b + i, true)) return false;
  return true;
}

/**
 * UTF-8 text of a log body: ASCII (the common case) as one latin1 slice, anything else through
 * the validating decoder (invalid UTF-8 makes the request malformed).
 */
function decodeText(buf: Uint8Array, start: number, end: number): string {
  let ascii = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) ascii |= buf[i]! | buf[i + 1]! | buf[i + 2]! | buf[i + 3]!;
  for (; i < end; i++) ascii |= buf[i]!;
  if (ascii >= 0x80) return decodeUtf8(buf, start, end, 'AnyValue.string_value');
  return latin1(buf, start, end);
}

/** ASCII bytes as a string: one native slice. */
function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.prototype.latin1Slice.call(buf, start, end) as string;
}
