import type { Beat } from '../model/beat.js';
import type { Hypothesis } from '../model/diagnosis.js';
import { round } from './beat-stats.js';

export interface Suspect {
  key: string;
  value: string;
  anomalousShare: number;
  baselineShare: number;
}

export interface DrilldownOptions {
  /** Minimum share difference worth reporting. */
  minDifference?: number;
  /** Two-proportion z score a difference must reach (1.96 ~ 95 %). */
  minZ?: number;
  /** The value must appear in at least this many anomalous beats. */
  minCount?: number;
  maxSuspects?: number;
}

/** Keys that identify a run rather than describe it: unique per run, never a useful suspect. */
const IGNORED_KEYS = new Set(['beat.correlation_id', 'request.id', 'trace.id', 'span.id']);

function dimensions(b: Beat): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const k in b.attributes) {
    if (IGNORED_KEYS.has(k)) continue;
    out.push([k, String(b.attributes[k])]);
  }
  if (b.serviceVersion !== '') out.push(['service.version', b.serviceVersion]);
  return out;
}

function counts(beats: readonly Beat[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of beats) {
    for (const [k, v] of dimensions(b)) {
      const id = `${k}\u0000${v}`;
      m.set(id, (m.get(id) ?? 0) + 1);
    }
  }
  return m;
}

/**
 * BubbleUp-style drill-down: which attribute values are over-represented among anomalous beats
 * compared to normal ones? Ranked by share difference, kept only when the difference is
 * significant (two-proportion z test), so a handful of beats cannot produce confident noise.
 */
export function attributeSuspects(
  anomalous: readonly Beat[],
  normal: readonly Beat[],
  opts: DrilldownOptions = {},
): Suspect[] {
  const minDifference = opts.minDifference ?? 0.2;
  const minZ = opts.minZ ?? 1.96;
  const minCount = opts.minCount ?? 2;
  const maxSuspects = opts.maxSuspects ?? 5;
  const na = anomalous.length;
  const nb = normal.length;
  if (na === 0 || nb === 0) return [];
  const ca = counts(anomalous);
  const cb = counts(normal);
  const out: Array<Suspect & { diff: number }> = [];
  for (const [id, xa] of ca) {
    if (xa < minCount) continue;
    const xb = cb.get(id) ?? 0;
    const pa = xa / na;
    const pb = xb / nb;
    const diff = pa - pb;
    if (diff < minDifference) continue;
    const pooled = (xa + xb) / (na + nb);
    const se = Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
    const z = se === 0 ? Infinity : diff / se;
    if (z < minZ) continue;
    const [key, value] = id.split('\u0000') as [string, string];
    out.push({ key, value, anomalousShare: round(pa, 3), baselineShare: round(pb, 3), diff });
  }
  out.sort((a, b) => b.diff - a.diff || a.key.localeCompare(b.key) || a.value.localeCompare(b.value));
  return out.slice(0, maxSuspects).map(({ diff: _diff, ...s }) => s);
}

/** One hypothesis per suspect, scored by how much more common the value is among bad beats. */
export function suspectHypotheses(suspects: readonly Suspect[]): Hypothesis[] {
  return suspects.map((s) => ({
    cause: `attribute:${s.key}=${s.value}`,
    description: `beats with ${s.key}=${s.value} are over-represented among anomalous beats`,
    score: round(Math.min(0.85, 0.85 * (s.anomalousShare - s.baselineShare)), 3),
    evidence: [
      `${Math.round(s.anomalousShare * 100)}% of anomalous beats have ${s.key}=${s.value} vs ${Math.round(s.baselineShare * 100)}% of normal beats`,
    ],
  }));
}
