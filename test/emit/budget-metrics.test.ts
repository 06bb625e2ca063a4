import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerBudgetMetrics } from '../../src/emit/budget-metrics.js';
import { SequenceDetector } from '../../src/detect/sequence-detector.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { makeBeat } from '../bench/faults/beats.js';

describe('registerBudgetMetrics', () => {
  it('exposes what trace assembly holds and what it dropped to stay inside its budgets', async () => {
    const cfg = ConfigSchema.parse({ detect: { maxInflightRuns: 3, maxPendingEvictedRuns: 2 } }).detect;
    const det = new SequenceDetector(cfg, []);
    for (let t = 0; t < 10; t++) det.observe(makeBeat({ traceId: `t${t}`, spanId: `s${t}`, parentSpanId: 'r', sequence: 'seq', beatNumber: 1, startMs: 0, durationMs: 1 }));
    const registry = new Registry();
    registerBudgetMetrics(registry, () => ({ assembly: det.assemblyStats(), retainedBeats: 12, retentionCapped: 4 }));
    const text = await registry.metrics();
    expect(text).toContain('self_healing_trace_inflight_runs 3');
    expect(text).toContain('self_healing_trace_held_spans{state="inflight"} 3');
    expect(text).toContain('self_healing_trace_runs_evicted_total 7');
    expect(text).toContain('self_healing_trace_evictions_dropped_total 5');
    // The spans had a parent outside the trace (no root): none of the evicted runs was rooted.
    expect(text).toContain('self_healing_trace_runs_evicted_rooted_total 0');
    expect(text).toContain('self_healing_trace_spans_dropped_total{reason="late"} 0');
    expect(text).toContain('self_healing_retained_beats 12');
    expect(text).toContain('self_healing_retained_beats_capped_total 4');
    // Scraping again reports the same totals (mirrored, not added up).
    expect(await registry.metrics()).toContain('self_healing_trace_runs_evicted_total 7');
  });
});
