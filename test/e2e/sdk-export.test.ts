import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { createBearerCheck } from '../../src/receive/auth.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { receiveConfig, waitFor } from '../receive/harness.js';

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('./fixtures/export-beats.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'e2e-token-7';

interface Ids {
  traceId: string;
  spanId: string;
}

describe('export from the OpenTelemetry JS SDK', () => {
  let metrics: SidecarMetrics;
  let http: HttpReceiver;
  let grpc: GrpcReceiver;
  const beats: Beat[] = [];

  beforeAll(async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const auth = createBearerCheck(TOKEN);
    http = new HttpReceiver(receiveConfig(), (b) => beats.push(...b), metrics, { auth, tls: null });
    grpc = new GrpcReceiver(receiveConfig(), (b) => beats.push(...b), metrics, { auth, tls: null });
    await http.start();
    await grpc.start();
  });

  afterAll(async () => {
    await http.stop();
    await grpc.stop();
    metrics.stop();
  });

  const cases = [
    ['grpc', () => `http://127.0.0.1:${grpc.port}`],
    ['http-protobuf', () => `http://127.0.0.1:${http.port}`],
    ['http-json', () => `http://127.0.0.1:${http.port}`],
  ] as const;

  it.each(cases)('produces the exact beats over %s', async (mode, url) => {
    beats.length = 0;
    const { stdout } = await run(process.execPath, [FIXTURE, mode, url(), TOKEN], { cwd: ROOT, timeout: 60_000 });
    const ids = JSON.parse(stdout.trim().split('\n').pop()!) as { root: Ids; charge: Ids; receipt: Ids };
    await waitFor(() => beats.length >= 3);
    expect(beats).toHaveLength(3);
    const by = new Map(beats.map((b) => [b.handler, b]));
    const root = by.get('validateCart')!;
    const charge = by.get('chargeCard')!;
    const receipt = by.get('sendReceipt')!;

    for (const b of [root, charge, receipt]) {
      expect(b.service).toBe('shop-e2e');
      expect(b.serviceVersion).toBe('4.5.6');
      expect(b.sequence).toBe('checkout');
      expect(b.kind).toBe('stage-crew');
      expect(b.correlationId).toBe('corr-e2e-1');
      expect(b.traceId).toBe(ids.root.traceId);
    }
    expect([root.movement, root.beatNumber, charge.movement, charge.beatNumber, receipt.movement, receipt.beatNumber]).toEqual([
      'validate', 1, 'pay', 2, 'notify', 3,
    ]);
    const t0 = Date.UTC(2026, 10, 25, 9, 0, 0);
    expect(root.startMs).toBeCloseTo(t0, 3);
    expect(root.durationMs).toBeCloseTo(60, 3);
    expect(charge.startMs).toBeCloseTo(t0 + 12, 3);
    expect(charge.durationMs).toBeCloseTo(40, 3);
    expect(receipt.durationMs).toBeCloseTo(5.5, 3);

    expect(root.spanId).toBe(ids.root.spanId);
    expect(root.parentSpanId).toBe('');
    expect(charge.spanId).toBe(ids.charge.spanId);
    expect(charge.parentSpanId).toBe(ids.root.spanId);
    expect(receipt.spanId).toBe(ids.receipt.spanId);
    expect(receipt.parentSpanId).toBe(ids.root.spanId);

    expect(root.error).toBeUndefined();
    expect(receipt.error).toBeUndefined();
    expect(charge.status).toBe(2);
    expect(charge.error).toBeDefined();
    expect(charge.error!.type).toBe('PaymentError');
    expect(charge.error!.message).toBe('card 4242 declined for order 981');
    expect(charge.error!.topFrame).toContain('/app/src/payments.ts:42');
    expect(charge.error!.fingerprint).toMatch(/^[0-9a-f]{8,}$/);
  });

  it('rejects the SDK without the token', async () => {
    beats.length = 0;
    // The SDK surfaces the 401 as an export failure; no beats arrive.
    await expect(run(process.execPath, [FIXTURE, 'http-protobuf', `http://127.0.0.1:${http.port}`], { cwd: ROOT, timeout: 60_000 })).rejects.toThrow(
      /Unauthorized/,
    );
    expect(beats).toHaveLength(0);
    expect(await metrics.registry.metrics()).toMatch(/self_healing_receive_requests_total\{protocol="http",outcome="unauthenticated"\} [1-9]/);
  });
});
