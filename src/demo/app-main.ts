import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FIXTURE_SERVICE } from './app-repo.js';
import { DemoConductor, loadHandlers, type DemoFault } from './app-runner.js';
import { parseAppCommand, parseFaultList, type AppEvent } from './app-protocol.js';

/** How the app talks to its parent: IPC in the child process, a plain emitter in tests. */
export interface AppChannel {
  send(event: AppEvent): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** The parent went away: stop like on a stop command. */
  onDisconnect(listener: () => void): void;
}

export interface AppSettings {
  /** Checkout to load the handlers from. */
  appDir: string;
  otlpEndpoint: string;
  runsPerSecond: number;
  /** service.version of every span. */
  version: string;
  faults: DemoFault[];
}

/** Settings from DEMO_* environment variables (see app-process.ts). */
export function settingsFromEnv(env: NodeJS.ProcessEnv, cwd: string): AppSettings {
  const rate = Number(env.DEMO_RATE ?? '25');
  return {
    appDir: env.DEMO_APP_DIR ?? cwd,
    otlpEndpoint: env.DEMO_OTLP_ENDPOINT ?? 'http://127.0.0.1:4317',
    runsPerSecond: Number.isFinite(rate) && rate > 0 ? rate : 25,
    version: env.DEMO_VERSION ?? '1.1.0',
    faults: parseFaultList(env.DEMO_FAULTS),
  };
}

/**
 * The demo application's main loop: loads the handlers, mounts them on a real MusicalConductor,
 * then plays the sequence at a steady rate (one run at a time, as the conductor queues them),
 * traced by the musical-conductor instrumentation over OTLP/gRPC, until told to stop; then
 * flushes its spans. Faults arrive as commands.
 */
export async function runApp(settings: AppSettings, channel: AppChannel): Promise<void> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': FIXTURE_SERVICE, 'service.version': settings.version }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.otlpEndpoint }), { scheduledDelayMillis: 200, maxExportBatchSize: 512, maxQueueSize: 8192 }),
    ],
  });
  let app: DemoConductor | undefined;
  try {
    const handlers = await loadHandlers(settings.appDir);
    app = await DemoConductor.start(provider, handlers);
    // Run ids stay unique across restarts (each deploy starts a new process).
    const runPrefix = `req-${process.pid}-${Date.now().toString(36)}`;
    const faults = new Set<DemoFault>(settings.faults);
    let stopping = false;
    let wake: (() => void) | undefined;
    const stop = (): void => {
      stopping = true;
      wake?.();
    };

    channel.onMessage((raw) => {
      const command = parseAppCommand(raw);
      if (command === undefined) return;
      if (command.type === 'fault') {
        faults.add(command.fault);
        channel.send({ type: 'fault-injected', fault: command.fault });
      } else stop();
    });
    channel.onDisconnect(stop);

    channel.send({ type: 'ready', version: settings.version });
    const intervalMs = 1000 / settings.runsPerSecond;
    let n = 0;
    let next = Date.now();
    while (!stopping) {
      await app.run(n++, faults, runPrefix);
      next += intervalMs;
      const wait = next - Date.now();
      // Behind schedule (slow handlers, a busy machine): do not catch up in a burst.
      if (wait < -1000) next = Date.now();
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.max(1, wait));
      });
    }
  } finally {
    app?.undo();
    // Flush what was traced before leaving, so a rollout loses no runs.
    await provider.shutdown();
  }
}
