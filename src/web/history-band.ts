/**
 * A baseline band learned from a series' own recent history, for series no detector keeps a band
 * for (a whole service's entry requests): the median of the previous points' p95 plus or minus
 * a robust spread (MAD scaled to a standard deviation). Robust statistics, so one slow bucket or
 * the fault itself does not widen the band for the points that follow it by much.
 */
export interface HistoryBandOptions {
  /** Previous points the band is learned from. */
  window: number;
  /** Fewer previous points than this: no band yet (still learning). */
  minPoints: number;
  /** Half-width in robust standard deviations. */
  spreads: number;
  /** Smallest half-width as a share of the median: a perfectly flat history still gets a band. */
  minRelWidth: number;
}

export const DEFAULT_HISTORY_BAND: HistoryBandOptions = { window: 30, minPoints: 8, spreads: 3, minRelWidth: 0.05 };

export interface Band {
  lowMs: number;
  highMs: number;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The band from `history` (oldest first; null = no requests in that point), or undefined while learning. */
export function historyBand(history: ReadonlyArray<number | null>, opts: HistoryBandOptions = DEFAULT_HISTORY_BAND): Band | undefined {
  const values: number[] = [];
  for (let i = history.length - 1; i >= 0 && values.length < opts.window; i--) {
    const v = history[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) values.push(v);
  }
  if (values.length < opts.minPoints) return undefined;
  values.sort((a, b) => a - b);
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)).sort((a, b) => a - b));
  const half = Math.max(opts.spreads * 1.4826 * mad, opts.minRelWidth * m);
  return { lowMs: Math.max(0, m - half), highMs: m + half };
}
