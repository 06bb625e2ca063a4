/**
 * COMPONENT benchmark: the OTLP logs path of `serve` without its HTTP/gRPC servers, in one
 * process. The request bodies of `npm run bench`'s serve-http-logs target (test/bench/otlp/
 * traffic.ts, encoding 'logs': 512 records of one service per request, a trace per 8 records,
 * each record its own span, numbers in the bodies new per request) go through what the serve log
 * sink runs per request: `decodeLogsRequestProto`, `DetectionEngine.observeLogs` (log detector
 * and its template miner) and `IncidentEngine.observeLogs` (the service graph's log side), with
 * both engines evaluated every slice of wall time. The bodies are made before the clock starts
 * (600 of them, replayed in turn), so their making is not counted. Prints log records per
 * CPU-second of this process after a 2 s warm-up.
 *
 *   node dist/test/bench/logs-pipeline-bench.js [--seconds 10] [--parts all|decode|engine|graph] [--from <dist dir of another build>]
 *
 * `--parts engine` leaves the incident engine out, `graph` the detection engine, `decode` both.
 * `--from` loads the decoder and engines from another build (before/after on the same traffic).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ownDecoder from '../../src/receive/otlp-logs-proto.js';
import type { TemplateMatch } from '../../src/detect/log-templates.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { DEFAULT_TRAFFIC, Traffic } from './otlp/traffic.js';
import { loadPipelineModules } from './pipeline-build.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const seconds = Number(flag('seconds', '10'));
const parts = flag('parts', 'all');
const from = flag('from', '');
if (!['all', 'decode', 'engine', 'graph'].includes(parts)) throw new Error(`--parts: all, decode, engine or graph, not ${parts}`);
const BODIES = 600;

async function main(): Promise<void> {
  const { ConfigSchema, DetectionEngine, IncidentEngine } = await loadPipelineModules(from);
  const { decodeLogsRequestProto } = from === '' ? ownDecoder : ((await import(pathToFileURL(join(from, 'src/receive/otlp-logs-proto.js')).href)) as typeof ownDecoder);
  const config = ConfigSchema.parse({});
  const engine = parts === 'all' || parts === 'engine' ? new DetectionEngine({ config: config.detect }) : undefined;
  const incidents = parts === 'all' || parts === 'graph' ? new IncidentEngine({ graph: { sliceMs: config.detect.sliceMs } }) : undefined;
  const shared = engine !== undefined && typeof (engine as { logTemplatesOf?: unknown }).logTemplatesOf === 'function';
  const templatesOf = (events: LogEvent[]): readonly TemplateMatch[] | undefined => (shared ? engine!.logTemplatesOf(events) : undefined);
  const traffic = new Traffic(DEFAULT_TRAFFIC, 'logs');
  const bodies: Buffer[] = [];
  for (let i = 0; i < BODIES; i++) bodies.push(traffic.body());
  const maxAttributesPerSpan = config.receive.maxAttributesPerSpan;
  const t0 = performance.now();
  let nextEvaluation = t0 + config.detect.sliceMs;
  let records = 0;
  let startRecords = -1;
  let cpu0 = process.cpuUsage();
  for (let k = 0; performance.now() - t0 < seconds * 1000; k++) {
    const r = decodeLogsRequestProto(bodies[k % BODIES]!, { maxAttributesPerSpan, nowMs: Date.now() });
    engine?.observeLogs(r.events);
    // As serve's log sink: the graph takes the templates the detector mined (a build from before
    // that had no logTemplatesOf mines them again in the graph).
    incidents?.observeLogs(r.events, templatesOf(r.events));
    records += r.records;
    const now = performance.now();
    if (startRecords < 0 && now - t0 >= 2000) {
      startRecords = records;
      cpu0 = process.cpuUsage();
    }
    if (now >= nextEvaluation) {
      nextEvaluation += config.detect.sliceMs;
      engine?.evaluate(Date.now());
      incidents?.evaluate(Date.now());
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const measured = records - Math.max(0, startRecords);
  const perCpu = measured / ((cpu.user + cpu.system) / 1e6);
  console.log(
    `LOGS PIPELINE (COMPONENT: decode${engine ? ' + detection engine' : ''}${incidents ? ' + incident engine' : ''}, no servers), ${from || 'this build'}: ${Math.round(perCpu).toLocaleString('en-US')} log records per CPU-second over ${measured} records`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
