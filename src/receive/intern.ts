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

/**
 * A direct-mapped cache from UTF-8 bytes to the decoded string. A hit costs one cheap hash and
 * one byte comparison and allocates nothing; a miss validates, decodes and replaces the slot.
 * Colliding high-cardinality values simply evict each other.
 */
export class Utf8Cache {
  private readonly mask: number;
  private readonly keys: (Uint8Array | undefined)[];
  private readonly values: string[];
  hits = 0;
  misses = 0;

  constructor(slots = 8192) {
    let size = 1;
    while (size < slots) size <<= 1;
    this.mask = size - 1;
    this.keys = new Array<Uint8Array | undefined>(size).fill(undefined);
    this.values = new Array<string>(size).fill('');
  }

  /** The string for buf[start, end); strings longer than MAX_CACHED_BYTES bypass the cache. */
  decode(buf: Uint8Array, start: number, end: number, field: string): string {
    const len = end - start;
    if (len === 0) return '';
    if (len > MAX_CACHED_BYTES) return decodeUtf8(buf, start, end, field);
    // Hash the length, the first two, middle and last two bytes: enough to tell apart the keys
    // and names seen in practice, cheap enough to be much faster than decoding.
    let h = Math.imul(len, 0x9e3779b1);
    h = Math.imul(h ^ buf[start]!, 0x01000193);
    h = Math.imul(h ^ buf[end - 1]!, 0x01000193);
    if (len > 2) {
      h = Math.imul(h ^ buf[start + 1]!, 0x01000193);
      h = Math.imul(h ^ buf[end - 2]!, 0x01000193);
      h = Math.imul(h ^ buf[start + (len >> 1)]!, 0x01000193);
    }
    h ^= h >>> 15;
    const slot = h & this.mask;
    const key = this.keys[slot];
    if (key !== undefined && key.length === len) {
      let i = 0;
      while (i < len && key[i] === buf[start + i]) i++;
      if (i === len) {
        this.hits++;
        return this.values[slot]!;
      }
    }
    this.misses++;
    const value = decodeShort(buf, start, end, field);
    this.keys[slot] = buf.slice(start, end);
    this.values[slot] = value;
    return value;
  }
}

/** Decodes a short string: a loop for ASCII (the common case), the fatal decoder otherwise. */
function decodeShort(buf: Uint8Array, start: number, end: number, field: string): string {
  let ascii = 0;
  for (let i = start; i < end; i++) ascii |= buf[i]!;
  if (ascii >= 0x80) return decodeUtf8(buf, start, end, field);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
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
