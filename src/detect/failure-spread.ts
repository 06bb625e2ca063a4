import type { GraphSlice } from './service-graph.js';

/**
 * In how many of the window's slices a failure-rate key (a service's own failures, an endpoint's
 * failed requests) saw at least one failed request.
 *
 * A window key confirms after 4 discoveries in a row because one extreme slice sits in 3
 * consecutive windows: the run guarantees that more than one slice carries the evidence. A failure
 * rate can say that directly. When the failed requests of a discovered window came in at least two
 * different slices, the evidence already rests on more than one slice, and the key confirms after
 * as many discoveries as a sparse key carried by distinct requests (`sparseConfirmSlices`); a burst
 * of failures inside one slice still needs the full run. Faults that make every request of a
 * service with a few requests a minute fail (Train Ticket's `return` faults) show as a rate of 100 %
 * against 0 % that the false-discovery step passes only late in their data: waiting for two more
 * windows there means waiting past the end of the fault.
 */
export function failingSlices(slices: readonly GraphSlice[], kind: 'own-failures' | 'endpoint-failures', service: string, operation?: string): number {
  let n = 0;
  for (const s of slices) {
    if (kind === 'own-failures') {
      if ((s.services.get(service)?.ownFailed ?? 0) > 0) n++;
      continue;
    }
    for (const e of s.endpoints.values()) {
      if (e.service === service && e.operation === operation && e.failed > 0) {
        n++;
        break;
      }
    }
  }
  return n;
}
