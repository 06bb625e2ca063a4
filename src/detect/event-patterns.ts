import { logGamma, normalUpperTail } from './stats.js';
import { leastRecentlySeen } from './recency-list.js';
import { onsetHeld } from './onset-hold.js';

/**
 * Event patterns per service: how often each kind of event (a log template, a span operation)
 * happens per request the service serves, and windows where that changes. After the Nezha idea
 * (FSE'23) that a fault shows as events which appear in faulty but not in normal executions (or
 * stop appearing): an exception that is caught and logged at INFO, or a changed return value,
 * moves no latency and sets no error status, but the service's usual lines vanish ("[Query price]"
 * stops) or lines it never wrote start.
 *
 * Counts are taken per request of the service, so a service that simply gets fewer calls (its
 * caller failed first) keeps its per-request mix and shows nothing: the change points at the
 * service whose own behaviour changed. A service without traced requests is compared per slice.
 *
 * A window's count k of one pattern is tested against its expected count e (per-request rate of
 * the baseline times the window's requests) with a quasi-Poisson tail: both are divided by the
 * pattern's own dispersion (per-slice variance over mean, at least 1), so bursty patterns need a
 * larger change. A pattern never seen has the prior of half an occurrence over the whole baseline.
 * The baselines learn what looks normal at once: the caller decides per pattern (`learn`). The
 * slices a pattern was held for are kept and learned when it looks normal again, if that was
 * within `selfLimitedSlices`: a line that comes in short bursts every few minutes then has the
 * rate and the dispersion of its bursts, while a lasting change never becomes normal.
 */
export interface EventPatternOptions {
  /** Slices per tested window. */
  windowSlices: number;
  /** Baseline memory in slices (exponential forgetting). */
  memorySlices: number;
  /** Slices a service needs before its patterns are tested. */
  warmupSlices: number;
  /** Patterns tracked per service; the least recently seen is forgotten first. */
  maxPatternsPerService: number;
  /** Services tracked; the least recently seen is forgotten first. */
  maxServices: number;
  /** A surge needs k >= surgeRatio * e + minChange, a drop k <= dropRatio * e and e - k >= minChange. */
  surgeRatio: number;
  dropRatio: number;
  minChange: number;
  /**
   * Which patterns are tested for a surge (the others only for a drop). By default warn and error
   * log templates: a line at those levels that starts or multiplies is news, while an INFO line or
   * an operation that appears more often is mostly a change of workload. Any regular pattern that
   * stops is news.
   */
  surges: (pattern: string) => boolean;
  /**
   * Shorter windows (in slices) in which those patterns are also tested for a surge. A fault that
   * starts writing error lines puts them all in its first slices, while the whole window's
   * expectation covers `windowSlices` slices: the full window dilutes the onset of a burst. Every
   * test of a pattern in one slice is paid for (a weighted Bonferroni: the shorter windows share
   * `surgeScaleShare` of the level, the whole window keeps the rest), so a line that trickles in
   * costs only a little and a burst is found in its own slice.
   */
  surgeScales: number[];
  surgeScaleShare: number;
  /** A pattern held for at most this many slices in a row learns those slices afterwards. */
  selfLimitedSlices: number;
  /** Normal slices in a row that end a hold. */
  calmSlices: number;
  /**
   * Which patterns learn their short surges. Not error lines: a burst of errors is news each time
   * (a fault that recurs writes the same ones), while warnings that come and go are chatter.
   */
  learnBursts: (pattern: string) => boolean;
  /**
   * A surge-tested pattern whose newest slice alone scores beyond this z does not learn it, even
   * when its window looks normal: the window dilutes a fault's onset (onset-hold.ts).
   */
  onsetHoldZ: number;
}

export const DEFAULT_EVENT_PATTERN_OPTIONS: EventPatternOptions = {
  windowSlices: 6,
  memorySlices: 360,
  warmupSlices: 12,
  maxPatternsPerService: 256,
  maxServices: 1000,
  surgeRatio: 2,
  dropRatio: 0.34,
  minChange: 3,
  surges: (pattern) => pattern.startsWith('log:warn:') || pattern.startsWith('log:error:'),
  surgeScales: [1],
  surgeScaleShare: 0.1,
  selfLimitedSlices: 18,
  calmSlices: 6,
  learnBursts: (pattern) => !pattern.startsWith('log:error:'),
  onsetHoldZ: 3,
};

/** One service's events in one slice. */
export interface PatternSlice {
  /** Requests the service served (entry spans); 0 for a service seen only in logs. */
  requests: number;
  /** pattern key -> occurrences. */
  counts: ReadonlyMap<string, number>;
}

export interface PatternTest {
  service: string;
  pattern: string;
  /** Occurrences in the window and the expected count. */
  observed: number;
  expected: number;
  direction: 'surge' | 'drop';
  /** One-sided tail probability of the change and its normal z (0 when nothing changed). */
  p: number;
  z: number;
  /** Whether the change is large enough to matter (ratio and absolute change). */
  effectOk: boolean;
}

interface PatternState {
  /** Decayed sums over learned slices: occurrences, their squares, requests, slices. */
  count: number;
  squares: number;
  requests: number;
  slices: number;
  lastSeen: number;
  /** Held slices in a row (occurrences, requests), replayed into the sums if few enough. */
  held: Array<{ n: number; requests: number }>;
  heldSlices: number;
  /** Whether the pattern's last test was a drop, and whether its current hold ever was one. */
  dropping: boolean;
  heldDrop: boolean;
  /** Normal slices in a row since the hold's last held slice. */
  calm: number;
  /** Whether the newest slice alone was too surprising to learn (onset-hold.ts). */
  onset: boolean;
}

interface ServiceState {
  requests: number;
  slices: number;
  learned: number;
  lastSeen: number;
  patterns: Map<string, PatternState>;
}

export class EventPatterns {
  private readonly opts: EventPatternOptions;
  private readonly services = new Map<string, ServiceState>();
  /** The last windowSlices slices, newest last. */
  private readonly recent: Array<Map<string, PatternSlice>> = [];
  private readonly decay: number;
  /** Window lengths tested, the full window last. */
  private readonly scales: number[];
  private tick = 0;

  constructor(opts: Partial<EventPatternOptions> = {}) {
    this.opts = { ...DEFAULT_EVENT_PATTERN_OPTIONS, ...opts };
    this.decay = 1 - 1 / Math.max(2, this.opts.memorySlices);
    const w = this.opts.windowSlices;
    this.scales = [...new Set(this.opts.surgeScales.filter((n) => Number.isInteger(n) && n >= 1 && n < w))].sort((a, b) => a - b).concat(w);
  }

  /** Adds one slice (per service) to the window and tests every known pattern of warm services. */
  test(slice: ReadonlyMap<string, PatternSlice>): PatternTest[] {
    this.tick++;
    this.recent.push(new Map(slice));
    if (this.recent.length > this.opts.windowSlices) this.recent.shift();
    // The window of each tested length, newest slices first: windows[i] covers the last scales[i] slices.
    const windows = this.scales.map(() => new Map<string, WindowCounts>());
    for (let back = 0; back < this.recent.length; back++) {
      const sl = this.recent[this.recent.length - 1 - back]!;
      for (let i = 0; i < this.scales.length; i++) {
        if (back >= this.scales[i]!) continue;
        const window = windows[i]!;
        for (const [service, s] of sl) {
          let w = window.get(service);
          if (w === undefined) window.set(service, (w = { requests: 0, counts: new Map() }));
          w.requests += s.requests;
          for (const [k, n] of s.counts) w.counts.set(k, (w.counts.get(k) ?? 0) + n);
        }
      }
    }
    for (const [service, s] of slice) {
      const st = this.service(service);
      if (st === undefined) continue;
      st.lastSeen = this.tick;
      for (const [k, n] of s.counts) if (n > 0) this.pattern(st, k).lastSeen = this.tick;
    }
    const out: PatternTest[] = [];
    const full = this.recent.length >= this.opts.windowSlices;
    for (const [service, st] of this.services) {
      if (!full || st.learned < this.opts.warmupSlices) continue;
      const ws = windows.map((window) => window.get(service) ?? EMPTY_WINDOW);
      for (const [pattern, ps] of st.patterns) out.push(this.testPattern(service, pattern, ps, ws));
    }
    return out;
  }

  /**
   * Teaches the baselines the newest slice. `hold(service, pattern)` says which patterns must not
   * learn it (their window looks abnormal or they are part of an open anomaly).
   */
  learn(slice: ReadonlyMap<string, PatternSlice>, hold: (service: string, pattern: string) => boolean): void {
    const d = this.decay;
    for (const [service, st] of this.services) {
      const s = slice.get(service);
      const requests = s?.requests ?? 0;
      st.requests = st.requests * d + requests;
      st.slices = st.slices * d + 1;
      st.learned++;
      for (const [pattern, ps] of st.patterns) {
        const n = s?.counts.get(pattern) ?? 0;
        if (hold(service, pattern) || ps.onset) {
          ps.heldSlices += 1 + ps.calm;
          ps.calm = 0;
          ps.heldDrop ||= ps.dropping;
          if (ps.held.length < this.opts.selfLimitedSlices) ps.held.push({ n, requests });
          continue;
        }
        addSlice(ps, n, requests, d);
        if (ps.heldSlices === 0) continue;
        // The pattern looks normal again, but a hold is over only after calmSlices normal slices
        // in a row, so a fault that flickers stays one hold. A short surge of a pattern that may
        // learn bursts was a burst of its own and is learned now; a long one, or a line that
        // stopped for a while (what a caught exception looks like), stays unlearned.
        if (++ps.calm < this.opts.calmSlices) continue;
        if (ps.heldSlices <= this.opts.selfLimitedSlices && !ps.heldDrop && this.opts.learnBursts(pattern)) for (const h of ps.held) addSlice(ps, h.n, h.requests, d);
        ps.held = [];
        ps.heldSlices = 0;
        ps.heldDrop = false;
        ps.calm = 0;
      }
    }
  }

  /** Services tracked and patterns per service (for budgets and tests). */
  size(): { services: number; patterns: number } {
    let patterns = 0;
    for (const s of this.services.values()) patterns += s.patterns.size;
    return { services: this.services.size, patterns };
  }

  /**
   * The full window's test, and for a pattern tested for surges also a surge test of each shorter
   * window; the smallest p divided by its test's share of the level.
   */
  private testPattern(service: string, pattern: string, ps: PatternState, ws: readonly WindowCounts[]): PatternTest {
    const full = this.scales.length - 1;
    const w = ws[full]!;
    const whole = this.testOne(service, pattern, ps, w.counts.get(pattern) ?? 0, w.requests, this.scales[full]!);
    const newest = this.recent[this.recent.length - 1]?.get(service);
    const n = newest?.counts.get(pattern) ?? 0;
    ps.onset = this.opts.surges(pattern) && n > 0 && onsetHeld(n, this.expected(ps, newest?.requests ?? 0, 1), this.dispersion(ps), this.opts.onsetHoldZ, (k, lambda) => quasiPoissonTail(k, lambda, true));
    if (full === 0 || !this.opts.surges(pattern)) {
      ps.dropping = whole.direction === 'drop';
      return whole;
    }
    const share = Math.min(0.5, Math.max(1e-6, this.opts.surgeScaleShare));
    let best = whole;
    let p = Math.min(1, whole.p / (1 - share));
    for (let i = 0; i < full; i++) {
      const k = ws[i]!.counts.get(pattern) ?? 0;
      const t = this.testOne(service, pattern, ps, k, ws[i]!.requests, this.scales[i]!);
      const pt = Math.min(1, (t.p * full) / share);
      if (t.direction === 'surge' && t.effectOk && pt < p) [best, p] = [t, pt];
    }
    ps.dropping = best.direction === 'drop';
    return { ...best, p, z: zOfTail(p) };
  }

  /** One window of `slices` slices: k occurrences among `requests` requests. */
  private testOne(service: string, pattern: string, ps: PatternState, k: number, requests: number, slices: number): PatternTest {
    const o = this.opts;
    const expected = this.expected(ps, requests, slices);
    const dispersion = this.dispersion(ps);
    const surge = k > expected;
    const effectOk = surge ? o.surges(pattern) && k >= o.surgeRatio * expected + o.minChange : k <= o.dropRatio * expected && expected - k >= o.minChange;
    if (surge && !o.surges(pattern)) return { service, pattern, observed: k, expected, direction: 'surge', p: 1, z: 0, effectOk };
    const p = quasiPoissonTail(k / dispersion, expected / dispersion, surge);
    return { service, pattern, observed: k, expected, direction: surge ? 'surge' : 'drop', p, z: zOfTail(p), effectOk };
  }

  /** A pattern's expected count in `slices` slices holding `requests` requests. */
  private expected(ps: PatternState, requests: number, slices: number): number {
    // Per request when the service serves requests (in the baseline and now), else per slice.
    const perRequest = ps.requests > 0 && requests > 0;
    return perRequest ? ((ps.count + 0.5) / ps.requests) * requests : ((ps.count + 0.5) / Math.max(1, ps.slices)) * slices;
  }

  /** Per-slice variance over mean, at least 1. */
  private dispersion(ps: PatternState): number {
    const mean = ps.count / Math.max(1e-9, ps.slices);
    const variance = Math.max(0, ps.squares / Math.max(1e-9, ps.slices) - mean * mean);
    // Over a window of w slices the variance of the sum grows like w, its mean too: the ratio stays.
    return Math.max(1, mean > 0 ? variance / mean : 1);
  }

  private service(name: string): ServiceState | undefined {
    let st = this.services.get(name);
    if (st !== undefined) return st;
    if (this.services.size >= this.opts.maxServices) {
      const oldest = leastRecentlySeen(this.services);
      if (oldest !== undefined) this.services.delete(oldest);
    }
    st = { requests: 0, slices: 0, learned: 0, lastSeen: this.tick, patterns: new Map() };
    this.services.set(name, st);
    return st;
  }

  /** A pattern seen for the first time was absent from every slice the service learned so far. */
  private pattern(st: ServiceState, key: string): PatternState {
    let ps = st.patterns.get(key);
    if (ps !== undefined) return ps;
    if (st.patterns.size >= this.opts.maxPatternsPerService) {
      const oldest = leastRecentlySeen(st.patterns);
      if (oldest !== undefined) st.patterns.delete(oldest);
    }
    ps = { count: 0, squares: 0, requests: st.requests, slices: st.slices, lastSeen: this.tick, held: [], heldSlices: 0, dropping: false, heldDrop: false, calm: 0, onset: false };
    st.patterns.set(key, ps);
    return ps;
  }
}

interface WindowCounts {
  requests: number;
  counts: Map<string, number>;
}

const EMPTY_WINDOW: WindowCounts = { requests: 0, counts: new Map() };

/** One slice into a pattern's decayed sums. */
function addSlice(ps: PatternState, n: number, requests: number, d: number): void {
  ps.count = ps.count * d + n;
  ps.squares = ps.squares * d + n * n;
  ps.requests = ps.requests * d + requests;
  ps.slices = ps.slices * d + 1;
}

/**
 * One-sided tail of a (scaled) count against its expectation: exact Poisson sums for small
 * expectations, the normal approximation of the square-root transform (variance 1/4) for large
 * ones, where it is accurate and the exact sums would cost O(k).
 */
export function quasiPoissonTail(k: number, lambda: number, upper: boolean): number {
  if (lambda > 40) {
    const z = 2 * (Math.sqrt(k + 0.375) - Math.sqrt(lambda + 0.375));
    return normalUpperTail(upper ? z : -z);
  }
  return upper ? poissonUpperTail(Math.ceil(k - 1e-9), lambda) : poissonLowerTailAt(Math.floor(k + 1e-9), lambda);
}

/** P(X >= k), X ~ Poisson(lambda). */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  if (k <= lambda) return Math.max(0, Math.min(1, 1 - poissonLowerTailAt(k - 1, lambda)));
  // Far in the tail 1 - P(X < k) loses every digit: sum the tail itself (terms shrink from k on).
  let sum = 0;
  for (let i = Math.ceil(k); ; i++) {
    const term = Math.exp(-lambda + i * Math.log(lambda) - logGamma(i + 1));
    sum += term;
    if (term <= sum * 1e-12 || i > k + 10_000) break;
  }
  return Math.min(1, sum);
}

/** P(X <= k), X ~ Poisson(lambda); summed in log space so large lambdas do not underflow early. */
export function poissonLowerTailAt(k: number, lambda: number): number {
  if (k < 0) return 0;
  if (lambda <= 0) return 1;
  let sum = 0;
  for (let i = 0; i <= Math.floor(k); i++) sum += Math.exp(-lambda + i * Math.log(lambda) - logGamma(i + 1));
  return Math.min(1, sum);
}

/** The normal z with upper tail p (0 for p >= 0.5): the same scale as the other signals' scores. */
export function zOfTail(p: number): number {
  if (p >= 0.5) return 0;
  const t = -2 * Math.log(Math.max(p, 1e-300));
  return Math.sqrt(Math.max(0, t - Math.log(t) - Math.log(2 * Math.PI)));
}
