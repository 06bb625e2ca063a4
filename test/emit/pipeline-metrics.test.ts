import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { PipelineMetrics, registerSequenceFileMetrics } from '../../src/emit/pipeline-metrics.js';
import type { Anomaly } from '../../src/model/anomaly.js';

describe('PipelineMetrics', () => {
  it('counts anomaly changes and reads detection and job gauges at scrape time', async () => {
    const registry = new Registry();
    let open = 1;
    let evicted = 3;
    const m = new PipelineMetrics(registry, {
      detect: () => ({ keys: 12, evicted, refusedBeats: 4, lateBeats: 7, openAnomalies: open }),
      jobs: () => ({ queued: 2, succeeded: 5 }),
    });
    const anomaly = { type: 'performance', subtype: 'latency-regression', severity: 'high' } as Anomaly;
    m.countChange({ kind: 'opened', anomaly });
    m.countChange({ kind: 'resolved', anomaly });
    open = 0;
    const text = await registry.metrics();
    expect(text).toContain('self_healing_anomalies_total{type="performance",subtype="latency-regression",change="opened",severity="high"} 1');
    expect(text).toContain('self_healing_anomalies_total{type="performance",subtype="latency-regression",change="resolved",severity="high"} 1');
    expect(text).toContain('self_healing_open_anomalies 0');
    expect(text).toContain('self_healing_detect_keys 12');
    expect(text).toContain('# TYPE self_healing_detect_evicted_keys_total counter');
    expect(text).toContain('self_healing_detect_evicted_keys_total 3');
    expect(text).toContain('self_healing_detect_beats_refused_total 4');
    expect(text).toContain('# TYPE self_healing_detect_late_beats_total counter');
    expect(text).toContain('self_healing_detect_late_beats_total 7');
    expect(text).toContain('self_healing_heal_jobs{state="queued"} 2');
    expect(text).toContain('self_healing_heal_jobs{state="succeeded"} 5');
    evicted = 10;
    const later = await registry.metrics();
    expect(later).toContain('self_healing_detect_evicted_keys_total 10');
    expect(later).toContain('self_healing_detect_late_beats_total 7');
  });

  it('has no job gauge without healing', async () => {
    const registry = new Registry();
    new PipelineMetrics(registry, { detect: () => ({ keys: 0, evicted: 0, lateBeats: 0, openAnomalies: 0 }) });
    expect(await registry.metrics()).not.toContain('heal_jobs');
  });

  it('counts declared sequence files by status, zero included', async () => {
    const registry = new Registry();
    registerSequenceFileMetrics(registry, [{ status: 'loaded' }, { status: 'loaded' }, { status: 'skipped' }]);
    const text = await registry.metrics();
    expect(text).toContain('self_healing_sequence_files{status="loaded"} 2');
    expect(text).toContain('self_healing_sequence_files{status="manifest"} 0');
    expect(text).toContain('self_healing_sequence_files{status="skipped"} 1');
  });
});
