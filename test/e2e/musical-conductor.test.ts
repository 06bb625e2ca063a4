import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { receiveConfig, waitFor } from '../receive/harness.js';

const run = promisify(execFile);
const APP = fileURLToPath(new URL('./fixtures/conductor-app.ts', import.meta.url));
const HOOK = fileURLToPath(new URL('./fixtures/register-otel-hook.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Play {
  phase: string;
  requestId: string;
  completed: Record<string, { executionTime: number; at: number }>;
  sequenceCompleted: { errors: number };
  handlerEnds: Record<string, number>;
}

const HANDLERS = ['validateDrop', 'saveComponent', 'renderPreview', 'notify'];

/**
 * A real app (test/e2e/fixtures/conductor-app.ts) on the real musical-conductor package, in a
 * child process, exporting with the real OpenTelemetry SDK to the sidecar's receivers.
 */
describe('musical-conductor instrumentation, end to end', () => {
  let metrics: SidecarMetrics;
  let http: HttpReceiver;
  let grpc: GrpcReceiver;
  const beats: Beat[] = [];

  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    http = new HttpReceiver(receiveConfig(), (b) => beats.push(...b), metrics, { auth: undefined, tls: null });
    grpc = new GrpcReceiver(receiveConfig(), (b) => beats.push(...b), metrics, { auth: undefined, tls: null });
    await http.start();
    await grpc.start();
  });

  afterAll(async () => {
    await http.stop();
    await grpc.stop();
    metrics.stop();
  });

  async function runApp(mode: string, protocol: 'grpc' | 'http', hook: boolean): Promise<Map<string, Play>> {
    const url = `http://127.0.0.1:${protocol === 'grpc' ? grpc.port : http.port}`;
    const args = ['--import', 'tsx', ...(hook ? ['--import', HOOK] : []), APP, mode, protocol, url];
    const { stdout } = await run(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
    const plays = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Play);
    return new Map(plays.map((p) => [p.phase, p]));
  }

  const beatsOf = (requestId: string): Beat[] => beats.filter((b) => b.correlationId === requestId);

  /** Waits for the run's five spans (root and four handlers); returns them by handler. */
  async function runBeats(play: Play): Promise<Map<string, Beat>> {
    await waitFor(() => beatsOf(play.requestId).length >= 5);
    const got = beatsOf(play.requestId);
    expect(got).toHaveLength(5);
    return new Map(got.map((b) => [b.handler, b]));
  }

  function expectRun(by: Map<string, Beat>, play: Play, service: string): void {
    const root = by.get('Library Drop')!;
    expect(root).toBeDefined();
    expect(root.parentSpanId).toBe('');
    expect(root.sequence).toBe('Library Drop');
    expect(root.attributes['beat.sequence.id']).toBe('library-drop-symphony');
    const expected = [
      ['validateDrop', 'Validate', 1, 'library.drop.validate', 'pure'],
      ['saveComponent', 'Place', 1, 'library.drop.save', 'stage-crew'],
      ['renderPreview', 'Place', 2, 'library.drop.render', 'stage-crew'],
      // No kind in the mounted sequence: the declared copy gives it.
      ['notify', 'Place', 3, 'library.drop.notify', 'pure'],
    ] as const;
    for (const [handler, movement, number, event, kind] of expected) {
      const b = by.get(handler)!;
      expect(b, handler).toBeDefined();
      expect(b.service).toBe(service);
      expect(b.serviceVersion).toBe('2.0.0');
      expect(b.sequence).toBe('Library Drop');
      expect(b.attributes['beat.sequence.id']).toBe('library-drop-symphony');
      expect([b.movement, b.beatNumber, b.event, b.plugin, b.kind]).toEqual([movement, number, event, 'LibraryPlugin', kind]);
      expect(b.correlationId).toBe(play.requestId);
      expect(b.traceId).toBe(root.traceId);
      expect(b.parentSpanId).toBe(root.spanId);
      // The span covers the handler: it ends no earlier than the handler's own clock says it did.
      expect(b.startMs + b.durationMs).toBeGreaterThanOrEqual(play.handlerEnds[handler]! - 1);
      expect(b.startMs + b.durationMs).toBeLessThanOrEqual(root.startMs + root.durationMs + 1);
    }
    // The async handler's real duration: at least its 30 ms sleep, finishing after the
    // conductor had already reported the beat completed.
    const save = by.get('saveComponent')!;
    expect(save.durationMs).toBeGreaterThanOrEqual(30);
    expect(play.handlerEnds.saveComponent!).toBeGreaterThan(play.completed['library.drop.save']!.at);
  }

  function expectFailedRun(by: Map<string, Beat>, play: Play): void {
    // The conductor swallowed the exception: no beat-failed, and it reports no errors.
    expect(play.sequenceCompleted.errors).toBe(0);
    const render = by.get('renderPreview')!;
    expect(render.status).toBe(2);
    expect(render.error).toMatchObject({ type: 'RenderError', message: 'cannot render broken' });
    expect(render.error!.stacktrace).toContain('RenderError: cannot render broken');
    expect(render.error!.topFrame).toContain('conductor-app.ts');
    expect(by.get('Library Drop')!.status).toBe(2);
    for (const h of ['validateDrop', 'saveComponent', 'notify']) expect(by.get(h)!.status, h).toBe(0);
  }

  it('instrumentConductor: real beats over OTLP/HTTP, exceptions seen, input redacted, undo stops tracing', async () => {
    const plays = await runApp('instrument', 'http', false);
    const traced = await runBeats(plays.get('traced')!);
    expectRun(traced, plays.get('traced')!, 'library-app');
    expect(JSON.parse(String(traced.get('validateDrop')!.attributes['beat.input']))).toEqual({ component: { type: 'button' }, token: '[redacted]' });

    const failing = plays.get('traced-error')!;
    const failed = await runBeats(failing);
    expectRun(failed, failing, 'library-app');
    expectFailedRun(failed, failing);
    // Warm run: the conductor's executionTime is dispatch time only, far below the real 30 ms.
    expect(failed.get('saveComponent')!.durationMs).toBeGreaterThan(failing.completed['library.drop.save']!.executionTime);

    // After undo nothing of that run arrives (the provider was flushed on shutdown).
    expect(beatsOf(plays.get('undone')!.requestId)).toHaveLength(0);
    expect(new Set(beats.map((b) => b.handler))).toEqual(new Set([...HANDLERS, 'Library Drop']));
  });

  it('MusicalConductorInstrumentation via registerInstrumentations over OTLP/gRPC: disable() and enable() work', async () => {
    const plays = await runApp('register', 'grpc', true);
    const traced = await runBeats(plays.get('traced')!);
    expectRun(traced, plays.get('traced')!, 'library-app-register');
    const enabled = plays.get('enabled')!;
    const after = await runBeats(enabled);
    expectRun(after, enabled, 'library-app-register');
    expectFailedRun(after, enabled);
    expect(beatsOf(plays.get('disabled')!.requestId)).toHaveLength(0);
  });

  it("MusicalConductorInstrumentation in NodeSDK's instrumentations option", async () => {
    const plays = await runApp('sdk-node', 'http', true);
    const traced = await runBeats(plays.get('traced')!);
    expectRun(traced, plays.get('traced')!, 'library-app-sdk-node');
    expect(beatsOf(plays.get('disabled')!.requestId)).toHaveLength(0);
    await runBeats(plays.get('enabled')!);
  });
});
