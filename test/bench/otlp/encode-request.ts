/**
 * A small, independent OTLP ExportTraceServiceRequest encoder (protobuf and JSON) for tests and
 * benchmarks, so fixtures do not depend on the decoder under test or on protobufjs.
 */
export type TestAttr = string | number | boolean;

export interface TestEvent {
  name: string;
  timeNs: bigint;
  attributes?: Record<string, TestAttr>;
}

export interface TestSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startNs: bigint;
  endNs: bigint;
  attributes?: Record<string, TestAttr>;
  events?: TestEvent[];
  status?: { code: number; message?: string };
}

export interface TestResourceSpans {
  resource: Record<string, TestAttr>;
  scope?: string;
  spans: TestSpan[];
}

class Writer {
  readonly bytes: number[] = [];

  varint(n: bigint | number): this {
    let v = BigInt(n);
    if (v < 0n) v = BigInt.asUintN(64, v);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  len(field: number, data: Uint8Array | number[]): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.len(field, Buffer.from(s, 'utf8'));
  }

  fixed64(field: number, v: bigint): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    for (const x of b) this.bytes.push(x);
    return this;
  }
}

function anyValue(v: TestAttr): number[] {
  const w = new Writer();
  if (typeof v === 'string') w.str(1, v);
  else if (typeof v === 'boolean') w.tag(2, 0).varint(v ? 1 : 0);
  else if (Number.isInteger(v)) w.tag(3, 0).varint(BigInt(v));
  else w.double(4, v);
  return w.bytes;
}

function keyValue(key: string, v: TestAttr): number[] {
  return new Writer().str(1, key).len(2, anyValue(v)).bytes;
}

function attrs(w: Writer, field: number, a: Record<string, TestAttr> | undefined): void {
  if (a === undefined) return;
  for (const [k, v] of Object.entries(a)) w.len(field, keyValue(k, v));
}

function span(s: TestSpan): number[] {
  const w = new Writer();
  w.len(1, Buffer.from(s.traceId, 'hex')).len(2, Buffer.from(s.spanId, 'hex'));
  if (s.parentSpanId !== undefined && s.parentSpanId !== '') w.len(4, Buffer.from(s.parentSpanId, 'hex'));
  w.str(5, s.name);
  if (s.kind !== undefined) w.tag(6, 0).varint(s.kind);
  w.fixed64(7, s.startNs).fixed64(8, s.endNs);
  attrs(w, 9, s.attributes);
  for (const e of s.events ?? []) {
    const ew = new Writer().fixed64(1, e.timeNs).str(2, e.name);
    attrs(ew, 3, e.attributes);
    w.len(11, ew.bytes);
  }
  if (s.status !== undefined) {
    const sw = new Writer();
    if (s.status.message !== undefined) sw.str(2, s.status.message);
    sw.tag(3, 0).varint(s.status.code);
    w.len(15, sw.bytes);
  }
  return w.bytes;
}

/** Protobuf ExportTraceServiceRequest. */
export function encodeTraceRequest(resources: TestResourceSpans[]): Buffer {
  const req = new Writer();
  for (const rs of resources) {
    const resource = new Writer();
    attrs(resource, 1, rs.resource);
    const scopeSpans = new Writer().len(1, new Writer().str(1, rs.scope ?? 'test-scope').bytes);
    for (const s of rs.spans) scopeSpans.len(2, span(s));
    req.len(1, new Writer().len(1, resource.bytes).len(2, scopeSpans.bytes).bytes);
  }
  return Buffer.from(req.bytes);
}

export interface TestLogRecord {
  timeNs: bigint;
  observedNs?: bigint;
  /** OTLP SeverityNumber: 9 INFO, 13 WARN, 17 ERROR. */
  severityNumber: number;
  severityText: string;
  body: string;
  attributes?: Record<string, TestAttr>;
  traceId?: string;
  spanId?: string;
}

export interface TestResourceLogs {
  resource: Record<string, TestAttr>;
  scope?: string;
  records: TestLogRecord[];
}

/**
 * Protobuf ExportLogsServiceRequest, field numbers from proto/opentelemetry/proto/logs/v1/logs.proto
 * (LogRecord: time_unix_nano 1, severity_number 2, severity_text 3, body 5, attributes 6,
 * trace_id 9, span_id 10, observed_time_unix_nano 11).
 */
export function encodeLogsRequest(resources: TestResourceLogs[]): Buffer {
  const req = new Writer();
  for (const rl of resources) {
    const resource = new Writer();
    attrs(resource, 1, rl.resource);
    const scopeLogs = new Writer().len(1, new Writer().str(1, rl.scope ?? 'test-scope').bytes);
    for (const r of rl.records) {
      const w = new Writer().fixed64(1, r.timeNs).tag(2, 0).varint(r.severityNumber).str(3, r.severityText).len(5, anyValue(r.body));
      attrs(w, 6, r.attributes);
      if (r.traceId !== undefined) w.len(9, Buffer.from(r.traceId, 'hex'));
      if (r.spanId !== undefined) w.len(10, Buffer.from(r.spanId, 'hex'));
      if (r.observedNs !== undefined) w.fixed64(11, r.observedNs);
      scopeLogs.len(2, w.bytes);
    }
    req.len(1, new Writer().len(1, resource.bytes).len(2, scopeLogs.bytes).bytes);
  }
  return Buffer.from(req.bytes);
}

function jsonAttrs(a: Record<string, TestAttr> | undefined): unknown[] {
  return Object.entries(a ?? {}).map(([key, v]) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));
}

/** OTLP/JSON ExportTraceServiceRequest (hex ids, int64 as strings, as the OTLP spec asks). */
export function encodeTraceRequestJsonText(resources: TestResourceSpans[]): string {
  return JSON.stringify({
    resourceSpans: resources.map((rs) => ({
      resource: { attributes: jsonAttrs(rs.resource) },
      scopeSpans: [
        {
          scope: { name: rs.scope ?? 'test-scope' },
          spans: rs.spans.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: s.kind ?? 1,
            startTimeUnixNano: String(s.startNs),
            endTimeUnixNano: String(s.endNs),
            attributes: jsonAttrs(s.attributes),
            events: (s.events ?? []).map((e) => ({ timeUnixNano: String(e.timeNs), name: e.name, attributes: jsonAttrs(e.attributes) })),
            ...(s.status ? { status: { code: s.status.code, ...(s.status.message ? { message: s.status.message } : {}) } } : {}),
          })),
        },
      ],
    })),
  });
}

function hex(n: number, bytes: number): string {
  return n.toString(16).padStart(bytes * 2, '0').slice(-bytes * 2);
}

/**
 * `count` realistic beat spans of one service: rotating handlers across a few sequences and
 * movements, beat.* attributes, an HTTP-ish attribute or two, and one error in every 50.
 */
export function beatSpans(count: number, seed = 1, service = 'checkout-api'): TestResourceSpans {
  const spans: TestSpan[] = [];
  const base = 1_764_000_000_000_000_000n + BigInt(seed) * 1_000_000_000n;
  const sequences = ['checkout', 'cart', 'login', 'search'];
  for (let i = 0; i < count; i++) {
    const seq = sequences[i % sequences.length]!;
    const movement = `m${(i >> 2) % 3}`;
    const beat = (i % 7) + 1;
    const start = base + BigInt(i) * 1_000_000n;
    const failing = i % 50 === 49;
    spans.push({
      traceId: hex(seed, 8) + hex(Math.floor(i / 8), 8),
      spanId: hex(seed * 100_000 + i + 1, 8),
      parentSpanId: i % 8 === 0 ? '' : hex(seed * 100_000 + (i - (i % 8)) + 1, 8),
      name: `${seq}.${movement}.handle${beat}`,
      kind: 1,
      startNs: start,
      endNs: start + BigInt(200_000 + ((i * 7919) % 5_000_000)),
      attributes: {
        'beat.sequence': seq,
        'beat.movement': movement,
        'beat.number': beat,
        'beat.handler': `${seq}Handler${beat}`,
        'beat.event': `${seq}:${movement}:${beat}`,
        'beat.plugin': `${seq}-plugin`,
        'beat.kind': beat % 2 === 0 ? 'pure' : 'stage-crew',
        'beat.correlation_id': `corr-${seed}-${Math.floor(i / 8)}`,
        'http.route': `/api/${seq}`,
        'http.status_code': failing ? 500 : 200,
      },
      ...(failing
        ? {
            status: { code: 2, message: 'payment declined' },
            events: [
              {
                name: 'exception',
                timeNs: start + 100_000n,
                attributes: {
                  'exception.type': 'PaymentError',
                  'exception.message': `payment ${i} declined`,
                  'exception.stacktrace': `PaymentError: payment ${i} declined\n    at charge (/app/src/payments.ts:42:11)\n    at handle (/app/src/checkout.ts:17:5)`,
                },
              },
            ],
          }
        : {}),
    });
  }
  return { resource: { 'service.name': service, 'service.version': '1.2.3' }, spans };
}
