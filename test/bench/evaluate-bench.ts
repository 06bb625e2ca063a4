/**
 * COMPONENT benchmark: the cost of one per-slice evaluation of `serve` at many handler keys, in
 * one process and in data time. The traffic is `npm run bench`'s (test/bench/otlp/traffic.ts:
 * 512-span OTLP/HTTP protobuf requests of 4 services, fresh trace ids, `--keys` distinct handler
 * keys), decoded with `decodeTraceRequestProto` and fed to `DetectionEngine.observe` and
 * `IncidentEngine.observe` as the serve sink does; `--requests` requests spread over each
 * simulated 10 s slice, then both engines are evaluated as serve's slice timer does. The clock the
 * traffic stamps its spans with is simulated, so an hour of slices takes seconds. Prints the time
 * of each evaluation (detection engine, incident engine) after `--warmup` slices, and the longest
 * event-loop turn when the detection engine is evaluated in turns as serve's timer does.
 *
 *   node dist/test/bench/evaluate-bench.js [--keys 10000] [--requests 200] [--slices 8] [--warmup 14] [--from <dist dir of another build>]
 *
 * `--from` loads the decoder and engines from another build (before/after on the same traffic).
 * Profile with `node --cpu-prof --cpu-prof-dir=/tmp/prof dist/test/bench/evaluate-bench.js`.
 */
import { DEFAULT_TRAFFIC, Traffic } from './otlp/traffic.js';
import { loadPipelineModules } from './pipeline-build.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function positive(name: string, fallback: number): number {
  const v = Number(flag(name, String(fallback)));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name}: a positive integer, not ${flag(name, '')}`);
  return v;
}

const keys = positive('keys', 10_000);
const requests = positive('requests', 200);
const slices = positive('slices', 8);
const warmup = positive('warmup', 14);
const from = flag('from', '');
/** serve's EVALUATION_TURN_MS. */
const TURN_MS = 20;

function stats(xs: number[]): string {
  const s = xs.slice().sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(1)} ms  p50 ${s[Math.floor((s.length - 1) / 2)]!.toFixed(1)} ms  max ${s[s.length - 1]!.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { ConfigSchema, DetectionEngine, IncidentEngine, decodeTraceRequestProto } = await loadPipelineModules(from);
  const config = ConfigSchema.parse({});
  const sliceMs = config.detect.sliceMs;
  const engine = new DetectionEngine({ config: config.detect });
  const incidents = new IncidentEngine({ graph: { sliceMs } });
  const traffic = new Traffic({ ...DEFAULT_TRAFFIC, keys }, 'protobuf');
  const decodeOptions = { maxAttributesPerSpan: config.receive.maxAttributesPerSpan };
  // The traffic stamps spans with Date.now(): a simulated clock replays slices back to back.
  const realNow = Date.now.bind(Date);
  const t0 = Math.floor(realNow() / sliceMs) * sliceMs;
  let simNow = t0;
  Date.now = () => simNow;
  const detectMs: number[] = [];
  const graphMs: number[] = [];
  const turnMs: number[] = [];
  let spans = 0;
  let changes = 0;
  for (let s = 0; s < warmup + slices; s++) {
    for (let r = 0; r < requests; r++) {
      simNow = t0 + s * sliceMs + Math.floor(((r + 0.5) * sliceMs) / requests);
      const decoded = decodeTraceRequestProto(traffic.body(), decodeOptions);
      engine.observe(decoded.beats);
      incidents.observe(decoded.beats);
      spans += decoded.spans;
    }
    // serve's timer fires at some phase inside the next slice.
    simNow = t0 + (s + 1) * sliceMs + 3_000;
    const a = performance.now();
    let got;
    if (typeof engine.evaluation === 'function') {
      // As serve's timer runs it (runInTurns): back to back until a turn has used its budget.
      const steps = engine.evaluation(simNow);
      let turnStart = a;
      let longest = 0;
      for (;;) {
        const step = steps.next();
        const t = performance.now();
        if (step.done === true || t - turnStart >= TURN_MS) {
          longest = Math.max(longest, t - turnStart);
          turnStart = t;
        }
        if (step.done === true) {
          got = step.value;
          break;
        }
      }
      if (s >= warmup) turnMs.push(longest);
    } else got = engine.evaluate(simNow);
    const b = performance.now();
    incidents.evaluate(simNow);
    const c = performance.now();
    if (s >= warmup) {
      detectMs.push(b - a);
      graphMs.push(c - b);
      changes += got.length;
    }
  }
  Date.now = realNow;
  const st = engine.stats();
  console.log(
    `EVALUATE (COMPONENT: detection + incident engine, default config, data time), ${from || 'this build'}: ${keys} handler keys requested, ${st.keys} keys held (${st.refusedBeats} beats refused), ` +
      `${requests} requests x ${DEFAULT_TRAFFIC.spansPerRequest} spans per 10 s slice (${spans} spans), ${slices} slices measured after ${warmup}`,
  );
  console.log(`  DetectionEngine.evaluate  ${stats(detectMs)}  (${changes} anomaly changes while measured)`);
  if (turnMs.length > 0) console.log(`  longest event-loop turn of DetectionEngine.evaluation in turns of ${TURN_MS} ms (as serve runs it): ${stats(turnMs)}`);
  console.log(`  IncidentEngine.evaluate   ${stats(graphMs)}`);
  console.log(`  heap used ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
