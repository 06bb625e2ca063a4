import { describe, expect, it } from 'vitest';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { decodeTraceRequestJson } from '../../src/receive/otlp-json.js';
import { spanKindOf } from '../../src/receive/beat-builder.js';
import { encodeJson, encodeProto, requestJsonObject, type ResourceSpec } from './fixtures/otlp-request.js';

const opts = { maxAttributesPerSpan: 128 };
const T = 1_700_000_000_000_000_000n;

function request(kinds: number[]): ResourceSpec[] {
  return [
    {
      attributes: { 'service.name': 'checkout' },
      spans: kinds.map((kind, i) => ({
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: `00000000000000${(i + 1).toString(16).padStart(2, '0')}`,
        name: `op-${i}`,
        startNs: T,
        endNs: T + 1_000_000n,
        kind,
      })),
    },
  ];
}

describe('span kind on beats', () => {
  it('reads Span.kind from protobuf and from OTLP/JSON alike', () => {
    const kinds = [0, 1, 2, 3, 4, 5];
    expect(decodeTraceRequestProto(encodeProto(request(kinds)), opts).beats.map((b) => b.spanKind)).toEqual(kinds);
    expect(decodeTraceRequestJson(encodeJson(request(kinds)), opts).beats.map((b) => b.spanKind)).toEqual(kinds);
  });

  it('accepts SpanKind names in OTLP/JSON and rejects other value types', () => {
    const doc = requestJsonObject(request([1, 1])) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const spans = doc.resourceSpans[0]!.scopeSpans[0]!.spans;
    spans[0]!['kind'] = 'SPAN_KIND_CLIENT';
    spans[1]!['kind'] = 'SPAN_KIND_NOT_A_KIND';
    expect(decodeTraceRequestJson(JSON.stringify(doc), opts).beats.map((b) => b.spanKind)).toEqual([3, 0]);
    spans[1]!['kind'] = { bad: true };
    expect(() => decodeTraceRequestJson(JSON.stringify(doc), opts)).toThrow(/span kind/);
  });

  it('maps wire values outside the enum to unspecified', () => {
    expect([0, 2, 5, 6, 99, -1, 1.5].map(spanKindOf)).toEqual([0, 2, 5, 0, 0, 0, 0]);
    expect(decodeTraceRequestProto(encodeProto(request([7])), opts).beats[0]!.spanKind).toBe(0);
  });
});
