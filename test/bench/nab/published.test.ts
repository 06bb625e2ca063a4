import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hasCorpus,
  labelledWindowCount,
  nabDir,
  parseNabTime,
  readDetectorScores,
  readFinalResults,
  readProfiles,
  readSeries,
  repoRoot,
  toRowWindows,
} from './corpus.js';
import { indexCorpus, scoreProfiles } from './scorer.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A tiny corpus laid out exactly like NAB: one 100-row hourly series with a window on rows
 * 40..49, and a detector "toy" whose best threshold detects row 45 (mid-window) only.
 * Its "published" scores are hand-computed: TP value = S(-0.5)/S(-1) = 0.859793, so
 * standard = 100 * (0.859793 + 1) / 2, reward_low_FN_rate = 100 * (0.859793 + 2) / 3.
 */
function syntheticNab(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nab-synthetic-'));
  tempDirs.push(dir);
  const t0 = Date.UTC(2020, 0, 1);
  const iso = (i: number): string => new Date(t0 + i * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
  mkdirSync(join(dir, 'data', 'cat'), { recursive: true });
  mkdirSync(join(dir, 'labels'));
  mkdirSync(join(dir, 'config'));
  mkdirSync(join(dir, 'results', 'toy', 'cat'), { recursive: true });
  const rows = Array.from({ length: 100 }, (_, i) => i);
  writeFileSync(join(dir, 'data', 'cat', 'a.csv'), `timestamp,value\n${rows.map((i) => `${iso(i)},${i % 7}`).join('\n')}\n`);
  const score = (i: number): number => (i === 45 ? 0.7 : i === 20 ? 0.3 : 0);
  writeFileSync(
    join(dir, 'results', 'toy', 'cat', 'toy_a.csv'),
    `timestamp,value,anomaly_score,label\n${rows.map((i) => `${iso(i)},${i % 7},${score(i)},0`).join('\n')}\n`,
  );
  writeFileSync(join(dir, 'labels', 'combined_windows.json'), JSON.stringify({ 'cat/a.csv': [[`${iso(40)}.000000`, `${iso(49)}.000000`]] }));
  writeFileSync(
    join(dir, 'config', 'profiles.json'),
    JSON.stringify({
      standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } },
      reward_low_FP_rate: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22, tnWeight: 1 } },
      reward_low_FN_rate: { CostMatrix: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11, tnWeight: 1 } },
    }),
  );
  writeFileSync(
    join(dir, 'results', 'final_results.json'),
    JSON.stringify({ toy: { standard: 92.98962834548918, reward_low_FP_rate: 92.98962834548918, reward_low_FN_rate: 95.32641889699279 } }),
  );
  return dir;
}

/** Re-score every published detector in `detectors` and compare all three profiles. */
function rescore(dir: string, detectors: string[], tolerance: number): void {
  const series = readSeries(dir);
  const profiles = readProfiles(dir);
  const published = readFinalResults(dir);
  expect(labelledWindowCount(dir)).toBe(series.reduce((a, s) => a + s.windows.length, 0));
  for (const detector of detectors) {
    const index = indexCorpus(series.map((s) => ({ scores: readDetectorScores(dir, detector, s.name), windows: s.windows })));
    const ours = scoreProfiles(index, profiles);
    expect(ours.map((r) => r.profile).sort()).toEqual(Object.keys(published[detector]!).sort());
    for (const r of ours) {
      expect(Math.abs(r.normalized - published[detector]![r.profile]!), `${detector} ${r.profile}`).toBeLessThanOrEqual(tolerance);
    }
  }
}

describe('NAB corpus reader', () => {
  it('parses NAB timestamps with and without microseconds as UTC', () => {
    expect(parseNabTime('2014-07-01 00:30:00')).toBe(Date.UTC(2014, 6, 1, 0, 30));
    expect(parseNabTime('2014-07-01 00:30:00.250000')).toBe(Date.UTC(2014, 6, 1, 0, 30) + 250);
    expect(() => parseNabTime('yesterday')).toThrow(/bad NAB timestamp/);
  });

  it('maps timestamp windows to inclusive row windows', () => {
    const ts = [0, 10, 20, 30, 40, 50];
    expect(toRowWindows(ts, [[20, 40]])).toEqual([{ start: 2, end: 4 }]);
    expect(toRowWindows(ts, [[45, 1000]])).toEqual([{ start: 5, end: 5 }]);
    expect(toRowWindows(ts, [[60, 70]])).toEqual([]);
  });

  it('resolves the corpus from NAB_DIR or <repo>/../shared/nab', () => {
    expect(nabDir({ NAB_DIR: '/tmp/some-nab' })).toBe('/tmp/some-nab');
    expect(nabDir({})).toBe(join(repoRoot(), '..', 'shared', 'nab'));
  });

  it('reads and re-scores a synthetic corpus laid out like NAB to its hand-computed scores', () => {
    const dir = syntheticNab();
    expect(hasCorpus(dir)).toBe(true);
    expect(readSeries(dir)[0]!.windows).toEqual([{ start: 40, end: 49 }]);
    rescore(dir, ['toy'], 1e-9);
  });
});

describe('NAB published results re-scored by our scorer', () => {
  const real = nabDir();
  const present = hasCorpus(real);
  it(`reproduces the published numenta and windowedGaussian scores (${present ? real : 'corpus absent: synthetic corpus'})`, () => {
    if (present) rescore(real, ['numenta', 'windowedGaussian'], 0.5);
    else rescore(syntheticNab(), ['toy'], 1e-9);
  });
});
