import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { ServiceGraph } from '../../src/detect/service-graph.js';
import { registerGraphBudgetMetrics } from '../../src/emit/graph-budget-metrics.js';
import { SPAN_KIND_SERVER } from '../../src/model/beat.js';
import { beat } from '../diagnose/service-traffic.js';

const T = 1_700_000_000_000;

describe('registerGraphBudgetMetrics', () => {
  it('exposes the traces the service graph buffers and what its budgets turned away, from the config budgets', async () => {
    const cfg = ConfigSchema.parse({ detect: { serviceGraph: { maxTraces: 3, maxKeys: 4 } } }).detect;
    const g = new ServiceGraph({ sliceMs: cfg.sliceMs, ...cfg.serviceGraph });
    for (let i = 0; i < 10; i++) g.observe([beat({ service: `svc${i}`, traceId: `t${i}`, spanId: `s${i}`, spanName: 'op', startMs: T + i, durationMs: 1 }, SPAN_KIND_SERVER)]);
    const registry = new Registry();
    registerGraphBudgetMetrics(registry, () => g.budget());
    const before = await registry.metrics();
    expect(before).toContain('self_healing_service_graph_buffered_traces 3');
    expect(before).toContain('self_healing_service_graph_traces_folded_early_total 7');
    g.advance(T + 60_000);
    const after = await registry.metrics();
    expect(after).toContain('self_healing_service_graph_buffered_traces 0');
    // Mirrored totals: scraping again does not add up.
    expect(after).toContain('self_healing_service_graph_traces_folded_early_total 7');
    expect(after).toMatch(/self_healing_service_graph_keys_dropped_total [1-9]/);
    expect(after).toContain('self_healing_service_graph_late_requests_total 0');
  });

  it('has documented defaults and names the field of a bad budget', () => {
    expect(ConfigSchema.parse({}).detect.serviceGraph).toEqual({ traceGraceMs: 5_000, maxTraces: 10_000, maxKeys: 5_000, maxSamples: 256 });
    const bad = ConfigSchema.safeParse({ detect: { serviceGraph: { maxTraces: 0 } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['detect', 'serviceGraph', 'maxTraces']);
    expect(ConfigSchema.safeParse({ detect: { serviceGraph: { maxTrace: 10 } } }).success).toBe(false);
  });
});
