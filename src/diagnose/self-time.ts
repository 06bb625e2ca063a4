import type { Beat } from '../model/beat.js';
import type { EvidenceSource } from '../model/evidence.js';
import type { Hypothesis } from '../model/diagnosis.js';
import { median, round } from './beat-stats.js';

export interface SelfTimeSplit {
  selfMs: number;
  childMs: number;
  /** Time each direct child (by handler, or span name) spent inside the parent, overlaps kept. */
  children: Map<string, number>;
}

/**
 * Self time of a span = its duration minus the union of its direct children's intervals
 * (clipped to the parent), so parallel children are not double-counted.
 */
export function selfTimeSplit(beat: Beat, traceBeats: readonly Beat[]): SelfTimeSplit {
  const start = beat.startMs;
  const end = beat.startMs + beat.durationMs;
  const intervals: Array<[number, number]> = [];
  const children = new Map<string, number>();
  for (const c of traceBeats) {
    if (c.parentSpanId !== beat.spanId || c.spanId === beat.spanId) continue;
    const s = Math.max(start, c.startMs);
    const e = Math.min(end, c.startMs + c.durationMs);
    if (e <= s) continue;
    intervals.push([s, e]);
    const name = childName(c);
    children.set(name, (children.get(name) ?? 0) + (e - s));
  }
  intervals.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let curS = Number.NaN;
  let curE = Number.NaN;
  for (const [s, e] of intervals) {
    if (Number.isNaN(curS) || s > curE) {
      if (!Number.isNaN(curS)) covered += curE - curS;
      curS = s;
      curE = e;
    } else if (e > curE) curE = e;
  }
  if (!Number.isNaN(curS)) covered += curE - curS;
  return { selfMs: Math.max(0, beat.durationMs - covered), childMs: covered, children };
}

function childName(b: Beat): string {
  return b.handler !== '' ? b.handler : b.spanName;
}

/** At most this many traces are fetched per side: enough for a median, cheap to compute. */
const MAX_TRACES = 25;

interface SideFigures {
  runs: number;
  selfMs: number;
  childMs: number;
  totalMs: number;
  children: Map<string, number>;
}

function sideFigures(beats: readonly Beat[], evidence: EvidenceSource): SideFigures | undefined {
  const self: number[] = [];
  const child: number[] = [];
  const total: number[] = [];
  const perChild = new Map<string, number[]>();
  // Newest first, and only beats whose run is still held: the oldest baseline beats have usually
  // lost their traces, and skipping them silently would leave too few runs to compare.
  let used = 0;
  for (let i = beats.length - 1; i >= 0 && used < MAX_TRACES; i--) {
    const b = beats[i]!;
    const trace = evidence.traceBeats(b.traceId);
    if (trace === undefined) continue;
    used++;
    const split = selfTimeSplit(b, trace);
    self.push(split.selfMs);
    child.push(split.childMs);
    total.push(b.durationMs);
    for (const [name, ms] of split.children) {
      const list = perChild.get(name) ?? [];
      list.push(ms);
      perChild.set(name, list);
    }
  }
  if (self.length === 0) return undefined;
  const children = new Map<string, number>();
  // A child absent from some runs counts 0 there, hence the padding before the median.
  for (const [name, list] of perChild) {
    const padded = list.concat(new Array<number>(self.length - list.length).fill(0));
    children.set(name, median(padded)!);
  }
  return { runs: self.length, selfMs: median(self)!, childMs: median(child)!, totalMs: median(total)!, children };
}

export interface TimingResult {
  hypothesis?: Hypothesis;
  /** Figures for the diagnosis context. */
  figures?: Record<string, unknown>;
}

/**
 * Where did the extra time go: into the handler's own code ('self-time-regression') or into
 * a child span ('slow-dependency', naming the child whose time grew most)?
 */
export function timingHypothesis(
  slow: readonly Beat[],
  normal: readonly Beat[],
  evidence: EvidenceSource,
): TimingResult {
  const s = sideFigures(slow, evidence);
  if (s === undefined) return {};
  const b = sideFigures(normal, evidence);
  const baseTotal = b?.totalMs ?? median(normal.map((x) => x.durationMs));
  if (baseTotal === undefined) return {};
  // Without baseline traces only the baseline total is known: the self time that exceeds it
  // certainly grew, the rest of the growth is put on the children.
  const baseSelf = b?.selfMs ?? baseTotal;
  const baseChild = b?.childMs ?? 0;
  const overall = Math.max(0, s.totalMs - baseTotal);
  const selfGrowth = b === undefined ? Math.min(overall, Math.max(0, s.selfMs - baseTotal)) : Math.max(0, s.selfMs - baseSelf);
  const childGrowth = b === undefined ? overall - selfGrowth : Math.max(0, s.childMs - baseChild);
  const totalGrowth = overall > 0 ? selfGrowth + childGrowth : 0;
  const figures = {
    slowRuns: s.runs,
    baselineRuns: b?.runs ?? 0,
    slowSelfMs: round(s.selfMs),
    slowChildMs: round(s.childMs),
    baselineSelfMs: round(baseSelf),
    baselineChildMs: round(baseChild),
  };
  if (totalGrowth <= 0) return { figures };
  const evidenceLines = [
    `median self time ${round(s.selfMs)} ms vs ${round(baseSelf)} ms in the baseline (${s.runs} slow runs, ${b?.runs ?? 0} baseline traces)`,
    `median child time ${round(s.childMs)} ms vs ${round(baseChild)} ms in the baseline`,
  ];
  const sampleWeight = Math.min(1, s.runs / 5);
  if (selfGrowth >= childGrowth) {
    return {
      figures,
      hypothesis: {
        cause: 'self-time-regression',
        description: `the handler's own code got slower: self time grew by ${round(selfGrowth)} ms`,
        score: round(0.9 * (selfGrowth / totalGrowth) * sampleWeight, 3),
        evidence: evidenceLines,
      },
    };
  }
  let worst = '';
  let worstGrowth = -Infinity;
  for (const [name, ms] of s.children) {
    const growth = ms - (b?.children.get(name) ?? 0);
    if (growth > worstGrowth) {
      worst = name;
      worstGrowth = growth;
    }
  }
  evidenceLines.push(
    `child '${worst}' takes ${round(s.children.get(worst) ?? 0)} ms vs ${round(b?.children.get(worst) ?? 0)} ms in the baseline`,
  );
  return {
    figures: { ...figures, slowChild: worst, slowChildGrowthMs: round(worstGrowth) },
    hypothesis: {
      cause: 'slow-dependency',
      description: `time grew in the child span '${worst}' (+${round(worstGrowth)} ms), not in the handler itself`,
      score: round(0.9 * (childGrowth / totalGrowth) * sampleWeight, 3),
      evidence: evidenceLines,
    },
  };
}
