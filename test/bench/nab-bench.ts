/**
 * NAB benchmark: `npx tsx test/bench/nab-bench.ts [--params '{"peakWindow":30}']`.
 * Reads the corpus from NAB_DIR or <repo>/../shared/nab (never copied into the project),
 * re-scores the published detectors as a check of our scorer, then runs our SeriesDetector over
 * every series with ONE global parameter set each (the NAB-tuned set, optionally overridden by
 * --params, and the live defaults) and prints NAB scores per profile.
 */
import { DEFAULT_SERIES_PARAMS, NAB_SERIES_PARAMS, type SeriesDetectorParams } from '../../src/detect/series-detector.js';
import { hasCorpus, nabDir, readDetectorScores, readFinalResults, readProfiles, readSeries } from './nab/corpus.js';
import { runSeriesDetector } from './nab/run-detector.js';
import { indexCorpus, scoreProfiles } from './nab/scorer.js';

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];
/** Published detector outputs re-scored to check our scorer. */
const RESCORED = ['numenta', 'windowedGaussian'];
/** Published final scores shown next to ours (ARTime tops the NAB scoreboard). */
const LEADERS = ['ARTime', 'numenta'];

function parseParams(argv: string[]): Partial<SeriesDetectorParams> {
  const at = argv.indexOf('--params');
  if (at < 0) return {};
  return JSON.parse(argv[at + 1] ?? '{}') as Partial<SeriesDetectorParams>;
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
  console.log(`NAB corpus: ${dir} (${series.length} series, ${series.reduce((a, s) => a + s.values.length, 0)} rows)`);

  console.log('\nScorer check: published detector outputs re-scored (published / ours)');
  for (const detector of RESCORED) {
    const index = indexCorpus(series.map((s) => ({ scores: readDetectorScores(dir, detector, s.name), windows: s.windows })));
    const ours = Object.fromEntries(scoreProfiles(index, profiles).map((r) => [r.profile, r.normalized]));
    console.log(`  ${detector.padEnd(18)} ${PROFILES.map((p) => `${p}: ${fmt(published[detector]?.[p])} / ${fmt(ours[p])}`).join('   ')}`);
  }

  const runs: [string, SeriesDetectorParams][] = [
    ['NAB_SERIES_PARAMS', { ...NAB_SERIES_PARAMS, ...parseParams(process.argv) }],
    ['DEFAULT_SERIES_PARAMS (live use)', DEFAULT_SERIES_PARAMS],
  ];
  for (const [label, params] of runs) {
    const t0 = performance.now();
    const scores = runSeriesDetector(series, params);
    const ms = performance.now() - t0;
    const results = scoreProfiles(indexCorpus(scores), profiles);
    console.log(`\nSeriesDetector with ${label}: ${JSON.stringify(params)}`);
    console.log(`  detection: ${ms.toFixed(0)} ms for all series (${((ms * 1000) / series.reduce((a, s) => a + s.values.length, 0)).toFixed(2)} us/value)`);
    console.log(`  ${'profile'.padEnd(20)} ${'ours'.padStart(7)} ${'thresh'.padStart(9)} ${LEADERS.map((l) => l.padStart(8)).join(' ')}`);
    for (const r of results) {
      console.log(
        `  ${r.profile.padEnd(20)} ${fmt(r.normalized)} ${r.threshold.toFixed(5).padStart(9)} ${LEADERS.map((l) => fmt(published[l]?.[r.profile]).padStart(8)).join(' ')}`,
      );
    }
  }
  return 0;
}

process.exitCode = main();
