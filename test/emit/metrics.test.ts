import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';

function beat(service: string): Beat {
  return {
    service,
    serviceVersion: '',
    sequence: 's',
    movement: 'm',
    beatNumber: 1,
    event: '',
    handler: 'h',
    plugin: '',
    kind: '',
    correlationId: '',
    startMs: 0,
    durationMs: 1,
    status: 0,
    error: undefined,
    traceId: '',
    spanId: '',
    parentSpanId: '',
    spanName: 'h',
    attributes: {},
  };
}

async function value(m: SidecarMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const data = await metric.get();
  const found = data.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value;
}

describe('createMetrics', () => {
  let m: SidecarMetrics;
  afterEach(() => m.stop());

  it('counts received and rejected spans by protocol on its own registry', async () => {
    m = createMetrics({ defaultMetrics: false });
    m.spansReceived('grpc').inc(5);
    m.spansReceived('grpc').inc(2);
    m.spansReceived('http').inc(1);
    m.spansRejected('http').inc(3);
    expect(await value(m, 'self_healing_spans_received_total', { protocol: 'grpc' })).toBe(7);
    expect(await value(m, 'self_healing_spans_received_total', { protocol: 'http' })).toBe(1);
    expect(await value(m, 'self_healing_spans_rejected_total', { protocol: 'http' })).toBe(3);
    // Cached children: the same handle each time.
    expect(m.spansReceived('grpc')).toBe(m.spansReceived('grpc'));
    expect(m.requests('http', 'ok')).toBe(m.requests('http', 'ok'));
  });

  it('counts beats per service in runs', async () => {
    m = createMetrics({ defaultMetrics: false });
    m.countBeats([beat('a'), beat('a'), beat('b'), beat('a')]);
    m.countBeats([]);
    expect(await value(m, 'self_healing_beats_total', { service: 'a' })).toBe(3);
    expect(await value(m, 'self_healing_beats_total', { service: 'b' })).toBe(1);
  });

  it('exposes requests, decode errors, gauges and forward results in the text format', async () => {
    m = createMetrics({ prefix: 'x_', defaultMetrics: false });
    m.requests('grpc', 'overloaded').inc();
    m.decodeErrors('http', 'bad_gzip').inc(2);
    m.inflightSpans.set(12);
    m.forwardQueueDepth.set(4);
    m.forwardRequests('dropped').inc();
    const text = await m.registry.metrics();
    expect(text).toContain('x_receive_requests_total{protocol="grpc",outcome="overloaded"} 1');
    expect(text).toContain('x_decode_errors_total{protocol="http",reason="bad_gzip"} 2');
    expect(text).toContain('x_inflight_spans 12');
    expect(text).toContain('x_forward_queue_depth 4');
    expect(text).toContain('x_forward_requests_total{result="dropped"} 1');
  });

  it('includes event-loop lag from the default metrics, and registries are independent', async () => {
    m = createMetrics();
    const other = createMetrics({ defaultMetrics: false });
    other.spansReceived('http').inc();
    const text = await m.registry.metrics();
    expect(text).toMatch(/nodejs_eventloop_lag_p99_seconds/);
    expect(await value(m, 'self_healing_spans_received_total', { protocol: 'http' })).toBeUndefined();
    other.stop();
    m.stop();
    expect(await m.registry.metrics()).toBe('\n');
  });
});
