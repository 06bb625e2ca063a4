/**
 * NAB benchmark: `npx tsx test/bench/nab-bench.ts [--params '{"memory":4000}']`.
 * Reads the corpus from NAB_DIR or <repo>/../shared/nab (never copied into the project),
 * re-scores the published detectors as a check of our scorer, runs our NoveltyDetector (the
 * NAB-tuned set, optionally overridden by --params) and, for comparison, SeriesDetector (its
 * NAB set and the live defaults) over every series with ONE global parameter set each, prints
 * NAB scores per profile, then a held-out check of the novelty parameters (tune on one half
 * of the series, score the other half).
 */
import { NAB_NOVELTY_PARAMS, type NoveltyParams } from '../../src/detect/novelty-detector.js';
import { DEFAULT_SERIES_PARAMS, NAB_SERIES_PARAMS } from '../../src/detect/series-detector.js';
import { hasCorpus, nabDir, readDetectorScores, readFinalResults, readProfiles, readSeries } from './nab/corpus.js';
import { heldOutCheck, runNoveltyDetector, runSeriesDetector } from './nab/run-detector.js';
import { indexCorpus, scoreProfiles, type FileScores } from './nab/scorer.js';

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];
/** Published detector outputs re-scored to check our scorer. */
const RESCORED = ['numenta', 'windowedGaussian'];
/** Published final scores shown next to ours (ARTime tops the NAB scoreboard). */
const LEADERS = ['ARTime', 'numenta'];
/** The grid the held-out check tunes over (the full-corpus choice is one of them). */
const HELD_OUT_GRID: Partial<NoveltyParams>[] = [false, true].flatMap((sqrtTransform) =>
  [2000, 3000, 4000, 6000, 8000].flatMap((memory) => [50, 100].map((peakWindow) => ({ sqrtTransform, memory, peakWindow }))),
);

function parseParams(argv: string[]): Partial<NoveltyParams> {
  const at = argv.indexOf('--params');
  if (at < 0) return {};
  return JSON.parse(argv[at + 1] ?? '{}') as Partial<NoveltyParams>;
}

function fmt(n: number | undefined): string {
  return n === undefined ? '   n/a' : n.toFixed(2).padStart(7);
}

function main(): number {
  const dir = nabDir();
  if (!hasCorpus(dir)) {
    console.error(`NAB corpus not found at ${dir}: this benchmark reads <repo>/../shared/nab or the directory in NAB_DIR.`);
    return 1;
  }
  const series = readSeries(dir);
  const profiles = readProfiles(dir);
  const published = readFinalResults(dir);
  const rows = series.reduce((a, s) => a + s.values.length, 0);
  console.log(`NAB corpus: ${dir} (${series.length} series, ${rows} rows)`);

  console.log('\nScorer check: published detector outputs re-scored (published / ours)');
  for (const detector of RESCORED) {
    const index = indexCorpus(series.map((s) => ({ scores: readDetectorScores(dir, detector, s.name), windows: s.windows })));
    const ours = Object.fromEntries(scoreProfiles(index, profiles).map((r) => [r.profile, r.normalized]));
    console.log(`  ${detector.padEnd(18)} ${PROFILES.map((p) => `${p}: ${fmt(published[detector]?.[p])} / ${fmt(ours[p])}`).join('   ')}`);
  }

  const novelty = { ...NAB_NOVELTY_PARAMS, ...parseParams(process.argv) };
  const runs: [string, object, () => FileScores[]][] = [
    ['NoveltyDetector, NAB_NOVELTY_PARAMS', novelty, () => runNoveltyDetector(series, novelty)],
    ['SeriesDetector, NAB_SERIES_PARAMS', NAB_SERIES_PARAMS, () => runSeriesDetector(series, NAB_SERIES_PARAMS)],
    ['SeriesDetector, DEFAULT_SERIES_PARAMS (live use)', DEFAULT_SERIES_PARAMS, () => runSeriesDetector(series, DEFAULT_SERIES_PARAMS)],
  ];
  for (const [label, params, run] of runs) {
    const t0 = performance.now();
    const scores = run();
    const ms = performance.now() - t0;
    const results = scoreProfiles(indexCorpus(scores), profiles);
    console.log(`\n${label}: ${JSON.stringify(params)}`);
    console.log(`  detection: ${ms.toFixed(0)} ms for all series (${((ms * 1000) / rows).toFixed(2)} us/value)`);
    console.log(`  ${'profile'.padEnd(20)} ${'ours'.padStart(7)} ${'thresh'.padStart(9)} ${LEADERS.map((l) => l.padStart(8)).join(' ')}`);
    for (const r of results) {
      console.log(
        `  ${r.profile.padEnd(20)} ${fmt(r.normalized)} ${r.threshold.toFixed(5).padStart(9)} ${LEADERS.map((l) => fmt(published[l]?.[r.profile]).padStart(8)).join(' ')}`,
      );
    }
  }

  console.log(`\nHeld-out check (standard profile): NoveltyDetector tuned over ${HELD_OUT_GRID.length} settings of sqrtTransform x memory x peakWindow`);
  const halves: [string, (i: number) => boolean][] = [
    ['even-numbered series', (i) => i % 2 === 0],
    ['odd-numbered series', (i) => i % 2 === 1],
  ];
  for (const [name, inTuning] of halves) {
    const r = heldOutCheck(series, profiles, HELD_OUT_GRID, (s, p) => runNoveltyDetector(s, p), inTuning);
    console.log(`  tuned on ${name.padEnd(21)} ${JSON.stringify(r.params).padEnd(58)} tuned ${fmt(r.tuned)}   held-out ${fmt(r.heldOut)}`);
  }
  return 0;
}

process.exitCode = main();
