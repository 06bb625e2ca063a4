import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../src/config/schema.js';
import { Sidecar, engineTelemetry, healingDecision } from '../src/sidecar.js';
import type { Diagnosis } from '../src/model/diagnosis.js';
import { createLogger } from '../src/emit/logger.js';
import { createEventsClient, type EventMessage } from '../src/emit/events-grpc.js';
import type { Anomaly } from '../src/model/anomaly.js';
import { OtlpTestReceiver } from './emit/otlp-test-receiver.js';
import { SseClient } from './web/sse-client.js';
import { seededRandom, traffic } from './detect/beat-factory.js';
import { beatSpans, encodeTraceRequest } from './bench/otlp/encode-request.js';
import { waitFor } from './receive/harness.js';

const SLICE = 10_000;

describe('Sidecar: receive -> detect -> diagnose -> emit, wired together', () => {
  let dir: string;
  let sidecar: Sidecar;
  let otlp: OtlpTestReceiver;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-sidecar-'));
    otlp = new OtlpTestReceiver();
    await otlp.start();
    const config = ConfigSchema.parse({
      receive: { grpc: { port: 0 }, http: { port: 0 } },
      admin: { port: 0 },
      store: { path: join(dir, 'state.db') },
      emit: { otlp: { endpoint: `http://127.0.0.1:${otlp.port}`, protocol: 'grpc' }, jaegerUrl: 'http://jaeger.local:16686' },
      detect: { sliceMs: SLICE, windowSlices: 6 },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('info', {}, (l) => logs.push(l)) });
  });

  afterAll(async () => {
    await sidecar?.stop();
    await otlp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is live and ready, and serves the dashboard and info', async () => {
    const base = sidecar.admin!.url;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toContain('<title>self-healing</title>');
    const info = (await (await fetch(`${base}/api/v1/info`)).json()) as { jaegerUrl: string; healing: { mode: string } };
    expect(info).toMatchObject({ jaegerUrl: 'http://jaeger.local:16686', healing: { mode: 'off' } });
    const fixes = await fetch(`${base}/api/v1/fixes`);
    expect(fixes.status).toBe(200);
    const insights = (await (await fetch(`${base}/api/v1/insights`)).json()) as { verdicts: Record<string, number>; strategies: unknown[] };
    expect(insights.verdicts).toEqual({});
    expect(insights.strategies).toEqual([]);
    const md = await fetch(`${base}/api/v1/insights`, { headers: { accept: 'text/markdown' } });
    expect(md.headers.get('content-type')).toContain('text/markdown');
    expect(await md.text()).toContain('#');
  });

  it('turns an OTLP/HTTP export into beats the API reports, counted in /metrics', async () => {
    const body = encodeTraceRequest([beatSpans(40, 3, 'checkout-api')]);
    const res = await fetch(`http://127.0.0.1:${sidecar.http!.port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body,
    });
    expect(res.status).toBe(200);
    const handlers = (await (await fetch(`${sidecar.admin!.url}/api/v1/handlers`)).json()) as { handlers: Array<{ service: string; count: number }> };
    expect(handlers.handlers.some((h) => h.service === 'checkout-api')).toBe(true);
    const metrics = await (await fetch(`${sidecar.admin!.url}/metrics`)).text();
    expect(metrics).toMatch(/beats_total\{[^}]*service="checkout-api"[^}]*\} 40/);
  });

  it('routes OTLP/HTTP log records to the detection engine, counted in /metrics', async () => {
    const doc = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout-api' } }] },
          scopeLogs: [{ logRecords: [{ severityNumber: 17, body: { stringValue: 'payment 12 failed: card declined' } }, { severityNumber: 9, body: { stringValue: 'cart loaded' } }] }],
        },
      ],
    };
    const before = sidecar.engine.logs!.records;
    const res = await fetch(`http://127.0.0.1:${sidecar.http!.port}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{}');
    expect(sidecar.engine.logs!.records - before).toBe(2);
    expect(sidecar.engine.logs!.miner.templateCount('checkout-api')).toBe(2);
    const metrics = await (await fetch(`${sidecar.admin!.url}/metrics`)).text();
    expect(metrics).toMatch(/log_records_received_total\{protocol="http"\} 2/);
  });

  it('detects a latency regression, stores and diagnoses it, and publishes it on SSE, gRPC and as a span', async () => {
    const sse = new SseClient();
    await sse.open(`${sidecar.admin!.url}/api/v1/events?kinds=anomaly.opened,diagnosis.created`);
    const grpcEvents: EventMessage[] = [];
    const client = createEventsClient(`127.0.0.1:${sidecar.grpc!.port}`);
    const stream = client.Subscribe({ afterSeq: 0, kinds: ['diagnosis.created'] });
    stream.on('data', (e: EventMessage) => grpcEvents.push(e));
    stream.on('error', () => undefined);

    const rand = seededRandom(11);
    const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
    const spec = { service: 'canvas-app', handler: 'resolveTemplate', sequence: 'canvas-component-create', rate: 20, medianMs: 10, sigma: 0.25, errorRate: 0 };
    let opened: Anomaly | undefined;
    for (let i = 0; i < 80 && !opened; i++) {
      const from = t0 + i * SLICE;
      const beats = traffic(rand, spec, from, from + SLICE, i >= 60 ? 4 : 1);
      // The factory's ids are readable, not hex; exported spans only link to valid W3C ids.
      for (const b of beats) {
        b.traceId = b.traceId.replace(/[^0-9a-f]/g, '0');
        b.spanId = b.spanId.replace(/[^0-9a-f]/g, '0');
      }
      sidecar.engine.observe(beats);
      for (const { change, diagnosis } of sidecar.evaluate(from + SLICE)) {
        if (change.kind === 'opened' && change.anomaly.type === 'performance') {
          opened = change.anomaly;
          expect(diagnosis?.anomalyId).toBe(opened.id);
        }
      }
    }
    expect(opened, 'a 4x regression is detected').toBeDefined();
    expect(opened!.handler).toBe('resolveTemplate');
    expect(opened!.exemplars.length).toBeGreaterThan(0);
    expect(sidecar.store.getAnomaly(opened!.id)?.state).toBe('open');
    const diagnoses = sidecar.store.diagnosesForAnomaly(opened!.id);
    expect(diagnoses).toHaveLength(1);
    expect(diagnoses[0]!.recommendedFixes).toContain('regression-test');

    await waitFor(() => sse.events.some((f) => f.event === 'diagnosis.created'));
    expect(sse.events.map((f) => f.event)).toEqual(expect.arrayContaining(['anomaly.opened', 'diagnosis.created']));
    await waitFor(() => grpcEvents.some((e) => e.anomalyId === opened!.id));
    sse.close();
    stream.cancel();
    client.close();

    const byApi = (await (await fetch(`${sidecar.admin!.url}/api/v1/anomalies/${opened!.id}`)).json()) as { anomaly?: Anomaly; id?: string };
    expect(byApi.anomaly?.id ?? byApi.id).toBe(opened!.id);

    await sidecar.emitter!.flush();
    await waitFor(() => otlp.spans.some((s) => s.attributes['self_healing.anomaly.id'] === opened!.id));
    const span = otlp.spans.find((s) => s.attributes['self_healing.anomaly.id'] === opened!.id)!;
    expect(span.service).toBe('self-healing');
    expect(span.name).toBe('anomaly performance/latency-regression');
    expect(span.attributes['self_healing.anomaly.handler']).toBe('resolveTemplate');
    expect(span.links.map((l) => l.traceId)).toEqual(expect.arrayContaining(opened!.exemplars.map((e) => e.traceId)));
    expect(logs.some((l) => l.includes('"anomaly opened"'))).toBe(true);
    const metrics = await (await fetch(`${sidecar.admin!.url}/metrics`)).text();
    expect(metrics).toMatch(/self_healing_anomalies_total\{type="performance",subtype="latency-regression",change="opened",severity="\w+"\} 1/);
    expect(metrics).toMatch(/self_healing_open_anomalies [1-9]/);
  });

  it('reports handler telemetry for learning from the engine reservoirs', () => {
    const snap = engineTelemetry(sidecar.engine).snapshot('canvas-app', 'resolveTemplate');
    expect(snap.count).toBeGreaterThan(0);
    expect(snap.durationsMs).toHaveLength(snap.count);
    expect(snap.version).toBe('1.0.0');
    // The synthetic traffic is hours old: a window ending now holds none of it.
    expect(engineTelemetry(sidecar.engine, 60_000).snapshot('canvas-app', 'resolveTemplate').count).toBe(0);
  });

  it('applies the retention period to events (open anomalies stay)', () => {
    const events = sidecar.store.eventsSince(0, 1000).length;
    expect(events).toBeGreaterThan(0);
    const counts = sidecar.prune(Date.now() + 31 * 86_400_000)!;
    expect(counts.events).toBe(events);
    expect(sidecar.store.eventsSince(0, 1000)).toEqual([]);
    expect(sidecar.store.listAnomalies({ limit: 10, offset: 0 }).length).toBeGreaterThan(0);
  });
});

describe('Sidecar with healing configured', () => {
  it('queues one healing job per handler even when one defect opens several anomalies', async () => {
    const { createFixtureRepo } = await import('./fixtures/app-repo.js');
    const { makeError } = await import('./detect/beat-factory.js');
    const repo = await createFixtureRepo({ bug: 'null-access' });
    const dir = mkdtempSync(join(tmpdir(), 'sh-sidecar-heal-'));
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { enabled: false },
      emit: { otlp: { enabled: false } },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE, windowSlices: 6 },
      heal: { repository: { path: repo.dir } },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent') });
    try {
      const rand = seededRandom(21);
      const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
      const err = makeError('TypeError', "Cannot read properties of undefined (reading 'name')", 'src/handlers/createComponent.ts:15');
      const opened: string[] = [];
      for (let i = 0; i < 80; i++) {
        const from = t0 + i * SLICE;
        const failing = i >= 60;
        const spec = { service: 'canvas-app', handler: 'createComponent', sequence: 'canvas-component-create', rate: 20, medianMs: 3, sigma: 0.2, errorRate: failing ? 0.3 : 0, errors: [err] };
        sidecar.engine.observe(traffic(rand, spec, from, from + SLICE));
        for (const { change } of sidecar.evaluate(from + SLICE)) {
          if (change.kind === 'opened' && change.anomaly.type === 'error') opened.push(change.anomaly.subtype);
        }
      }
      expect(opened).toEqual(expect.arrayContaining(['new-error-fingerprint', 'error-rate-spike']));
      const jobs = sidecar.pipeline!.queue.list({});
      expect(jobs.filter((j) => j.handler === 'createComponent')).toHaveLength(1);
    } finally {
      await sidecar.stop();
      await repo.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Sidecar with sequence files that are not all sequences', () => {
  it('starts, logs one line per skipped file and counts the files by status', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-sidecar-seq-'));
    writeFileSync(join(dir, 'create.json'), JSON.stringify({ id: 'create', name: 'create', movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler: 'h', kind: 'io' }] }] }));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ sequences: [{ file: 'create.json' }] }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', version: '1.0.0', scripts: {} }));
    writeFileSync(join(dir, 'broken.json'), '{');
    const logs: string[] = [];
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0 },
      emit: { otlp: { enabled: false } },
      store: { path: ':memory:' },
      detect: { sequenceFiles: ['*.json'] },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, cwd: dir, logger: createLogger('info', {}, (l) => logs.push(l)) });
    try {
      const skipped = logs.filter((l) => l.includes('sequence file skipped'));
      expect(skipped).toHaveLength(2);
      expect(skipped.join('\n')).toContain('sequence file skipped: package.json: npm package manifest (package.json), not a sequence');
      expect(skipped.join('\n')).toContain('sequence file skipped: broken.json: invalid JSON');
      expect(logs.find((l) => l.includes('self-healing started'))).toMatch(/"sequences":1,"sequenceFilesSkipped":2/);
      const metrics = await (await fetch(`${sidecar.admin!.url}/metrics`)).text();
      expect(metrics).toContain('self_healing_sequence_files{status="loaded"} 1');
      expect(metrics).toContain('self_healing_sequence_files{status="manifest"} 1');
      expect(metrics).toContain('self_healing_sequence_files{status="skipped"} 2');
    } finally {
      await sidecar.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('healingDecision', () => {
  const diagnosis = (cause: string, handler: string | null = 'createComponent', recommendedFixes: Diagnosis['recommendedFixes'] = ['guard']) =>
    ({ handler: handler ?? undefined, recommendedFixes, rootCause: { cause, description: '', score: 0.7, evidence: ['an-2 (error/new-error-fingerprint on createComponent)'] } }) as Diagnosis;
  it('heals a root cause once per handler, and never a symptom of an upstream anomaly', () => {
    expect(healingDecision(diagnosis('code-defect'), undefined)).toEqual({ heal: true });
    expect(healingDecision(diagnosis('code-defect'), 'job-1')).toEqual({ heal: false, reason: 'job job-1 is already healing this handler' });
    expect(healingDecision(diagnosis('upstream-cause'), undefined)).toEqual({
      heal: false,
      reason: 'a symptom of an upstream anomaly (an-2 (error/new-error-fingerprint on createComponent))',
    });
    expect(healingDecision(diagnosis('unknown', null, ['regression-test']), undefined)).toEqual({ heal: false, reason: 'no handler to change (a sequence-wide anomaly)' });
    expect(healingDecision(diagnosis('new-release', null, ['rollback']), undefined)).toEqual({ heal: true });
  });
});
