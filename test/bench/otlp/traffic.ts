/**
 * Distinct, realistic OTLP trace traffic for the end-to-end benchmark: every request carries new
 * trace ids and current timestamps, several services take turns, each trace is a sequence run
 * (a root SERVER span named after its sequence, handler beats below it, a CLIENT span below one
 * of them), a few % of handler spans fail with an exception event, and the handler names cycle
 * through `keys` distinct (service, handler) keys.
 *
 * Encoding 512 spans from scratch per request would make the load generator the bottleneck on a
 * 2-core machine, so requests are stamped from templates: each template is encoded once (with
 * the independent encoder of encode-request.ts) with placeholder trace ids and timestamps, and
 * every request copies a template and overwrites the placeholders in place.
 *
 * OTLP logs (encoding 'logs') follow the same scheme: records of one service per request, trace
 * and span ids of the runs they were written in, ~errorRate ERROR records, numbers in the bodies
 * rewritten per request so the template miner sees new text.
 */
import { randomBytes } from 'node:crypto';
import { encodeLogsRequest, encodeTraceRequest, encodeTraceRequestJsonText, type TestLogRecord, type TestResourceSpans, type TestSpan } from './encode-request.js';

export interface TrafficOptions {
  spansPerRequest: number;
  /** Distinct (service, handler) keys, spread over the services. */
  keys: number;
  services: number;
  /** Spans per trace: a root, handler beats, and one client span. */
  spansPerTrace: number;
  /** Share of handler spans that fail (status ERROR + exception event). */
  errorRate: number;
}

export const DEFAULT_TRAFFIC: TrafficOptions = { spansPerRequest: 512, keys: 28, services: 4, spansPerTrace: 8, errorRate: 0.02 };

const SEQUENCES = ['checkout', 'cart', 'login', 'search'];
// Placeholders: 0xfe never occurs in UTF-8 text, so a byte search cannot hit a string.
const TRACE_MARK = 'fefe';
const TIME_MARK = 0xfefen;

interface ProtoTemplate {
  body: Buffer;
  /** Offset of each span's 16-byte trace id, and which trace of the template it belongs to. */
  traceIdAt: Int32Array;
  traceOf: Int32Array;
  /** Offset of each fixed64 timestamp and its time relative to the request's base, in ns. */
  timeAt: Int32Array;
  timeRelNs: Float64Array;
  traces: number;
  /** Offsets of 8 ASCII digits in log bodies, rewritten per request (logs only). */
  digitsAt: Int32Array;
}

interface JsonTemplate {
  /** Text between placeholders; part i is followed by placeholder i. */
  parts: string[];
  /** For each placeholder: trace index (>= 0) or -1 - time slot. */
  slots: number[];
  timeRelNs: number[];
  traces: number;
}

function hex(n: number, bytes: number): string {
  return n.toString(16).padStart(bytes * 2, '0').slice(-bytes * 2);
}

/** Span latency of a handler: a fixed per-handler base with a deterministic spread. */
function durationNs(handler: number, i: number): number {
  const base = 300_000 + ((handler * 7919) % 40) * 150_000;
  return base + ((i * 104_729) % 7) * (base / 10);
}

/**
 * One template's spans. Placeholder trace ids are `fefe` + template + trace; placeholder times
 * are TIME_MARK << 48 | slot, so each can be found and the relative time recorded per slot.
 */
function templateSpans(t: number, opts: TrafficOptions, times: number[]): TestResourceSpans {
  const service = t % opts.services;
  const perService = Math.max(1, Math.ceil(opts.keys / opts.services));
  const round = Math.floor(t / opts.services);
  const children = Math.max(1, opts.spansPerTrace - 2);
  const traces = Math.max(1, Math.floor(opts.spansPerRequest / opts.spansPerTrace));
  const spans: TestSpan[] = [];
  const time = (relNs: number): bigint => {
    times.push(relNs);
    return (TIME_MARK << 48n) | BigInt(times.length - 1);
  };
  let n = 0;
  for (let tr = 0; tr < traces; tr++) {
    const traceId = TRACE_MARK + hex(t, 6) + hex(tr, 8);
    const seq = SEQUENCES[(t + tr) % SEQUENCES.length]!;
    const rootId = hex(tr * 64 + 1, 8);
    let at = 50_000;
    const kids: TestSpan[] = [];
    for (let c = 0; c < children; c++) {
      const handler = (round * traces * children + tr * children + c) % perService;
      const d = durationNs(handler, n++);
      const failing = (n * 0.61803398875) % 1 < opts.errorRate;
      const movement = `m${c % 3}`;
      const span: TestSpan = {
        traceId,
        spanId: hex(tr * 64 + 2 + c, 8),
        parentSpanId: rootId,
        name: `handler${handler}`,
        kind: 1,
        startNs: time(at),
        endNs: time(at + d),
        attributes: {
          'beat.sequence': seq,
          'beat.movement': movement,
          'beat.number': c + 1,
          'beat.handler': `handler${handler}`,
          'beat.event': `${seq}:${movement}:${c + 1}`,
          'beat.plugin': `${seq}-plugin`,
          'code.function': `handler${handler}`,
        },
      };
      if (failing) {
        span.status = { code: 2, message: 'upstream declined' };
        span.events = [
          {
            name: 'exception',
            timeNs: time(at + d / 2),
            attributes: {
              'exception.type': 'DeclinedError',
              'exception.message': `request declined by upstream (handler${handler})`,
              'exception.stacktrace': `DeclinedError: request declined\n    at call (/app/src/upstream.ts:42:11)\n    at handler${handler} (/app/src/handlers.ts:${17 + (handler % 50)}:5)`,
            },
          },
        ];
      }
      kids.push(span);
      at += d + 20_000;
    }
    // A database call below the first handler: in the run for diagnosis, not a beat.
    const first = kids[0]!;
    const dbSpan: TestSpan = {
      traceId,
      spanId: hex(tr * 64 + 63, 8),
      parentSpanId: first.spanId,
      name: 'SELECT orders',
      kind: 3,
      startNs: time(times[Number(first.startNs & 0xffffn)]! + 10_000),
      endNs: time(times[Number(first.startNs & 0xffffn)]! + 110_000),
      attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM orders WHERE id = $1', 'server.address': 'db' },
    };
    const root: TestSpan = {
      traceId,
      spanId: rootId,
      name: seq,
      kind: 2,
      startNs: time(0),
      endNs: time(at + 30_000),
      attributes: { 'beat.sequence': seq, 'http.request.method': 'POST', 'http.route': `/api/${seq}`, 'http.response.status_code': 200 },
    };
    // Exporters send children before parents (they end first).
    spans.push(...kids.slice(1), dbSpan, first, root);
  }
  return { resource: { 'service.name': `service-${service}`, 'service.version': '1.4.2', 'host.name': `node-${service}` }, scope: 'bench', spans };
}

function protoTemplate(t: number, opts: TrafficOptions): ProtoTemplate {
  const times: number[] = [];
  const rs = templateSpans(t, opts, times);
  // Span start/end (fields 7, 8) and event times (field 1).
  return placeholders(encodeTraceRequest([rs]), t, times, rs.spans.length, [0x39, 0x41, 0x09]);
}

/** Finds the trace id and time placeholders of an encoded template (tags: the fixed64 fields' tag bytes). */
function placeholders(body: Buffer, t: number, times: number[], ids: number, tags: number[]): ProtoTemplate {
  const traceIdAt: number[] = [];
  const traceOf: number[] = [];
  const mark = Buffer.from(TRACE_MARK + hex(t, 6), 'hex');
  for (let at = body.indexOf(mark); at !== -1; at = body.indexOf(mark, at + 16)) {
    traceIdAt.push(at);
    traceOf.push(body.readUInt32BE(at + 12));
  }
  const timeAt: number[] = [];
  const timeRelNs: number[] = [];
  const tmark = Buffer.from([0xfe, 0xfe]);
  for (let at = body.indexOf(tmark); at !== -1; at = body.indexOf(tmark, at + 1)) {
    // A placeholder time is 8 bytes LE ending in fe fe, with the slot in the low bytes.
    const start = at - 6;
    if (start < 1 || !tags.includes(body[start - 1]!)) continue;
    const slot = Number(body.readBigUInt64LE(start) & 0xffffffffffffn);
    if (slot >= times.length) continue;
    timeAt.push(start);
    timeRelNs.push(times[slot]!);
  }
  if (timeAt.length !== times.length) throw new Error(`traffic template ${t}: found ${timeAt.length} of ${times.length} timestamps`);
  if (traceIdAt.length !== ids) throw new Error(`traffic template ${t}: found ${traceIdAt.length} of ${ids} trace ids`);
  const digitsAt: number[] = [];
  for (let at = body.indexOf(DIGITS_MARK); at !== -1; at = body.indexOf(DIGITS_MARK, at + DIGITS_MARK.length)) digitsAt.push(at);
  return {
    body,
    traceIdAt: Int32Array.from(traceIdAt),
    traceOf: Int32Array.from(traceOf),
    timeAt: Int32Array.from(timeAt),
    timeRelNs: Float64Array.from(timeRelNs),
    traces: Math.max(...traceOf) + 1,
    digitsAt: Int32Array.from(digitsAt),
  };
}

// A placeholder for a number in a log body; '~' never occurs elsewhere in a template.
const DIGITS_MARK = Buffer.from('~~~~~~~~');

/** Log lines as services write them: mostly INFO, some WARN, ~errorRate ERROR; numbers vary per request. */
const LOG_LINES: Array<{ severity: number; text: string; body: (seq: string) => string }> = [
  { severity: 9, text: 'INFO', body: (seq) => `${seq}: order ~~~~~~~~ accepted, 3 items, total 42.50 EUR` },
  { severity: 9, text: 'INFO', body: () => 'user ~~~~~~~~ signed in from 10.0.3.17' },
  { severity: 9, text: 'INFO', body: (seq) => `GET /api/${seq}/~~~~~~~~ 200 in 35 ms` },
  { severity: 13, text: 'WARN', body: () => 'cache miss for cart:~~~~~~~~, reading from the database' },
];
const ERROR_LINE = { severity: 17, text: 'ERROR', body: () => 'payment ~~~~~~~~ declined by upstream: insufficient funds' };

/**
 * One logs template: `spansPerRequest` records of one service, one trace per `spansPerTrace`
 * records (trace and span ids set, as SDK log bridges do inside a span), times as placeholders.
 */
function logsTemplate(t: number, opts: TrafficOptions): ProtoTemplate {
  const times: number[] = [];
  const time = (relNs: number): bigint => {
    times.push(relNs);
    return (TIME_MARK << 48n) | BigInt(times.length - 1);
  };
  const service = t % opts.services;
  const records: TestLogRecord[] = [];
  for (let i = 0; i < opts.spansPerRequest; i++) {
    const tr = Math.floor(i / opts.spansPerTrace);
    const seq = SEQUENCES[(t + tr) % SEQUENCES.length]!;
    const failing = ((t * opts.spansPerRequest + i) * 0.61803398875) % 1 < opts.errorRate;
    const line = failing ? ERROR_LINE : LOG_LINES[(t + i) % LOG_LINES.length]!;
    const at = 50_000 + (i % opts.spansPerTrace) * 400_000;
    records.push({
      timeNs: time(at),
      observedNs: time(at + 20_000),
      severityNumber: line.severity,
      severityText: line.text,
      body: line.body(seq),
      attributes: { 'code.function': `handler${(t + i) % Math.max(1, Math.ceil(opts.keys / opts.services))}`, 'thread.name': 'main' },
      traceId: TRACE_MARK + hex(t, 6) + hex(tr, 8),
      spanId: hex(tr * 64 + 2 + (i % opts.spansPerTrace), 8),
    });
  }
  const body = encodeLogsRequest([{ resource: { 'service.name': `service-${service}`, 'service.version': '1.4.2', 'host.name': `node-${service}` }, scope: 'bench', records }]);
  // time_unix_nano is field 1, observed_time_unix_nano field 11.
  return placeholders(body, t, times, records.length, [0x09, 0x59]);
}

function jsonTemplate(t: number, opts: TrafficOptions): JsonTemplate {
  const times: number[] = [];
  const rs = templateSpans(t, opts, times);
  const text = encodeTraceRequestJsonText([rs]);
  const parts: string[] = [];
  const slots: number[] = [];
  const re = /"(fefe[0-9a-f]{28})"|"(\d{19,20})"/g;
  let last = 0;
  let traces = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) {
      const trace = Number.parseInt(m[1].slice(-8), 16);
      slots.push(trace);
      traces = Math.max(traces, trace + 1);
    } else {
      const v = BigInt(m[2]!);
      if (v >> 48n !== TIME_MARK) continue;
      slots.push(-1 - Number(v & 0xffffffffffffn));
    }
    parts.push(text.slice(last, m.index + 1));
    last = m.index + m[0].length - 1;
  }
  parts.push(text.slice(last));
  return { parts, slots, timeRelNs: times, traces };
}

/** How many templates cover every key at least once (and at least one per service). */
function templateCount(opts: TrafficOptions): number {
  const perService = Math.max(1, Math.ceil(opts.keys / opts.services));
  const perTemplate = Math.max(1, Math.floor(opts.spansPerRequest / opts.spansPerTrace)) * Math.max(1, opts.spansPerTrace - 2);
  return opts.services * Math.max(2, Math.ceil(perService / perTemplate));
}

/** Current time in ns as two 32-bit halves (Number arithmetic; BigInt per span would dominate). */
function nowNs(): { hi: number; lo: number } {
  const ms = Date.now();
  const ns = BigInt(ms) * 1_000_000n;
  return { hi: Number(ns >> 32n), lo: Number(ns & 0xffffffffn) };
}

export class Traffic {
  private readonly proto: ProtoTemplate[] = [];
  private readonly json: JsonTemplate[] = [];
  private next = 0;
  private traceCounter = 0;
  private readonly prefix = randomBytes(6);
  readonly spansPerRequest: number;

  constructor(
    private readonly opts: TrafficOptions,
    readonly encoding: 'protobuf' | 'json' | 'logs',
  ) {
    const n = templateCount(opts);
    for (let t = 0; t < n; t++) {
      if (encoding === 'protobuf') this.proto.push(protoTemplate(t, opts));
      else if (encoding === 'logs') this.proto.push(logsTemplate(t, opts));
      else this.json.push(jsonTemplate(t, opts));
    }
    this.spansPerRequest = encoding !== 'json' ? this.proto[0]!.traceIdAt.length : this.json[0]!.slots.filter((s) => s >= 0).length;
  }

  /** A new request body: fresh trace ids, timestamps ending now (and new numbers in log bodies). */
  body(): Buffer {
    return this.encoding !== 'json' ? this.protoBody() : this.jsonBody();
  }

  private protoBody(): Buffer {
    const tpl = this.proto[this.next++ % this.proto.length]!;
    const out = Buffer.allocUnsafe(tpl.body.length);
    tpl.body.copy(out);
    const firstTrace = this.traceCounter;
    this.traceCounter += tpl.traces;
    for (let i = 0; i < tpl.traceIdAt.length; i++) {
      const at = tpl.traceIdAt[i]!;
      this.prefix.copy(out, at);
      out.writeUInt16BE(0, at + 6);
      out.writeUInt32BE(0, at + 8);
      out.writeUInt32BE((firstTrace + tpl.traceOf[i]!) >>> 0, at + 12);
    }
    // Runs end a little before now, as exporters send them.
    const { hi, lo } = nowNs();
    const base = hi * 4294967296 + lo - 200_000_000;
    for (let i = 0; i < tpl.timeAt.length; i++) {
      const v = base + tpl.timeRelNs[i]!;
      const vhi = Math.floor(v / 4294967296);
      out.writeUInt32LE(v - vhi * 4294967296, tpl.timeAt[i]!);
      out.writeUInt32LE(vhi, tpl.timeAt[i]! + 4);
    }
    for (let i = 0; i < tpl.digitsAt.length; i++) out.write(String((firstTrace * 8 + i) % 1e8).padStart(8, '0'), tpl.digitsAt[i]!, 'latin1');
    return out;
  }

  private jsonBody(): Buffer {
    const tpl = this.json[this.next++ % this.json.length]!;
    const firstTrace = this.traceCounter;
    this.traceCounter += tpl.traces;
    const prefix = `${this.prefix.toString('hex')}000000000000`;
    const base = BigInt(Date.now()) * 1_000_000n - 200_000_000n;
    const out: string[] = [];
    for (let i = 0; i < tpl.slots.length; i++) {
      out.push(tpl.parts[i]!);
      const s = tpl.slots[i]!;
      out.push(s >= 0 ? prefix + hex(firstTrace + s, 4) : String(base + BigInt(Math.round(tpl.timeRelNs[-1 - s]!))));
    }
    out.push(tpl.parts[tpl.parts.length - 1]!);
    return Buffer.from(out.join(''), 'utf8');
  }
}
