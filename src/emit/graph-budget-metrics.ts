import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServiceGraphBudget } from '../detect/service-graph.js';

/**
 * What the service graph's budgets (detect.serviceGraph.maxTraces, maxKeys) hold and what they
 * turned away. Read at scrape time from the graph's own counters, so the hot path pays nothing.
 */
export function registerGraphBudgetMetrics(registry: Registry, budget: () => ServiceGraphBudget, prefix = 'self_healing_'): void {
  const registers = [registry];
  // A counter mirrored from a monotonic source: set to the source's value at each scrape.
  const mirror = (counter: Counter, value: number): void => {
    counter.reset();
    counter.inc(value);
  };
  new Gauge({
    name: `${prefix}service_graph_buffered_traces`,
    help: 'Traces the service graph holds until their trace grace passes (budget detect.serviceGraph.maxTraces)',
    registers,
    collect() {
      this.set(budget().bufferedTraces);
    },
  });
  new Counter({
    name: `${prefix}service_graph_traces_folded_early_total`,
    help: 'Traces folded into the graph before their grace passed, because detect.serviceGraph.maxTraces were buffered (a later span of such a trace starts a new one)',
    registers,
    collect() {
      mirror(this, budget().tracesFoldedEarly);
    },
  });
  new Counter({
    name: `${prefix}service_graph_keys_dropped_total`,
    help: 'Contributions to services, endpoints, edges or patterns not tracked because detect.serviceGraph.maxKeys were',
    registers,
    collect() {
      mirror(this, budget().droppedKeys);
    },
  });
  new Counter({
    name: `${prefix}service_graph_late_requests_total`,
    help: 'Requests whose slice had already been handed to the detectors when their trace completed (not counted)',
    registers,
    collect() {
      mirror(this, budget().lateRequests);
    },
  });
}
