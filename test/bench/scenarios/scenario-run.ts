import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigSchema } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/emit/logger.js';
import type { Anomaly } from '../../../src/model/anomaly.js';
import { Sidecar } from '../../../src/sidecar.js';
import { seededRandom, ShopApp, type ScenarioSpec } from './otel-shop-app.js';

/**
 * One scenario through what ships: `serve`'s Sidecar with the default configuration (ports 0, a
 * temporary SQLite file), fed by the real OpenTelemetry JS SDK (BatchSpanProcessor + OTLP/HTTP
 * protobuf exporter) over loopback, anomalies read back from GET /api/v1/anomalies.
 *
 * Accelerated time, and why it is honest: the detectors slice by span timestamps, and the app
 * stamps its spans with its own clock, so the data is the data of a real-time run. The one thing
 * that runs on the wall clock in `serve` is the evaluation timer (every detect.sliceMs); here it
 * is the same call, `sidecar.evaluate(t)`, made at app time t. Like the live timer it fires at a
 * random phase within the slice, and spans of the last 0-5 s (the SDK's default export delay) are
 * not yet delivered when it fires.
 */
export interface ScenarioRunOptions {
  scenario: ScenarioSpec;
  seed: number;
  /** Steady traffic before the fault, then the fault. */
  steadyMs?: number;
  faultMs?: number;
  ratePerSec?: number;
  /** Overrides of the sidecar configuration (the benchmark passes none). */
  config?: Record<string, unknown>;
  /**
   * Wall-clock run: app time is Date.now(), the SDK's default batch settings, and `serve`'s own
   * evaluation timer. Takes steadyMs + faultMs of real time; the check of the accelerated mode.
   */
  realtime?: boolean;
}

export interface ScenarioResult {
  scenario: string;
  seed: number;
  requests: number;
  faultStartMs: number;
  /** Anomalies opened during the fault on one of the scenario's targets. */
  detected: boolean;
  /** App time from the fault's start to the first matching anomaly, ms. */
  timeToDetectMs: number | undefined;
  /** All anomalies opened, and those opened before the fault (false alarms). */
  anomalies: Anomaly[];
  falseBeforeFault: Anomaly[];
  /** Matching anomalies (distinct ids). */
  matching: Anomaly[];
  /** Incidents at the end of the run (GET /api/v1/incidents), best first. */
  incidents: Array<{ id: string; startMs: number; anomalyIds: string[]; rootCauses: Array<{ service: string; operation?: string }> }>;
  /** Handler figures at the end of the run (GET /api/v1/handlers). */
  handlers: Array<{ handler: string; p95Ms: number; baselineP95Ms?: number; count: number; errorRate: number }>;
}

export async function runScenario(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  const steadyMs = opts.steadyMs ?? 150_000;
  const faultMs = opts.faultMs ?? 60_000;
  const rate = opts.ratePerSec ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'sh-scenario-'));
  const config = ConfigSchema.parse({
    logLevel: 'error',
    receive: { grpc: { port: 0 }, http: { port: 0 } },
    admin: { port: 0 },
    store: { path: join(dir, 'state.db') },
    ...opts.config,
  });
  const sliceMs = config.detect.sliceMs;
  const realtime = opts.realtime === true;
  const sidecar = await Sidecar.start(config, { logger: createLogger('error'), manualEvaluation: !realtime, cwd: dir });
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${sidecar.http!.port}/v1/traces` });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'shop', 'service.version': '1.4.2' }),
    spanProcessors: [
      realtime
        ? new BatchSpanProcessor(exporter)
        : new BatchSpanProcessor(exporter, {
            maxQueueSize: 200_000,
            maxExportBatchSize: 4096,
            scheduledDelayMillis: 60_000,
          }),
    ],
  });
  try {
    if (realtime) return await runRealtime(opts, sidecar, provider, steadyMs, faultMs, rate);
    // App time starts in the past, on a slice boundary, so every timestamp is real wall time too.
    const totalMs = steadyMs + faultMs;
    const t0 = Math.floor((Date.now() - totalMs - 5 * sliceMs) / sliceMs) * sliceMs;
    const faultStartMs = t0 + steadyMs;
    const app = new ShopApp(provider.getTracer('shop'), opts.seed, opts.scenario.fault, opts.scenario.fault === 'none' ? Infinity : faultStartMs);
    const timer = seededRandom(opts.seed ^ 0x5bd1e995);
    let next = t0 + app.nextGapMs(rate);
    const endMs = t0 + totalMs;
    for (let boundary = t0 + sliceMs; boundary <= endMs + sliceMs; boundary += sliceMs) {
      const evalAt = boundary + timer() * sliceMs;
      const deliveredUntil = Math.min(endMs, evalAt - timer() * 5_000);
      let made = 0;
      while (next < deliveredUntil) {
        app.request(next);
        next += app.nextGapMs(rate);
        // Short bursts: the app and the sidecar share this event loop, and `serve` refuses
        // exports (503) while the loop lags by 500 ms or more.
        if (++made % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      await provider.forceFlush();
      sidecar.evaluate(evalAt);
    }
    return await collect(opts, sidecar, faultStartMs, app.requests);
  } finally {
    await provider.shutdown();
    await sidecar.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runRealtime(opts: ScenarioRunOptions, sidecar: Sidecar, provider: BasicTracerProvider, steadyMs: number, faultMs: number, rate: number): Promise<ScenarioResult> {
  const t0 = Date.now();
  const faultStartMs = t0 + steadyMs;
  const app = new ShopApp(provider.getTracer('shop'), opts.seed, opts.scenario.fault, opts.scenario.fault === 'none' ? Infinity : faultStartMs);
  let next = t0 + app.nextGapMs(rate);
  const endMs = t0 + steadyMs + faultMs;
  while (Date.now() < endMs) {
    const now = Math.min(Date.now(), endMs);
    while (next < now) {
      app.request(next);
      next += app.nextGapMs(rate);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // The last spans, and one more evaluation of the timer.
  await provider.forceFlush();
  await new Promise((r) => setTimeout(r, sidecar.config.detect.sliceMs + 500));
  return collect(opts, sidecar, faultStartMs, app.requests);
}

async function collect(opts: ScenarioRunOptions, sidecar: Sidecar, faultStartMs: number, requests: number): Promise<ScenarioResult> {
  const anomalies = await listAnomalies(sidecar.admin!.url);
  const handlers = ((await getJson(`${sidecar.admin!.url}/api/v1/handlers`)) as { handlers: ScenarioResult['handlers'] }).handlers;
  const incidents = (await getJson(`${sidecar.admin!.url}/api/v1/incidents`)) as ScenarioResult['incidents'];
  const targets = new Set(opts.scenario.targets);
  const matching = anomalies.filter((a) => a.firstSeenMs >= faultStartMs && (targets.has(a.handler ?? '') || targets.has(a.sequence ?? '')));
  const first = matching.reduce((m, a) => Math.min(m, a.firstSeenMs), Infinity);
  return {
    scenario: opts.scenario.name,
    seed: opts.seed,
    requests,
    faultStartMs,
    detected: matching.length > 0,
    timeToDetectMs: Number.isFinite(first) ? first - faultStartMs : undefined,
    anomalies,
    falseBeforeFault: anomalies.filter((a) => a.firstSeenMs < faultStartMs),
    matching,
    incidents,
    handlers,
  };
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function listAnomalies(base: string): Promise<Anomaly[]> {
  const out: Anomaly[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = (await getJson(`${base}/api/v1/anomalies?limit=100&offset=${offset}`)) as { items: Anomaly[]; total: number };
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}
