import { Gauge, type Registry } from 'prom-client';
import type { ServiceGraphBudget } from '../detect/service-graph.js';
import { mirroredCounter } from './mirrored-counter.js';

/**
 * What the service graph's budgets (detect.serviceGraph.maxTraces, maxKeys) hold and what they
 * turned away. Read at scrape time from the graph's own counters, so the hot path pays nothing.
 */
export function registerGraphBudgetMetrics(registry: Registry, budget: () => ServiceGraphBudget, prefix = 'self_healing_'): void {
  const registers = [registry];
  new Gauge({
    name: `${prefix}service_graph_buffered_traces`,
    help: 'Traces the service graph holds until their trace grace passes (budget detect.serviceGraph.maxTraces)',
    registers,
    collect() {
      this.set(budget().bufferedTraces);
    },
  });
  mirroredCounter(registers, `${prefix}service_graph_traces_folded_early_total`, 'Traces folded into the graph before their grace passed, because detect.serviceGraph.maxTraces were buffered (a later span of such a trace starts a new one)', () => budget().tracesFoldedEarly);
  mirroredCounter(registers, `${prefix}service_graph_keys_dropped_total`, 'Contributions to services, endpoints, edges or patterns not tracked because detect.serviceGraph.maxKeys were', () => budget().droppedKeys);
  mirroredCounter(registers, `${prefix}service_graph_late_requests_total`, 'Requests whose slice had already been handed to the detectors when their trace completed (not counted)', () => budget().lateRequests);
}
