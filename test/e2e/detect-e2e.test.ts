import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../../src/config/schema.js';
import { Sidecar } from '../../src/sidecar.js';
import { createLogger } from '../../src/emit/logger.js';
import { createEventsClient, type EventMessage } from '../../src/emit/events-grpc.js';
import { OtlpTestReceiver } from '../emit/otlp-test-receiver.js';
import { SseClient } from '../web/sse-client.js';
import { waitFor } from '../receive/harness.js';

const APP = fileURLToPath(new URL('./fixtures/regression-app.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The whole detection path in real time: an instrumented child process exports beats over
 * OTLP/gRPC to a running sidecar; resolveTemplate is made slower; the sidecar must emit an anomaly
 * span naming it, linked to traces the app really exported, and publish the diagnosis on the
 * gRPC event stream and over SSE.
 */
describe('end to end: latency regression in a live app', () => {
  let dir: string;
  let sidecar: Sidecar;
  let otlp: OtlpTestReceiver;
  let app: ChildProcessWithoutNullStreams;
  const slowTraces = new Set<string>();
  const allTraces = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-e2e-'));
    otlp = new OtlpTestReceiver();
    await otlp.start();
    const config = ConfigSchema.parse({
      logLevel: 'warn',
      receive: { grpc: { port: 0 }, http: { port: 0 } },
      admin: { port: 0 },
      store: { path: join(dir, 'state.db') },
      emit: { otlp: { endpoint: `http://127.0.0.1:${otlp.port}`, protocol: 'grpc' } },
      detect: { sliceMs: 500, windowSlices: 4, minSamples: 20, baselineMinSlices: 8 },
    });
    sidecar = await Sidecar.start(config, { logger: createLogger('warn') });
    app = spawn(process.execPath, [APP, `http://127.0.0.1:${sidecar.grpc!.port}`], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    app.stdout.setEncoding('utf8');
    app.stdout.on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const [tag, id] = line.split(' ');
        if (id) allTraces.add(id);
        if (tag === 'slow' && id) slowTraces.add(id);
      }
    });
  });

  afterAll(async () => {
    app?.kill('SIGTERM');
    await sidecar?.stop();
    await otlp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('emits an anomaly span linked to real exemplar traces, and the diagnosis on gRPC and SSE', async () => {
    const sse = new SseClient();
    await sse.open(`${sidecar.admin!.url}/api/v1/events?kinds=diagnosis.created`);
    const grpcEvents: EventMessage[] = [];
    const client = createEventsClient(`127.0.0.1:${sidecar.grpc!.port}`);
    const stream = client.Subscribe({ afterSeq: 0, kinds: ['diagnosis.created'] });
    stream.on('data', (e: EventMessage) => grpcEvents.push(e));
    stream.on('error', () => undefined);

    // Warm up until the handler has a baseline: enough closed slices with traffic.
    await waitFor(() => (sidecar.engine.handlerFigures().find((h) => h.handler === 'resolveTemplate')?.baselineP95Ms ?? 0) > 0, 60_000);
    app.stdin.write('regress\n');

    await waitFor(() => otlp.spans.some((s) => s.attributes['self_healing.anomaly.type'] === 'performance' && s.attributes['self_healing.anomaly.handler'] === 'resolveTemplate'), 60_000);
    const span = otlp.spans.find((s) => s.attributes['self_healing.anomaly.type'] === 'performance' && s.attributes['self_healing.anomaly.handler'] === 'resolveTemplate')!;
    expect(span.service).toBe('self-healing');
    expect(span.name).toBe('anomaly performance/latency-regression');
    expect(span.attributes['self_healing.anomaly.handler']).toBe('resolveTemplate');
    expect(span.links.length).toBeGreaterThan(0);
    for (const link of span.links) expect(allTraces.has(link.traceId), `link ${link.traceId} is a trace the app exported`).toBe(true);
    // Links are ranked slowest first: the top one is a run from after the regression.
    const top = span.links.find((l) => l.attributes['self_healing.link.rank'] === 1) ?? span.links[0]!;
    expect(slowTraces.has(top.traceId), JSON.stringify(span.links.map((l) => l.attributes))).toBe(true);
    const anomalyId = String(span.attributes['self_healing.anomaly.id']);

    await waitFor(() => grpcEvents.some((e) => e.anomalyId === anomalyId));
    await waitFor(() => sse.events.some((f) => f.data?.includes(anomalyId) === true));
    const diagnosis = sidecar.store.diagnosesForAnomaly(anomalyId)[0]!;
    expect(diagnosis.affected.handlers).toContain('resolveTemplate');
    expect(diagnosis.rootCause.cause).toBe('self-time-regression');
    sse.close();
    stream.cancel();
    client.close();
  });
});
