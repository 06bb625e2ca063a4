import type { Anomaly } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Hypothesis } from '../model/diagnosis.js';
import type { EvidenceSource } from '../model/evidence.js';
import { round } from './beat-stats.js';

/** A release first seen this long before the window start still counts as "just before". */
export const RELEASE_LOOKBACK_MS = 30 * 60_000;

export interface ReleaseResult {
  hypothesis?: Hypothesis;
  previousVersion?: string;
  newVersion?: string;
  versions: Array<{ version: string; firstSeenMs: number; lastSeenMs: number }>;
}

/**
 * Change correlation: a service.version first seen shortly before (or inside) the anomaly window,
 * with an older version before it, is a release the anomaly may come from. The closer to the
 * window start and the more the anomalous beats run the new version, the stronger.
 */
export function releaseHypothesis(
  anomaly: Anomaly,
  evidence: EvidenceSource,
  anomalous: readonly Beat[],
  normal: readonly Beat[],
  lookbackMs = RELEASE_LOOKBACK_MS,
  recent: readonly Beat[] = [],
): ReleaseResult {
  const versions = [...evidence.versions(anomaly.service)].sort((a, b) => a.firstSeenMs - b.firstSeenMs);
  const result: ReleaseResult = { versions };
  let idx = -1;
  for (let i = versions.length - 1; i >= 1; i--) {
    const v = versions[i]!;
    if (v.firstSeenMs >= anomaly.windowStartMs - lookbackMs && v.firstSeenMs <= anomaly.windowEndMs) {
      idx = i;
      break;
    }
  }
  if (idx < 1) return result;
  const next = versions[idx]!;
  const prev = versions[idx - 1]!;
  result.previousVersion = prev.version;
  result.newVersion = next.version;

  const leadMs = anomaly.windowStartMs - next.firstSeenMs;
  // 1 when the release lands at the window start, fading to 0.4 at the edge of the lookback.
  const proximity = leadMs <= 0 ? 0.8 : 1 - 0.6 * Math.min(1, leadMs / lookbackMs);
  const anomalousOnNew = shareOn(anomalous, next.version);
  const normalOnNew = shareOn(normal, next.version);
  // When beats tell us which version they ran, a problem only on the new version is telling.
  const versionSignal = anomalousOnNew === undefined ? 0.6 : Math.max(0, anomalousOnNew - (normalOnNew ?? 0) * 0.5);
  let score = round(Math.min(1, 0.85 * proximity * (0.5 + 0.5 * versionSignal)), 3);
  // A partial rollout is the cleanest experiment there is: both versions serve the same traffic
  // at the same time, so if the anomalous beats crowd onto the new one, the release is the cause
  // whatever the handler's self time says.
  const recentOnNew = shareOn(recent, next.version);
  const concurrent = recentOnNew !== undefined && recentOnNew > 0 && recentOnNew < 0.9;
  const lift = concurrent && anomalousOnNew !== undefined ? anomalousOnNew / recentOnNew : 0;
  if (lift >= 2 && anomalousOnNew! >= 0.6) score = Math.max(score, round(Math.min(0.97, 0.9 + 0.02 * lift), 3));
  const evidenceLines = [
    `service.version ${next.version} first seen ${describeLead(leadMs)} the anomaly window (previous ${prev.version})`,
  ];
  if (anomalousOnNew !== undefined) {
    evidenceLines.push(
      `${Math.round(anomalousOnNew * 100)}% of anomalous beats ran ${next.version}` +
        (normalOnNew === undefined ? '' : ` vs ${Math.round(normalOnNew * 100)}% of normal beats`),
    );
  }
  if (concurrent && lift >= 2) {
    evidenceLines.push(`both versions run side by side (${Math.round(recentOnNew * 100)}% of recent beats on ${next.version}); anomalous beats are ${lift.toFixed(1)}x over-represented on it`);
  }
  result.hypothesis = {
    cause: 'new-release',
    description: `release ${next.version} (replacing ${prev.version}) shortly before the anomaly`,
    score,
    evidence: evidenceLines,
  };
  return result;
}

function shareOn(beats: readonly Beat[], version: string): number | undefined {
  const known = beats.filter((b) => b.serviceVersion !== '');
  if (known.length === 0) return undefined;
  return known.filter((b) => b.serviceVersion === version).length / known.length;
}

function describeLead(leadMs: number): string {
  if (leadMs <= 0) return `${Math.round(-leadMs / 1000)} s into`;
  return `${Math.round(leadMs / 1000)} s before`;
}
