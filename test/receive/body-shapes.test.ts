import { describe, expect, it } from 'vitest';
import { BodyShapes, MAX_SHAPE_BYTES } from '../../src/receive/body-shapes.js';

const bytes = (s: string): [Buffer, number, number] => {
  const b = Buffer.from(`xx${s}yy`);
  return [b, 2, b.length - 2];
};

describe('BodyShapes', () => {
  it('gives bodies equal up to their digits one id, and other bodies other ids', () => {
    const t = new BodyShapes(64);
    const a = t.ofString('order 17 shipped in 35 ms');
    expect(a).toBeGreaterThan(0);
    expect(t.ofString('order 42 shipped in 99 ms')).toBe(a);
    expect(t.ofBytes(...bytes('order 90 shipped in 12 ms'))).toBe(a);
    expect(t.ofString('order 4 shipped in 99 ms')).not.toBe(a);
    expect(t.ofString('order 42 shipped in 99 s')).not.toBe(a);
    expect(t.ofString('order ab shipped in 99 ms')).not.toBe(a);
  });

  it('gives bytes and strings the same id at every length and byte offset', () => {
    const t = new BodyShapes(1 << 12);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 200, MAX_SHAPE_BYTES]) {
      const body = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? String(i % 10) : String.fromCharCode(97 + (i % 26)))).join('');
      const id = t.ofString(body);
      expect(id).toBeGreaterThan(0);
      for (let offset = 0; offset < 4; offset++) {
        const buf = Buffer.from(`${'#'.repeat(offset)}${body.replace(/\d/g, '7')}##`, 'latin1');
        expect(t.ofBytes(buf, offset, offset + n)).toBe(id);
      }
    }
  });

  it('has no id for empty, too long or non-ASCII bodies', () => {
    const t = new BodyShapes(64);
    expect(t.ofString('')).toBe(0);
    expect(t.ofString('x'.repeat(MAX_SHAPE_BYTES + 1))).toBe(0);
    expect(t.ofString('x'.repeat(MAX_SHAPE_BYTES))).toBeGreaterThan(0);
    expect(t.ofString('café 12')).toBe(0);
    expect(t.ofBytes(...bytes('café 12'))).toBe(0);
  });

  it('never hands an id out twice: a shape evicted by a collision comes back with a new id', () => {
    const t = new BodyShapes(2);
    const seen = new Map<number, string>();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) {
        const body = `line ${'#'.repeat(i)} n=${round}`;
        const id = t.ofString(body);
        const shape = body.replace(/\d/g, '0');
        if (seen.has(id)) expect(seen.get(id)).toBe(shape);
        seen.set(id, shape);
      }
    }
    // 150 bodies of 50 shapes through a 2-slot table: most lookups missed and took a fresh id.
    expect(seen.size).toBeGreaterThan(50);
  });

  it('reads bytes next to the digits right (/ : and bytes with the high bit are not digits)', () => {
    // Random bodies over an alphabet of digits and their neighbours, checked against the
    // definition: one id for a body and any digit rewrite of it, never one id for two shapes.
    const alphabet = ['/', '0', '5', '9', ':', 'a', ' ', '\u00b0'];
    let seed = 7;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const t = new BodyShapes(1 << 16);
    const shapeOfId = new Map<number, string>();
    for (let k = 0; k < 3000; k++) {
      const len = 1 + next(23);
      let body = '';
      for (let i = 0; i < len; i++) body += alphabet[next(alphabet.length - (k % 5 === 0 ? 0 : 1))];
      const buf = Buffer.from(body, 'latin1');
      const id = t.ofBytes(buf, 0, buf.length);
      if (body.includes('\u00b0')) {
        expect(id).toBe(0);
        continue;
      }
      const shape = body.replace(/\d/g, '0');
      if (shapeOfId.has(id)) expect(shapeOfId.get(id)).toBe(shape);
      shapeOfId.set(id, shape);
      const rewritten = Buffer.from(body.replace(/\d/g, (d) => String((Number(d) + 3) % 10)), 'latin1');
      expect(t.ofBytes(rewritten, 0, rewritten.length)).toBe(id);
      expect(t.ofString(rewritten.toString('latin1'))).toBe(id);
    }
  });
});
