/**
 * Reads the NAB corpus from a directory outside the project (never copied in): data series,
 * label windows, profiles, published detector results and published final scores.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { CostMatrix, RowWindow } from './scorer.js';

export interface NabSeries {
  /** Relative path as NAB names it, e.g. "realKnownCause/nyc_taxi.csv". */
  name: string;
  timestamps: number[];
  values: number[];
  windows: RowWindow[];
}

/** Walk up from this file to the directory holding package.json (works from src and dist). */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  // dist/ has no package.json, so a compiled copy resolves to the real repository root too.
  return dir;
}

/** NAB_DIR if set, else <repo>/../shared/nab. */
export function nabDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NAB_DIR !== undefined && env.NAB_DIR !== '' ? resolve(env.NAB_DIR) : resolve(repoRoot(), '..', 'shared', 'nab');
}

export function hasCorpus(dir: string): boolean {
  return existsSync(join(dir, 'data')) && existsSync(join(dir, 'labels', 'combined_windows.json'));
}

/** "2014-07-01 00:00:00[.ffffff]" (UTC, as NAB writes it) to epoch milliseconds. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new Error(`bad NAB timestamp: ${text}`);
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + ms;
}

/** Minimal CSV reader for NAB's unquoted numeric files. */
export function readCsv(path: string): { header: string[]; rows: string[][] } {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split(',');
  return { header, rows: lines.slice(1).map((l) => l.split(',')) };
}

const WindowsSchema = z.record(z.string(), z.array(z.tuple([z.string(), z.string()])));
const ProfilesSchema = z.record(
  z.string(),
  z.object({ CostMatrix: z.object({ tpWeight: z.number(), fpWeight: z.number(), fnWeight: z.number() }) }),
);
const FinalResultsSchema = z.record(z.string(), z.record(z.string(), z.number()));

/**
 * Map timestamp windows to row windows the way NAB's sweeper does: a window starts at the row
 * whose timestamp equals its start and ends at the row equal to its end (the last row not after
 * the end if the exact time is absent).
 */
export function toRowWindows(timestamps: readonly number[], limits: readonly (readonly [number, number])[]): RowWindow[] {
  const out: RowWindow[] = [];
  for (const [t1, t2] of limits) {
    const start = timestamps.findIndex((t) => t >= t1);
    if (start < 0) continue;
    let end = start;
    while (end + 1 < timestamps.length && timestamps[end + 1]! <= t2) end++;
    out.push({ start, end });
  }
  return out.sort((a, b) => a.start - b.start);
}

export function readSeries(dir: string): NabSeries[] {
  const windows = WindowsSchema.parse(JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')));
  const out: NabSeries[] = [];
  for (const name of Object.keys(windows).sort()) {
    const { header, rows } = readCsv(join(dir, 'data', name));
    const ti = header.indexOf('timestamp');
    const vi = header.indexOf('value');
    const timestamps = rows.map((r) => parseNabTime(r[ti]!));
    const values = rows.map((r) => Number(r[vi]));
    const limits = windows[name]!.map(([a, b]) => [parseNabTime(a), parseNabTime(b)] as const);
    out.push({ name, timestamps, values, windows: toRowWindows(timestamps, limits) });
  }
  return out;
}

export function labelledWindowCount(dir: string): number {
  const windows = WindowsSchema.parse(JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')));
  return Object.values(windows).reduce((a, w) => a + w.length, 0);
}

export function readProfiles(dir: string): Record<string, CostMatrix> {
  const p = ProfilesSchema.parse(JSON.parse(readFileSync(join(dir, 'config', 'profiles.json'), 'utf8')));
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.CostMatrix]));
}

/** Published normalised scores: detector -> profile -> score. */
export function readFinalResults(dir: string): Record<string, Record<string, number>> {
  return FinalResultsSchema.parse(JSON.parse(readFileSync(join(dir, 'results', 'final_results.json'), 'utf8')));
}

export function publishedDetectors(dir: string): string[] {
  const root = join(dir, 'results');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** A published detector's anomaly_score column for one series (same row order as the data). */
export function readDetectorScores(dir: string, detector: string, series: string): number[] {
  const slash = series.indexOf('/');
  const path = join(dir, 'results', detector, series.slice(0, slash), `${detector}_${series.slice(slash + 1)}`);
  const { header, rows } = readCsv(path);
  const si = header.indexOf('anomaly_score');
  if (si < 0) throw new Error(`${path}: no anomaly_score column`);
  return rows.map((r) => Number(r[si]));
}
