/**
 * Lead-in cleaning by the event mix: is an event that normally comes with a sibling event of its
 * service missing from a stretch of traffic? (Nezha's observation, FSE'23: a fault shows as an
 * expected event that does not come.) The bench's lead-in must be fault-free, and a caught
 * exception, visible only as a log line that stops while the request goes on, moves no latency or
 * gap the other lead-in rules look at.
 *
 * Per service, each pattern (a log template mined by the product's own miner, or a span
 * operation) is paired with every other pattern of the service. A pair is a SIBLING pair when the
 * two are written in step over the day: the product's sibling rule (pattern-mix.ts, dispersion of
 * the pair's share at most 0.5 of a binomial draw's), with the dispersion taken robustly as the
 * median squared Pearson residual over the day's slices divided by that of a chi-square with one
 * degree of freedom (0.455), so the faults the day holds do not hide the pair. A stretch holds a
 * missing event when, over a run of its slices, the pattern is absent while its sibling occurs n
 * times and the chance of that under the pair's day-wide share q, (1 - q)^n, is below `alpha`.
 *
 * Works for any dataset with logs or operations: nothing here knows Train Ticket.
 */
import { LogTemplateMiner } from '../../../src/detect/log-templates.js';
import type { LogEvent } from '../../../src/model/log-event.js';

export interface MissingSiblingOptions {
  sliceMs: number;
  /** Day-wide occurrences a pattern needs to be paired (a regular event). */
  minTotal: number;
  /** The product's sibling bound (pattern-mix.ts `maxSiblingDispersion`). */
  maxDispersion: number;
  /** Slices of the day in which the pair occurred, for its sibling test. */
  minSlices: number;
  /** The chance of the observed absence under the pair's share below which it is a missing event. */
  alpha: number;
}

export const DEFAULT_MISSING_SIBLING_OPTIONS: MissingSiblingOptions = { sliceMs: 10_000, minTotal: 50, maxDispersion: 0.5, minSlices: 12, alpha: 1e-4 };

/** Median of chi-square with one degree of freedom. */
const CHI2_1_MEDIAN = 0.455;

/** One event: which service, which pattern, when. */
export interface PatternEvent {
  service: string;
  pattern: string;
  timeMs: number;
}

export interface SiblingPair {
  service: string;
  pattern: string;
  sibling: string;
  /** The pattern's share of the pair over the day. */
  share: number;
  dispersion: number;
}

export interface MissingEvent extends SiblingPair {
  fromMs: number;
  toMs: number;
  siblingCount: number;
  p: number;
}

/** Log records (templates mined per service) and span operations as pattern events. */
export function patternEvents(logs: readonly LogEvent[], spans: ReadonlyArray<{ service: string; name: string; startMs: number }>): PatternEvent[] {
  const miner = new LogTemplateMiner();
  const out: PatternEvent[] = [];
  for (const l of logs) out.push({ service: l.service, pattern: `log:${miner.add(l.service, l.body).templateId}`, timeMs: l.timeMs });
  for (const s of spans) out.push({ service: s.service, pattern: `op:${s.name}`, timeMs: s.startMs });
  return out;
}

type Slices = Map<string, Map<number, Map<string, number>>>;

function bySlice(events: readonly PatternEvent[], sliceMs: number, fromMs = -Infinity, toMs = Infinity): Slices {
  const out: Slices = new Map();
  for (const e of events) {
    if (e.timeMs < fromMs || e.timeMs >= toMs) continue;
    let svc = out.get(e.service);
    if (svc === undefined) out.set(e.service, (svc = new Map()));
    const k = Math.floor(e.timeMs / sliceMs);
    let sl = svc.get(k);
    if (sl === undefined) svc.set(k, (sl = new Map()));
    sl.set(e.pattern, (sl.get(e.pattern) ?? 0) + 1);
  }
  return out;
}

/** The day's sibling pairs (both directions: either may be the one that goes missing). */
export function siblingPairs(events: readonly PatternEvent[], opts: Partial<MissingSiblingOptions> = {}): SiblingPair[] {
  const o = { ...DEFAULT_MISSING_SIBLING_OPTIONS, ...opts };
  const out: SiblingPair[] = [];
  for (const [service, slices] of bySlice(events, o.sliceMs)) {
    const totals = new Map<string, number>();
    for (const sl of slices.values()) for (const [p, n] of sl) totals.set(p, (totals.get(p) ?? 0) + n);
    const regular = [...totals].filter(([, n]) => n >= o.minTotal).map(([p]) => p);
    for (let i = 0; i < regular.length; i++) {
      for (let j = i + 1; j < regular.length; j++) {
        const [x, y] = [regular[i]!, regular[j]!];
        const q = totals.get(x)! / (totals.get(x)! + totals.get(y)!);
        const residuals: number[] = [];
        for (const sl of slices.values()) {
          const b = sl.get(x) ?? 0;
          const n = b + (sl.get(y) ?? 0);
          if (n > 0) residuals.push((b - q * n) ** 2 / (q * (1 - q) * n));
        }
        if (residuals.length < o.minSlices) continue;
        residuals.sort((a, b) => a - b);
        const dispersion = residuals[residuals.length >> 1]! / CHI2_1_MEDIAN;
        if (dispersion > o.maxDispersion) continue;
        out.push({ service, pattern: x, sibling: y, share: q, dispersion }, { service, pattern: y, sibling: x, share: 1 - q, dispersion });
      }
    }
  }
  return out;
}

/**
 * The strongest missing event in [fromMs, toMs): per sibling pair, the runs of slices in which the
 * pattern is absent, with the sibling's count over each run. Undefined when none is below alpha.
 */
export function missingEvent(pairs: readonly SiblingPair[], events: readonly PatternEvent[], fromMs: number, toMs: number, opts: Partial<MissingSiblingOptions> = {}): MissingEvent | undefined {
  const o = { ...DEFAULT_MISSING_SIBLING_OPTIONS, ...opts };
  const slices = bySlice(events, o.sliceMs, fromMs, toMs);
  const first = Math.floor(fromMs / o.sliceMs);
  const last = Math.floor((toMs - 1) / o.sliceMs);
  let best: MissingEvent | undefined;
  for (const pair of pairs) {
    const svc = slices.get(pair.service);
    if (svc === undefined) continue;
    let run = 0;
    let runFrom = -1;
    for (let k = first; k <= last + 1; k++) {
      const sl = k <= last ? svc.get(k) : undefined;
      const present = k > last || (sl?.get(pair.pattern) ?? 0) > 0;
      if (!present) {
        if (runFrom < 0) runFrom = k;
        run += sl?.get(pair.sibling) ?? 0;
        continue;
      }
      if (run > 0) {
        const p = (1 - pair.share) ** run;
        if (p < o.alpha && (best === undefined || p < best.p)) best = { ...pair, fromMs: runFrom * o.sliceMs, toMs: k * o.sliceMs, siblingCount: run, p };
      }
      run = 0;
      runFrom = -1;
    }
  }
  return best;
}
