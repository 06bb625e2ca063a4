/**
 * The demo application: a child process that runs the canvas-component-create sequence against
 * the REAL handler modules of the demo repository and exports every run over OTLP/gRPC. The
 * parent (src/demo/app-supervisor.ts) injects faults over IPC and deploys by starting a new
 * process on the merged code (same directory, new service.version), as a real rollout would.
 *
 * Run as: node --import tsx <this file>
 *   env DEMO_APP_DIR (checkout to load handlers from), DEMO_OTLP_ENDPOINT, DEMO_RATE (runs/s),
 *       DEMO_VERSION (service.version), DEMO_FAULTS (faults active from the start)
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FIXTURE_SERVICE } from './app-repo.js';
import { loadHandlers, runSequence, type DemoFault } from './app-runner.js';
import { parseAppCommand, parseFaultList, type AppEvent } from './app-protocol.js';

function send(event: AppEvent): void {
  process.send?.(event);
}

async function main(): Promise<void> {
  const endpoint = process.env.DEMO_OTLP_ENDPOINT ?? 'http://127.0.0.1:4317';
  const runsPerSecond = Number(process.env.DEMO_RATE ?? '25');
  const version = process.env.DEMO_VERSION ?? '1.1.0';
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': FIXTURE_SERVICE, 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 })],
  });
  const tracer = provider.getTracer('canvas-app');
  const handlers = await loadHandlers(process.env.DEMO_APP_DIR ?? process.cwd());
  // Correlation ids stay unique across restarts (each deploy starts a new process).
  const runPrefix = `req-${process.pid}`;
  const faults = new Set<DemoFault>(parseFaultList(process.env.DEMO_FAULTS));
  let stopping = false;

  process.on('message', (raw: unknown) => {
    const command = parseAppCommand(raw);
    if (command === undefined) return;
    if (command.type === 'fault') {
      faults.add(command.fault);
      send({ type: 'fault-injected', fault: command.fault });
    } else stopping = true;
  });
  process.on('disconnect', () => {
    stopping = true;
  });

  send({ type: 'ready', version });
  const intervalMs = 1000 / runsPerSecond;
  let n = 0;
  let next = Date.now();
  while (!stopping) {
    runSequence(tracer, handlers, n++, faults, runPrefix);
    next += intervalMs;
    const wait = next - Date.now();
    // Behind schedule (slow handlers, a busy machine): do not catch up in a burst.
    if (wait < -1000) next = Date.now();
    await new Promise((r) => setTimeout(r, Math.max(1, wait)));
  }
  // Flush what was traced before leaving, so a rollout loses no runs.
  await provider.shutdown();
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo app failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
