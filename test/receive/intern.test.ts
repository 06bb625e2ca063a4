import { describe, expect, it } from 'vitest';
import { ByteSlots, MAX_CACHED_BYTES, StringInterner, Utf8Cache, checkUtf8, decodeShort, decodeUtf8, validateUtf8 } from '../../src/receive/intern.js';
import { OtlpDecodeError } from '../../src/receive/protowire.js';

const enc = new TextEncoder();

describe('Utf8Cache', () => {
  it('decodes, then returns the same string from cache without decoding again', () => {
    const cache = new Utf8Cache(64);
    const buf = enc.encode('xxhandler.namexx');
    const a = cache.decode(buf, 2, 14, 'f');
    expect(a).toBe('handler.name');
    expect(cache.misses).toBe(1);
    const other = enc.encode('handler.name');
    expect(cache.decode(other, 0, other.length, 'f')).toBe('handler.name');
    expect(cache.hits).toBe(1);
    expect(cache.decode(buf, 0, 0, 'f')).toBe('');
  });

  it('never confuses different strings that share a slot', () => {
    const cache = new Utf8Cache(1); // one slot: every string collides
    const words = ['alpha', 'beta', 'alphb', 'a', 'b', 'ab', 'ba', 'beta', 'alpha'];
    for (const w of words) {
      const buf = enc.encode(w);
      expect(cache.decode(buf, 0, buf.length, 'f')).toBe(w);
    }
  });

  it('decodes multi-byte UTF-8 and rejects invalid UTF-8', () => {
    const cache = new Utf8Cache();
    const buf = enc.encode('größe ✓ 🎼');
    expect(cache.decode(buf, 0, buf.length, 'f')).toBe('größe ✓ 🎼');
    expect(() => cache.decode(Uint8Array.from([0x61, 0xff, 0x62]), 0, 3, 'Span.name')).toThrow(OtlpDecodeError);
    expect(() => cache.decode(Uint8Array.from([0x61, 0xc3]), 0, 2, 'Span.name')).toThrow(/Span.name: invalid UTF-8/);
  });

  it('lets callers tag cached strings, and drops the tag when the slot is reused', () => {
    const cache = new Utf8Cache(1);
    const a = enc.encode('alpha');
    cache.decode(a, 0, a.length, 'f');
    const slot = cache.lastSlot;
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(cache.tags[slot]).toBe(-1);
    cache.tags[slot] = 7;
    cache.decode(a, 0, a.length, 'f');
    expect(cache.tags[cache.lastSlot]).toBe(7);
    const b = enc.encode('beta');
    cache.decode(b, 0, b.length, 'f');
    expect(cache.tags[cache.lastSlot]).toBe(-1);
    cache.decode(b, 0, 0, 'f');
    expect(cache.lastSlot).toBe(-1);
  });

  it('decodes long strings without caching them', () => {
    const cache = new Utf8Cache();
    const long = 'x'.repeat(MAX_CACHED_BYTES + 1);
    const buf = enc.encode(long);
    expect(cache.decode(buf, 0, buf.length, 'f')).toBe(long);
    expect(cache.decode(buf, 0, buf.length, 'f')).toBe(long);
    expect(cache.hits + cache.misses).toBe(0);
  });
});

describe('ByteSlots', () => {
  it('finds stored keys and misses on any differing byte', () => {
    const slots = new ByteSlots(16, 64);
    expect(slots.size).toBe(16);
    const key = enc.encode('beat.plugin=CanvasComponentPlugin');
    expect(slots.find(key, 0, key.length)).toBe(false);
    slots.store(key, 0, key.length);
    expect(slots.find(enc.encode('beat.plugin=CanvasComponentPlugin'), 0, key.length)).toBe(true);
    for (let i = 0; i < key.length; i++) {
      const changed = key.slice();
      changed[i] = changed[i]! ^ 1;
      const hit = slots.find(changed, 0, changed.length);
      expect(hit).toBe(false);
    }
  });
});

describe('UTF-8 helpers', () => {
  it('decodeUtf8 / checkUtf8 / validateUtf8 accept valid and reject invalid bytes', () => {
    const ok = enc.encode('héllo');
    expect(decodeUtf8(ok, 0, ok.length, 'f')).toBe('héllo');
    expect(() => checkUtf8(ok, 0, ok.length, 'f')).not.toThrow();
    expect(() => validateUtf8(ok, 0, ok.length, 'f')).not.toThrow();
    const bad = Uint8Array.from([0x68, 0xed, 0xa0, 0x80]); // encoded surrogate: invalid
    expect(() => decodeUtf8(bad, 0, bad.length, 'f')).toThrow(OtlpDecodeError);
    expect(() => checkUtf8(bad, 0, bad.length, 'f')).toThrow(OtlpDecodeError);
    expect(() => validateUtf8(bad, 0, bad.length, 'f')).toThrow(OtlpDecodeError);
    const longBad = new Uint8Array(200).fill(0x61);
    longBad[150] = 0xff;
    expect(() => validateUtf8(longBad, 0, 200, 'f')).toThrow(/invalid UTF-8/);
    expect(() => validateUtf8(longBad, 0, 100, 'f')).not.toThrow();
    expect(decodeShort(enc.encode('abc'), 0, 3, 'f')).toBe('abc');
    expect(decodeShort(enc.encode('äbc'), 0, 4, 'f')).toBe('äbc');
  });
});

describe('StringInterner', () => {
  it('returns the first instance of equal strings and stays bounded', () => {
    const interner = new StringInterner(3, 10);
    const a = interner.intern(['ha', 'ndler'].join(''));
    expect(interner.intern('handler')).toBe(a);
    interner.intern('b');
    interner.intern('c');
    expect(interner.size).toBe(3);
    interner.intern('d'); // full: starts over
    expect(interner.size).toBe(1);
    expect(interner.intern('a string longer than ten')).toBe('a string longer than ten');
    expect(interner.size).toBe(1);
  });
});

describe('ByteSlots word comparison', () => {
  it('compares every byte of long keys, including the overlapping tail and float-like patterns', () => {
    const slots = new ByteSlots(1, 32);
    const zero = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0x61]);
    const negZero = Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0x61]);
    slots.find(zero, 0, zero.length);
    slots.store(zero, 0, zero.length);
    expect(slots.find(zero, 0, zero.length)).toBe(true);
    expect(slots.find(negZero, 0, negZero.length)).toBe(false);
    const nan = Uint8Array.from([0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0x61, 0x62, 0x63, 0x64]);
    slots.find(nan, 0, nan.length);
    slots.store(nan, 0, nan.length);
    expect(slots.find(nan, 0, nan.length)).toBe(true);
    // Same length, one byte different in each position: never a hit (one slot, so same slot).
    const key = Uint8Array.from({ length: 21 }, (_, i) => 0x41 + i);
    slots.find(key, 0, key.length);
    slots.store(key, 0, key.length);
    for (let i = 0; i < key.length; i++) {
      const other = Uint8Array.from(key);
      other[i] = 0x7a;
      expect(slots.find(other, 0, other.length)).toBe(false);
    }
    // Found at any offset of a larger buffer.
    const shifted = Uint8Array.from([9, 9, 9, ...key, 9]);
    expect(slots.find(shifted, 3, 3 + key.length)).toBe(true);
  });

  it('keeps short keys (under 8 bytes) byte for byte', () => {
    const slots = new ByteSlots(1, 16);
    const a = Uint8Array.from([1, 2, 3]);
    slots.find(a, 0, 3);
    slots.store(a, 0, 3);
    expect(slots.find(Uint8Array.from([0, 1, 2, 3]), 1, 4)).toBe(true);
    expect(slots.find(Uint8Array.from([1, 2, 4]), 0, 3)).toBe(false);
    expect(slots.find(Uint8Array.from([1, 2, 3, 4]), 0, 4)).toBe(false);
  });
});

describe('ByteSlots hashing', () => {
  it('spreads keys that differ only in their middle bytes (no slot thrash)', () => {
    const slots = new ByteSlots(4096, 64);
    const keys = Array.from({ length: 50 }, (_, i) => enc.encode(`beat.event=checkout:m${String(i).padStart(2, '0')}:handler-done`));
    for (const k of keys) {
      slots.find(k, 0, k.length);
      slots.store(k, 0, k.length);
    }
    const found = keys.filter((k) => slots.find(k, 0, k.length)).length;
    expect(found).toBeGreaterThanOrEqual(48);
  });
});

describe('ByteSlots pairs', () => {
  it('keeps two keys of one slot pair and replaces them in turn when a third comes', () => {
    for (const words of [['first-key-000001', 'second-key-00002', 'third-key-000003'], ['ab', 'cd', 'ef']]) {
      const slots = new ByteSlots(2, 32); // a single pair: every key maps to it
      const keys = words.map((w) => enc.encode(w));
      const find = (k: Uint8Array): boolean => slots.find(k, 0, k.length);
      const put = (k: Uint8Array): void => {
        expect(find(k)).toBe(false);
        slots.store(k, 0, k.length);
      };
      put(keys[0]!);
      put(keys[1]!);
      expect(find(keys[0]!)).toBe(true);
      const slotOfFirst = slots.slot;
      expect(find(keys[1]!)).toBe(true);
      expect(slots.slot).not.toBe(slotOfFirst);
      put(keys[2]!);
      expect(find(keys[2]!)).toBe(true);
      expect([find(keys[0]!), find(keys[1]!)].filter(Boolean)).toHaveLength(1);
    }
  });
});
