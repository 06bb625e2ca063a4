import {
  BeatBatch,
  KEY_CORRELATION_ID,
  KEY_EXCEPTION_MESSAGE,
  KEY_EXCEPTION_STACKTRACE,
  KEY_EXCEPTION_TYPE,
  KEY_EVENT,
  KEY_HANDLER,
  KEY_KIND,
  KEY_MOVEMENT,
  KEY_NUMBER,
  KEY_OTHER,
  KEY_PLUGIN,
  KEY_REQUEST_ID,
  KEY_SEQUENCE,
  KEY_SEQUENCE_ID,
  KEY_SKIP,
  ResourceFields,
  SpanFields,
  beatKindOf,
  spanKindOf,
  beatNumberOf,
  classifyKey,
  sharedInterner,
  type DecodeOptions,
  type DecodeResult,
} from './beat-builder.js';
import { AttributeTemplates } from './attribute-templates.js';
import { ByteSlots, MAX_CACHED_BYTES, Utf8Cache, decodeShort, releaseInput, decodeUtf8, validateUtf8 } from './intern.js';
import { MAX_BEAT_ATTRIBUTE_LENGTH, MAX_BEAT_ATTRIBUTES, type AttrValue, type BeatKind } from '../model/beat.js';
import { OtlpDecodeError, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './protowire.js';
import { KeyValueReader, VALUE_COMPOUND, VALUE_NONE, VALUE_STRING, VALUE_BOOL, checkCompoundUtf8, readResource } from './proto-key-value.js';

export type { DecodeOptions, DecodeResult } from './beat-builder.js';
export { OtlpDecodeError } from './protowire.js';
/** Shared with the logs decoder (otlp-logs-proto.ts). */
export { hex8, hex16 };

/**
 * Decodes a protobuf ExportTraceServiceRequest straight into beats: one pass over the buffer,
 * reading only the fields a beat needs (field numbers from opentelemetry-proto, see
 * proto/opentelemetry/) and skipping the rest by wire type. Throws OtlpDecodeError for a
 * malformed request; spans that are well-formed protobuf but unusable (bad ids, end before
 * start) are counted in `rejected` instead.
 */
export function decodeTraceRequestProto(buf: Uint8Array, opts: DecodeOptions): DecodeResult {
  try {
    return new ProtoTraceDecoder(buf, opts.maxAttributesPerSpan).decode();
  } finally {
    releaseInput();
  }
}

// Decoding is synchronous, so one set of scratch objects serves every request.
const cache = new Utf8Cache(8192);
const fields = new SpanFields();
const resource = new ResourceFields();

/** Span attribute KeyValues up to this size are cached whole. */
const MAX_KV_CACHE_BYTES = 128;
const KV_IGNORED = -1;
const kvSlots = new ByteSlots(4096, MAX_KV_CACHE_BYTES);
const kvCodes = new Int32Array(kvSlots.size);
/** Bumped whenever a slot is refilled, so attribute templates built from its old KeyValue are not reused. */
const kvGenerations = new Int32Array(kvSlots.size);
const templates = new AttributeTemplates(256);
const kvKeys = new Array<string>(kvSlots.size).fill('');
const kvValues = new Array<AttrValue>(kvSlots.size).fill('');
/** kvValues as strings, for the beat fields that hold strings. */
const kvStrings = new Array<string>(kvSlots.size).fill('');
/** What beat.number and beat.kind values stand for (beatNumberOf / beatKindOf), for those keys. */
const kvNumbers = new Float64Array(kvSlots.size);
const kvKinds = new Array<BeatKind>(kvSlots.size).fill('');

/** Tag byte of Span.attributes (field 9, length-delimited). */
const TAG_SPAN_ATTRIBUTES = (9 << 3) | WIRE_LEN;
/** Span fields read when length-delimited, as a bit set: trace_id, span_id, parent_span_id, name, attributes, events, status. */
const SPAN_LEN_FIELDS = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 11) | (1 << 15);
const SPAN_FIELD_NAMES: Record<number, string> = {
  1: 'Span.trace_id',
  2: 'Span.span_id',
  4: 'Span.parent_span_id',
  5: 'Span.name',
  9: 'Span.attributes',
  11: 'Span.events',
  15: 'Span.status',
};
/** Tag bytes of Span.start_time_unix_nano (7) and end_time_unix_nano (8), fixed64. */
const TAG_START_TIME = (7 << 3) | WIRE_FIXED64;
const TAG_END_TIME = (8 << 3) | WIRE_FIXED64;

/** A string whose UTF-8 encoding is longer than this cannot be kept as a beat attribute. */
const MAX_KEPT_STRING_BYTES = MAX_BEAT_ATTRIBUTE_LENGTH * 3;


class ProtoTraceDecoder {
  private readonly r: WireReader;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly batch = new BeatBatch(sharedInterner);
  // Ids repeat from span to span (same trace, same parent): remember the last one of each.
  private lastTraceStart = -1;
  private lastTrace = '';
  private lastParentStart = -1;
  private lastParent = '';

  // The last KeyValue read: its key (interned) and, in `kv`, where its value is and what kind.
  private key = '';
  private keySlot = -1;
  private readonly kv = new KeyValueReader();

  // Kept attributes of the current span: while `keptDirect` is false they are only noted as
  // KeyValue cache slots (`keptSlots`, fields.keptCount of them) and the attributes object is
  // built at the end of the span (see AttributeTemplates); any other way of keeping an
  // attribute first turns them into properties of fields.kept.
  private readonly keptSlots = new Int32Array(MAX_BEAT_ATTRIBUTES);
  private keptDirect = false;

  constructor(
    buf: Uint8Array,
    private readonly maxAttributes: number,
  ) {
    this.buf = buf;
    this.r = new WireReader(buf);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  decode(): DecodeResult {
    const r = this.r;
    const end = this.buf.length;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ExportTraceServiceRequest.resource_spans');
        const stop = r.delimited(end);
        this.resourceSpans(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    return this.batch.result();
  }

  private resourceSpans(end: number): void {
    const r = this.r;
    const start = r.pos;
    resource.reset();
    // The resource may follow its scope_spans on the wire, so find it first.
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'ResourceSpans.resource');
        const stop = r.delimited(end);
        // Like the logs decoder: service name, version and environment decoded, every other
        // string checked to be UTF-8 (a broken one makes the request malformed) and dropped.
        readResource(r, this.buf, stop, this.kv, cache, resource, this.checkCompound);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    r.pos = start;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ResourceSpans.scope_spans');
        const stop = r.delimited(end);
        this.scopeSpans(stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
  }

  private readonly checkCompound = (kv: KeyValueReader): void => checkCompoundUtf8(this.r, this.buf, kv);

  private scopeSpans(end: number): void {
    const r = this.r;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'ScopeSpans.spans');
        const stop = r.delimited(end);
        this.span(stop);
        r.pos = stop;
        if (!this.keptDirect) {
          fields.sharedKept = templates.build(this.keptSlots, fields.keptCount, kvGenerations, kvKeys, kvValues, resource.environment);
          fields.sharedRoute = templates.lastRoute;
        }
        this.batch.finishSpan(fields, resource);
      } else {
        r.skip(end);
      }
    }
  }

  private span(end: number): void {
    const r = this.r;
    const buf = this.buf;
    const f = fields;
    f.reset(false);
    this.keptDirect = false;
    while (r.pos < end) {
      // The fields a beat needs mostly have a one-byte tag and, when length-delimited, a
      // one-byte length: those are read here directly. Anything else (other fields, wrong wire
      // types, longer lengths, truncation) takes the general path, which also reports errors.
      const t = buf[r.pos]!;
      const p = r.pos + 1;
      if (t === TAG_SPAN_ATTRIBUTES && p < end && buf[p]! < 0x80 && p + 1 + buf[p]! <= end) {
        // The most common field, on its own path.
        const start = p + 1;
        const stop = start + buf[p]!;
        if (++f.attributeCount > this.maxAttributes) this.tooManyAttributes();
        r.pos = start;
        this.spanAttribute(start, stop);
        r.pos = stop;
        continue;
      }
      if ((t & 7) === WIRE_LEN && t < 0x80 && ((SPAN_LEN_FIELDS >>> (t >>> 3)) & 1) === 1 && p < end) {
        const len = buf[p]!;
        const start = p + 1;
        const stop = start + len;
        if (len < 0x80 && stop <= end) {
          r.pos = start;
          this.lenField(t >>> 3, start, stop);
          r.pos = stop;
          continue;
        }
      } else if (t === TAG_START_TIME || t === TAG_END_TIME) {
        r.pos = p;
        r.fixed64(end);
        if (t === TAG_START_TIME) {
          f.startLo = r.lo;
          f.startHi = r.hi;
        } else {
          f.endLo = r.lo;
          f.endHi = r.hi;
        }
        continue;
      }
      this.spanField(r.tag(end), end);
    }
  }

  private tooManyAttributes(): never {
    throw new OtlpDecodeError(`span ${this.batch.spans}: more than ${this.maxAttributes} attributes (receive.maxAttributesPerSpan)`);
  }

  /** One span field read the general way (its tag has been read). */
  private spanField(field: number, end: number): void {
    const r = this.r;
    const f = fields;
    switch (field) {
      case 1:
      case 2:
      case 4:
      case 5:
      case 9:
      case 11:
      case 15: {
        r.expect(WIRE_LEN, SPAN_FIELD_NAMES[field]!);
        const stop = r.delimited(end);
        this.lenField(field, r.pos, stop);
        r.pos = stop;
        return;
      }
      case 6:
        r.expect(WIRE_VARINT, 'Span.kind');
        f.spanKind = spanKindOf(r.varint32(end));
        return;
      case 7:
        r.expect(WIRE_FIXED64, 'Span.start_time_unix_nano');
        r.fixed64(end);
        f.startLo = r.lo;
        f.startHi = r.hi;
        return;
      case 8:
        r.expect(WIRE_FIXED64, 'Span.end_time_unix_nano');
        r.fixed64(end);
        f.endLo = r.lo;
        f.endHi = r.hi;
        return;
      default:
        r.skip(end);
    }
  }

  /** A length-delimited span field in buf[start, stop) (one of SPAN_LEN_FIELDS); `r.pos` is at start. */
  private lenField(field: number, start: number, stop: number): void {
    const f = fields;
    switch (field) {
      case 9:
        if (++f.attributeCount > this.maxAttributes) this.tooManyAttributes();
        this.spanAttribute(start, stop);
        return;
      case 1:
        this.traceId(start, stop);
        return;
      case 2: {
        const len = stop - start;
        if (len !== 8) f.reject(`invalid span_id (${len} bytes)`);
        else if (isZero(this.buf, start, stop)) f.reject('invalid span_id (all zeros)');
        else f.spanId = hex8(this.buf, start);
        return;
      }
      case 4:
        this.parentSpanId(start, stop);
        return;
      case 5:
        f.name = cache.decode(this.buf, start, stop, 'Span.name');
        return;
      case 11:
        if (!f.hasExceptionEvent) this.event(stop);
        return;
      default:
        this.status(stop);
    }
  }

  private traceId(start: number, stop: number): void {
    const f = fields;
    const len = stop - start;
    if (len !== 16) {
      f.reject(`invalid trace_id (${len} bytes)`);
      return;
    }
    const buf = this.buf;
    const last = this.lastTraceStart;
    const v = this.view;
    if (
      last >= 0 &&
      v.getUint32(last) === v.getUint32(start) &&
      v.getUint32(last + 4) === v.getUint32(start + 4) &&
      v.getUint32(last + 8) === v.getUint32(start + 8) &&
      v.getUint32(last + 12) === v.getUint32(start + 12)
    ) {
      f.traceId = this.lastTrace;
      return;
    }
    if (isZero(buf, start, stop)) {
      f.reject('invalid trace_id (all zeros)');
      return;
    }
    f.traceId = this.lastTrace = hex16(buf, start);
    this.lastTraceStart = start;
  }

  private parentSpanId(start: number, stop: number): void {
    const f = fields;
    const len = stop - start;
    if (len === 0) return;
    if (len !== 8) {
      f.reject(`invalid parent_span_id (${len} bytes)`);
      return;
    }
    const buf = this.buf;
    const last = this.lastParentStart;
    const v = this.view;
    if (last >= 0 && v.getUint32(last) === v.getUint32(start) && v.getUint32(last + 4) === v.getUint32(start + 4)) {
      f.parentSpanId = this.lastParent;
      return;
    }
    // An all-zero parent is how some SDKs say "no parent".
    if (isZero(buf, start, stop)) return;
    f.parentSpanId = this.lastParent = hex8(this.buf, start);
    this.lastParentStart = start;
  }

  /**
   * Applies the span attribute KeyValue in buf[start, stop). Whole KeyValues repeat from span to
   * span ("beat.plugin" = "CanvasComponentPlugin"), so their meaning is cached on their bytes: a
   * hit skips parsing, decoding and classifying.
   */
  private spanAttribute(start: number, stop: number): void {
    const len = stop - start;
    const cacheable = len > 0 && len <= MAX_KV_CACHE_BYTES;
    if (cacheable && kvSlots.findHinted(this.buf, start, stop)) {
      const slot = kvSlots.slot;
      const f = fields;
      // The common cases inlined, with the same effect as SpanFields.setAttribute.
      switch (kvCodes[slot]!) {
        case KEY_OTHER:
          if (f.keptCount < MAX_BEAT_ATTRIBUTES) {
            if (this.keptDirect) f.kept[kvKeys[slot]!] = kvValues[slot]!;
            else this.keptSlots[f.keptCount] = slot;
            f.keptCount++;
          }
          return;
        case KV_IGNORED:
        case KEY_SKIP:
          return;
        case KEY_SEQUENCE:
          f.sequence = kvStrings[slot]!;
          return;
        case KEY_MOVEMENT:
          f.movement = kvStrings[slot]!;
          return;
        case KEY_EVENT:
          f.event = kvStrings[slot]!;
          return;
        case KEY_HANDLER:
          f.handler = kvStrings[slot]!;
          return;
        case KEY_PLUGIN:
          f.plugin = kvStrings[slot]!;
          return;
        case KEY_CORRELATION_ID:
          f.correlationId = kvStrings[slot]!;
          return;
        case KEY_NUMBER:
          f.beatNumber = kvNumbers[slot]!;
          return;
        case KEY_KIND:
          f.kind = kvKinds[slot]!;
          return;
        case KEY_SEQUENCE_ID:
          // Kept too (see SpanFields.setAttribute), its value as a string.
          this.keepDirectly();
          f.setAttribute(KEY_SEQUENCE_ID, kvKeys[slot]!, kvValues[slot]!);
          return;
        default:
          f.setAttribute(kvCodes[slot]!, kvKeys[slot]!, kvValues[slot]!);
      }
      return;
    }
    const slot = kvSlots.slot;
    // The slot about to be refilled must not be one the span's attributes still refer to.
    if (cacheable && this.notes(slot)) this.keepDirectly();
    this.keyValue(stop);
    const kind = this.kv.valueKind;
    let code = KV_IGNORED;
    let value: AttrValue = '';
    if (kind !== VALUE_NONE && kind !== VALUE_COMPOUND) {
      code = this.keyCode();
      if (kind === VALUE_STRING && (code === KEY_SKIP || (code === KEY_OTHER && this.kv.valueEnd - this.kv.valueStart > MAX_KEPT_STRING_BYTES))) {
        validateUtf8(this.buf, this.kv.valueStart, this.kv.valueEnd, 'Span attribute value');
        code = KV_IGNORED;
      } else {
        // Ids and messages would only evict names from the string cache. Their whole KeyValue
        // is still cached below: a correlation id repeats on every span of its trace, and a
        // one-off value costs one slot that the next one reuses.
        const unique = code === KEY_CORRELATION_ID || code === KEY_REQUEST_ID || code >= KEY_EXCEPTION_TYPE;
        value = this.scalar(unique, 'Span attribute value');
        if (code === KEY_OTHER || code === KEY_SEQUENCE_ID) this.keepDirectly();
        fields.setAttribute(code, this.key, value);
      }
    }
    if (!cacheable) return;
    kvSlots.slot = slot;
    kvSlots.store(this.buf, start, stop);
    kvGenerations[slot] = kvGenerations[slot]! + 1;
    kvCodes[slot] = code;
    kvKeys[slot] = this.key;
    kvValues[slot] = value;
    kvStrings[slot] = typeof value === 'string' ? value : String(value);
    kvNumbers[slot] = code === KEY_NUMBER ? beatNumberOf(value) : 0;
    kvKinds[slot] = code === KEY_KIND ? beatKindOf(value) : '';
  }

  /** True when the span's kept attributes are noted as slots and `slot` is one of them. */
  private notes(slot: number): boolean {
    if (this.keptDirect) return false;
    for (let i = 0; i < fields.keptCount; i++) if (this.keptSlots[i] === slot) return true;
    return false;
  }

  /** Leaves the noted-slots mode: the span's attributes object gets the kept attributes so far. */
  private keepDirectly(): void {
    if (this.keptDirect) return;
    this.keptDirect = true;
    const kept: Record<string, AttrValue> = {};
    const slots = this.keptSlots;
    for (let i = 0; i < fields.keptCount; i++) kept[kvKeys[slots[i]!]!] = kvValues[slots[i]!]!;
    fields.kept = kept;
  }

  /**
   * The scalar value of the last KeyValue. Short strings go through the byte cache unless
   * `unique` says they are likely one-off values (ids, messages) that would only evict names.
   */
  private scalar(unique: boolean, what: string): string | number | boolean {
    switch (this.kv.valueKind) {
      case VALUE_STRING: {
        const s = this.kv.valueStart;
        const e = this.kv.valueEnd;
        if (e - s > MAX_CACHED_BYTES) return decodeUtf8(this.buf, s, e, what);
        if (unique) return decodeShort(this.buf, s, e, what);
        return cache.decode(this.buf, s, e, what);
      }
      case VALUE_BOOL:
        return this.kv.valueBool;
      default:
        return this.kv.valueNumber;
    }
  }

  /** Reads a KeyValue: the key (interned) into `key`, the value's kind and position into `kv`. */
  private keyValue(end: number): void {
    const kv = this.kv;
    kv.keyValue(this.r, end);
    this.key = cache.decode(this.buf, kv.keyStart, kv.keyEnd, 'KeyValue.key');
    this.keySlot = cache.lastSlot;
  }

  /** classifyKey of the last key, remembered with the key's cache slot. */
  private keyCode(): number {
    const slot = this.keySlot;
    if (slot < 0) return classifyKey(this.key);
    let code = cache.tags[slot]!;
    if (code < 0) code = cache.tags[slot] = classifyKey(this.key);
    return code;
  }

  /** Reads an event; only the first one named "exception" is used. */
  private event(end: number): void {
    const r = this.r;
    const start = r.pos;
    let isException = false;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'Event.name');
        const stop = r.delimited(end);
        isException = cache.decode(this.buf, r.pos, stop, 'Event.name') === 'exception';
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
    if (!isException) return;
    fields.hasExceptionEvent = true;
    r.pos = start;
    while ((field = r.tag(end)) !== 0) {
      if (field === 3) {
        r.expect(WIRE_LEN, 'Event.attributes');
        const stop = r.delimited(end);
        this.keyValue(stop);
        r.pos = stop;
        const code = this.keyCode();
        const wanted = code === KEY_EXCEPTION_TYPE || code === KEY_EXCEPTION_MESSAGE || code === KEY_EXCEPTION_STACKTRACE;
        if (wanted && this.kv.valueKind !== VALUE_NONE && this.kv.valueKind !== VALUE_COMPOUND) {
          fields.setExceptionAttribute(code, this.scalar(true, 'Event attribute value'));
        }
      } else {
        r.skip(end);
      }
    }
  }

  private status(end: number): void {
    const r = this.r;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 2) {
        r.expect(WIRE_LEN, 'Status.message');
        const stop = r.delimited(end);
        fields.statusMessage = decodeUtf8(this.buf, r.pos, stop, 'Status.message');
        r.pos = stop;
      } else if (field === 3) {
        r.expect(WIRE_VARINT, 'Status.code');
        fields.statusCode = r.varint32(end);
      } else {
        r.skip(end);
      }
    }
  }
}

// Character codes of the two hex digits of every byte value: one table load per digit.
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  HEX_HI[b] = '0123456789abcdef'.charCodeAt(b >> 4);
  HEX_LO[b] = '0123456789abcdef'.charCodeAt(b & 15);
}

/** Lowercase hex of the 8 bytes at buf[p]: one flat string, no intermediate pieces. */
function hex8(buf: Uint8Array, p: number): string {
  const hi = HEX_HI;
  const lo = HEX_LO;
  const b0 = buf[p]!, b1 = buf[p + 1]!, b2 = buf[p + 2]!, b3 = buf[p + 3]!;
  const b4 = buf[p + 4]!, b5 = buf[p + 5]!, b6 = buf[p + 6]!, b7 = buf[p + 7]!;
  return String.fromCharCode(
    hi[b0]!, lo[b0]!, hi[b1]!, lo[b1]!, hi[b2]!, lo[b2]!, hi[b3]!, lo[b3]!,
    hi[b4]!, lo[b4]!, hi[b5]!, lo[b5]!, hi[b6]!, lo[b6]!, hi[b7]!, lo[b7]!,
  );
}

/** Lowercase hex of the 16 bytes at buf[p], built like hex8 (a native hex slice costs more for so few bytes). */
function hex16(buf: Uint8Array, p: number): string {
  const hi = HEX_HI;
  const lo = HEX_LO;
  const b0 = buf[p]!, b1 = buf[p + 1]!, b2 = buf[p + 2]!, b3 = buf[p + 3]!;
  const b4 = buf[p + 4]!, b5 = buf[p + 5]!, b6 = buf[p + 6]!, b7 = buf[p + 7]!;
  const b8 = buf[p + 8]!, b9 = buf[p + 9]!, b10 = buf[p + 10]!, b11 = buf[p + 11]!;
  const b12 = buf[p + 12]!, b13 = buf[p + 13]!, b14 = buf[p + 14]!, b15 = buf[p + 15]!;
  return String.fromCharCode(
    hi[b0]!, lo[b0]!, hi[b1]!, lo[b1]!, hi[b2]!, lo[b2]!, hi[b3]!, lo[b3]!,
    hi[b4]!, lo[b4]!, hi[b5]!, lo[b5]!, hi[b6]!, lo[b6]!, hi[b7]!, lo[b7]!,
    hi[b8]!, lo[b8]!, hi[b9]!, lo[b9]!, hi[b10]!, lo[b10]!, hi[b11]!, lo[b11]!,
    hi[b12]!, lo[b12]!, hi[b13]!, lo[b13]!, hi[b14]!, lo[b14]!, hi[b15]!, lo[b15]!,
  );
}

function isZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
