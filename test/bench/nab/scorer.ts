/**
 * Numenta Anomaly Benchmark scoring, written from the NAB v1.1 definition (sweeper + threshold
 * optimiser + normalisation):
 *  - each labelled window rewards only its earliest detection, with a scaled sigmoid of the
 *    detection's relative position (1.0 at the left edge, 0 just past the right edge);
 *  - a detection outside any window costs fpWeight times the scaled sigmoid of its distance past
 *    the preceding window (or the full fpWeight when no window precedes it);
 *  - a window without detection costs fnWeight;
 *  - the probationary rows (first min(floor(0.15 n), 750)) are not scored at all;
 *  - one threshold per profile is chosen for the whole corpus by sweeping all scores sorted once;
 *  - normalised = 100 * (raw - null) / (perfect - null), null = no detections, perfect = every
 *    labelled window detected at its left edge (windows count * tpWeight).
 * Pure functions only; corpus I/O lives in corpus.ts.
 */

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export const NAB_PROBATION_PERCENT = 0.15;

/** Row marker: the row is outside every window. */
const OUTSIDE = -1;

export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/** Rows at the start of a file that are never scored. */
export function probationLength(rows: number, percent = NAB_PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/** A labelled window as inclusive row indices into its file. */
export interface RowWindow {
  start: number;
  end: number;
}

/**
 * The scorable rows of one file (probation removed), profile-independent: each row's anomaly
 * score, the window it lies in (global id) or OUTSIDE, and its unweighted sweep value (TP value
 * already divided by the maximum TP value, FP value before the fpWeight).
 */
export interface ScoredRows {
  scores: Float64Array;
  windowIds: Int32Array;
  unweighted: Float64Array;
  /** Global ids of the windows that have at least one scorable row. */
  windowIdsPresent: number[];
}

/**
 * Row-by-row sweep values of one file. `firstWindowId` makes window ids unique across the corpus.
 * Windows must be sorted and non-overlapping, as NAB's labeller produces them.
 */
export function sweepFile(
  anomalyScores: ArrayLike<number>,
  windows: readonly RowWindow[],
  firstWindowId: number,
  probationPercent = NAB_PROBATION_PERCENT,
): ScoredRows {
  const n = anomalyScores.length;
  const probation = probationLength(n, probationPercent);
  const first = Math.min(n, Math.ceil(probation));
  const m = n - first;
  const scores = new Float64Array(m);
  const windowIds = new Int32Array(m);
  const unweighted = new Float64Array(m);
  const present = new Set<number>();
  const maxTp = scaledSigmoid(-1);
  let w = 0;
  let prevEnd = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    while (w < windows.length && windows[w]!.end < i) {
      prevEnd = windows[w]!.end;
      prevWidth = windows[w]!.end - windows[w]!.start + 1;
      w++;
    }
    const win = windows[w];
    const inside = win !== undefined && i >= win.start && i <= win.end;
    let value: number;
    if (inside) {
      const width = win.end - win.start + 1;
      value = scaledSigmoid(-(win.end - i + 1) / width) / maxTp;
    } else if (prevEnd < 0) {
      value = -1;
    } else {
      // A one-row window would divide by zero; NAB never labels one, treat it as far away.
      value = prevWidth > 1 ? scaledSigmoid(Math.abs(prevEnd - i) / (prevWidth - 1)) : -1;
    }
    if (i < first) continue;
    const k = i - first;
    scores[k] = anomalyScores[i]!;
    unweighted[k] = value;
    if (inside) {
      windowIds[k] = firstWindowId + w;
      present.add(firstWindowId + w);
    } else {
      windowIds[k] = OUTSIDE;
    }
  }
  return { scores, windowIds, unweighted, windowIdsPresent: [...present].sort((a, b) => a - b) };
}

export interface ThresholdScore {
  /** Rows with anomaly score >= threshold are detections. */
  threshold: number;
  score: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** All rows of a corpus gathered and sorted once by descending anomaly score. */
export interface SweepIndex {
  scores: Float64Array;
  windowIds: Int32Array;
  unweighted: Float64Array;
  order: Uint32Array;
  windowCount: number;
  windowsPresent: number[];
}

export function buildSweepIndex(files: readonly ScoredRows[], windowCount: number): SweepIndex {
  const total = files.reduce((a, f) => a + f.scores.length, 0);
  const scores = new Float64Array(total);
  const windowIds = new Int32Array(total);
  const unweighted = new Float64Array(total);
  const present: number[] = [];
  let off = 0;
  for (const f of files) {
    scores.set(f.scores, off);
    windowIds.set(f.windowIds, off);
    unweighted.set(f.unweighted, off);
    off += f.scores.length;
    present.push(...f.windowIdsPresent);
  }
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((a, b) => scores[b]! - scores[a]!);
  return { scores, windowIds, unweighted, order, windowCount, windowsPresent: present };
}

/**
 * Score at every distinct threshold, from "no detection" (threshold +Infinity) down to the
 * lowest anomaly score. Each detected window keeps its best (earliest) detection.
 */
export function sweepThresholds(index: SweepIndex, cost: CostMatrix): ThresholdScore[] {
  const { scores, windowIds, unweighted, order } = index;
  const best = new Float64Array(index.windowCount).fill(-cost.fnWeight);
  let score = -cost.fnWeight * index.windowsPresent.length;
  let inWindow = 0;
  for (let i = 0; i < windowIds.length; i++) if (windowIds[i]! !== OUTSIDE) inWindow++;
  let tp = 0;
  let fp = 0;
  let fn = inWindow;
  let tn = windowIds.length - inWindow;
  const out: ThresholdScore[] = [];
  let threshold = Number.POSITIVE_INFINITY;
  for (let r = 0; r < order.length; r++) {
    const i = order[r]!;
    const s = scores[i]!;
    if (s !== threshold) {
      out.push({ threshold, score, tp, fp, tn, fn });
      threshold = s;
    }
    const w = windowIds[i]!;
    if (w === OUTSIDE) {
      fp++;
      tn--;
      score += unweighted[i]! * cost.fpWeight;
    } else {
      tp++;
      fn--;
      const v = unweighted[i]! * cost.tpWeight;
      if (v > best[w]!) {
        score += v - best[w]!;
        best[w] = v;
      }
    }
  }
  out.push({ threshold, score, tp, fp, tn, fn });
  return out;
}

/** The best-scoring threshold (the highest one among equal scores). */
export function optimizeThreshold(index: SweepIndex, cost: CostMatrix): ThresholdScore {
  let best: ThresholdScore | undefined;
  for (const t of sweepThresholds(index, cost)) if (best === undefined || t.score > best.score) best = t;
  return best!;
}

/** Raw corpus score with detections = rows whose anomaly score >= threshold. */
export function scoreAtThreshold(index: SweepIndex, cost: CostMatrix, threshold: number): number {
  let chosen: ThresholdScore | undefined;
  for (const t of sweepThresholds(index, cost)) {
    if (t.threshold >= threshold) chosen = t;
    else break;
  }
  return chosen!.score;
}

export function nullScore(index: SweepIndex, cost: CostMatrix): number {
  return -cost.fnWeight * index.windowsPresent.length;
}

export function perfectScore(labelledWindows: number, cost: CostMatrix): number {
  return labelledWindows * cost.tpWeight;
}

export function normalizeScore(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

export interface ProfileResult {
  profile: string;
  threshold: number;
  raw: number;
  normalized: number;
}

/** Optimise the threshold and normalise, for each profile. */
export function scoreProfiles(index: SweepIndex, profiles: Readonly<Record<string, CostMatrix>>): ProfileResult[] {
  return Object.entries(profiles).map(([profile, cost]) => {
    const best = optimizeThreshold(index, cost);
    const normalized = normalizeScore(best.score, nullScore(index, cost), perfectScore(index.windowCount, cost));
    return { profile, threshold: best.threshold, raw: best.score, normalized };
  });
}

/** One file's detector output with its row windows. */
export interface FileScores {
  scores: ArrayLike<number>;
  windows: readonly RowWindow[];
}

/** Build the sweep index of a whole corpus run; windows get corpus-unique ids in file order. */
export function indexCorpus(files: readonly FileScores[], probationPercent = NAB_PROBATION_PERCENT): SweepIndex {
  let nextId = 0;
  const rows = files.map((f) => {
    const r = sweepFile(f.scores, f.windows, nextId, probationPercent);
    nextId += f.windows.length;
    return r;
  });
  return buildSweepIndex(rows, nextId);
}
