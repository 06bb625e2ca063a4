import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { OtlpDecodeError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader, int64ToNumber } from '../../src/receive/protowire.js';

function bytes(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
}

describe('WireReader varints', () => {
  it('reads 1- to 5-byte varints as unsigned 32-bit numbers', () => {
    for (const n of [0, 1, 127, 128, 300, 16383, 16384, 2 ** 21, 2 ** 28 + 5, 2 ** 32 - 1]) {
      const buf = protobuf.Writer.create().uint32(n).finish();
      const r = new WireReader(buf);
      expect(r.varint32(buf.length)).toBe(n);
      expect(r.pos).toBe(buf.length);
    }
  });

  it('keeps the low 32 bits of a longer varint and consumes all of it', () => {
    const buf = protobuf.Writer.create().uint64('4294967301').finish(); // 2^32 + 5
    const r = new WireReader(buf);
    expect(r.varint32(buf.length)).toBe(5);
    expect(r.pos).toBe(buf.length);
  });

  it('reads 64-bit varints into lo/hi, including negative int64', () => {
    const buf = protobuf.Writer.create().int64(-2).int64('1099511627776').int64(7).finish();
    const r = new WireReader(buf);
    r.varint64(buf.length);
    expect(int64ToNumber(r.lo, r.hi)).toBe(-2);
    r.varint64(buf.length);
    expect(int64ToNumber(r.lo, r.hi)).toBe(1099511627776);
    r.varint64(buf.length);
    expect([r.lo, r.hi]).toEqual([7, 0]);
  });

  it('rejects truncated and over-long varints', () => {
    expect(() => new WireReader(bytes(0x80)).varint32(1)).toThrow(/truncated varint/);
    expect(() => new WireReader(bytes(0x80, 0x80, 0x80)).varint32(3)).toThrow(OtlpDecodeError);
    expect(() => new WireReader(bytes()).varint32(0)).toThrow(/truncated varint/);
    expect(() => new WireReader(bytes(0xff)).varint64(1)).toThrow(/truncated varint/);
    const eleven = new Uint8Array(11).fill(0xff);
    expect(() => new WireReader(eleven).varint32(11)).toThrow(/longer than 10 bytes/);
    expect(() => new WireReader(eleven).varint64(11)).toThrow(/longer than 10 bytes/);
    const r = new WireReader(eleven);
    r.wireType = WIRE_VARINT;
    expect(() => r.skip(11)).toThrow(/longer than 10 bytes/);
  });

  it('honours the end of the enclosing message, not the end of the buffer', () => {
    // A two-byte varint whose message ends after the first byte.
    expect(() => new WireReader(bytes(0x96, 0x01)).varint32(1)).toThrow(/truncated varint/);
  });
});

describe('WireReader fixed-width values', () => {
  it('reads fixed64, fixed32 and double', () => {
    const buf = protobuf.Writer.create().fixed64('1760000000123456789').fixed32(0xdeadbeef).double(-1.5).finish();
    const r = new WireReader(buf);
    r.fixed64(buf.length);
    expect(BigInt(r.hi) * 2n ** 32n + BigInt(r.lo)).toBe(1760000000123456789n);
    expect(r.fixed32(buf.length)).toBe(0xdeadbeef);
    expect(r.double(buf.length)).toBe(-1.5);
    expect(r.pos).toBe(buf.length);
  });

  it('rejects truncated fixed-width values', () => {
    expect(() => new WireReader(new Uint8Array(7)).fixed64(7)).toThrow(/truncated fixed64/);
    expect(() => new WireReader(new Uint8Array(3)).fixed32(3)).toThrow(/truncated fixed32/);
    expect(() => new WireReader(new Uint8Array(8)).double(4)).toThrow(/truncated fixed64/);
  });
});

describe('WireReader tags, lengths and skipping', () => {
  it('returns field numbers and wire types, 0 at the end', () => {
    const buf = protobuf.Writer.create()
      .uint32((1 << 3) | WIRE_VARINT).uint32(5)
      .uint32((200 << 3) | WIRE_LEN).string('hi')
      .uint32((7 << 3) | WIRE_FIXED64).fixed64(1)
      .uint32((9 << 3) | WIRE_FIXED32).fixed32(1)
      .finish();
    const r = new WireReader(buf);
    const seen: [number, number][] = [];
    let f: number;
    while ((f = r.tag(buf.length)) !== 0) {
      seen.push([f, r.wireType]);
      r.skip(buf.length);
    }
    expect(seen).toEqual([[1, 0], [200, 2], [7, 1], [9, 5]]);
  });

  it('rejects group wire types, invalid wire types and field number 0', () => {
    expect(() => new WireReader(bytes(0x0b)).tag(1)).toThrow(/unsupported wire type 3 for field 1/);
    expect(() => new WireReader(bytes(0x0c)).tag(1)).toThrow(/unsupported wire type 4/);
    expect(() => new WireReader(bytes(0x0e)).tag(1)).toThrow(/unsupported wire type 6/);
    expect(() => new WireReader(bytes(0x02)).tag(1)).toThrow(/field number 0/);
  });

  it('rejects lengths that run past the enclosing message', () => {
    const r = new WireReader(bytes(0x05, 1, 2, 3));
    expect(() => r.delimited(4)).toThrow(/length 5 .* runs past/);
    const r2 = new WireReader(bytes(0x0a, 0x05, 1, 2));
    r2.tag(4);
    expect(() => r2.skip(4)).toThrow(OtlpDecodeError);
  });

  it('rejects truncated fixed-width fields when skipping', () => {
    const r = new WireReader(bytes(0x09, 1, 2));
    r.tag(3);
    expect(() => r.skip(3)).toThrow(/truncated fixed64/);
    const r2 = new WireReader(bytes(0x0d, 1, 2));
    r2.tag(3);
    expect(() => r2.skip(3)).toThrow(/truncated fixed32/);
  });

  it('checks the expected wire type', () => {
    const r = new WireReader(bytes(0x08, 0x01));
    r.tag(2);
    expect(() => r.expect(WIRE_LEN, 'Span.name')).toThrow(/Span.name: wire type 0, expected 2/);
    expect(() => r.expect(WIRE_VARINT, 'x')).not.toThrow();
  });

  it('names the error class', () => {
    expect(new OtlpDecodeError('x').name).toBe('OtlpDecodeError');
    expect(new OtlpDecodeError('x')).toBeInstanceOf(Error);
  });
});
