/**
 * COMPONENT benchmark: bytes allocated per span on the traces path of `serve`, by allocation site.
 * The same traffic and parts as pipeline-bench.ts (decode, detection engine, incident engine, in
 * one process, no servers); after a warm-up past the first evaluation (11 s), V8's sampling heap
 * profiler runs for `--seconds`, counting objects the garbage collector has already freed too
 * (what the young generation pays for), and the figures are divided by the spans processed.
 *
 *   node dist/test/bench/pipeline-alloc.js [--parts all|decode|engine] [--seconds 4] [--top 20] [--from <dist dir of another build>]
 */
import { Session } from 'node:inspector/promises';
import { DEFAULT_TRAFFIC, Traffic } from './otlp/traffic.js';
import { loadPipelineModules } from './pipeline-build.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const parts = flag('parts', 'engine');
const seconds = Number(flag('seconds', '4'));
const top = Number(flag('top', '20'));
const from = flag('from', '');
if (!['all', 'decode', 'engine'].includes(parts)) throw new Error(`--parts: all, decode or engine, not ${parts}`);

function site(node: ProfileNode): string {
  const f = node.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/^file:\/\//, '').replace(/^.*?\/(src|test)\//, '$1/')}:${f.lineNumber + 1}`;
}

async function main(): Promise<void> {
  const { ConfigSchema, DetectionEngine, IncidentEngine, decodeTraceRequestProto } = await loadPipelineModules(from);
  const config = ConfigSchema.parse({});
  const engine = parts === 'decode' ? undefined : new DetectionEngine({ config: config.detect });
  const incidents = parts === 'all' ? new IncidentEngine({ graph: { sliceMs: config.detect.sliceMs } }) : undefined;
  const traffic = new Traffic(DEFAULT_TRAFFIC, 'protobuf');
  const decodeOptions = { maxAttributesPerSpan: config.receive.maxAttributesPerSpan };
  let nextEvaluation = Date.now() + config.detect.sliceMs;
  const run = (ms: number): number => {
    const until = Date.now() + ms;
    let spans = 0;
    while (Date.now() < until) {
      const r = decodeTraceRequestProto(traffic.body(), decodeOptions);
      engine?.observe(r.beats);
      incidents?.observe(r.beats);
      spans += r.spans;
      if (Date.now() >= nextEvaluation) {
        nextEvaluation += config.detect.sliceMs;
        engine?.evaluate(Date.now());
        incidents?.evaluate(Date.now());
      }
    }
    return spans;
  };
  run(config.detect.sliceMs + 1000);
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  const spans = run(seconds * 1000);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  // Built-ins (String.fromCharCode, Array.prototype.push, Set...) are charged to their caller.
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, caller: string): void => {
    const own = site(node);
    const builtin = node.callFrame.url === '';
    const key = builtin ? `${node.callFrame.functionName} <- ${caller}` : own;
    total += node.selfSize;
    if (node.selfSize > 0) bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, builtin ? caller : own);
  };
  walk(profile.head, '(root)');
  console.log(`ALLOCATION (COMPONENT: decode${engine ? ' + detection engine' : ''}${incidents ? ' + incident engine' : ''}, no servers), ${from || 'this build'}: ${Math.round(total / spans)} bytes per span sampled over ${spans} spans`);
  for (const [key, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${(bytes / spans).toFixed(0).padStart(6)} B/span ${((bytes / total) * 100).toFixed(1).padStart(5)} %  ${key}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
