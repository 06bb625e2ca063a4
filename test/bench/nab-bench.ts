/**
 * NAB benchmark: `npx tsx test/bench/nab-bench.ts [--params '{"memory":4000}'] [--alarm-params '{"refractoryMax":400}']`.
 * Reads the corpus from NAB_DIR or <repo>/../shared/nab (never copied into the project),
 * re-scores the published detectors as a check of our scorer, runs our NoveltyAlarmDetector (the
 * core of the live latency detector) and, for comparison, the plain NoveltyDetector (the NAB-tuned
 * sets, optionally overridden by --alarm-params / --params) over every series with ONE global
 * parameter set each, prints NAB scores per profile, then held-out checks of the two detectors'
 * parameters (tune on one half of the series, score the other half).
 */
import { NAB_NOVELTY_ALARM_PARAMS, type NoveltyAlarmParams } from '../../src/detect/novelty-alarm-detector.js';
import { NAB_NOVELTY_PARAMS, type NoveltyParams } from '../../src/detect/novelty-detector.js';
import { hasCorpus, nabDir, readDetectorScores, readFinalResults, readProfiles, readSeries } from './nab/corpus.js';
import { heldOutCheck, runNoveltyAlarmDetector, runNoveltyDetector } from './nab/run-detector.js';
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

/**
 * The grid the alarm detector's held-out check tunes over: the mean view on or off, the alarm
 * level and the refractory period's length and shape (the full-corpus choice is one of them).
 */
const ALARM_HELD_OUT_GRID: Partial<NoveltyAlarmParams>[] = [0, 0.2].flatMap((meanWeight) =>
  [0.045, 0.053, 0.06].flatMap((alarmScore) =>
    [300, 500, 700].flatMap((refractoryMax) =>
      [0.2, 0.4].flatMap((refractoryFraction) =>
        [1, 2].map((refractoryPower) => ({ meanWeight, alarmScore, refractoryMax, refractoryFraction, refractoryPower })),
      ),
    ),
  ),
);

function parseParams<P>(argv: string[], flag: string): Partial<P> {
  const at = argv.indexOf(flag);
  if (at < 0) return {};
  return JSON.parse(argv[at + 1] ?? '{}') as Partial<P>;
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

  const novelty = { ...NAB_NOVELTY_PARAMS, ...parseParams<NoveltyParams>(process.argv, '--params') };
  const alarm = { ...NAB_NOVELTY_ALARM_PARAMS, ...parseParams<NoveltyAlarmParams>(process.argv, '--alarm-params') };
  const runs: [string, object, () => FileScores[]][] = [
    ['NoveltyAlarmDetector, NAB_NOVELTY_ALARM_PARAMS', alarm, () => runNoveltyAlarmDetector(series, alarm)],
    ['NoveltyDetector, NAB_NOVELTY_PARAMS', novelty, () => runNoveltyDetector(series, novelty)],
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

  const halves: [string, (i: number) => boolean][] = [
    ['even-numbered series', (i) => i % 2 === 0],
    ['odd-numbered series', (i) => i % 2 === 1],
  ];
  console.log(
    `\nHeld-out check (standard profile): NoveltyAlarmDetector tuned over ${ALARM_HELD_OUT_GRID.length} settings of meanWeight x alarmScore x refractoryMax x refractoryFraction x refractoryPower`,
  );
  for (const [name, inTuning] of halves) {
    const grid = ALARM_HELD_OUT_GRID.map((g) => ({ ...alarm, ...g }));
    const r = heldOutCheck(series, profiles, grid, (s, p) => runNoveltyAlarmDetector(s, p), inTuning);
    const chosen = ALARM_HELD_OUT_GRID[r.chosen]!;
    console.log(`  tuned on ${name.padEnd(21)} ${JSON.stringify(chosen)}\n  ${''.padEnd(30)} tuned ${fmt(r.tuned)}   held-out ${fmt(r.heldOut)}`);
  }
  console.log(`\nHeld-out check (standard profile): NoveltyDetector tuned over ${HELD_OUT_GRID.length} settings of sqrtTransform x memory x peakWindow`);
  for (const [name, inTuning] of halves) {
    const r = heldOutCheck(series, profiles, HELD_OUT_GRID, (s, p) => runNoveltyDetector(s, p), inTuning);
    console.log(`  tuned on ${name.padEnd(21)} ${JSON.stringify(r.params).padEnd(58)} tuned ${fmt(r.tuned)}   held-out ${fmt(r.heldOut)}`);
  }
  return 0;
}

process.exitCode = main();
