import type { Beat } from '../model/beat.js';
import { STATUS_ERROR } from '../model/beat.js';
import { quantile as interpolatedQuantile } from '../detect/stats.js';

/** Linear-interpolated quantile of unsorted values; undefined for none. */
export function quantile(values: readonly number[], q: number): number | undefined {
  return values.length === 0 ? undefined : interpolatedQuantile(values, q);
}

export function median(values: readonly number[]): number | undefined {
  return quantile(values, 0.5);
}

export interface BaselineFigures {
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  errorRate?: number;
  samples: number;
}

/** Latency quantiles and error rate of a set of beats. */
export function baselineFigures(beats: readonly Beat[]): BaselineFigures {
  if (beats.length === 0) return { samples: 0 };
  const durations = beats.map((b) => b.durationMs);
  const errors = beats.filter((b) => b.status === STATUS_ERROR).length;
  return {
    p50Ms: round(quantile(durations, 0.5)!),
    p95Ms: round(quantile(durations, 0.95)!),
    p99Ms: round(quantile(durations, 0.99)!),
    errorRate: round(errors / beats.length, 4),
    samples: beats.length,
  };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The most frequent non-empty value, ties broken by first occurrence. */
export function mostCommon(values: Iterable<string>): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}

export function distinctCount(values: Iterable<string>): number {
  const set = new Set<string>();
  for (const v of values) if (v !== '') set.add(v);
  return set.size;
}
