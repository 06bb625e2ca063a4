/**
 * Runs our streaming detectors over NAB series (each value seen once, in order, with its
 * timestamp) and the held-out check of a parameter choice.
 */
import { NoveltyAlarmDetector, type NoveltyAlarmParams } from '../../../src/detect/novelty-alarm-detector.js';
import { NoveltyDetector, type NoveltyParams } from '../../../src/detect/novelty-detector.js';
import type { NabSeries } from './corpus.js';
import { indexCorpus, scoreProfiles, type CostMatrix, type FileScores } from './scorer.js';

/** Scores one value and learns it; a fresh one is made per series. */
export type StreamScorer = (value: number, timeMs: number) => number;

export function runDetector(series: readonly NabSeries[], make: () => StreamScorer): FileScores[] {
  return series.map((s) => {
    const score = make();
    const scores = new Float64Array(s.values.length);
    for (let i = 0; i < s.values.length; i++) scores[i] = score(s.values[i]!, s.timestamps[i]!);
    return { scores, windows: s.windows };
  });
}

export function runNoveltyDetector(series: readonly NabSeries[], params: Partial<NoveltyParams>): FileScores[] {
  return runDetector(series, () => {
    const d = new NoveltyDetector(params);
    return (v) => d.update(v).score;
  });
}

export function runNoveltyAlarmDetector(series: readonly NabSeries[], params: Partial<NoveltyAlarmParams>): FileScores[] {
  return runDetector(series, () => {
    const d = new NoveltyAlarmDetector(params);
    return (v) => d.update(v).score;
  });
}

/** Normalised NAB score per profile of one run. */
export function nabScores(files: readonly FileScores[], profiles: Readonly<Record<string, CostMatrix>>): Record<string, number> {
  return Object.fromEntries(scoreProfiles(indexCorpus(files), profiles).map((r) => [r.profile, r.normalized]));
}

export interface HeldOutResult<P> {
  /** Index of the candidate that scored best on the tuning half. */
  chosen: number;
  params: P;
  /** The chosen candidate's score on the tuning half and on the held-out half. */
  tuned: number;
  heldOut: number;
}

/**
 * Pick the candidate with the best `profile` score on the series where `inTuning(i)` holds and
 * report its score on the others (each half gets its own optimised threshold, as NAB does for
 * a corpus). `run` must be deterministic.
 */
export function heldOutCheck<P>(
  series: readonly NabSeries[],
  profiles: Readonly<Record<string, CostMatrix>>,
  candidates: readonly P[],
  run: (series: readonly NabSeries[], params: P) => FileScores[],
  inTuning: (index: number) => boolean,
  profile = 'standard',
): HeldOutResult<P> {
  const tuning = series.filter((_, i) => inTuning(i));
  const held = series.filter((_, i) => !inTuning(i));
  let chosen = 0;
  let tuned = Number.NEGATIVE_INFINITY;
  candidates.forEach((c, i) => {
    const score = nabScores(run(tuning, c), profiles)[profile]!;
    if (score > tuned) {
      tuned = score;
      chosen = i;
    }
  });
  const params = candidates[chosen]!;
  return { chosen, params, tuned, heldOut: nabScores(run(held, params), profiles)[profile]! };
}
