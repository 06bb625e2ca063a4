import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from './protowire.js';

/**
 * String interning for the hot path. Handler, sequence and service names, span names and
 * attribute keys repeat in every request; decoding them again each time would allocate a new
 * string per span. Memory stays bounded: both caches have a fixed number of slots.
 */

/** Strings up to this many UTF-8 bytes go through the byte cache; longer ones are decoded. */
export const MAX_CACHED_BYTES = 64;

const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes UTF-8 bytes, throwing OtlpDecodeError when they are not valid UTF-8 (protobuf string
 * fields must be valid UTF-8; a request that breaks this is malformed).
 */
export function decodeUtf8(buf: Uint8Array, start: number, end: number, field: string): string {
  try {
    return fatalDecoder.decode(buf.subarray(start, end));
  } catch {
    throw new OtlpDecodeError(`${field}: invalid UTF-8`);
  }
}

/** Throws OtlpDecodeError unless the bytes are valid UTF-8, without decoding them. */
export function checkUtf8(buf: Uint8Array, start: number, end: number, field: string): void {
  if (!isUtf8(buf.subarray(start, end))) throw new OtlpDecodeError(`${field}: invalid UTF-8`);
}

// One DataView per input buffer, kept for the buffer seen last (requests are decoded one at a
// time, so this is the one being decoded). Decoders call releaseInput() when done so a large
// request buffer is not kept alive by the cache.
let lastBuf: Uint8Array | undefined;
let lastView: DataView = new DataView(new ArrayBuffer(0));

function viewOf(buf: Uint8Array): DataView {
  if (buf !== lastBuf) {
    lastBuf = buf;
    lastView = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return lastView;
}

/** Drops the reference to the last input buffer (call after decoding a request). */
export function releaseInput(): void {
  lastBuf = undefined;
  lastView = new DataView(new ArrayBuffer(0));
}

/**
 * A table keyed on short byte strings. `find` costs one cheap hash and one comparison and
 * allocates nothing; callers keep their values in arrays indexed by slot. Keys are copied into one
 * preallocated table of 32-bit words (slot * wordsPerSlot), so memory is fixed and colliding keys
 * simply evict each other.
 *
 * A key of 8 bytes or more is stored as its length, its last 8 bytes, then its whole 8-byte blocks
 * from the start: together they cover every byte, so comparing is a few int32 compares. The
 * last bytes go first because that is where values sharing a key ("beat.sequence" = ...)
 * differ, so a mismatch is usually found at the first compare. Shorter keys are kept as bytes.
 *
 * Where a key lives is decided by a hash of all its bytes. Hashing every byte costs about as
 * much as comparing them, so `findHinted` first tries a hint: the slot where a key with the same
 * length, first word and last 8 bytes was found last. A hint is only a guess, checked by the full
 * comparison like any slot, so a stale or colliding hint costs time, never a wrong answer.
 */
export class ByteSlots {
  readonly size: number;
  readonly maxKeyBytes: number;
  private readonly mask: number;
  private readonly wordsPerSlot: number;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  /** Per pair of slots: which one the next miss replaces when both are taken. */
  private readonly turns: Uint8Array;
  /** Indexed by the cheap hash of findHinted: the slot such a key was found in last (-1: none). */
  private readonly hints: Int32Array;
  /** Slot of the last find, hit or miss: where `store` puts the key. */
  slot = 0;

  constructor(slots: number, maxKeyBytes: number) {
    // At least one pair of slots (see find).
    let size = 2;
    while (size < slots) size <<= 1;
    this.size = size;
    this.mask = size - 1;
    this.maxKeyBytes = maxKeyBytes;
    // Word 0 of a slot is the key length (-1 when empty), next to the key so one cache line
    // answers most misses.
    this.wordsPerSlot = ((maxKeyBytes + 3) >> 2) + 3;
    this.words = new Int32Array(size * this.wordsPerSlot);
    this.bytes = new Uint8Array(this.words.buffer);
    for (let i = 0; i < this.words.length; i += this.wordsPerSlot) this.words[i] = -1;
    this.turns = new Uint8Array(size >> 1);
    this.hints = new Int32Array(size).fill(-1);
  }

  /**
   * True when buf[start, end) (non-empty, at most maxKeyBytes) is the key stored in its slot;
   * `slot` is set either way.
   */
  find(buf: Uint8Array, start: number, end: number): boolean {
    if (end - start < 8) return this.findShort(buf, start, end);
    const bv = viewOf(buf);
    return this.findHashed(bv, start, end, bv.getInt32(end - 8, true), bv.getInt32(end - 4, true));
  }

  /**
   * find, trying the hint first. Pays where the same keys come back again and again (span
   * attributes); where near-identical keys take turns, the hint mostly misses and find is cheaper.
   */
  findHinted(buf: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    if (len < 8) return this.findShort(buf, start, end);
    const bv = viewOf(buf);
    const t1 = bv.getInt32(end - 8, true);
    const t2 = bv.getInt32(end - 4, true);
    let h = Math.imul(len ^ bv.getInt32(start, true), 0x9e3779b1) ^ Math.imul(t1, 0x85ebca6b) ^ Math.imul(t2 ^ (t1 >>> 16), 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 13;
    const hints = this.hints;
    const at = h & this.mask;
    const hint = hints[at]!;
    if (hint >= 0 && this.matches(hint, bv, start, end, t1, t2)) {
      this.slot = hint;
      return true;
    }
    const found = this.findHashed(bv, start, end, t1, t2);
    // Hit or miss, the key is in (or about to be stored in) `slot`.
    hints[at] = this.slot;
    return found;
  }

  /** find for a key of 8 bytes or more by the hash of all its bytes (t1, t2: its last 8 bytes). */
  private findHashed(bv: DataView, start: number, end: number, t1: number, t2: number): boolean {
    // Hash every byte (two independent lanes, eight bytes per step, the last eight bytes read
    // overlapping): a hash that skipped bytes would make values differing only there
    // ("checkout:m0:3" / "checkout:m1:3") share a slot and evict each other forever.
    let h1 = Math.imul(end - start, 0x9e3779b1);
    let h2 = 0x7f4a7c15;
    for (let i = start; i + 8 <= end; i += 8) {
      h1 = Math.imul(h1 ^ bv.getInt32(i, true), 0x5bd1e995);
      h2 = Math.imul(h2 ^ bv.getInt32(i + 4, true), 0x85ebca6b);
    }
    h1 = Math.imul(h1 ^ t1, 0x27d4eb2f);
    h2 = Math.imul(h2 ^ t2, 0x165667b1);
    let h = h1 ^ Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x27d4eb2f);
    h ^= h >>> 13;
    // Two-way: a key may sit in either slot of its pair, so two hot keys sharing a hash bucket
    // do not evict each other on every use.
    const pair = h & this.mask & ~1;
    if (this.matches(pair, bv, start, end, t1, t2)) {
      this.slot = pair;
      return true;
    }
    if (this.matches(pair + 1, bv, start, end, t1, t2)) {
      this.slot = pair + 1;
      return true;
    }
    this.slot = this.victim(pair);
    return false;
  }

  private matches(slot: number, bv: DataView, start: number, end: number, t1: number, t2: number): boolean {
    const w = this.words;
    let k = slot * this.wordsPerSlot;
    if (w[k] !== end - start || w[k + 1] !== t1 || w[k + 2] !== t2) return false;
    k += 3;
    for (let i = start; i + 8 <= end; i += 8, k += 2) {
      if (w[k] !== bv.getInt32(i, true) || w[k + 1] !== bv.getInt32(i + 4, true)) return false;
    }
    return true;
  }

  private findShort(buf: Uint8Array, start: number, end: number): boolean {
    let h = Math.imul(end - start, 0x9e3779b1);
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x27d4eb2f);
    h ^= h >>> 13;
    const pair = h & this.mask & ~1;
    if (this.matchesShort(pair, buf, start, end)) {
      this.slot = pair;
      return true;
    }
    if (this.matchesShort(pair + 1, buf, start, end)) {
      this.slot = pair + 1;
      return true;
    }
    this.slot = this.victim(pair);
    return false;
  }

  private matchesShort(slot: number, buf: Uint8Array, start: number, end: number): boolean {
    if (this.words[slot * this.wordsPerSlot] !== end - start) return false;
    const bytes = this.bytes;
    for (let i = start, k = (slot * this.wordsPerSlot + 1) * 4; i < end; i++, k++) if (bytes[k] !== buf[i]) return false;
    return true;
  }

  /** Where a missed key of this pair goes: an empty slot, else the pair's slots in turn. */
  private victim(pair: number): number {
    const w = this.words;
    if (w[pair * this.wordsPerSlot] === -1) return pair;
    if (w[(pair + 1) * this.wordsPerSlot] === -1) return pair + 1;
    const turn = this.turns[pair >> 1]!;
    this.turns[pair >> 1] = turn ^ 1;
    return pair + turn;
  }

  /** Copies buf[start, end) in as the key of the slot the last find looked at. */
  store(buf: Uint8Array, start: number, end: number): void {
    const len = end - start;
    const w = this.words;
    let k = this.slot * this.wordsPerSlot;
    w[k] = len;
    if (len < 8) {
      this.bytes.set(buf.subarray(start, end), (k + 1) * 4);
      return;
    }
    const bv = viewOf(buf);
    w[k + 1] = bv.getInt32(end - 8, true);
    w[k + 2] = bv.getInt32(end - 4, true);
    k += 3;
    for (let i = start; i + 8 <= end; i += 8, k += 2) {
      w[k] = bv.getInt32(i, true);
      w[k + 1] = bv.getInt32(i + 4, true);
    }
  }
}

/**
 * A cache from UTF-8 bytes to the decoded string: a hit allocates nothing; a miss validates,
 * decodes and replaces the slot.
 */
export class Utf8Cache {
  private readonly slots: ByteSlots;
  private readonly values: string[];
  /**
   * A number callers may attach to a cached string (e.g. what an attribute key means), -1 until
   * set; it is dropped with the string when the slot is reused.
   */
  readonly tags: Int32Array;
  /** Slot of the last decode; -1 when that string bypassed the cache (empty or long). */
  lastSlot = -1;
  hits = 0;
  misses = 0;

  constructor(slots = 8192) {
    this.slots = new ByteSlots(slots, MAX_CACHED_BYTES);
    this.values = new Array<string>(this.slots.size).fill('');
    this.tags = new Int32Array(this.slots.size).fill(-1);
  }

  /** The string for buf[start, end); strings longer than MAX_CACHED_BYTES bypass the cache. */
  decode(buf: Uint8Array, start: number, end: number, field: string): string {
    const len = end - start;
    this.lastSlot = -1;
    if (len === 0) return '';
    if (len > MAX_CACHED_BYTES) return decodeUtf8(buf, start, end, field);
    const slots = this.slots;
    const slot = slots.find(buf, start, end) ? slots.slot : -1;
    if (slot >= 0) {
      this.hits++;
      this.lastSlot = slot;
      return this.values[slot]!;
    }
    this.misses++;
    const value = decodeShort(buf, start, end, field);
    slots.store(buf, start, end);
    this.values[slots.slot] = value;
    this.tags[slots.slot] = -1;
    this.lastSlot = slots.slot;
    return value;
  }
}

/** Decodes a short string: a loop for ASCII (the common case), the fatal decoder otherwise. */
export function decodeShort(buf: Uint8Array, start: number, end: number, field: string): string {
  let ascii = 0;
  for (let i = start; i < end; i++) ascii |= buf[i]!;
  if (ascii >= 0x80) return decodeUtf8(buf, start, end, field);
  // One fromCharCode call over an array of the codes: about twice as fast as appending
  // characters one by one, which allocates a string per character.
  const n = end - start;
  const codes = new Array<number>(n);
  for (let i = 0; i < n; i++) codes[i] = buf[start + i]!;
  return String.fromCharCode.apply(null, codes);
}

/**
 * Interns strings that arrive already decoded (OTLP/JSON, log lines), so a long-lived beat
 * window holds one copy of each handler name. When full it starts over, which keeps memory
 * bounded even under an attack of unique names.
 */
export class StringInterner {
  private map = new Map<string, string>();

  constructor(
    private readonly maxEntries = 50_000,
    private readonly maxLength = MAX_CACHED_BYTES,
  ) {}

  intern(s: string): string {
    if (s.length > this.maxLength) return s;
    const found = this.map.get(s);
    if (found !== undefined) return found;
    if (this.map.size >= this.maxEntries) this.map = new Map();
    this.map.set(s, s);
    return s;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Throws OtlpDecodeError unless buf[start, end) is valid UTF-8; ASCII is checked in JS. */
export function validateUtf8(buf: Uint8Array, start: number, end: number, field: string): void {
  if (end - start > MAX_CACHED_BYTES) {
    checkUtf8(buf, start, end, field);
    return;
  }
  let ascii = 0;
  for (let i = start; i < end; i++) ascii |= buf[i]!;
  if (ascii >= 0x80) checkUtf8(buf, start, end, field);
}
