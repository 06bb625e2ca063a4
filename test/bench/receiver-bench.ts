/**
 * COMPONENT benchmark of the OTLP receivers alone (not what ships: the sink only counts beats,
 * there is no detection, trace assembly, store or metrics scrape behind it; `npm run bench` is the
 * end-to-end one). Each target (the sidecar's HTTP and gRPC receivers, a no-op node:http
 * receiver, a no-op grpc-js receiver and a grpc-js receiver decoding with protobufjs) runs in a
 * child process of its own; a load generator in another child sends pre-encoded requests of
 * realistic beat spans. CPU time is measured inside the target only.
 *
 *   npx tsx test/bench/receiver-bench.ts [--seconds 5] [--warmup 1] [--concurrency 8] [--spans 512]
 *                                     [--rounds 3] [--targets sidecar-http,noop-http,...]
 *
 * Targets are measured in rounds (every target once per round, in turn) and each figure is the
 * median over the rounds: one run of a target swings by up to 1.5x on a shared 2-core machine,
 * and interleaving spreads slow spells over all targets instead of one.
 * `sidecar-grpc-h2default` (not run by default) is the gRPC receiver with the HTTP/2 default
 * windows (receive.grpc.flowControlWindow 65535), to show what the flow-control tuning buys;
 * `noop-grpc-tuned` (not run by default) is the no-op grpc-js receiver with the sidecar's windows.
 */
import { fork } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { quantile } from '../../src/detect/stats.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { beatSpans, encodeTraceRequest } from './otlp/encode-request.js';
import type { LoadJob, LoadResult } from './otlp/load.js';
import type { TargetFigures, TargetKind } from './otlp/target.js';
import { execArgv, isType, nextMessage, script } from './otlp/child-process.js';

const ALL_TARGETS: TargetKind[] = ['sidecar-http', 'noop-http', 'sidecar-grpc', 'noop-grpc', 'protobufjs-grpc'];

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const seconds = Number(flag('seconds', '5'));
const warmupSeconds = Number(flag('warmup', '1'));
const concurrency = Number(flag('concurrency', '8'));
const spansPerRequest = Number(flag('spans', '512'));
const rounds = Math.max(1, Number(flag('rounds', '3')));
const targets = flag('targets', ALL_TARGETS.join(',')).split(',') as TargetKind[];


interface Row {
  target: TargetKind;
  figures: TargetFigures;
  load: LoadResult;
}

/** One target's rounds folded into one row: median CPU and wall rates, summed errors. */
interface Summary {
  target: TargetKind;
  /** Median CPU-seconds per million spans, and the smallest and largest round. */
  cpuPerM: number;
  cpuPerMRange: [number, number];
  spansPerSecond: number;
  requests: number;
  errors: number;
  firstError: string | undefined;
}

function summarise(target: TargetKind, runs: Row[]): Summary {
  const cpu = runs.map((r) => (r.figures.cpuSeconds / r.figures.spans) * 1e6);
  return {
    target,
    cpuPerM: quantile(cpu, 0.5),
    cpuPerMRange: [Math.min(...cpu), Math.max(...cpu)],
    spansPerSecond: quantile(runs.map((r) => r.figures.spans / r.figures.wallSeconds), 0.5),
    requests: runs.reduce((a, r) => a + r.figures.requests, 0),
    errors: runs.reduce((a, r) => a + r.load.errors, 0),
    firstError: runs.find((r) => r.load.firstError)?.load.firstError,
  };
}

async function measure(target: TargetKind): Promise<Row> {
  const t = fork(script('target'), [target, String(spansPerRequest)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port } = await nextMessage(t, isType<{ type: 'ready'; port: number }>('ready'));
    const load = fork(script('load'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      load.on('message', (m) => {
        if (m === 'begin') t.send('begin');
      });
      const job: LoadJob = { protocol: target.endsWith('http') ? 'http' : 'grpc', port, warmupSeconds, seconds, concurrency, spansPerRequest };
      load.send(job);
      const { result } = await nextMessage(load, isType<{ type: 'done'; result: LoadResult }>('done'));
      t.send('end');
      const { figures } = await nextMessage(t, isType<{ type: 'figures'; figures: TargetFigures }>('figures'));
      return { target, figures, load: result };
    } finally {
      load.kill();
    }
  } finally {
    t.send('exit');
    setTimeout(() => t.kill(), 2000).unref();
  }
}

/** CPU-seconds per million spans for decoding the load generator's bodies, in this process, no server. */
function decodeOnly(durationSeconds: number): number {
  const bodies = [1, 2, 3, 4].map((seed) => encodeTraceRequest([beatSpans(spansPerRequest, seed, `service-${seed}`)]));
  const opts = { maxAttributesPerSpan: 1024 };
  for (let i = 0; i < 100; i++) decodeTraceRequestProto(bodies[i % 4]!, opts);
  const start = process.cpuUsage();
  const end = Date.now() + durationSeconds * 1000;
  let spans = 0;
  for (let i = 0; Date.now() < end; i++) spans += decodeTraceRequestProto(bodies[i % 4]!, opts).spans;
  const cpu = process.cpuUsage(start);
  return ((cpu.user + cpu.system) / 1e6 / spans) * 1e6;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  console.log(
    `COMPONENT benchmark, receivers + decoder only (sink counts beats; not the shipped path). OTLP receivers: ${spansPerRequest} spans/request, ${concurrency} concurrent, ${warmupSeconds}s warm-up + ${seconds}s per target; ` +
      `${rounds} round(s), medians; ${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}`,
  );
  const runs = new Map<TargetKind, Row[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) runs.get(target)!.push(await measure(target));
  }
  const rows = targets.map((t) => summarise(t, runs.get(t)!));

  const decodeCpuPerM = decodeOnly(Math.min(seconds, 3));
  const perCpu = (r: Summary): number => 1e6 / r.cpuPerM;
  const cpuPerM = (r: Summary): number => r.cpuPerM;
  console.log('');
  console.log('| target | spans/s | CPU-s per M spans (min-max) | spans per CPU-s | requests | errors |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const [lo, hi] = r.cpuPerMRange;
    console.log(
      `| ${r.target} | ${fmt(r.spansPerSecond)} | ${fmt(r.cpuPerM, 3)} (${fmt(lo, 3)}-${fmt(hi, 3)}) | ${fmt(perCpu(r))} | ${fmt(r.requests)} | ${r.errors}${r.firstError ? ` (${r.firstError})` : ''} |`,
    );
  }
  console.log(`| (decode only, same bodies, no server) | | ${fmt(decodeCpuPerM, 3)} | ${fmt(1e6 / decodeCpuPerM)} | | |`);
  const get = (t: TargetKind): Summary | undefined => rows.find((r) => r.target === t);
  const ratio = (a: TargetKind, b: TargetKind, label: string): void => {
    const ra = get(a);
    const rb = get(b);
    if (ra && rb) console.log(`${label}: ${((perCpu(ra) / perCpu(rb)) * 100).toFixed(1)} % (spans per CPU-second)`);
  };
  console.log('');
  ratio('sidecar-grpc', 'noop-grpc', 'sidecar gRPC vs no-op grpc-js');
  ratio('sidecar-grpc-h2default', 'noop-grpc', 'sidecar gRPC with HTTP/2 default windows vs no-op grpc-js');
  ratio('sidecar-grpc', 'noop-grpc-tuned', 'sidecar gRPC vs no-op grpc-js with the same HTTP/2 windows');
  ratio('sidecar-http', 'noop-http', 'sidecar HTTP vs no-op node:http');
  ratio('sidecar-grpc', 'protobufjs-grpc', 'sidecar gRPC vs grpc-js + protobufjs decode');
  for (const t of ['sidecar-http', 'sidecar-grpc'] as const) {
    const r = get(t);
    if (r) console.log(`${t} CPU-s per M spans outside the decoder: ${fmt(cpuPerM(r) - decodeCpuPerM, 3)}`);
  }
  const http = get('sidecar-http');
  if (http) console.log(`HTTP protobuf target >= 1,000,000 spans per CPU-second: ${perCpu(http) >= 1e6 ? 'met' : 'NOT met'} (${fmt(perCpu(http))})`);
  const g = get('sidecar-grpc');
  const n = get('noop-grpc');
  if (g && n) console.log(`gRPC target >= 70 % of no-op grpc-js: ${perCpu(g) / perCpu(n) >= 0.7 ? 'met' : 'NOT met'}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
