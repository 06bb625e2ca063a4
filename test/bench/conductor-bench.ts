/**
 * Component benchmark (labelled as one: it measures the instrumentation inside an app, not the
 * sidecar): what `instrumentConductor` costs next to the real musical-conductor library.
 *
 * 1. Per handler call: a traced handler (span started, attributes from `_musicalContext`, span
 *    ended into a BatchSpanProcessor) against the same handler plain, inside an open run, many
 *    calls; the difference is the instrumentation's own cost.
 * 2. Per sequence run: two conductors on their own buses play the same 4-beat sequence with sync
 *    handlers, one plain and one instrumented, in alternating rounds (medians over rounds). This
 *    shows the conductor's own cost per run, next to which (1) is to be read.
 *
 * Figures are CPU time (process.cpuUsage), so other load on the machine inflates them less than
 * wall-clock time would.
 *
 *   npm run bench:conductor -- [--runs 100] [--rounds 7] [--calls 200000] [--traced-first]
 */
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { EventBus, MusicalConductor } from 'musical-conductor';
import type { ConductorLike } from '../../src/instrument/conductor-shapes.js';
import { ConductorTracer } from '../../src/instrument/conductor-tracer.js';
import { instrumentConductor } from '../../src/instrument/instrument-conductor.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const runs = arg('runs', 100);
const rounds = arg('rounds', 7);
const calls = arg('calls', 200_000);

// The library logs every step (and opens console groups); a real app would route that to its
// logger, not measured here. Figures go straight to stdout.
const print = (line: string): boolean => process.stdout.write(`${line}\n`);
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'group', 'groupCollapsed', 'groupEnd'] as const) console[level] = () => {};

interface Conductor {
  mount(sequence: unknown, handlers: unknown, pluginId: string): Promise<{ success: boolean }>;
  play(pluginId: string, sequenceId: string, ctx: unknown): Promise<string | null>;
}

const BEATS = 4;
const sequence = {
  id: 'bench-seq',
  name: 'Bench',
  description: 'bench',
  version: '1.0.0',
  key: 'C',
  tempo: 120,
  category: 'data-flow',
  movements: [
    {
      id: 'm',
      name: 'Main',
      beats: Array.from({ length: BEATS }, (_, i) => ({ beat: i + 1, event: `bench.e${i + 1}`, handler: `h${i + 1}`, kind: 'pure', title: 't', dynamics: 'mf', timing: 'immediate', errorHandling: 'continue' })),
    },
  ],
};

async function setUp(instrumented: boolean): Promise<{ conductor: Conductor; next: () => Promise<void> }> {
  // The constructor is private in the library's types; getInstance would return one shared conductor.
  const conductor = new (MusicalConductor as unknown as new (bus: unknown) => Conductor)(new EventBus());
  if (instrumented) {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 100_000, scheduledDelayMillis: 50 })] });
    instrumentConductor(conductor as never, { tracerProvider: provider });
    // Keep memory flat: exported spans are dropped as they come.
    setInterval(() => exporter.reset(), 500).unref();
  }
  let done: () => void = () => {};
  const handlers: Record<string, () => unknown> = {};
  for (let i = 1; i <= BEATS; i++) handlers[`h${i}`] = () => ({ [`v${i}`]: i });
  const last = handlers[`h${BEATS}`]!;
  handlers[`h${BEATS}`] = () => {
    const r = last();
    done();
    return r;
  };
  const mounted = await conductor.mount(sequence, handlers, 'BenchPlugin');
  if (!mounted.success) throw new Error('mount failed');
  let n = 0;
  return {
    conductor,
    next: async () => {
      const finished = new Promise<void>((r) => (done = r));
      await conductor.play('BenchPlugin', 'bench-seq', { n: n++ });
      await finished;
    },
  };
}

async function round(next: () => Promise<void>): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) await next();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / runs;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU µs per call of `fn(data)`, over `calls` calls. */
function perCall(fn: (data: unknown) => unknown, data: unknown): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn(data);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / calls;
}

async function handlerCost(): Promise<{ plainUs: number; tracedUs: number }> {
  const listeners = new Map<string, (d: unknown) => void>();
  const bus = { subscribe: (name: string, cb: (d: unknown) => void) => (listeners.set(name, cb), () => listeners.delete(name)) };
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 4096, scheduledDelayMillis: 50 })] });
  const tracer = provider.getTracer('bench');
  const tracing = new ConductorTracer({ eventBus: bus, mount: async () => ({}) } as ConductorLike, () => tracer, () => ({}));
  tracing.attach();
  const handler = (data: unknown) => (data as { n: number }).n + 1;
  const wrapped = tracing.wrapHandlers(sequence, { h2: handler }, 'BenchPlugin').h2 as typeof handler;
  listeners.get('sequence-started')!({ sequenceName: 'Bench', requestId: 'bench-run' });
  const data = {
    n: 1,
    _musicalContext: {
      sequence: { name: 'Bench' },
      movement: { name: 'Main' },
      beat: { number: 2, event: 'bench.e2' },
      execution: { requestId: 'bench-run', priority: 'NORMAL' },
    },
  };
  const plainUs: number[] = [];
  const tracedUs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    plainUs.push(perCall(handler, data));
    tracedUs.push(perCall(wrapped, data));
    exporter.reset();
    await new Promise((resolve) => setTimeout(resolve, 60)); // let the batch processor drain
  }
  await provider.shutdown();
  return { plainUs: median(plainUs), tracedUs: median(tracedUs) };
}

const handlerFigures = await handlerCost();
// Which conductor is created first changes its per-run cost (the library keeps singletons):
// --traced-first swaps the order, to tell that apart from the instrumentation's cost.
const tracedFirst = process.argv.includes('--traced-first');
const traced0 = tracedFirst ? await setUp(true) : undefined;
const plain = await setUp(false);
const traced = traced0 ?? (await setUp(true));
// Warm-up (JIT, module caches) before measuring.
await round(plain.next);
await round(traced.next);
const plainMs: number[] = [];
const tracedMs: number[] = [];
for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) {
    plainMs.push(await round(plain.next));
    tracedMs.push(await round(traced.next));
  } else {
    tracedMs.push(await round(traced.next));
    plainMs.push(await round(plain.next));
  }
}
const p = median(plainMs);
const t = median(tracedMs);
print('component benchmark: musical-conductor instrumentation (CPU time)');
print(`handler call, median of ${rounds} rounds x ${calls} calls:`);
print(`  plain handler:           ${handlerFigures.plainUs.toFixed(2)} us`);
print(`  traced handler:          ${handlerFigures.tracedUs.toFixed(2)} us (+${(handlerFigures.tracedUs - handlerFigures.plainUs).toFixed(2)} us per beat span)`);
print(`${BEATS}-beat sequence run on musical-conductor 1.4.5, median of ${rounds} rounds x ${runs} runs (${tracedFirst ? 'instrumented' : 'plain'} conductor created first):`);
print(`  plain conductor:         ${p.toFixed(3)} ms`);
print(`  instrumented conductor:  ${t.toFixed(3)} ms (difference ${(t - p).toFixed(3)} ms)`);
process.exit(0);
