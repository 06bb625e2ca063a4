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

export class BodyShapes {
  private readonly mask: number;
  private readonly lengths: Int32Array;
  private readonly ids: Float64Array;
  private readonly bytes: Uint8Array;
  private nextId = 1;

  constructor(slots = 4096) {
    let size = 1;
    while (size < slots) size <<= 1;
    this.mask = size - 1;
    this.lengths = new Int32Array(size).fill(-1);
    this.ids = new Float64Array(size);
    this.bytes = new Uint8Array(size * MAX_SHAPE_BYTES);
  }

  /** Shape id of the UTF-8 text buf[start, end); 0 when it is empty, too long or not ASCII. */
  ofBytes(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n <= 0 || n > MAX_SHAPE_BYTES) return 0;
    // The slot is chosen by the length and both ends (HASHED_ENDS bytes each); the whole body
    // is compared, which also checks it is ASCII.
    let h = Math.imul(n, 0x9e3779b1);
    const head = start + Math.min(n, HASHED_ENDS);
    for (let i = start; i < head; i++) {
      const b = buf[i]!;
      h = Math.imul(h ^ (b >= 48 && b <= 57 ? DIGIT_ZERO : b), 0x01000193);
    }
    for (let i = Math.max(head, end - HASHED_ENDS); i < end; i++) {
      const b = buf[i]!;
      h = Math.imul(h ^ (b >= 48 && b <= 57 ? DIGIT_ZERO : b), 0x01000193);
    }
    const slot = mix(h) & this.mask;
    const bytes = this.bytes;
    const base = slot * MAX_SHAPE_BYTES;
    if (this.lengths[slot] === n) {
      let i = 0;
      for (; i < n; i++) {
        let b = buf[start + i]!;
        if (b >= 48 && b <= 57) b = DIGIT_ZERO;
        if (bytes[base + i] !== b) break;
      }
      // Stored shapes are ASCII, so a full match is too.
      if (i === n) return this.ids[slot]!;
    }
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

  /** Shape id of a string, the same as ofBytes gives for its UTF-8 bytes. */
  ofString(s: string): number {
    const n = s.length;
    if (n <= 0 || n > MAX_SHAPE_BYTES) return 0;
    let ascii = 0;
    for (let i = 0; i < n; i++) ascii |= s.charCodeAt(i);
    if (ascii >= 0x80) return 0;
    let h = Math.imul(n, 0x9e3779b1);
    const head = Math.min(n, HASHED_ENDS);
    for (let i = 0; i < head; i++) {
      const c = s.charCodeAt(i);
      h = Math.imul(h ^ (c >= 48 && c <= 57 ? DIGIT_ZERO : c), 0x01000193);
    }
    for (let i = Math.max(head, n - HASHED_ENDS); i < n; i++) {
      const c = s.charCodeAt(i);
      h = Math.imul(h ^ (c >= 48 && c <= 57 ? DIGIT_ZERO : c), 0x01000193);
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

function mix(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
}

/** The table the log decoders share (decoding is synchronous: one request at a time). */
export const bodyShapes = new BodyShapes();
