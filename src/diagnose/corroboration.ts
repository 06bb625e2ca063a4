import type { SignalKind } from '../detect/service-signals.js';

/** One reason a service may be the origin: its kind of evidence and its weighted score. */
export interface WeightedReason {
  kind: SignalKind;
  w: number;
}

/** Share of each corroborating line of evidence (the strongest counts in full). */
export const CORROBORATION_SHARE = 0.25;

/**
 * Evidence kinds that measure the same failing requests: a request that fails is one failure of
 * the service (`own-failures`), one of its endpoint (`endpoint-failures`), usually one error line
 * (`error-logs`) and a changed event pattern (`pattern`: that line new or surging, or the lines and
 * operations after the failure missing). They are one observation seen four ways, not four
 * witnesses; the ranker already treats them as one family for propagation.
 */
const SAME_FAILURES: ReadonlySet<SignalKind> = new Set<SignalKind>(['own-failures', 'endpoint-failures', 'error-logs', 'pattern']);

/**
 * A service's score from its reasons: the strongest counts in full and each other line of evidence
 * a quarter, since independent signals that agree make the origin more likely. Signals that are
 * the same failing requests counted again (SAME_FAILURES) are not independent: only the strongest
 * of them counts, so a service whose requests fail and log it does not outrank, on the count of
 * its signals alone, a service whose evidence is one signal as strong.
 */
export function corroboratedScore(reasons: readonly WeightedReason[]): number {
  const lines: number[] = [];
  let failures = 0;
  for (const r of reasons) {
    if (!(r.w > 0)) continue;
    if (SAME_FAILURES.has(r.kind)) failures = Math.max(failures, r.w);
    else lines.push(r.w);
  }
  if (failures > 0) lines.push(failures);
  lines.sort((a, b) => b - a);
  return lines.reduce((sum, w, i) => sum + (i === 0 ? w : w * CORROBORATION_SHARE), 0);
}
