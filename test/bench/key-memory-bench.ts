/**
 * What a handler key's detection state costs (COMPONENT benchmark: the DetectionEngine alone,
 * default configuration). Two engines are fed the same per-key traffic, one with `--small`
 * keys and one with `--large` keys, slice by slice in data time with an evaluation per slice,
 * like the 10 000-key soak (`otlp-bench --soak`): each key runs `--beats` beats per 10 s slice
 * whose durations take 7 values over a 1.6x range around a per-key base of 0.3-6 ms (the soak
 * traffic's shape, test/bench/otlp/traffic.ts), 2 % fail with one of four exceptions, random hex
 * trace and span ids; trace assembly gets a small budget (its memory follows traffic, not keys). After `--slices` slices and a full collection, the difference in V8 heap
 * used, in ArrayBuffers (typed arrays' data) and in RSS (which also holds what each ArrayBuffer
 * costs beyond its data), divided by the difference in keys, is one busy key. Each size runs in
 * a process of its own.
 *
 *   node --expose-gc dist/test/bench/key-memory-bench.js [--small 1000] [--large 4000] [--beats 12] [--slices 35] [--snapshot <file>] [--from <dist of another build>]
 *
 * `--snapshot` also writes a V8 heap snapshot of the large engine (open it in Chrome DevTools, or
 * sum it by constructor).
 */
import { execFileSync } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../../src/model/beat.js';
import { Random } from './faults/random.js';
import { loadPipelineModules, type PipelineModules } from './pipeline-build.js';

const SLICE_MS = 10_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const SERVICES = 4;
const SEQUENCES = ['checkout', 'cart', 'login', 'search'];
const EXCEPTIONS = ['TimeoutError', 'ValidationError', 'TypeError', 'ConnectionResetError'];

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const errors: BeatError[] = EXCEPTIONS.map((type) => ({ type, message: `${type} in handler`, topFrame: 'src/handler.ts:12', stacktrace: `${type}\n    at handler (src/handler.ts:12:5)`, fingerprint: `fp-${type}` }));

function beat(rnd: Random, key: number, slice: number, i: number, perSlice: number): Beat {
  const base = 0.3 + ((key * 7919) % 40) * 0.15;
  const failed = rnd.chance(0.02);
  const service = `service-${key % SERVICES}`;
  return {
    service,
    serviceVersion: '1.0.0',
    sequence: SEQUENCES[key % SEQUENCES.length]!,
    movement: '',
    beatNumber: 1 + (key % 6),
    event: '',
    handler: `handler-${key}`,
    plugin: '',
    kind: '',
    correlationId: '',
    startMs: T0 + slice * SLICE_MS + ((i + 0.5) * SLICE_MS) / (perSlice + 1),
    durationMs: base + ((i * 104_729) % 7) * (base / 10),
    status: failed ? STATUS_ERROR : STATUS_OK,
    error: failed ? errors[Math.floor(rnd.next() * errors.length)] : undefined,
    traceId: rnd.hex(32),
    spanId: rnd.hex(16),
    parentSpanId: rnd.hex(16),
    spanName: `handler-${key}`,
    attributes: {},
  };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) g();
}

function fed(mods: PipelineModules, keys: number, beatsPerSlice: number, slices: number): InstanceType<PipelineModules['DetectionEngine']> {
  // Trace assembly holds spans by traffic, not by key: a small budget keeps it the same size in
  // both engines, so the difference is the keys' own state. Everything else is the default.
  const engine = new mods.DetectionEngine({ config: mods.ConfigSchema.parse({ detect: { maxInflightRuns: 500, maxInflightSpans: 1000, maxRecentRunSpans: 1000, maxPendingEvictedRuns: 100 } }).detect });
  const rnd = new Random(7);
  for (let s = 0; s < slices; s++) {
    const batch: Beat[] = [];
    for (let k = 0; k < keys; k++) for (let i = 0; i < beatsPerSlice; i++) batch.push(beat(rnd, k, s, i, beatsPerSlice));
    for (let i = 0; i < batch.length; i += 512) engine.observe(batch.slice(i, i + 512));
    engine.evaluate(T0 + (s + 1) * SLICE_MS);
  }
  return engine;
}

interface Measured {
  keys: number;
  held: number;
  retained: number;
  heap: number;
  buffers: number;
  rss: number;
}

/** One engine fed in this process; heap, ArrayBuffers and RSS grown, after full collections. */
function measure(mods: PipelineModules, keys: number, beatsPerSlice: number, slices: number, snapshot: string): Measured {
  gc();
  const before = process.memoryUsage();
  const engine = fed(mods, keys, beatsPerSlice, slices);
  gc();
  const after = process.memoryUsage();
  if (snapshot !== '') writeHeapSnapshot(snapshot);
  const stats = engine.stats();
  return { keys, held: stats.keys, retained: stats.retainedBeats, heap: after.heapUsed - before.heapUsed, buffers: after.arrayBuffers - before.arrayBuffers, rss: after.rss - before.rss };
}

/** Each size in a process of its own, so RSS is not blurred by the other engine's freed pages. */
function child(keys: number): Measured {
  const args = process.argv.slice(1).filter((a, i, all) => a !== '--snapshot' && all[i - 1] !== '--snapshot');
  const snapshot = flag('snapshot', '');
  const out = execFileSync(process.execPath, [...process.execArgv, ...args, '--measure', String(keys), ...(snapshot !== '' && keys === Number(flag('large', '4000')) ? ['--snapshot', snapshot] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as Measured;
}

async function main(): Promise<void> {
  const beatsPerSlice = Number(flag('beats', '12'));
  const slices = Number(flag('slices', '35'));
  const only = Number(flag('measure', '0'));
  if (only > 0) {
    const mods = await loadPipelineModules(flag('from', ''));
    console.log(JSON.stringify(measure(mods, only, beatsPerSlice, slices, flag('snapshot', ''))));
    return;
  }
  const small = Number(flag('small', '1000'));
  const large = Number(flag('large', '4000'));
  const a = child(small);
  const b = child(large);
  const n = large - small;
  const kib = (x: number): string => (x / 1024).toFixed(1);
  console.log(`KEY MEMORY (COMPONENT: DetectionEngine of ${flag('from', 'this build')}, default config): ${small} vs ${large} handler keys (+4 sequence keys), ${beatsPerSlice} beats per key per slice, ${slices} slices; node ${process.version}`);
  console.log(`keys held: ${a.held} / ${b.held}; retained beats ${a.retained} / ${b.retained}`);
  console.log(`engine total: heap ${kib(a.heap)} / ${kib(b.heap)} KiB, ArrayBuffers ${kib(a.buffers)} / ${kib(b.buffers)} KiB, RSS ${kib(a.rss)} / ${kib(b.rss)} KiB`);
  console.log(
    `per busy key: heap ${kib((b.heap - a.heap) / n)} KiB + ArrayBuffers ${kib((b.buffers - a.buffers) / n)} KiB = ${kib((b.heap - a.heap + b.buffers - a.buffers) / n)} KiB; RSS ${kib((b.rss - a.rss) / n)} KiB`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
