import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeLogsRequestJson, decodeLogsRequestObject } from '../../src/receive/otlp-logs-json.js';
import { decodeLogsRequestProto } from '../../src/receive/otlp-logs-proto.js';
import { MAX_LOG_BODY_LENGTH, severityFromText } from '../../src/receive/log-builder.js';
import { OtlpDecodeError } from '../../src/receive/protowire.js';

// The request types come from the project's own proto/ files, so this also checks that they
// describe what the decoder reads.
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(process.cwd(), 'proto', target);
root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto', { keepCase: false });
const Request = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

const OPTS = { maxAttributesPerSpan: 8, nowMs: 42 };
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** One request in both encodings: the JSON form and the protobuf bytes of the same content. */
function request(records: Array<Record<string, unknown>>, protoRecords: Array<Record<string, unknown>>, service = 'cart'): { json: unknown; proto: Uint8Array } {
  const resource = { attributes: [{ key: 'service.name', value: { stringValue: service } }, { key: 'service.version', value: { intValue: 7 } }] };
  const json = { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 's' }, logRecords: records }] }] };
  const proto = Request.encode(Request.fromObject({ resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 's' }, logRecords: protoRecords }] }] })).finish();
  return { json, proto };
}

describe('OTLP logs decoders (protobuf and JSON)', () => {
  it('map the same request to the same events', () => {
    const body = { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'hi' } }, { key: 'n', value: { arrayValue: { values: [{ intValue: 1 }, { boolValue: true }, { doubleValue: 1.5 }] } } }] } };
    const { json, proto } = request(
      [
        { timeUnixNano: '1700000000123000000', severityNumber: 'SEVERITY_NUMBER_ERROR2', severityText: 'E', body: { stringValue: 'db down id=17' }, traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', attributes: [{ key: 'k', value: { stringValue: 'v' } }, { key: 'deep', value: { kvlistValue: { values: [] } } }], eventName: 'db.fail' },
        { observedTimeUnixNano: 1_700_000_000_000_000_000, body, severityNumber: 9 },
        { severityText: 'FATAL', attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }, { key: 'exception.message', value: { stringValue: 'x is undefined' } }] },
      ],
      [
        { timeUnixNano: '1700000000123000000', severityNumber: 18, severityText: 'E', body: { stringValue: 'db down id=17' }, traceId: hex('5b8efff798038103d269b633813fc60c'), spanId: hex('eee19b7ec3c1b174'), attributes: [{ key: 'k', value: { stringValue: 'v' } }, { key: 'deep', value: { kvlistValue: { values: [] } } }], eventName: 'db.fail' },
        { observedTimeUnixNano: '1700000000000000000', body, severityNumber: 9 },
        { severityText: 'FATAL', attributes: [{ key: 'exception.type', value: { stringValue: 'TypeError' } }, { key: 'exception.message', value: { stringValue: 'x is undefined' } }] },
      ],
    );
    const fromJson = decodeLogsRequestObject(json, OPTS);
    const fromProto = decodeLogsRequestProto(proto, OPTS);
    expect(fromProto).toEqual(fromJson);
    expect(fromJson.records).toBe(3);
    const [a, b, c] = fromJson.events;
    expect(a).toEqual({
      service: 'cart',
      serviceVersion: '7',
      timeMs: 1_700_000_000_123,
      severityNumber: 18,
      severityText: 'E',
      body: 'db down id=17',
      bodyShape: expect.any(Number),
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      attributes: { k: 'v', 'event.name': 'db.fail' },
    });
    // The same body text has the same shape id from either decoder; a replaced body has none.
    expect(a!.bodyShape).toBeGreaterThan(0);
    expect(c!.bodyShape).toBe(0);
    expect(b!.timeMs).toBe(1_700_000_000_000);
    expect(b!.body).toBe('{"msg":"hi","n":[1,true,1.5]}');
    expect(c).toMatchObject({ timeMs: 42, severityNumber: 21, body: 'TypeError: x is undefined' });
  });

  it('treats empty and all-zero ids as unbound and rejects ids of the wrong length (partial success)', () => {
    const zero = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', body: { stringValue: 'a' } };
    const { json, proto } = request(
      [zero, { spanId: 'abcd', body: { stringValue: 'b' } }],
      [{ traceId: Buffer.alloc(16), spanId: Buffer.alloc(8), body: { stringValue: 'a' } }, { spanId: hex('abcd'), body: { stringValue: 'b' } }],
    );
    for (const r of [decodeLogsRequestObject(json, OPTS), decodeLogsRequestProto(proto, OPTS)]) {
      expect(r.events.map((e) => [e.body, e.traceId, e.spanId])).toEqual([['a', '', '']]);
      expect(r.rejected).toBe(1);
      expect(r.rejectMessage).toBe('log record 1: invalid span_id (2 bytes)');
    }
    expect(decodeLogsRequestObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'zz' }] }] }] }, OPTS).rejectMessage).toContain('not hex');
  });

  it('keeps attribute keys such as __proto__ as plain keys and bounds bodies', () => {
    const long = 'x'.repeat(MAX_LOG_BODY_LENGTH + 10);
    const attrs = [{ key: '__proto__', value: { stringValue: 'polluted' } }];
    const { json, proto } = request([{ body: { stringValue: long }, attributes: attrs }], [{ body: { stringValue: long }, attributes: attrs }]);
    for (const r of [decodeLogsRequestObject(json, OPTS), decodeLogsRequestProto(proto, OPTS)]) {
      const e = r.events[0]!;
      expect(e.body).toHaveLength(MAX_LOG_BODY_LENGTH);
      expect(Object.keys(e.attributes)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(e.attributes)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    }
  });

  it('refuses malformed requests with a protocol error', () => {
    expect(() => decodeLogsRequestProto(Uint8Array.from([0x0a, 0x05, 0x01]), OPTS)).toThrow(OtlpDecodeError);
    expect(() => decodeLogsRequestJson('{"resourceLogs": [', OPTS)).toThrow(/not JSON/);
    expect(() => decodeLogsRequestJson('{"resourceLogs": {}}', OPTS)).toThrow(/expected an array/);
    expect(() => decodeLogsRequestObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'LOUD' }] }] }] }, OPTS)).toThrow(/SeverityNumber/);
    expect(() => decodeLogsRequestObject({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '-1' }] }] }] }, OPTS)).toThrow(/unsigned/);
    const many = Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    const { json, proto } = request([{ attributes: many }], [{ attributes: many }]);
    expect(() => decodeLogsRequestObject(json, OPTS)).toThrow(/more than 8 attributes/);
    expect(() => decodeLogsRequestProto(proto, OPTS)).toThrow(/more than 8 attributes/);
    // A severity_number with the wrong wire type names the field.
    expect(() => decodeLogsRequestProto(Uint8Array.from([0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x12, 0x01, 0x00]), OPTS)).toThrow(/severity_number/);
  });

  it('gives records that repeat attributes, ids and body shapes the values of their own bytes', () => {
    const t1 = '5b8efff798038103d269b633813fc60c';
    const t2 = '5b8efff798038103d269b633813fc60d';
    const rec = (traceId: string, spanId: string, body: string, thread: string): Record<string, unknown> => ({
      body: { stringValue: body },
      traceId: hex(traceId),
      spanId: hex(spanId),
      attributes: [
        { key: 'thread.name', value: { stringValue: thread } },
        { key: 'n', value: { intValue: 3 } },
      ],
    });
    const records = [
      rec(t1, 'eee19b7ec3c1b174', 'order 17 shipped', 'main'),
      rec(t1, 'eee19b7ec3c1b175', 'order 42 shipped', 'main'),
      rec(t2, 'eee19b7ec3c1b175', 'order 42 shipped!', 'worker-1'),
      rec(t1, 'eee19b7ec3c1b174', 'order 99 shipped', 'main'),
    ];
    const { proto } = request([], records);
    const events = decodeLogsRequestProto(proto, OPTS).events;
    expect(events.map((e) => [e.traceId, e.spanId, e.body, e.attributes])).toEqual([
      [t1, 'eee19b7ec3c1b174', 'order 17 shipped', { 'thread.name': 'main', n: 3 }],
      [t1, 'eee19b7ec3c1b175', 'order 42 shipped', { 'thread.name': 'main', n: 3 }],
      [t2, 'eee19b7ec3c1b175', 'order 42 shipped!', { 'thread.name': 'worker-1', n: 3 }],
      [t1, 'eee19b7ec3c1b174', 'order 99 shipped', { 'thread.name': 'main', n: 3 }],
    ]);
    const accented = decodeLogsRequestProto(request([], [{ body: { stringValue: 'café 12 servi' } }]).proto, OPTS).events[0]!;
    expect([accented.body, accented.bodyShape]).toEqual(['café 12 servi', 0]);
    const [a, b, c, d] = events.map((e) => e.bodyShape);
    expect(a).toBeGreaterThan(0);
    expect([b, d]).toEqual([a, a]);
    expect(c).not.toBe(a);
  });

  it('gives records the attributes the JSON decoder gives them when KeyValues repeat (cached, from templates)', () => {
    const s = (key: string, v: string): Record<string, unknown> => ({ key, value: { stringValue: v } });
    const n = (key: string, v: number): Record<string, unknown> => ({ key, value: { intValue: v } });
    const lists: Array<Array<Record<string, unknown>>> = [
      [s('thread.name', 'main'), n('n', 3)],
      [s('thread.name', 'main'), s('exception.type', 'TypeError'), n('n', 3)],
      [s('__proto__', 'x'), s('thread.name', 'main')],
      [s('thread.name', 'main'), s('long', 'y'.repeat(200)), n('n', 3)],
      [{ key: 'deep', value: { kvlistValue: { values: [] } } }, s('thread.name', 'main')],
      [s('thread.name', 'main'), s('thread.name', 'worker')],
      [],
      Array.from({ length: 20 }, (_, i) => n(`k${i}`, i)),
      [n('n', 3), s('thread.name', 'main')],
    ];
    const records = [...lists, ...lists, ...lists].map((attributes, i) => ({ body: { stringValue: `line ${i}` }, attributes }));
    const { json, proto } = request(records, records);
    const opts = { ...OPTS, maxAttributesPerSpan: 32 };
    const want = decodeLogsRequestObject(json, opts).events.map((e) => e.attributes);
    const got = decodeLogsRequestProto(proto, opts).events;
    expect(got.map((e) => e.attributes)).toEqual(want);
    expect(got.map((e) => Object.keys(e.attributes))).toEqual(want.map((a) => Object.keys(a)));
    expect(Object.keys(want[7]!)).toHaveLength(16);
    for (const e of got) expect(Object.getPrototypeOf(e.attributes)).toBe(Object.prototype);
    // Records with the same plain KeyValues share one frozen object, which nothing can change.
    expect(got[lists.length]!.attributes).toBe(got[0]!.attributes);
    expect(Object.isFrozen(got[0]!.attributes)).toBe(true);
    expect(() => {
      (got[0]!.attributes as Record<string, unknown>)['added'] = true;
    }).toThrow(TypeError);
    expect(decodeLogsRequestProto(proto, opts).events[0]!.attributes).toEqual({ 'thread.name': 'main', n: 3 });
  });

  it('adds the event name to records whose attributes come from a shared template', () => {
    const attributes = [{ key: 'thread.name', value: { stringValue: 'main' } }];
    const records = [0, 1, 2].map((i) => ({ body: { stringValue: `line ${i}` }, attributes, ...(i > 0 ? { eventName: `ev.${i}` } : {}) }));
    const { proto } = request(records, records);
    // The second and third records reuse the first one's template, which beats share frozen.
    const got = decodeLogsRequestProto(proto, OPTS).events.map((e) => e.attributes);
    expect(got).toEqual([{ 'thread.name': 'main' }, { 'thread.name': 'main', 'event.name': 'ev.1' }, { 'thread.name': 'main', 'event.name': 'ev.2' }]);
  });

  it('decodes severity texts of every length from their own bytes, and refuses invalid UTF-8 in them every time', () => {
    const texts = ['E', 'WA', 'ERR', 'INFO', 'DEBUG', 'NOTICE', 'WARNING', 'CRITICAL', 'EMERGENCY', 'Information', 'INFQ', 'WARNINH', 'débogue'];
    const records = [...texts, ...texts, ...[...texts].reverse()].map((severityText, i) => ({ body: { stringValue: `line ${i}` }, severityText }));
    const { json, proto } = request(records, records);
    const want = decodeLogsRequestObject(json, OPTS).events.map((e) => [e.severityText, e.severityNumber]);
    expect(decodeLogsRequestProto(proto, OPTS).events.map((e) => [e.severityText, e.severityNumber])).toEqual(want);
    expect(want.slice(0, texts.length).map(([t]) => t)).toEqual(texts);
    // resource_logs { scope_logs { log_records { severity_text: 0xff } } }
    const invalid = Uint8Array.from([0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x1a, 0x01, 0xff]);
    for (let i = 0; i < 2; i++) expect(() => decodeLogsRequestProto(invalid, OPTS)).toThrow(/severity_text: invalid UTF-8/);
  });

  it('reads severity from common texts', () => {
    expect(['trace', 'DEBUG', 'info', 'Warning', 'error', 'FATAL', 'critical', 'verbose'].map(severityFromText)).toEqual([1, 5, 9, 13, 17, 21, 21, 0]);
  });
});
