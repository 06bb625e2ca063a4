/**
 * Decoder benchmark: realistic 512-span OTLP requests decoded into beats by the hand-written
 * protobuf decoder (on this file's requests and on the receiver benchmark's, written
 * independently), compared with protobufjs decoding the same bytes (message objects only, no
 * beats; then also toObject) and with the OTLP/JSON decoder on the same requests as JSON.
 *
 *   npx tsx test/bench/decode-bench.ts [--spans 512] [--requests 32] [--seconds 3] [--proto-only]
 *
 * Figures are CPU time (process.cpuUsage, user + system), so other load on the machine inflates
 * them less than wall-clock time would.
 */
import { decodeTraceRequestJson } from '../../src/receive/otlp-json.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { encodeJson, encodeProto, realisticRequest, requestType } from '../receive/fixtures/otlp-request.js';
import { beatSpans, encodeTraceRequest } from './otlp/encode-request.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const spansPerRequest = arg('spans', 512);
const requestCount = arg('requests', 32);
const seconds = arg('seconds', 3);
const opts = { maxAttributesPerSpan: 1024 };

const protoRequests: Uint8Array[] = [];
const jsonRequests: string[] = [];
for (let i = 0; i < requestCount; i++) {
  const req = realisticRequest(spansPerRequest, i + 1);
  protoRequests.push(encodeProto(req));
  jsonRequests.push(encodeJson(req));
}
// A second, independently written fixture (the receiver benchmark's requests).
const otherRequests: Uint8Array[] = [];
for (let i = 0; i < requestCount; i++) otherRequests.push(encodeTraceRequest([beatSpans(spansPerRequest, i + 1)]));
const type = requestType();

interface Figures {
  name: string;
  spans: number;
  cpuSeconds: number;
  wallSeconds: number;
}

function run(name: string, decodeOne: (i: number) => number): Figures {
  // Warm up so the JIT has optimised the decoder before measuring.
  for (let i = 0; i < requestCount * 4; i++) decodeOne(i % requestCount);
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  let spans = 0;
  let i = 0;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    for (let k = 0; k < 8; k++) spans += decodeOne(i++ % requestCount);
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  return { name, spans, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall };
}

let sink = 0;
const cases: [string, (i: number) => number][] = [
  [
    'hand-written protobuf -> beats',
    (i) => {
      const r = decodeTraceRequestProto(protoRequests[i]!, opts);
      sink += r.beats.length;
      return r.spans;
    },
  ],
  [
    'hand-written protobuf -> beats, receiver-bench requests',
    (i) => {
      const r = decodeTraceRequestProto(otherRequests[i]!, opts);
      sink += r.beats.length;
      return r.spans;
    },
  ],
  [
    'protobufjs decode (objects only)',
    (i) => {
      const m = type.decode(protoRequests[i]!) as unknown as { resource_spans: { scope_spans: { spans: unknown[] }[] }[] };
      let n = 0;
      for (const rs of m.resource_spans) for (const ss of rs.scope_spans) n += ss.spans.length;
      return n;
    },
  ],
  [
    'protobufjs decode + toObject',
    (i) => {
      const o = type.toObject(type.decode(protoRequests[i]!), { longs: String, bytes: String }) as { resource_spans: { scope_spans: { spans: unknown[] }[] }[] };
      let n = 0;
      for (const rs of o.resource_spans) for (const ss of rs.scope_spans) n += ss.spans.length;
      return n;
    },
  ],
  [
    'OTLP/JSON -> beats',
    (i) => {
      const r = decodeTraceRequestJson(jsonRequests[i]!, opts);
      sink += r.beats.length;
      return r.spans;
    },
  ],
];
const selected = process.argv.includes('--proto-only') ? cases.slice(0, 2) : cases;
const results = selected.map(([name, fn]) => run(name, fn));

const protoBytes = protoRequests.reduce((a, b) => a + b.length, 0) / requestCount;
console.log(`requests: ${requestCount} distinct x ${spansPerRequest} spans, ~${Math.round(protoBytes / 1024)} KiB protobuf each; ${seconds}s per case`);
console.log('| decoder | spans/CPU-s | CPU-s per 1M spans | spans/s (wall) |');
console.log('|---|---:|---:|---:|');
for (const r of results) {
  const perCpu = r.spans / r.cpuSeconds;
  console.log(
    `| ${r.name} | ${Math.round(perCpu).toLocaleString('en-US')} | ${(1e6 / perCpu).toFixed(3)} | ${Math.round(r.spans / r.wallSeconds).toLocaleString('en-US')} |`,
  );
}
if (sink === 0) console.log('no beats decoded');
