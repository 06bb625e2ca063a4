import { DDSketch, type DDSketchState } from '../detect/ddsketch.js';

/**
 * Binary form of a latency sketch stored with each rollup bucket. Most buckets hold few distinct
 * latencies, so only non-empty sketch buckets are written, as varint index deltas and counts:
 * a bucket of ten requests takes a few dozen bytes instead of a dense array of a few hundred.
 *
 *   u8 format (1) | f64 alpha | f64 min | f64 max | f64 sum | varint zeroCount | varint n
 *   | zigzag varint first index | n x (varint index delta, varint count)
 *
 * Counts must be whole numbers (rollup sketches count requests; decayed baselines are not stored).
 */
const FORMAT = 1;
const HEADER_BYTES = 1 + 4 * 8;

export class SketchDecodeError extends Error {}

export function encodeSketch(sketch: DDSketch): Buffer {
  const s = sketch.toState();
  const bytes: number[] = [];
  const varint = (v: number): void => {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`sketch counts and deltas must be whole numbers, got ${v}`);
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
  };
  varint(s.zeroCount);
  varint(s.buckets.length);
  let prev = 0;
  s.buckets.forEach(([index, count], i) => {
    if (i === 0) varint(index >= 0 ? index * 2 : -index * 2 - 1);
    else varint(index - prev);
    prev = index;
    varint(count);
  });
  const out = Buffer.alloc(HEADER_BYTES + bytes.length);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleLE(s.alpha, 1);
  out.writeDoubleLE(s.count > 0 ? s.min : 0, 9);
  out.writeDoubleLE(s.count > 0 ? s.max : 0, 17);
  out.writeDoubleLE(s.sum, 25);
  Buffer.from(bytes).copy(out, HEADER_BYTES);
  return out;
}

export function decodeSketch(buf: Uint8Array): DDSketch {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES || b.readUInt8(0) !== FORMAT) throw new SketchDecodeError('not a stored sketch (unknown format or too short)');
  let pos = HEADER_BYTES;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= b.length) throw new SketchDecodeError('stored sketch is truncated');
      const byte = b[pos++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new SketchDecodeError('stored sketch has an oversized number');
    }
  };
  const zeroCount = varint();
  const n = varint();
  const buckets: Array<[number, number]> = [];
  let index = 0;
  let count = zeroCount;
  for (let i = 0; i < n; i++) {
    const raw = varint();
    index = i === 0 ? (raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2) : index + raw;
    const c = varint();
    buckets.push([index, c]);
    count += c;
  }
  const state: DDSketchState = { alpha: b.readDoubleLE(1), min: b.readDoubleLE(9), max: b.readDoubleLE(17), sum: b.readDoubleLE(25), zeroCount, count, buckets };
  if (!(state.alpha > 0 && state.alpha < 1)) throw new SketchDecodeError('stored sketch has an invalid alpha');
  return DDSketch.fromState(state, { integerCounts: true });
}
