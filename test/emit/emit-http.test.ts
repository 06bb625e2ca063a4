import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { AnomalySpanEmitter } from '../../src/emit/anomaly-spans.js';
import { createLogger } from '../../src/emit/logger.js';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import { loadConfig } from '../../src/config/load.js';
import { emitTarget } from '../../src/emit/otlp-target.js';
import type { Beat } from '../../src/model/beat.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { anomaly } from '../diagnose/fixtures.js';
import { receiveConfig } from '../receive/harness.js';
import { waitFor } from './store-fixture.js';
import { VERSION } from '../../src/version.js';

describe('AnomalySpanEmitter over OTLP http/protobuf', () => {
  let receiver: HttpReceiver | undefined;
  let emitter: AnomalySpanEmitter | undefined;
  let metrics: SidecarMetrics | undefined;
  afterEach(async () => {
    await emitter?.shutdown();
    await receiver?.stop();
    metrics?.stop();
    emitter = receiver = metrics = undefined;
  });

  it('delivers anomaly spans with the configured resource to a real OTLP/HTTP receiver and counts them', async () => {
    const beats: Beat[] = [];
    metrics = createMetrics({ defaultMetrics: false });
    receiver = new HttpReceiver(receiveConfig(), (b) => beats.push(...b), metrics, { auth: null, tls: null });
    await receiver.start();
    const config = loadConfig({
      sets: [`emit.otlp.endpoint=http://127.0.0.1:${receiver.port}`],
      env: { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging' },
    });
    const target = emitTarget(config);
    expect(target).toEqual({ kind: 'export', protocol: 'http/protobuf', url: `http://127.0.0.1:${receiver.port}/v1/traces` });
    if (target.kind !== 'export') return;
    emitter = new AnomalySpanEmitter({
      endpoint: target.url,
      protocol: target.protocol,
      serviceName: 'watcher',
      resourceAttributes: config.emit.resourceAttributes,
      counters: { failures: metrics.exportFailures, exported: metrics.exportedSpans },
      log: createLogger('silent'),
      scheduledDelayMillis: 10,
    });
    emitter.emit({ kind: 'opened', anomaly: anomaly({ windowStartMs: Date.now() - 1000, windowEndMs: Date.now() }) });
    await emitter.flush();
    await waitFor(() => beats.length === 1, 20_000, 'the anomaly span as a beat');
    expect(beats[0]).toMatchObject({ service: 'watcher', spanName: 'anomaly performance/latency-regression' });
    expect(beats[0]!.serviceVersion).toBe(VERSION);
    const text = await metrics.registry.metrics();
    expect(text).toContain('self_healing_exported_spans_total 1');
    expect(text).toMatch(/self_healing_build_info\{version="[^"]+",nodejs_version="[^"]+"\} 1/);
  });

  it('puts OTEL_RESOURCE_ATTRIBUTES on the resource, beside service.name and the sidecar version', async () => {
    const memory = new InMemorySpanExporter();
    emitter = new AnomalySpanEmitter({ endpoint: 'unused', serviceName: 'watcher', resourceAttributes: { 'deployment.environment.name': 'staging', 'service.name': 'ignored' }, exporter: memory });
    emitter.emit({ kind: 'opened', anomaly: anomaly() });
    await emitter.flush();
    expect(memory.getFinishedSpans()[0]!.resource.attributes).toMatchObject({
      'deployment.environment.name': 'staging',
      'service.name': 'watcher',
      'service.version': VERSION,
    });
  });

  it('counts failed exports when nothing listens', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const lines: string[] = [];
    emitter = new AnomalySpanEmitter({
      endpoint: 'http://127.0.0.1:9/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'watcher',
      counters: { failures: metrics.exportFailures, exported: metrics.exportedSpans },
      log: createLogger('warn', {}, (l) => lines.push(l)),
      scheduledDelayMillis: 10,
    });
    emitter.emit({ kind: 'opened', anomaly: anomaly() });
    await emitter.flush().catch(() => undefined); // the batch processor passes the export error on
    const m = metrics;
    await waitFor(() => lines.length > 0, 20_000, 'a logged export failure');
    expect(await m.registry.metrics()).toMatch(/self_healing_export_failures_total\{signal="traces"\} [1-9]/);
    expect(lines[0]).toContain('span export failed');
  });
});
