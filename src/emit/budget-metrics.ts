import { Counter, Gauge, type Registry } from 'prom-client';
import type { AssemblyStats } from '../detect/sequence-detector.js';
import { mirroredCounter } from './mirrored-counter.js';

/** The detection engine's budget figures (DetectionEngine.stats()). */
export interface BudgetStats {
  assembly: AssemblyStats;
  retainedBeats: number;
  retentionCapped: number;
}

/**
 * What the bounded structures of the hot path hold and what they dropped to stay inside their
 * budgets (detect.maxInflightRuns, maxInflightSpans, maxRecentRunSpans, maxPendingEvictedRuns,
 * maxRetainedBeats). Read at scrape time from the engine's own counters, so the hot path pays nothing.
 */
export function registerBudgetMetrics(registry: Registry, stats: () => BudgetStats, prefix = 'self_healing_'): void {
  const read = (): AssemblyStats => stats().assembly;
  const registers = [registry];
  new Gauge({
    name: `${prefix}trace_inflight_runs`,
    help: 'Sequence runs being assembled (budget detect.maxInflightRuns)',
    registers,
    collect() {
      this.set(read().inflightRuns);
    },
  });
  new Gauge({
    name: `${prefix}trace_held_spans`,
    help: 'Spans held by trace assembly: in-flight runs (budget detect.maxInflightSpans) and recently closed runs (detect.maxRecentRunSpans)',
    labelNames: ['state'],
    registers,
    collect() {
      const s = read();
      this.set({ state: 'inflight' }, s.inflightSpans);
      this.set({ state: 'recent' }, s.recentSpans);
    },
  });
  new Gauge({
    name: `${prefix}retained_beats`,
    help: 'Beats kept as evidence by the handler reservoirs (budget detect.maxRetainedBeats)',
    registers,
    collect() {
      this.set(stats().retainedBeats);
    },
  });
  mirroredCounter(registers, `${prefix}retained_beats_capped_total`, 'Beats that could not grow a handler reservoir because detect.maxRetainedBeats was spent (they replaced an older beat of the same handler, or were dropped)', () => stats().retentionCapped);
  mirroredCounter(registers, `${prefix}trace_runs_evicted_total`, 'Sequence runs evicted before they closed, to stay inside detect.maxInflightRuns / maxInflightSpans (not judged)', () => read().evictedRuns);
  mirroredCounter(
    registers,
    `${prefix}trace_runs_evicted_rooted_total`,
    'Of the evicted runs, those whose root span had arrived: they held no learned closing shape of their sequence, so they waited for the root grace (stragglers) and the budget ran out first',
    () => read().evictedRootedRuns,
  );
  mirroredCounter(registers, `${prefix}trace_evictions_dropped_total`, 'Evicted runs not queued for the next evaluation because detect.maxPendingEvictedRuns were waiting (counted either way; an evicted run is never judged)', () => read().droppedEvictions);
  new Counter({
    name: `${prefix}trace_spans_dropped_total`,
    help: 'Spans not kept by trace assembly: run_full = the run held its maximum spans, late = after the run closed, over detect.maxRecentRunSpans',
    labelNames: ['reason'],
    registers,
    collect() {
      const s = read();
      this.reset();
      this.inc({ reason: 'run_full' }, s.droppedFullRunSpans);
      this.inc({ reason: 'late' }, s.droppedLateSpans);
    },
  });
}
