import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnomalyChange } from '../model/anomaly.js';

/** What the detection and healing gauges read when Prometheus scrapes. */
export interface PipelineSources {
  detect: () => { keys: number; evicted: number; lateBeats: number; openAnomalies: number };
  jobs?: () => Record<string, number>;
}

/**
 * Metrics of the stages after receive: anomalies by type and lifecycle step, live detection state
 * and healing jobs by state. Gauges are computed at scrape time, so the hot path pays nothing.
 */
export class PipelineMetrics {
  private readonly anomalies: Counter<'type' | 'subtype' | 'change' | 'severity'>;

  constructor(registry: Registry, sources: PipelineSources, prefix = 'self_healing_') {
    this.anomalies = new Counter({
      name: `${prefix}anomalies_total`,
      help: 'Anomaly lifecycle changes by type, subtype, change (opened, updated, resolved) and severity',
      labelNames: ['type', 'subtype', 'change', 'severity'],
      registers: [registry],
    });
    new Gauge({
      name: `${prefix}open_anomalies`,
      help: 'Anomalies currently open or ongoing',
      registers: [registry],
      collect() {
        this.set(sources.detect().openAnomalies);
      },
    });
    new Gauge({
      name: `${prefix}detect_keys`,
      help: 'Tracked (service, handler) and (service, sequence) keys',
      registers: [registry],
      collect() {
        this.set(sources.detect().keys);
      },
    });
    new Gauge({
      name: `${prefix}detect_evicted_keys`,
      help: 'Keys evicted so far (idle or over detect.maxKeys)',
      registers: [registry],
      collect() {
        this.set(sources.detect().evicted);
      },
    });
    new Gauge({
      name: `${prefix}detect_late_beats`,
      help: 'Beats ignored because they were older than the current window',
      registers: [registry],
      collect() {
        this.set(sources.detect().lateBeats);
      },
    });
    const jobs = sources.jobs;
    if (jobs) {
      new Gauge({
        name: `${prefix}heal_jobs`,
        help: 'Healing jobs by state',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          for (const [state, n] of Object.entries(jobs())) this.labels(state).set(n);
        },
      });
    }
  }

  countChange(change: AnomalyChange): void {
    const a = change.anomaly;
    this.anomalies.labels(a.type, a.subtype, change.kind, a.severity).inc();
  }
}

/**
 * Declared sequence files by outcome (loaded, manifest, skipped), set once at start: a skipped
 * file is logged once and stays visible here.
 */
export function registerSequenceFileMetrics(registry: Registry, files: ReadonlyArray<{ status: string }>, prefix = 'self_healing_'): void {
  const gauge = new Gauge({ name: `${prefix}sequence_files`, help: 'Declared sequence files by status (loaded, manifest, skipped)', labelNames: ['status'], registers: [registry] });
  for (const status of ['loaded', 'manifest', 'skipped']) gauge.labels(status).set(files.filter((f) => f.status === status).length);
}
