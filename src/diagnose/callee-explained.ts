import type { SignalKind } from '../detect/service-signals.js';

/**
 * Whether a service's log-only change is explained by one of its callees. A caller's event mix
 * moves when a callee misbehaves (it logs the callee's error answer, takes a fallback path, skips
 * the lines after a failed call) while its own time, failures and gaps stay put; the fault is where
 * the stronger evidence of its own is. So a service whose only origin evidence is its event
 * patterns (log lines or operations per request, or per sibling line) inherits it when a direct
 * callee shows stronger origin evidence of any kind in the same incident.
 *
 * `strength` is the ranker's per-service, per-kind evidence (capped z, undiscovered keys reduced).
 */
export function logChangeExplainedByCallee(service: string, strength: ReadonlyMap<string, ReadonlyMap<SignalKind, number>>, callees: Iterable<string>, minZ: number): boolean {
  const own = strength.get(service);
  const logZ = own?.get('pattern') ?? 0;
  if (logZ < minZ) return false;
  for (const k of OWN_KINDS) if ((own?.get(k) ?? 0) >= minZ) return false;
  for (const callee of callees) {
    if (callee === service) continue;
    const theirs = strength.get(callee);
    if (theirs === undefined) continue;
    for (const k of ORIGIN_KINDS) if ((theirs.get(k) ?? 0) > logZ) return true;
  }
  return false;
}

/** Evidence of a service's own that is more than a changed mix of its lines. */
const OWN_KINDS: readonly SignalKind[] = ['self', 'own-failures', 'error-logs', 'edge-gap'];
/** Evidence that a fault originates at a service (latency and endpoint failures propagate up). */
const ORIGIN_KINDS: readonly SignalKind[] = [...OWN_KINDS, 'pattern'];
