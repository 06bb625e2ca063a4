import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OtlpDecodeError, decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { decodeTraceRequestJson, decodeTraceRequestObject } from '../../src/receive/otlp-json.js';
import { encodeJson, encodeProto, realisticRequest, requestJsonObject, type ResourceSpec, type SpanSpec } from './fixtures/otlp-request.js';
import { T, TRACE_A, edgeRequest } from './fixtures/edge-request.js';

const opts = { maxAttributesPerSpan: 128 };

function oneSpan(span: Partial<SpanSpec>): ResourceSpec[] {
  return [{ attributes: { 'service.name': 'svc' }, spans: [{ traceId: TRACE_A, spanId: '0102030405060708', name: 'op', startNs: T, endNs: T + 1_000_000n, ...span }] }];
}

/** Renames every lowerCamelCase key of an OTLP/JSON object to snake_case. */
function toSnake(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toSnake);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), toSnake(x)]));
}

describe('protobuf and JSON encodings give identical beats', () => {
  it('for a request exercising every mapping rule', () => {
    const proto = decodeTraceRequestProto(encodeProto(edgeRequest()), opts);
    const json = decodeTraceRequestJson(encodeJson(edgeRequest()), opts);
    expect(json).toStrictEqual(proto);
    expect(proto.rejected).toBeGreaterThan(0);
  });

  it('for realistic beat requests, as string and as bytes', () => {
    const req = realisticRequest(300, 5);
    const proto = decodeTraceRequestProto(encodeProto(req), opts);
    expect(decodeTraceRequestJson(encodeJson(req), opts)).toStrictEqual(proto);
    expect(decodeTraceRequestJson(new TextEncoder().encode(encodeJson(req)), opts)).toStrictEqual(proto);
  });

  it('for snake_case field names', () => {
    const proto = decodeTraceRequestProto(encodeProto(edgeRequest()), opts);
    expect(decodeTraceRequestJson(JSON.stringify(toSnake(requestJsonObject(edgeRequest()))), opts)).toStrictEqual(proto);
  });
});

describe('decodeTraceRequestJson: OTLP/JSON specifics', () => {
  it('accepts upper-case hex ids, numeric times and ints, and status code names', () => {
    const doc = requestJsonObject(oneSpan({}));
    const span = (doc as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    span['traceId'] = TRACE_A.toUpperCase();
    span['startTimeUnixNano'] = 1_000_000;
    span['endTimeUnixNano'] = 3_500_000;
    span['status'] = { code: 'STATUS_CODE_ERROR', message: 'bad' };
    span['attributes'] = [
      { key: 'n', value: { intValue: 5 } },
      { key: 'd', value: { doubleValue: 'Infinity' } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'empty', value: {} },
      { key: 'nokey' },
      { key: 'kv', value: { kvlistValue: { values: [] } } },
    ];
    const [beat] = decodeTraceRequestObject(doc, opts).beats;
    expect(beat!.traceId).toBe(TRACE_A);
    expect(beat!.startMs).toBe(1);
    expect(beat!.durationMs).toBe(2.5);
    expect(beat!.status).toBe(2);
    expect(beat!.error?.message).toBe('bad');
    expect(beat!.attributes).toEqual({ n: 5, d: Infinity, nan: NaN });
  });

  it('treats missing resourceSpans, spans and resource as empty', () => {
    expect(decodeTraceRequestJson('{}', opts).spans).toBe(0);
    expect(decodeTraceRequestJson('{"resourceSpans":[{"scopeSpans":[{}]}]}', opts).spans).toBe(0);
    const r = decodeTraceRequestJson(
      `{"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[{"traceId":"${TRACE_A}","spanId":"0102030405060708","startTimeUnixNano":"5","endTimeUnixNano":"6","status":{}}]}]}]}`,
      opts,
    );
    expect(r.beats[0]!.service).toBe('unknown_service');
    expect(r.beats[0]!.handler).toBe('unknown_handler');
  });

  it('rejects spans with non-hex ids', () => {
    const r = decodeTraceRequestJson(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz${TRACE_A.slice(2)}","spanId":"0102030405060708","startTimeUnixNano":"5","endTimeUnixNano":"6"}]}]}]}`, opts);
    expect(r.rejected).toBe(1);
    expect(r.rejectMessage).toBe('span 0: invalid trace_id (not hex)');
  });
});

describe('decodeTraceRequestJson: fuzzed input', () => {
  it('either decodes or throws OtlpDecodeError for any JSON inside the request structure', () => {
    const spanArb = fc.dictionary(
      fc.constantFrom('traceId', 'spanId', 'parentSpanId', 'name', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'events', 'status', 'kind'),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(fc.array(spanArb, { maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), (spans, resource) => {
        const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] });
        try {
          const r = decodeTraceRequestJson(body, opts);
          expect(r.beats.length + r.rejected).toBe(r.spans);
        } catch (err) {
          expect(err).toBeInstanceOf(OtlpDecodeError);
        }
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('decodeTraceRequestJson: malformed requests', () => {
  const span = (extra: string): string =>
    `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"${TRACE_A}","spanId":"0102030405060708","startTimeUnixNano":"5","endTimeUnixNano":"6"${extra}}]}]}]}`;

  it.each([
    ['not JSON', '{"resourceSpans": [', /not JSON/],
    ['not an object', '[1,2]', /ExportTraceServiceRequest: expected an object/],
    ['resourceSpans not an array', '{"resourceSpans": {}}', /resourceSpans: expected an array/],
    ['span not an object', '{"resourceSpans":[{"scopeSpans":[{"spans":[3]}]}]}', /spans\[\]: expected an object/],
    ['id not a string', span(',"parentSpanId":5'), /parent_span_id: expected a string/],
    ['bad time', span(',"x":1').replace('"5"', '"5.5"'), /startTimeUnixNano: expected an unsigned integer/],
    ['time above 2^64', span('').replace('"5"', '"18446744073709551616"'), /out of range/],
    ['stringValue not a string', span(',"attributes":[{"key":"k","value":{"stringValue":1}}]'), /stringValue must be a string/],
    ['boolValue not a boolean', span(',"attributes":[{"key":"k","value":{"boolValue":"yes"}}]'), /boolValue must be a boolean/],
    ['intValue not an integer', span(',"attributes":[{"key":"k","value":{"intValue":"1.5"}}]'), /intValue must be an integer/],
    ['doubleValue not a number', span(',"attributes":[{"key":"k","value":{"doubleValue":"x"}}]'), /doubleValue must be a number/],
    ['status code unknown name', span(',"status":{"code":"BROKEN"}'), /status code/],
    ['status code inherited property name', span(',"status":{"code":"constructor"}'), /status code/],
    ['attribute not an object', span(',"attributes":[1]'), /KeyValue: expected an object/],
  ])('%s', (_name, body, message) => {
    expect(() => decodeTraceRequestJson(body, opts)).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequestJson(body, opts)).toThrow(message);
  });

  it('rejects invalid UTF-8 bodies', () => {
    expect(() => decodeTraceRequestJson(Uint8Array.from([0x7b, 0xff, 0x7d]), opts)).toThrow(/request body: invalid UTF-8/);
  });

  it('rejects spans with more attributes than allowed', () => {
    const attributes: Record<string, number> = { a: 1, b: 2, c: 3 };
    expect(() => decodeTraceRequestJson(encodeJson(oneSpan({ attributes })), { maxAttributesPerSpan: 2 })).toThrow(/span 0: more than 2 attributes/);
  });
});
