/**
 * A minimal protobuf wire-format reader for the hot path: it walks a buffer field by field and
 * never builds an object tree. Callers read the fields they need and skip the rest by wire type.
 * Every read is bounds-checked against the end of the enclosing message, so a truncated or lying
 * length prefix is reported instead of silently reading into the next message.
 */

/** A malformed request: the receivers answer 400 / INVALID_ARGUMENT with the message. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;
/** Bit per wire type: varint (0), fixed64 (1), length-delimited (2), fixed32 (5). Groups (3, 4) are not accepted. */
const SUPPORTED_WIRE_TYPES = (1 << WIRE_VARINT) | (1 << WIRE_FIXED64) | (1 << WIRE_LEN) | (1 << WIRE_FIXED32);

export class WireReader {
  buf: Uint8Array;
  pos: number;
  /** Wire type of the tag read last. */
  wireType = 0;
  /** Low and high 32 bits (unsigned) of the last 64-bit value read. */
  lo = 0;
  hi = 0;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  /**
   * Reads a field tag and returns its field number (wire type in `wireType`); 0 when `end` is
   * reached. Field number 0 and the deprecated group wire types are malformed.
   */
  tag(end: number): number {
    const pos = this.pos;
    if (pos >= end) return 0;
    const b = this.buf[pos]!;
    // Tags of fields 1-15 fit in one byte: the common case, read without the varint loop.
    const t = b < 0x80 ? (this.pos = pos + 1, b) : this.varint32(end);
    const wt = t & 7;
    const field = t >>> 3;
    if (field === 0) throw new OtlpDecodeError(`invalid field number 0 at byte ${pos}`);
    if (((SUPPORTED_WIRE_TYPES >> wt) & 1) === 0) {
      throw new OtlpDecodeError(`unsupported wire type ${wt} for field ${field} at byte ${pos}`);
    }
    this.wireType = wt;
    return field;
  }

  /** Reads a varint and returns its low 32 bits as an unsigned number (higher bits are dropped). */
  varint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = 0;
    let result = 0;
    // Unrolled for the common 1- and 2-byte cases; the loop handles the rest.
    if (pos < end) {
      b = buf[pos++]!;
      if (b < 0x80) {
        this.pos = pos;
        return b;
      }
      result = b & 0x7f;
    } else {
      throw truncated('varint', pos);
    }
    if (pos < end) {
      b = buf[pos++]!;
      result |= (b & 0x7f) << 7;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    } else {
      throw truncated('varint', pos);
    }
    for (let shift = 14; shift < 70; shift += 7) {
      if (pos >= end) throw truncated('varint', pos);
      b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
    }
    throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${pos}`);
  }

  /** Reads a varint into `lo` / `hi` (two's complement 64 bits). */
  varint64(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw truncated('varint', pos);
      b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${pos}`);
  }

  /** Reads a little-endian fixed64 into `lo` / `hi`. */
  fixed64(end: number): void {
    const pos = this.pos;
    if (pos + 8 > end) throw truncated('fixed64', pos);
    const buf = this.buf;
    this.lo = (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
    this.hi = (buf[pos + 4]! | (buf[pos + 5]! << 8) | (buf[pos + 6]! << 16) | (buf[pos + 7]! << 24)) >>> 0;
    this.pos = pos + 8;
  }

  /** Reads a little-endian fixed32 as an unsigned number. */
  fixed32(end: number): number {
    const pos = this.pos;
    if (pos + 4 > end) throw truncated('fixed32', pos);
    const buf = this.buf;
    this.pos = pos + 4;
    return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
  }

  /** Reads a little-endian IEEE 754 double. */
  double(end: number): number {
    this.fixed64(end);
    F64_U32[0] = this.lo;
    F64_U32[1] = this.hi;
    return F64[0]!;
  }

  /**
   * Reads a length prefix and returns the end offset of the delimited bytes (the data starts at
   * `pos`). Throws when the length runs past `end`.
   */
  delimited(end: number): number {
    const len = this.varint32(end);
    const stop = this.pos + len;
    if (stop > end) throw new OtlpDecodeError(`length ${len} at byte ${this.pos} runs past the end of its message (${end})`);
    return stop;
  }

  /** Skips the value of the field whose tag was read last. */
  skip(end: number): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.skipVarint(end);
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > end) throw truncated('fixed64', this.pos);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.delimited(end);
        return;
      default:
        // tag() only lets the four supported wire types through, so this is fixed32.
        if (this.pos + 4 > end) throw truncated('fixed32', this.pos);
        this.pos += 4;
    }
  }

  private skipVarint(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw truncated('varint', pos);
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return;
      }
    }
    throw new OtlpDecodeError(`varint longer than 10 bytes at byte ${pos}`);
  }

  /** Throws unless the field whose tag was read last has the expected wire type. */
  expect(wireType: number, field: string): void {
    if (this.wireType !== wireType) {
      throw new OtlpDecodeError(`${field}: wire type ${this.wireType}, expected ${wireType}`);
    }
  }
}

/** Signed interpretation of a 64-bit (lo, hi) pair as the nearest double. */
export function int64ToNumber(lo: number, hi: number): number {
  return (hi | 0) * TWO_32 + lo;
}

const F64 = new Float64Array(1);
const F64_U32 = new Uint32Array(F64.buffer);

function truncated(what: string, pos: number): OtlpDecodeError {
  return new OtlpDecodeError(`truncated ${what} at byte ${pos}`);
}
