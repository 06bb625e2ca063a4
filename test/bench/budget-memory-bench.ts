/**
 * What one item of each traffic-sized budget costs (COMPONENT benchmark): the spans trace
 * assembly holds in flight (detect.maxInflightSpans) and the traces the service graph buffers
 * for its trace grace (detect.serviceGraph.maxTraces). Both are filled with beats decoded from
 * the end-to-end benchmark's own traffic (test/bench/otlp/traffic.ts: 8-span traces, fresh hex
 * ids, 28 handler keys) by the real protobuf decoder, once with `--small` and once with
 * `--large` items, each in a process of its own; heap used plus ArrayBuffers after full
 * collections, the difference divided by the difference in items, is one item. Nothing is
 * closed or folded meanwhile (the budgets are set above what is fed), so the figure is what a
 * full budget holds.
 *
 *   node --expose-gc dist/test/bench/budget-memory-bench.js [--small 20000] [--large 100000]
 *
 * Sizing from these figures is in docs/operations.md ("Memory budgets").
 */
import { execFileSync } from 'node:child_process';
import type { Beat } from '../../src/model/beat.js';
import { ServiceGraph } from '../../src/detect/service-graph.js';
import { TraceAssembler } from '../../src/detect/trace-assembler.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { DEFAULT_TRAFFIC, Traffic } from './otlp/traffic.js';

type Part = 'assembly' | 'graph';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) g();
}

function held(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Decoded beats of the bench traffic, one request (512 spans = 64 traces) at a time. */
function* requests(spans: number): Generator<Beat[]> {
  const traffic = new Traffic(DEFAULT_TRAFFIC, 'protobuf');
  for (let fed = 0; fed < spans; ) {
    const beats = decodeTraceRequestProto(traffic.body(), { maxAttributesPerSpan: 128 }).beats;
    const take = beats.slice(0, spans - fed);
    fed += take.length;
    yield take;
  }
}

/** Fills one structure with `spans` spans and returns the bytes it holds (and a keep-alive). */
function fill(part: Part, spans: number): { bytes: number; keep: unknown } {
  gc();
  const before = held();
  let keep: unknown;
  if (part === 'assembly') {
    const a = new TraceAssembler({ maxInflightRuns: spans + 1, maxInflightSpans: spans + 1, runTimeoutMs: 3_600_000, rootGraceMs: 3_600_000 });
    for (const beats of requests(spans)) for (const b of beats) a.observe(b);
    keep = a;
  } else {
    const g = new ServiceGraph({ maxTraces: spans + 1, traceGraceMs: 3_600_000 });
    for (const beats of requests(spans)) g.observe(beats);
    keep = g;
  }
  gc();
  return { bytes: held() - before, keep };
}

function child(part: Part, spans: number): void {
  const { bytes, keep } = fill(part, spans);
  process.stdout.write(JSON.stringify({ bytes }) + '\n');
  if (keep === undefined) process.exitCode = 1;
}

function measure(part: Part, spans: number): number {
  const out = execFileSync(process.execPath, ['--expose-gc', process.argv[1]!, '--child', part, String(spans)], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').pop()!) as { bytes: number }).bytes;
}

function main(): void {
  const i = process.argv.indexOf('--child');
  if (i !== -1) {
    child(process.argv[i + 1] as Part, Number(process.argv[i + 2]));
    return;
  }
  const small = Number(flag('small', '20000'));
  const large = Number(flag('large', '100000'));
  const perTrace = DEFAULT_TRAFFIC.spansPerTrace;
  console.log(`COMPONENT: bytes per budget item, bench traffic (${perTrace}-span traces, ${DEFAULT_TRAFFIC.keys} keys), ${small} vs ${large} spans, heap used + ArrayBuffers after full collections`);
  console.log('| budget | item | bytes per item | bytes at the large size / items |');
  console.log('|---|---|---:|---:|');
  for (const part of ['assembly', 'graph'] as Part[]) {
    const a = measure(part, small);
    const b = measure(part, large);
    const per = (b - a) / (large - small);
    if (part === 'assembly') console.log(`| detect.maxInflightSpans | in-flight span | ${per.toFixed(0)} | ${(b / large).toFixed(0)} |`);
    else console.log(`| detect.serviceGraph.maxTraces | buffered ${perTrace}-span trace | ${(per * perTrace).toFixed(0)} | ${((b / large) * perTrace).toFixed(0)} |`);
  }
}

main();
