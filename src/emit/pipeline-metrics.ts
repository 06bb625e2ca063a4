import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnomalyChange } from '../model/anomaly.js';

/** What the detection and healing gauges read when Prometheus scrapes. */
export interface PipelineSources {
  detect: () => { keys: number; evicted: number; refusedBeats?: number; lateBeats: number; openAnomalies: number };
  jobs?: () => Record<string, number>;
}

/**
 * A counter whose value is read at scrape time from a source that only grows (a restart of the
 * source, which cannot happen within one process, would show as no increase rather than a drop).
 */
function cumulativeCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
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
    // Both figures are cumulative in the engine, so they are exposed as counters (rate() works).
    cumulativeCounter(registry, `${prefix}detect_evicted_keys_total`, 'Keys evicted (idle or over detect.maxKeys)', () => sources.detect().evicted);
    cumulativeCounter(
      registry,
      `${prefix}detect_beats_refused_total`,
      'Beats not tracked because their key was new and detect.maxKeys was full of keys active within detect.keyActiveMs',
      () => sources.detect().refusedBeats ?? 0,
    );
    cumulativeCounter(registry, `${prefix}detect_late_beats_total`, 'Beats ignored because they were older than the current window', () => sources.detect().lateBeats);
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
