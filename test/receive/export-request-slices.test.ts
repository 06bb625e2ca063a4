import { describe, expect, it } from 'vitest';
import { sliceExportRequest } from '../../src/receive/export-request-slices.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { OtlpDecodeError } from '../../src/receive/protowire.js';
import { sliceJsonTraceRequest } from '../../src/receive/json-request-slices.js';
import { decodeTraceRequestObject } from '../../src/receive/otlp-json.js';
import { beatSpans, encodeTraceRequest, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';

const opts = { maxAttributesPerSpan: 1024 };

/** Beats as comparable plain values. */
const plain = (beats: unknown[]): string => JSON.stringify(beats);

describe('sliceExportRequest', () => {
  const request = encodeTraceRequest([beatSpans(300, 1, 'checkout'), beatSpans(7, 2, 'cart'), beatSpans(120, 3, 'search')]);
  const whole = decodeTraceRequestProto(request, opts);

  it('leaves a request at or under the slice size alone', () => {
    expect(sliceExportRequest(request, request.length)).toBeUndefined();
  });

  it('cuts a request into slices that decode to exactly the beats of the whole, resources and scopes repeated', () => {
    const sliced = sliceExportRequest(request, 4096)!;
    expect(sliced.slices.length).toBeGreaterThan(5);
    expect(sliced.records.reduce((a, b) => a + b, 0)).toBe(427);
    const beats = [];
    for (let i = 0; i < sliced.slices.length; i++) {
      expect(sliced.slices[i]!.length).toBeLessThan(4096 + 1024);
      const r = decodeTraceRequestProto(sliced.slices[i]!, opts);
      expect(r.spans).toBe(sliced.records[i]);
      beats.push(...r.beats);
    }
    expect(beats).toHaveLength(whole.beats.length);
    expect(plain(beats)).toBe(plain(whole.beats));
  });

  it('keeps fields that follow the records (schema_url) and skips unknown top-level fields', () => {
    // ResourceSpans.schema_url (3) after the scopes, ScopeSpans.schema_url (3) after the spans, an unknown field 9 at the top.
    const schema = Buffer.from([0x1a, 3, 0x61, 0x62, 0x63]);
    const rs = decodeFrame(request);
    const first = rs[0]!;
    const scope = decodeFrame(first.payload, 2)[0]!;
    const scopeWithSchema = frame(2, Buffer.concat([scope.payload, schema]));
    const resource = Buffer.concat([first.payload.subarray(0, scope.start), scopeWithSchema, schema]);
    const odd = Buffer.concat([Buffer.from([0x48, 1]), frame(1, resource)]);
    const sliced = sliceExportRequest(odd, 2048)!;
    for (const s of sliced.slices) expect(Buffer.from(s).includes(schema)).toBe(true);
    const beats = sliced.slices.flatMap((s) => decodeTraceRequestProto(s, opts).beats);
    expect(plain(beats)).toBe(plain(decodeTraceRequestProto(odd, opts).beats));
  });

  it('reports malformed framing before anything is processed', () => {
    const truncated = request.subarray(0, request.length - 5);
    expect(() => sliceExportRequest(truncated, 4096)).toThrow(OtlpDecodeError);
    const wrongWire = Buffer.concat([Buffer.from([0x08, 1]), request]);
    expect(() => sliceExportRequest(wrongWire, 4096)).toThrow(/resource: wire type 0, expected 2/);
  });
});

describe('sliceJsonTraceRequest', () => {
  const doc = JSON.parse(encodeTraceRequestJsonText([beatSpans(50, 1, 'checkout'), beatSpans(30, 2, 'cart')])) as unknown;

  it('cuts a parsed request into slices of at most maxSpans spans that decode like the whole', () => {
    expect(sliceJsonTraceRequest(doc, 80)).toBeUndefined();
    const sliced = sliceJsonTraceRequest(doc, 20)!;
    expect(sliced.records).toEqual([20, 20, 10, 20, 10]);
    const beats = sliced.slices.flatMap((s) => decodeTraceRequestObject(s, opts).beats);
    expect(plain(beats)).toBe(plain(decodeTraceRequestObject(doc, opts).beats));
  });

  it('leaves requests of unexpected shape to the decoder', () => {
    expect(sliceJsonTraceRequest([], 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resourceSpans: 3 }, 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resourceSpans: [1] }, 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resourceSpans: [{ scopeSpans: {} }] }, 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resource_spans: [{ scope_spans: [{ spans: 'x' }] }] }, 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resource_spans: [{ scope_spans: [null] }] }, 1)).toBeUndefined();
    expect(sliceJsonTraceRequest({ resource_spans: [{ scope_spans: [{ spans: [{}, {}] }, { spans: null }] }] }, 1)!.records).toEqual([1, 1]);
  });
});

/** Top-level length-delimited fields `field` of a message: where each payload starts and its bytes. */
function decodeFrame(buf: Buffer, field = 1): Array<{ start: number; payload: Buffer }> {
  const out: Array<{ start: number; payload: Buffer }> = [];
  let p = 0;
  while (p < buf.length) {
    const start = p;
    const tag = buf[p++]!;
    let len = 0;
    let shift = 0;
    for (;;) {
      const b = buf[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    if (tag >> 3 === field) out.push({ start, payload: buf.subarray(p, p + len) });
    p += len;
  }
  return out;
}

function frame(field: number, payload: Buffer): Buffer {
  const len: number[] = [];
  let n = payload.length;
  while (n >= 0x80) {
    len.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  len.push(n);
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), payload]);
}
