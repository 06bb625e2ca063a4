/**
 * Shape ids of log bodies, so template mining can skip lines it has seen before without reading
 * their text again. Two bodies have the same shape when they are equal up to which digits they
 * hold ("order 17 shipped" and "order 42 shipped"); the template miner gives both the same tokens
 * (log-templates.ts: every mask treats all digits alike, and digits left in a token become <NUM>).
 *
 * An id is handed out when a shape is stored in the table and never again, so equal ids always
 * mean equal shapes; a shape evicted by a colliding one gets a new id when it comes back. The
 * table is fixed (slots x MAX_SHAPE_BYTES), so memory does not grow with traffic. Only ASCII
 * bodies get an id (0 otherwise: "unknown", the miner then reads the text itself), which keeps
 * bytes and string characters one to one, so the protobuf and JSON decoders agree.
 */

/** Longer bodies get no id. */
export const MAX_SHAPE_BYTES = 256;
const DIGIT_ZERO = 48;
const HASHED_ENDS = 16;
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

export class BodyShapes {
  private readonly mask: number;
  private readonly lengths: Int32Array;
  private readonly ids: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private nextId = 1;
  /** The input buffer seen last and a view of it (requests are decoded one at a time). */
  private lastBuf: Uint8Array | undefined;
  private lastView: DataView<ArrayBufferLike> = EMPTY_VIEW;

  constructor(slots = 4096) {
    let size = 1;
    while (size < slots) size <<= 1;
    this.mask = size - 1;
    this.lengths = new Int32Array(size).fill(-1);
    this.ids = new Float64Array(size);
    this.bytes = new Uint8Array(size * MAX_SHAPE_BYTES);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Shape id of the UTF-8 text buf[start, end); 0 when it is empty, too long or not ASCII. */
  ofBytes(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n <= 0 || n > MAX_SHAPE_BYTES) return 0;
    // The slot is chosen by the length and both ends (HASHED_ENDS bytes each, read as words with
    // their digits as '0'); the whole body is compared, which also checks it is ASCII.
    let h: number;
    if (n < 4) {
      h = Math.imul(n, 0x9e3779b1);
      for (let i = start; i < end; i++) {
        const b = buf[i]!;
        h = Math.imul(h ^ (b >= 48 && b <= 57 ? DIGIT_ZERO : b), 0x01000193);
      }
    } else {
      const v = this.viewOf(buf);
      const head = Math.min(n, HASHED_ENDS);
      h = Math.imul(n, 0x9e3779b1);
      for (let i = 0; i + 4 <= head; i += 4) h = Math.imul(h ^ digitsAsZero(v.getInt32(start + i, true)), 0x01000193);
      for (let k = 4; k <= HASHED_ENDS && k <= n; k += 4) h = Math.imul(h ^ digitsAsZero(v.getInt32(end - k, true)), 0x01000193);
    }
    const slot = mix(h) & this.mask;
    const bytes = this.bytes;
    const base = slot * MAX_SHAPE_BYTES;
    if (this.lengths[slot] === n && this.sameShape(buf, start, n, base)) return this.ids[slot]!;
    let ascii = 0;
    for (let i = 0; i < n; i++) {
      const b = buf[start + i]!;
      ascii |= b;
      bytes[base + i] = b >= 48 && b <= 57 ? DIGIT_ZERO : b;
    }
    if (ascii >= 0x80) {
      this.lengths[slot] = -1;
      return 0;
    }
    return this.store(slot, n);
  }

  /** A DataView of buf, kept for the next call (requests are decoded one at a time). */
  private viewOf(buf: Uint8Array): DataView {
    if (buf !== this.lastBuf) {
      this.lastBuf = buf;
      this.lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.lastView;
  }

  /** Drops the reference to the last input buffer (call when a request is decoded). */
  release(): void {
    this.lastBuf = undefined;
    this.lastView = EMPTY_VIEW;
  }

  /**
   * True when buf[start, start + n) with its digits as '0' equals the stored shape at base (so it
   * is ASCII too), four bytes at a time (digitsAsZero).
   */
  private sameShape(buf: Uint8Array, start: number, n: number, base: number): boolean {
    const v = this.viewOf(buf);
    const table = this.view;
    let i = 0;
    for (; i + 4 <= n; i += 4) if (digitsAsZero(v.getInt32(start + i, true)) !== table.getInt32(base + i, true)) return false;
    const bytes = this.bytes;
    for (; i < n; i++) {
      let b = buf[start + i]!;
      if (b >= 48 && b <= 57) b = DIGIT_ZERO;
      if (bytes[base + i] !== b) return false;
    }
    return true;
  }

  /** Shape id of a string, the same as ofBytes gives for its UTF-8 bytes. */
  ofString(s: string): number {
    const n = s.length;
    if (n <= 0 || n > MAX_SHAPE_BYTES) return 0;
    let ascii = 0;
    for (let i = 0; i < n; i++) ascii |= s.charCodeAt(i);
    if (ascii >= 0x80) return 0;
    // The same hash as ofBytes, with the words built from the (ASCII) characters.
    let h = Math.imul(n, 0x9e3779b1);
    if (n < 4) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        h = Math.imul(h ^ (c >= 48 && c <= 57 ? DIGIT_ZERO : c), 0x01000193);
      }
    } else {
      const head = Math.min(n, HASHED_ENDS);
      for (let i = 0; i + 4 <= head; i += 4) h = Math.imul(h ^ digitsAsZero(wordAt(s, i)), 0x01000193);
      for (let k = 4; k <= HASHED_ENDS && k <= n; k += 4) h = Math.imul(h ^ digitsAsZero(wordAt(s, n - k)), 0x01000193);
    }
    const slot = mix(h) & this.mask;
    const bytes = this.bytes;
    const base = slot * MAX_SHAPE_BYTES;
    if (this.lengths[slot] === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        let c = s.charCodeAt(i);
        if (c >= 48 && c <= 57) c = DIGIT_ZERO;
        if (bytes[base + i] !== c) {
          same = false;
          break;
        }
      }
      if (same) return this.ids[slot]!;
    }
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      bytes[base + i] = c >= 48 && c <= 57 ? DIGIT_ZERO : c;
    }
    return this.store(slot, n);
  }

  private store(slot: number, n: number): number {
    this.lengths[slot] = n;
    const id = this.nextId++;
    this.ids[slot] = id;
    return id;
  }
}

/**
 * A little-endian word of four bytes with every digit byte set to '0'. In x = w ^ '0000' a byte is
 * a digit exactly when it is below 10, which ((x & 0x7f..) + 0x76..) | x shows in each byte's high
 * bit without carries between bytes.
 */
function digitsAsZero(w: number): number {
  const x = w ^ 0x30303030;
  const nonDigit = (((x & 0x7f7f7f7f) + 0x76767676) | x) & 0x80808080;
  const digits = ((~nonDigit & 0x80808080) >>> 7) * 0xff;
  return (w & ~digits) | (0x30303030 & digits);
}

/** Characters i .. i+3 of an ASCII string as the little-endian word their bytes make. */
function wordAt(s: string, i: number): number {
  return s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
}

function mix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
}

/** The table the log decoders share (decoding is synchronous: one request at a time). */
export const bodyShapes = new BodyShapes();
