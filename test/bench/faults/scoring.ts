import { quantile } from '../../../src/detect/stats.js';
import type { Finding } from '../../../src/model/anomaly.js';
import type { Fault, Matcher, Scenario } from './scenario.js';

/** Precision, recall and time to detect of findings against the injected faults. */
export type ReportedFinding = Pick<Finding, 'key' | 'type' | 'subtype' | 'service' | 'handler' | 'sequence'>;

export interface Report {
  /** Slice whose evaluation produced the finding. */
  slice: number;
  finding: ReportedFinding;
}

/** One alert: a key reported over consecutive slices (gaps up to `mergeGap` slices bridged). */
export interface Episode {
  key: string;
  firstSlice: number;
  lastSlice: number;
  finding: ReportedFinding;
}

export interface FaultScore {
  id: string;
  kind: string;
  detected: boolean;
  /** Slices from fault start to first detection, counting the first faulty slice as 1. */
  ttdSlices?: number;
  detectedBy?: string;
}

export interface ScoreResult {
  precision: number;
  recall: number;
  medianTtdSlices: number;
  truePositives: number;
  /** Of the true positives, those only explained by a fault's `related` matchers. */
  relatedPositives: number;
  falsePositives: Episode[];
  warmupEpisodes: number;
  faults: FaultScore[];
}

export function matches(m: Matcher, f: ReportedFinding): boolean {
  if (f.type !== m.type) return false;
  if (m.subtype !== undefined && f.subtype !== m.subtype) return false;
  if (m.service !== undefined && f.service !== m.service) return false;
  if (m.handler !== undefined && f.handler !== m.handler) return false;
  if (m.sequence !== undefined && f.sequence !== m.sequence) return false;
  return true;
}

export function episodes(reports: Report[], mergeGap = 2): Episode[] {
  const open = new Map<string, Episode>();
  const out: Episode[] = [];
  for (const r of [...reports].sort((a, b) => a.slice - b.slice)) {
    const ep = open.get(r.finding.key);
    if (ep !== undefined && r.slice - ep.lastSlice <= mergeGap + 1) {
      ep.lastSlice = r.slice;
      continue;
    }
    const fresh: Episode = { key: r.finding.key, firstSlice: r.slice, lastSlice: r.slice, finding: r.finding };
    open.set(r.finding.key, fresh);
    out.push(fresh);
  }
  return out;
}

function inFault(f: Fault, slice: number, grace: number): boolean {
  return slice >= f.startSlice && slice < f.endSlice + grace;
}

/** Median (mean of the middle two for an even count); NaN for none. */
export function median(values: number[]): number {
  return quantile(values, 0.5);
}

export function score(scenario: Scenario, reports: Report[]): ScoreResult {
  const grace = scenario.graceSlices;
  const eps = episodes(reports);
  let tp = 0;
  let related = 0;
  let warmup = 0;
  const fps: Episode[] = [];
  for (const ep of eps) {
    if (ep.firstSlice < scenario.warmupSlices) {
      warmup++;
      continue;
    }
    const during = scenario.faults.filter((f) => inFault(f, ep.firstSlice, grace));
    if (during.some((f) => f.expect.some((m) => matches(m, ep.finding)))) tp++;
    else if (during.some((f) => f.related.some((m) => matches(m, ep.finding)))) {
      tp++;
      related++;
    } else fps.push(ep);
  }
  const faults: FaultScore[] = scenario.faults.map((f) => {
    const hit = reports
      .filter((r) => inFault(f, r.slice, grace) && f.expect.some((m) => matches(m, r.finding)))
      .sort((a, b) => a.slice - b.slice)[0];
    const s: FaultScore = { id: f.id, kind: f.kind, detected: hit !== undefined };
    if (hit !== undefined) {
      s.ttdSlices = hit.slice - f.startSlice + 1;
      s.detectedBy = hit.finding.key;
    }
    return s;
  });
  const detected = faults.filter((f) => f.detected);
  const scored = tp + fps.length;
  return {
    precision: scored === 0 ? 1 : tp / scored,
    recall: faults.length === 0 ? 1 : detected.length / faults.length,
    medianTtdSlices: median(detected.map((f) => f.ttdSlices!)),
    truePositives: tp,
    relatedPositives: related,
    falsePositives: fps,
    warmupEpisodes: warmup,
    faults,
  };
}
