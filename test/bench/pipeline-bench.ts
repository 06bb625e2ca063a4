/**
 * COMPONENT benchmark: the traces path of `serve` without its HTTP/gRPC servers, in one process.
 * The same request bodies as `npm run bench` (test/bench/otlp/traffic.ts: fresh trace ids, current
 * timestamps, 512 spans of 4 services per request) go through what the serve sink runs per
 * request: `decodeTraceRequestProto`, `DetectionEngine.observe` and `IncidentEngine.observe`
 * (service graph), with both engines evaluated every 10 s of wall time as serve does. Prints
 * spans per CPU-second of this process after a 2 s warm-up and the trace assembly counters.
 *
 *   node dist/test/bench/pipeline-bench.js [--seconds 24] [--parts all|decode|engine|graph] [--from <dist dir of another build>]
 *
 * `--parts engine` leaves the incident engine out, `graph` the detection engine, `decode` both.
 * `--from` loads the decoder and engines from another build (before/after on the same traffic).
 */
import { DEFAULT_TRAFFIC, Traffic } from './otlp/traffic.js';
import { loadPipelineModules } from './pipeline-build.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const seconds = Number(flag('seconds', '24'));
const parts = flag('parts', 'all');
const from = flag('from', '');
if (!['all', 'decode', 'engine', 'graph'].includes(parts)) throw new Error(`--parts: all, decode, engine or graph, not ${parts}`);

async function main(): Promise<void> {
  const { ConfigSchema, DetectionEngine, IncidentEngine, decodeTraceRequestProto } = await loadPipelineModules(from);
  const config = ConfigSchema.parse({});
  const engine = parts === 'all' || parts === 'engine' ? new DetectionEngine({ config: config.detect }) : undefined;
  const incidents = parts === 'all' || parts === 'graph' ? new IncidentEngine({ graph: { sliceMs: config.detect.sliceMs } }) : undefined;
  const traffic = new Traffic(DEFAULT_TRAFFIC, 'protobuf');
  const decodeOptions = { maxAttributesPerSpan: config.receive.maxAttributesPerSpan };
  const t0 = performance.now();
  let nextEvaluation = t0 + config.detect.sliceMs;
  let spans = 0;
  let startSpans = -1;
  let cpu0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000) {
    const r = decodeTraceRequestProto(traffic.body(), decodeOptions);
    engine?.observe(r.beats);
    incidents?.observe(r.beats);
    spans += r.spans;
    const now = performance.now();
    if (startSpans < 0 && now - t0 >= 2000) {
      startSpans = spans;
      cpu0 = process.cpuUsage();
    }
    if (now >= nextEvaluation) {
      nextEvaluation += config.detect.sliceMs;
      engine?.evaluate(Date.now());
      incidents?.evaluate(Date.now());
      if (engine) console.log(`  ${Math.round((now - t0) / 1000)} s: ${spans} spans, trace assembly ${JSON.stringify(engine.stats().assembly)}`);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const measured = spans - Math.max(0, startSpans);
  const perCpu = measured / ((cpu.user + cpu.system) / 1e6);
  console.log(
    `PIPELINE (COMPONENT: decode${engine ? ' + detection engine' : ''}${incidents ? ' + incident engine' : ''}, no servers), ${from || 'this build'}: ${Math.round(perCpu).toLocaleString('en-US')} spans per CPU-second over ${measured} spans, heap used ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
