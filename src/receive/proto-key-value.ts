import { classifyResourceKey, type ResourceFields } from './beat-builder.js';
import { decodeUtf8, MAX_CACHED_BYTES, validateUtf8, type Utf8Cache } from './intern.js';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, int64ToNumber, type WireReader } from './protowire.js';

/**
 * The OTLP common.proto messages every signal shares (KeyValue, AnyValue, Resource), read in
 * place: a KeyValueReader notes where the key and value bytes are and what kind of value it is,
 * allocating nothing, and its caller decodes only what it keeps. Field numbers from
 * proto/opentelemetry/proto/common/v1/common.proto and resource/v1/resource.proto.
 */

export const VALUE_NONE = 0;
export const VALUE_STRING = 1;
export const VALUE_BOOL = 2;
export const VALUE_INT = 3;
export const VALUE_DOUBLE = 4;
/** array_value, kvlist_value or bytes_value: `compoundField` says which, valueStart/valueEnd where. */
export const VALUE_COMPOUND = 5;

export class KeyValueReader {
  keyStart = 0;
  keyEnd = 0;
  valueKind = VALUE_NONE;
  /** Bytes of a string or compound value. */
  valueStart = 0;
  valueEnd = 0;
  valueNumber = 0;
  valueBool = false;
  /** AnyValue field of a compound value: 5 array_value, 6 kvlist_value, 7 bytes_value. */
  compoundField = 0;

  /** Reads the KeyValue ending at `end` (the reader is at its first tag). */
  keyValue(r: WireReader, end: number): void {
    this.keyStart = this.keyEnd = 0;
    this.valueKind = VALUE_NONE;
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      if (field === 1) {
        r.expect(WIRE_LEN, 'KeyValue.key');
        this.keyEnd = r.delimited(end);
        this.keyStart = r.pos;
        r.pos = this.keyEnd;
      } else if (field === 2) {
        r.expect(WIRE_LEN, 'KeyValue.value');
        const stop = r.delimited(end);
        this.anyValue(r, stop);
        r.pos = stop;
      } else {
        r.skip(end);
      }
    }
  }

  /** Reads the AnyValue ending at `end`; a oneof, so the last value on the wire wins. */
  anyValue(r: WireReader, end: number): void {
    let field: number;
    while ((field = r.tag(end)) !== 0) {
      switch (field) {
        case 1: {
          r.expect(WIRE_LEN, 'AnyValue.string_value');
          const stop = r.delimited(end);
          this.valueKind = VALUE_STRING;
          this.valueStart = r.pos;
          this.valueEnd = stop;
          r.pos = stop;
          break;
        }
        case 2:
          r.expect(WIRE_VARINT, 'AnyValue.bool_value');
          this.valueKind = VALUE_BOOL;
          this.valueBool = r.varint32(end) !== 0;
          break;
        case 3:
          r.expect(WIRE_VARINT, 'AnyValue.int_value');
          r.varint64(end);
          this.valueKind = VALUE_INT;
          this.valueNumber = int64ToNumber(r.lo, r.hi);
          break;
        case 4:
          r.expect(WIRE_FIXED64, 'AnyValue.double_value');
          this.valueKind = VALUE_DOUBLE;
          this.valueNumber = r.double(end);
          break;
        case 5:
        case 6:
        case 7: {
          r.expect(WIRE_LEN, field === 5 ? 'AnyValue.array_value' : field === 6 ? 'AnyValue.kvlist_value' : 'AnyValue.bytes_value');
          const stop = r.delimited(end);
          this.valueKind = VALUE_COMPOUND;
          this.compoundField = field;
          this.valueStart = r.pos;
          this.valueEnd = stop;
          r.pos = stop;
          break;
        }
        default:
          r.skip(end);
      }
    }
  }

  /** The key, through the cache (keys repeat). */
  key(buf: Uint8Array, cache: Utf8Cache): string {
    return cache.decode(buf, this.keyStart, this.keyEnd, 'KeyValue.key');
  }

  /**
   * A scalar value (string, bool, int or double; undefined for none or a compound). Strings up to
   * MAX_CACHED_BYTES go through the cache, longer ones are decoded.
   */
  scalar(buf: Uint8Array, cache: Utf8Cache, what: string): string | number | boolean | undefined {
    switch (this.valueKind) {
      case VALUE_STRING:
        return this.valueEnd - this.valueStart > MAX_CACHED_BYTES ? decodeUtf8(buf, this.valueStart, this.valueEnd, what) : cache.decode(buf, this.valueStart, this.valueEnd, what);
      case VALUE_BOOL:
        return this.valueBool;
      case VALUE_INT:
      case VALUE_DOUBLE:
        return this.valueNumber;
      default:
        return undefined;
    }
  }
}

/**
 * Reads a Resource ending at `end` into `resource` (service name and version, environment:
 * classifyResourceKey), decoding only those values. Other string values are checked to be
 * UTF-8 without being decoded, and `compound` is called for compound values, so a caller that
 * must validate them can.
 */
export function readResource(r: WireReader, buf: Uint8Array, end: number, kv: KeyValueReader, cache: Utf8Cache, resource: ResourceFields, compound: (kv: KeyValueReader) => void): void {
  let field: number;
  while ((field = r.tag(end)) !== 0) {
    if (field === 1) {
      r.expect(WIRE_LEN, 'Resource.attributes');
      const stop = r.delimited(end);
      kv.keyValue(r, stop);
      r.pos = stop;
      const code = classifyResourceKey(kv.key(buf, cache));
      if (kv.valueKind === VALUE_COMPOUND) compound(kv);
      else if (code !== 0 && kv.valueKind !== VALUE_NONE) resource.set(code, kv.scalar(buf, cache, 'Resource attribute')!);
      else if (kv.valueKind === VALUE_STRING) validateUtf8(buf, kv.valueStart, kv.valueEnd, 'Resource attribute');
    } else {
      r.skip(end);
    }
  }
}

/** Compound values nested deeper than this are not checked (the logs decoder stops there too). */
const MAX_CHECKED_DEPTH = 8;

/**
 * Throws OtlpDecodeError when a string or key inside the compound value `kv` holds (an
 * array_value or kvlist_value; bytes are not text) is not valid UTF-8, without decoding anything.
 * For attributes a decoder drops: the request is still malformed protobuf if they are broken.
 */
export function checkCompoundUtf8(r: WireReader, buf: Uint8Array, kv: KeyValueReader): void {
  const at = r.pos;
  checkCompound(r, buf, kv.compoundField, kv.valueStart, kv.valueEnd, 0);
  r.pos = at;
}

function checkCompound(r: WireReader, buf: Uint8Array, field: number, start: number, stop: number, depth: number): void {
  if (field === 7 || depth >= MAX_CHECKED_DEPTH) return;
  // One reader per level: rare values (compound resource attributes), so no pooling.
  const inner = new KeyValueReader();
  r.pos = start;
  let tag: number;
  while ((tag = r.tag(stop)) !== 0) {
    if (tag !== 1) {
      r.skip(stop);
      continue;
    }
    r.expect(WIRE_LEN, field === 5 ? 'ArrayValue.values' : 'KeyValueList.values');
    const end = r.delimited(stop);
    if (field === 5) {
      inner.valueKind = VALUE_NONE;
      inner.anyValue(r, end);
    } else {
      inner.keyValue(r, end);
      validateUtf8(buf, inner.keyStart, inner.keyEnd, 'KeyValue.key');
    }
    if (inner.valueKind === VALUE_STRING) validateUtf8(buf, inner.valueStart, inner.valueEnd, 'AnyValue.string_value');
    else if (inner.valueKind === VALUE_COMPOUND) checkCompound(r, buf, inner.compoundField, inner.valueStart, inner.valueEnd, depth + 1);
    r.pos = end;
  }
}
