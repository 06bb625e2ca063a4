import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import fc from 'fast-check';
import { BeatSchema, MAX_BEAT_ATTRIBUTES, type Beat } from '../../src/model/beat.js';
import { OtlpDecodeError, decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { errorFingerprint } from '../../src/receive/fingerprint.js';
import { encodeProto, otlpRoot, realisticRequest, type ResourceSpec, type SpanSpec } from './fixtures/otlp-request.js';
import { T, TRACE_A, TRACE_B, edgeRequest } from './fixtures/edge-request.js';

const opts = { maxAttributesPerSpan: 128 };

function bySpanId(beats: Beat[], spanId: string): Beat {
  const beat = beats.find((b) => b.spanId === spanId);
  if (beat === undefined) throw new Error(`no beat for span ${spanId}`);
  return beat;
}

function oneSpan(span: Partial<SpanSpec>, resource: ResourceSpec['attributes'] = { 'service.name': 'svc' }): ResourceSpec[] {
  return [{ attributes: resource, spans: [{ traceId: TRACE_A, spanId: '0102030405060708', name: 'op', startNs: T, endNs: T + 1_000_000n, ...span }] }];
}

describe('decodeTraceRequestProto: MusicalConductor beat spans', () => {
  it('decodes a realistic request into schema-valid beats', () => {
    const result = decodeTraceRequestProto(encodeProto(realisticRequest(512)), opts);
    expect(result.spans).toBe(512);
    expect(result.rejected).toBe(0);
    expect(result.rejectMessage).toBe('');
    expect(result.beats).toHaveLength(512);
    for (const beat of result.beats) expect(() => BeatSchema.parse(beat)).not.toThrow();
    const failed = result.beats.filter((b) => b.status === 2);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.error?.type).toBe('TypeError');
  });

  it('maps every beat.* attribute and keeps the others within bounds', () => {
    const beats = decodeTraceRequestProto(encodeProto(edgeRequest()), opts).beats;
    const beat = bySpanId(beats, '1111111111111111');
    expect(beat).toEqual({
      service: 'checkout',
      serviceVersion: '2.0.1',
      sequence: 'canvas-component-create-symphony',
      movement: 'Create',
      beatNumber: 2,
      event: 'canvas:component:create',
      handler: 'createNode',
      plugin: 'CanvasComponentPlugin',
      kind: 'stage-crew',
      correlationId: 'corr-9',
      startMs: 1760000000123.4568,
      durationMs: 8,
      status: 0,
      error: undefined,
      traceId: TRACE_B,
      spanId: '1111111111111111',
      parentSpanId: '2222222222222222',
      spanName: 'canvas:component:create',
      spanKind: 1,
      // beat.sequence.id has no Beat field, so it is kept; ids and unknown beat.* keys are not.
      attributes: { 'beat.sequence.id': 'canvas-create', 'deployment.environment': 'staging' },
    });
  });
});

describe('decodeTraceRequestProto: plain OpenTelemetry spans', () => {
  const result = decodeTraceRequestProto(encodeProto(edgeRequest()), opts);
  const beats = result.beats;

  it('falls back to span name for handler and root span name for sequence', () => {
    const root = bySpanId(beats, '00f067aa0ba902b7');
    expect(root.handler).toBe('POST /checkout');
    expect(root.sequence).toBe('POST /checkout');
    expect(root.correlationId).toBe('r-77');
    expect(root.status).toBe(1);
    expect(root.durationMs).toBe(12.5);
    expect(root.attributes).toEqual({ 'http.method': 'POST', 'http.status_code': 200, 'deployment.environment': 'staging' });
  });

  it('takes the handler from code.function.name, then code.namespace + code.function, then code.function', () => {
    expect(bySpanId(beats, '00f067aa0ba902b8').handler).toBe('OrderRepo.save');
    expect(bySpanId(beats, '00f067aa0ba902b9').handler).toBe('PaymentService.charge');
    expect(bySpanId(beats, '00f067aa0ba902ba').handler).toBe('sendMail');
    expect(bySpanId(beats, '6666666666666666').handler).toBe('unknown_handler');
  });

  it('resolves the sequence from the root span anywhere in the request, else leaves it empty', () => {
    expect(bySpanId(beats, '00f067aa0ba902b8').sequence).toBe('POST /checkout');
    expect(bySpanId(beats, '00f067aa0ba902ba').sequence).toBe('POST /checkout');
    // The trace C root (all-zero parent) comes after its children on the wire.
    expect(bySpanId(beats, '00000000000000ff').parentSpanId).toBe('');
    expect(bySpanId(beats, '6666666666666666').sequence).toBe('zero-parent root');
    expect(bySpanId(beats, '4444444444444444').sequence).toBe('legacy-seq');
    expect(bySpanId(beats, '3333333333333333').sequence).toBe('');
  });

  it('reads service from the resource, defaulting to unknown_service', () => {
    expect(bySpanId(beats, '8888888888888888').service).toBe('unknown_service');
    expect(bySpanId(beats, '8888888888888888').serviceVersion).toBe('');
    expect(bySpanId(beats, '8888888888888888').attributes).toEqual({});
  });

  it('parses beat.number strings and ignores beat.kind values too long to be a kind', () => {
    const beat = bySpanId(beats, '00f067aa0ba902ba');
    expect(beat.beatNumber).toBe(3);
    expect(beat.kind).toBe('');
  });

  it('keeps short scalar attributes and drops long strings, arrays, bytes and high-cardinality keys', () => {
    expect(bySpanId(beats, '00f067aa0ba902b8').attributes).toEqual({ 'db.system': 'postgresql', 'deployment.environment': 'staging' });
    expect(bySpanId(beats, '00f067aa0ba902b9').attributes).toEqual({ ratio: 0.25, retry: true, neg: -42, 'deployment.environment': 'staging' });
  });

  it('correlation id prefers beat.correlation_id over request.id', () => {
    expect(bySpanId(beats, '00000000000000ff').correlationId).toBe('c-1');
  });
});

describe('decodeTraceRequestProto: errors', () => {
  const beats = decodeTraceRequestProto(encodeProto(edgeRequest()), opts).beats;

  it('takes error details from the first exception event', () => {
    const beat = bySpanId(beats, '00f067aa0ba902b9');
    expect(beat.status).toBe(2);
    expect(beat.error).toEqual({
      type: 'CardDeclined',
      message: 'Card 4242 declined for order 991',
      topFrame: 'charge (/srv/src/payment.ts:88)',
      stacktrace: 'CardDeclined: Card 4242 declined\n    at charge (/srv/src/payment.ts:88:13)\n    at run (/srv/node_modules/x/index.js:1:1)',
      fingerprint: errorFingerprint('CardDeclined', 'Card 1 declined for order 2', 'charge (/srv/src/payment.ts:88)'),
    });
  });

  it('falls back to the status message, and to exception.* span attributes', () => {
    expect(bySpanId(beats, '00f067aa0ba902ba').error).toMatchObject({ type: 'Error', message: 'SMTP 421 for user 5', topFrame: '', stacktrace: '' });
    expect(bySpanId(beats, '4444444444444444').error).toMatchObject({ type: 'LegacyError', message: 'id 123 bad' });
  });

  it('ignores exception events on spans that did not fail', () => {
    expect(bySpanId(beats, '6666666666666666').error).toBeUndefined();
  });
});

describe('decodeTraceRequestProto: partial rejects', () => {
  it('counts unusable spans and says why', () => {
    const result = decodeTraceRequestProto(encodeProto(edgeRequest()), opts);
    expect(result.spans).toBe(16);
    expect(result.rejected).toBe(6);
    expect(result.beats).toHaveLength(10);
    expect(result.rejectMessage).toBe('span 8: invalid trace_id (2 bytes); span 9: invalid trace_id (all zeros); span 10: missing span_id (and 3 more)');
  });

  it('reports each rejection reason', () => {
    const reason = (span: Partial<SpanSpec>): string => decodeTraceRequestProto(encodeProto(oneSpan(span)), opts).rejectMessage;
    expect(reason({ endNs: T - 1n })).toBe('span 0: end_time_unix_nano before start_time_unix_nano');
    expect(reason({ startNs: 0n, endNs: 0n })).toBe('span 0: missing start_time_unix_nano');
    expect(reason({ parentSpanId: '01' })).toBe('span 0: invalid parent_span_id (1 bytes)');
    expect(reason({ spanId: '00000000000000' })).toBe('span 0: invalid span_id (7 bytes)');
    expect(reason({ spanId: '0000000000000000' })).toBe('span 0: invalid span_id (all zeros)');
    expect(reason({ traceId: '' })).toBe('span 0: missing trace_id');
  });

  it('accepts an empty request', () => {
    expect(decodeTraceRequestProto(new Uint8Array(0), opts)).toEqual({ beats: [], spans: 0, rejected: 0, rejectMessage: '' });
  });
});

describe('decodeTraceRequestProto: wire details', () => {
  it('converts times exactly and reads 64-bit integers', () => {
    const [beat] = decodeTraceRequestProto(encodeProto(oneSpan({ startNs: T, endNs: T + 1_500_001n, attributes: { big: { int: '-9007199254740993' }, small: { int: 7 } } })), opts).beats;
    expect(beat!.startMs).toBe(Number(T) / 1e6);
    expect(beat!.durationMs).toBe(1.500001);
    expect(beat!.attributes).toEqual({ big: -9007199254740992, small: 7 });
  });

  it('reads a resource that follows its scope_spans on the wire', () => {
    const root = otlpRoot();
    const Resource = root.lookupType('opentelemetry.proto.resource.v1.Resource');
    const ScopeSpans = root.lookupType('opentelemetry.proto.trace.v1.ScopeSpans');
    const resourceBytes = Resource.encode(Resource.fromObject({ attributes: [{ key: 'service.name', value: { string_value: 'late' } }] })).finish();
    const scopeBytes = ScopeSpans.encode(
      ScopeSpans.fromObject({ spans: [{ trace_id: Buffer.from(TRACE_A, 'hex'), span_id: Buffer.from('0102030405060708', 'hex'), name: 'x', start_time_unix_nano: '5', end_time_unix_nano: '6' }] }),
    ).finish();
    const rs = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(scopeBytes).uint32((1 << 3) | 2).bytes(resourceBytes).uint32((3 << 3) | 2).string('https://schema').finish();
    const req = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rs).uint32((99 << 3) | 0).uint32(1).finish();
    const result = decodeTraceRequestProto(req, opts);
    expect(result.beats.map((b) => [b.service, b.durationMs])).toEqual([['late', 0.000001]]);
  });

  it('decodes a request inside a larger buffer (Buffer pool offsets)', () => {
    const bytes = encodeProto(oneSpan({ name: 'offset' }));
    const big = new Uint8Array(bytes.length + 20);
    big.set(bytes, 13);
    const result = decodeTraceRequestProto(big.subarray(13, 13 + bytes.length), opts);
    expect(result.beats[0]!.handler).toBe('offset');
    expect(result.beats[0]!.traceId).toBe(TRACE_A);
  });

  it('gives the same beats when every tag and length is a padded (non-minimal) varint', () => {
    // Padded varints take the decoder's general path instead of its one-byte fast path.
    const varint = (n: number, padded: boolean): number[] => {
      const out: number[] = [];
      for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
      return padded ? [...out, n | 0x80, 0] : [...out, n];
    };
    const build = (padded: boolean): Uint8Array => {
      const len = (field: number, bytes: number[]): number[] => [...varint((field << 3) | 2, padded), ...varint(bytes.length, padded), ...bytes];
      const str = (field: number, text: string): number[] => len(field, [...Buffer.from(text)]);
      const hex = (field: number, h: string): number[] => len(field, [...Buffer.from(h, 'hex')]);
      const fixed64 = (field: number, v: bigint): number[] => {
        const b = Buffer.alloc(8);
        b.writeBigUInt64LE(v);
        return [...varint((field << 3) | 1, padded), ...b];
      };
      const kv = (key: string, value: number[], field = 9): number[] => len(field, [...str(1, key), ...len(2, value)]);
      const event = len(11, [...fixed64(1, T), ...str(2, 'exception'), ...len(3, [...str(1, 'exception.type'), ...len(2, str(1, 'PadError'))])]);
      const span = [
        ...hex(1, TRACE_A),
        ...hex(2, '0102030405060708'),
        ...hex(4, '0807060504030201'),
        ...str(5, 'padded.op'),
        ...fixed64(7, T),
        ...fixed64(8, T + 2_000_000n),
        ...kv('beat.handler', str(1, 'padHandler')),
        ...kv('beat.sequence', str(1, 'padSeq')),
        ...kv('beat.number', [...varint(3 << 3, padded), ...varint(3, padded)]),
        ...kv('beat.kind', str(1, 'pure')),
        ...kv('http.route', str(1, '/pad')),
        ...event,
        ...len(15, [...str(2, 'failed'), ...varint(3 << 3, padded), ...varint(2, padded)]),
      ];
      const resource = len(1, kv('service.name', str(1, 'pad-svc'), 1));
      return Uint8Array.from(len(1, [...resource, ...len(2, len(2, span))]));
    };
    const plain = decodeTraceRequestProto(build(false), opts);
    const padded = decodeTraceRequestProto(build(true), opts);
    const again = decodeTraceRequestProto(build(false), opts);
    expect(plain.rejected).toBe(0);
    expect(padded.beats).toEqual(plain.beats);
    expect(again.beats).toEqual(plain.beats);
    expect(plain.beats[0]).toMatchObject({
      service: 'pad-svc',
      handler: 'padHandler',
      sequence: 'padSeq',
      beatNumber: 3,
      kind: 'pure',
      parentSpanId: '0807060504030201',
      durationMs: 2,
      status: 2,
      attributes: { 'http.route': '/pad' },
    });
    expect(plain.beats[0]!.error?.type).toBe('PadError');
  });

  it('decodes names with multi-byte UTF-8', () => {
    const [beat] = decodeTraceRequestProto(encodeProto(oneSpan({ name: '🎼 Größe', attributes: { 'beat.handler': 'überprüfen' } })), opts).beats;
    expect(beat!.spanName).toBe('🎼 Größe');
    expect(beat!.handler).toBe('überprüfen');
  });

  it('keeps at most MAX_BEAT_ATTRIBUTES attributes', () => {
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 40; i++) attributes[`a${i}`] = i;
    const [beat] = decodeTraceRequestProto(encodeProto(oneSpan({ attributes })), opts).beats;
    expect(Object.keys(beat!.attributes)).toHaveLength(MAX_BEAT_ATTRIBUTES);
    expect(beat!.attributes['a0']).toBe(0);
  });

  it('is not fooled when the caller reuses its buffer for the next request', () => {
    const buf = Buffer.from(encodeProto(oneSpan({ name: 'name-aaaa', attributes: { k: 'aaaa', 'beat.handler': 'h-aaaa' } })));
    expect(decodeTraceRequestProto(buf, opts).beats[0]).toMatchObject({ spanName: 'name-aaaa', handler: 'h-aaaa', attributes: { k: 'aaaa' } });
    // Same bytes, same positions, new content: as when a pooled buffer is refilled.
    for (let at = buf.indexOf('aaaa'); at >= 0; at = buf.indexOf('aaaa')) buf.write('bbbb', at);
    expect(decodeTraceRequestProto(buf, opts).beats[0]).toMatchObject({ spanName: 'name-bbbb', handler: 'h-bbbb', attributes: { k: 'bbbb' } });
  });

  it('gives identical beats on repeated decodes (caches do not leak between requests)', () => {
    const bytes = encodeProto(edgeRequest());
    const first = decodeTraceRequestProto(bytes, opts);
    decodeTraceRequestProto(encodeProto(realisticRequest(64, 3)), opts);
    expect(decodeTraceRequestProto(bytes, opts)).toEqual(first);
  });
});

/** Replaces the first occurrence of `ascii` in buf with the same number of bytes from `patch`. */
function patchBytes(buf: Uint8Array, ascii: string, patch: number[]): Uint8Array {
  const out = Uint8Array.from(buf);
  const needle = Buffer.from(ascii);
  const at = Buffer.from(out).indexOf(needle);
  if (at < 0) throw new Error(`${ascii} not in buffer`);
  out.set(patch.slice(0, needle.length), at);
  return out;
}

describe('decodeTraceRequestProto: malformed requests', () => {
  const good = encodeProto(edgeRequest());

  it('throws OtlpDecodeError on every truncation inside a message', () => {
    let thrown = 0;
    for (const cut of [1, 2, 10, 100, good.length >> 1, good.length - 1]) {
      expect(() => decodeTraceRequestProto(good.subarray(0, cut), opts)).toThrow(OtlpDecodeError);
      thrown++;
    }
    expect(thrown).toBe(6);
  });

  it('throws on a wrong wire type for a known field and on group wire types', () => {
    // Span with name (field 5) sent as a varint.
    const span = protobuf.Writer.create().uint32((5 << 3) | 0).uint32(1).finish();
    const scope = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(span).finish();
    const rs = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(scope).finish();
    const req = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(rs).finish();
    expect(() => decodeTraceRequestProto(req, opts)).toThrow(/Span.name: wire type 0, expected 2/);
    expect(() => decodeTraceRequestProto(Uint8Array.from([0x0b, 0x0c]), opts)).toThrow(/unsupported wire type 3/);
    expect(() => decodeTraceRequestProto(Uint8Array.from([0x08, 0x01]), opts)).toThrow(/resource_spans: wire type 0/);
  });

  it('throws on invalid UTF-8 in span names, attribute keys and values, and status messages', () => {
    const bad = [0xff, 0xfe, 0xfd, 0xfc];
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ name: 'abcd' })), 'abcd', bad), opts)).toThrow(/Span.name: invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ attributes: { wxyz: 1 } })), 'wxyz', bad), opts)).toThrow(/KeyValue.key: invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ attributes: { k: 'wxyz' } })), 'wxyz', bad), opts)).toThrow(/attribute value: invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ attributes: { 'user.id': 'wxyz' } })), 'wxyz', bad), opts)).toThrow(/invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ attributes: { k: `wxyz${'a'.repeat(500)}` } })), 'wxyz', bad), opts)).toThrow(/invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({ status: { code: 2, message: 'wxyz' } })), 'wxyz', bad), opts)).toThrow(/Status.message: invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({}, { 'service.name': 'wxyz' })), 'wxyz', bad), opts)).toThrow(/invalid UTF-8/);
  });

  it('throws on invalid UTF-8 in resource attributes it does not keep, also inside arrays', () => {
    const bad = [0xff, 0xfe, 0xfd, 0xfc];
    const host = encodeProto(oneSpan({}, { 'service.name': 'svc', 'host.name': 'wxyz' }));
    expect(decodeTraceRequestProto(host, opts).beats).toHaveLength(1);
    expect(() => decodeTraceRequestProto(patchBytes(host, 'wxyz', bad), opts)).toThrow(/Resource attribute: invalid UTF-8/);
    expect(() => decodeTraceRequestProto(patchBytes(encodeProto(oneSpan({}, { 'service.name': 'svc', wxyz: 1 })), 'wxyz', bad), opts)).toThrow(/KeyValue.key: invalid UTF-8/);
    const args = encodeProto(oneSpan({}, { 'service.name': 'svc', 'process.command_args': { array: ['node', { array: ['wxyz'] }] } }));
    expect(decodeTraceRequestProto(args, opts).beats).toHaveLength(1);
    expect(() => decodeTraceRequestProto(patchBytes(args, 'wxyz', bad), opts)).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequestProto(patchBytes(args, 'wxyz', bad), opts)).toThrow(/AnyValue.string_value: invalid UTF-8/);
  });

  it('throws when a span has more attributes than allowed', () => {
    const attributes: Record<string, number> = {};
    for (let i = 0; i < 11; i++) attributes[`k${i}`] = i;
    const bytes = encodeProto(oneSpan({ attributes }));
    expect(() => decodeTraceRequestProto(bytes, { maxAttributesPerSpan: 10 })).toThrow(/span 0: more than 10 attributes/);
    expect(decodeTraceRequestProto(bytes, { maxAttributesPerSpan: 11 }).beats).toHaveLength(1);
  });
});

describe('decodeTraceRequestProto: fuzzed input', () => {
  const base = encodeProto(edgeRequest());

  it('either decodes or throws OtlpDecodeError on corrupted bytes, never anything else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(base.length),
        (edits, cut) => {
          const buf = Uint8Array.from(base.subarray(0, Math.max(1, cut)));
          for (const [at, value] of edits) if (at < buf.length) buf[at] = value;
          try {
            const r = decodeTraceRequestProto(buf, opts);
            expect(r.beats.length + r.rejected).toBe(r.spans);
          } catch (err) {
            expect(err).toBeInstanceOf(OtlpDecodeError);
          }
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });

  it('decodes random byte strings without crashing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeTraceRequestProto(bytes, opts);
        } catch (err) {
          expect(err).toBeInstanceOf(OtlpDecodeError);
        }
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
