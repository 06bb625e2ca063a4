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
  return strongestCallee(service, strength, callees, ORIGIN_KINDS) > logZ;
}

/**
 * The strongest evidence (of `kinds`, or of any kind) that a direct callee of `service` shows in
 * the ranker's `strength`; 0 when none does. A service listed as its own callee is skipped.
 */
export function strongestCallee(
  service: string,
  strength: ReadonlyMap<string, ReadonlyMap<SignalKind, number>>,
  callees: Iterable<string>,
  kinds?: Iterable<SignalKind>,
): number {
  let best = 0;
  for (const callee of callees) {
    if (callee === service) continue;
    const theirs = strength.get(callee);
    if (theirs === undefined) continue;
    // `>` rather than Math.max, so a NaN never counts as evidence.
    if (kinds === undefined) {
      for (const z of theirs.values()) if (z > best) best = z;
    } else {
      for (const k of kinds) {
        const z = theirs.get(k) ?? 0;
        if (z > best) best = z;
      }
    }
  }
  return best;
}

/** Evidence of a service's own that is more than a changed mix of its lines. */
const OWN_KINDS: readonly SignalKind[] = ['self', 'own-failures', 'error-logs', 'edge-gap'];
/** Evidence that a fault originates at a service (latency and endpoint failures propagate up). */
const ORIGIN_KINDS: readonly SignalKind[] = [...OWN_KINDS, 'pattern'];
