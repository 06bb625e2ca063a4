import { quasiPoissonTail, zOfTail, type PatternSlice, type PatternTest } from './event-patterns.js';
import { leastRecentlySeen } from './recency-list.js';

/**
 * The mix of a service's events: how often a pattern (a log template, a span operation) occurs
 * relative to a reference pattern of the same service that normally keeps step with it. After
 * Nezha's observation (FSE'23) that a fault shows in which events follow which: an exception
 * thrown and caught between two log lines of one code path leaves the first line and drops the
 * second, so the share of the second among the pair falls while neither moves in time or status.
 *
 * A rate per request cannot see this when the service's workload swings (a line written a few
 * dozen times a minute in bursts has a dispersion of 5-10 around its rate per request, so losing
 * it all is within noise), but its share against a sibling line of the same code path hardly
 * moves at all (the two are written together), so the same loss is far outside the pair's own
 * history. Per pattern the reference is the one of the service's most frequent patterns whose
 * share against it has varied least so far (a sibling if there is one); the test is the share's
 * binomial lower tail, widened by the pair's own dispersion (Pearson chi-square per unit of
 * binomial variance over the learned slices, at least 1), so a pair that drifts apart with the
 * workload needs a larger change. Only drops are tested: a share that grows is mostly its
 * reference dropping, which that reference's own test sees.
 *
 * ServiceSignals runs it unless its `mixMode` is 'off' ('findings' by default since the template
 * miner keeps a line's code location as a key token, so the two statements of one code path that
 * differ only in their source line are the two patterns of a pair: docs/incidents.md, Event mix).
 */
export interface PatternMixOptions {
  /** Slices per tested window. */
  windowSlices: number;
  /**
   * The longest window tested (windowSlices or less: only windowSlices). A pair written a few
   * times a minute cannot lose enough lines in windowSlices to be significant, but over the slices
   * since the loss began it can: windows of 1, 2, 3 ... times windowSlices up to longWindowSlices,
   * ending at the newest slice, are tested, and the most significant one whose effect is big
   * enough counts, its p multiplied by the number of windows tested (Bonferroni). Few windows keep
   * that penalty small: a test that is weaker at the loss's onset lets the pair learn the loss.
   */
  longWindowSlices: number;
  /**
   * Also every window shorter than windowSlices (1, 2, ... slices, ending at the newest). A loss
   * that began a few slices ago is diluted in a window that still holds the pair's last normal
   * slices: a line that came 3 times in the slice before it stopped keeps a 6-slice window above
   * the drop bar (a fifth of its expectation) until that slice leaves, 50 s after the onset. The
   * loss's start is unknown, so the test scans the starts (a changepoint scan, each window's p
   * multiplied by the number of windows tested): 8 windows instead of 3 costs a factor 8/3 in p,
   * and a window that starts where the loss did gains far more than that.
   */
  shortWindows: boolean;
  /** Baseline memory in slices (exponential forgetting). */
  memorySlices: number;
  /** Slices a service needs before its mix is tested. */
  warmupSlices: number;
  /** Slices in which a pair occurred (either of the two) before it is tested. */
  minPairSlices: number;
  /** Reference candidates per service: its most frequent patterns. */
  references: number;
  /** A reference is replaced only by a pattern this many times as frequent (no churn among equals). */
  referenceSwitchRatio: number;
  /** Pair states kept over all services (bounded memory); new pairs beyond it are not tracked. */
  maxPairs: number;
  /** Patterns tracked per service (for choosing references); the least recently seen go first. */
  maxPatternsPerService: number;
  /** Services tracked; the least recently seen is forgotten first. */
  maxServices: number;
  /** A drop needs k <= dropRatio * e and e - k >= minChange. */
  dropRatio: number;
  minChange: number;
  /**
   * The binomial variance is never taken below this share of a Poisson one: a pair that always
   * came together (share 1/2, no variance in its history) would otherwise make a loss of two lines
   * significant.
   */
  minVarianceShare: number;
  /**
   * Only sibling pairs are tested: pairs whose share varied at most this much relative to a
   * binomial draw (Pearson dispersion). Two lines of one code path are written in step, so their
   * dispersion is near 0; lines of different endpoints drift with the workload mix (dispersion 1
   * and more), and a drop of one against the other is as often the mix as a fault.
   */
  maxSiblingDispersion: number;
}

export const DEFAULT_PATTERN_MIX_OPTIONS: PatternMixOptions = {
  windowSlices: 6,
  longWindowSlices: 18,
  shortWindows: true,
  memorySlices: 360,
  warmupSlices: 12,
  minPairSlices: 12,
  references: 4,
  referenceSwitchRatio: 2,
  maxPairs: 50_000,
  maxPatternsPerService: 256,
  maxServices: 1000,
  dropRatio: 0.2,
  minChange: 3,
  minVarianceShare: 0.5,
  maxSiblingDispersion: 0.5,
};

/** A mix test: the pattern, its reference, and the usual drop test figures. */
export interface MixTest extends PatternTest {
  reference: string;
}

interface PairState {
  /** Decayed sums over learned slices: occurrences of the pattern (b) and of its reference (a). */
  a: number;
  b: number;
  /** Squared residuals of b against the running share, and the binomial variance they are measured in. */
  r2: number;
  v: number;
  /** Learned slices in which either occurred (not decayed: a count to start from). */
  slices: number;
}

interface ServiceState {
  learned: number;
  lastSeen: number;
  /** Decayed occurrences per pattern (to choose references) and when each was last seen. */
  totals: Map<string, { n: number; lastSeen: number }>;
  references: string[];
  /** pattern -> reference -> pair state. */
  pairs: Map<string, Map<string, PairState>>;
  /** The reference each pattern is tested against, kept while the pattern is held. */
  chosen: Map<string, string>;
}

export class PatternMix {
  private readonly opts: PatternMixOptions;
  private readonly services = new Map<string, ServiceState>();
  private readonly recent: Array<ReadonlyMap<string, PatternSlice>> = [];
  private readonly decay: number;
  private pairCount = 0;
  private tick = 0;

  constructor(opts: Partial<PatternMixOptions> = {}) {
    this.opts = { ...DEFAULT_PATTERN_MIX_OPTIONS, ...opts };
    this.decay = 1 - 1 / Math.max(2, this.opts.memorySlices);
  }

  /** Adds one slice to the window and tests the share of every tracked pattern of warm services. */
  test(slice: ReadonlyMap<string, PatternSlice>): MixTest[] {
    const o = this.opts;
    this.tick++;
    this.recent.push(slice);
    const held = Math.max(o.windowSlices, o.longWindowSlices);
    if (this.recent.length > held) this.recent.shift();
    for (const [service, s] of slice) {
      const st = this.service(service);
      st.lastSeen = this.tick;
      for (const [k, n] of s.counts) if (n > 0) this.total(st, k).lastSeen = this.tick;
    }
    const out: MixTest[] = [];
    if (this.recent.length < o.windowSlices) return out;
    const slices = this.recent.length;
    for (const [service, st] of this.services) {
      if (st.learned < o.warmupSlices || st.pairs.size === 0) continue;
      const counts = this.recent.map((sl) => sl.get(service)?.counts);
      for (const [pattern, refs] of st.pairs) {
        const ref = this.reference(st, pattern, refs);
        if (ref === undefined) continue;
        const ps = refs.get(ref)!;
        // Windows ending at the newest slice: 1 ... windowSlices - 1 slices (shortWindows), windowSlices, twice that, ... up to longWindowSlices.
        let k = 0;
        let a = 0;
        let best: MixTest | undefined;
        let windows = 0;
        for (let w = 1; w <= slices; w++) {
          const c = counts[slices - w];
          k += c?.get(pattern) ?? 0;
          a += c?.get(ref) ?? 0;
          const short = o.shortWindows && w < o.windowSlices;
          if (!short && (w % o.windowSlices !== 0 || (w > o.windowSlices && w > o.longWindowSlices))) continue;
          windows++;
          const t = this.testPair(service, pattern, ref, ps, k, a);
          if (t === undefined) continue;
          if (best === undefined || (t.effectOk && !best.effectOk) || (t.effectOk === best.effectOk && t.p < best.p)) best = t;
        }
        if (best === undefined) continue;
        if (windows > 1) {
          const p = Math.min(1, windows * best.p);
          best = { ...best, p, z: zOfTail(p) };
        }
        out.push(best);
      }
    }
    return out;
  }

  /**
   * Teaches the pairs the newest slice. `hold(service, pattern)` says which patterns must not learn
   * it (their mix looks abnormal or they are part of an open anomaly); their reference stays.
   */
  learn(slice: ReadonlyMap<string, PatternSlice>, hold: (service: string, pattern: string) => boolean): void {
    const d = this.decay;
    for (const [service, st] of this.services) {
      const counts = slice.get(service)?.counts;
      st.learned++;
      for (const t of st.totals.values()) t.n *= d;
      for (const [k, n] of counts ?? []) if (st.totals.has(k)) st.totals.get(k)!.n += n;
      this.updateReferences(st);
      for (const [pattern, refs] of st.pairs) {
        if (hold(service, pattern)) continue;
        st.chosen.delete(pattern);
        const b = counts?.get(pattern) ?? 0;
        for (const [ref, ps] of refs) addPairSlice(ps, b, counts?.get(ref) ?? 0, d);
      }
      // Every pattern the service wrote gets a pair with each reference (bounded).
      for (const pattern of counts?.keys() ?? []) {
        if (!st.totals.has(pattern)) continue;
        let refs = st.pairs.get(pattern);
        for (const ref of st.references) {
          if (ref === pattern || refs?.has(ref) === true || this.pairCount >= this.opts.maxPairs) continue;
          if (refs === undefined) st.pairs.set(pattern, (refs = new Map()));
          const ps: PairState = { a: 0, b: 0, r2: 0, v: 0, slices: 0 };
          addPairSlice(ps, counts?.get(pattern) ?? 0, counts?.get(ref) ?? 0, d);
          refs.set(ref, ps);
          this.pairCount++;
        }
      }
    }
  }

  /** Services, patterns and pair states tracked (for budgets and tests). */
  size(): { services: number; patterns: number; pairs: number } {
    let patterns = 0;
    for (const s of this.services.values()) patterns += s.totals.size;
    return { services: this.services.size, patterns, pairs: this.pairCount };
  }

  private testPair(service: string, pattern: string, reference: string, ps: PairState, k: number, a: number): MixTest | undefined {
    const o = this.opts;
    const n = k + a;
    if (n === 0) return undefined;
    const q = (ps.b + 0.5) / (ps.a + ps.b + 1);
    const expected = q * n;
    const dispersion = Math.max(1, ps.v > 0 ? ps.r2 / ps.v : 1);
    // Var(k) = dispersion * q(1-q) n = expected * dispersion * (1-q): scale both so that the
    // Poisson tail has that variance.
    const scale = dispersion * Math.max(o.minVarianceShare, 1 - q);
    const drop = k < expected;
    const p = drop ? quasiPoissonTail(k / scale, expected / scale, false) : 1;
    const effectOk = drop && k <= o.dropRatio * expected && expected - k >= o.minChange;
    return { service, pattern, reference, observed: k, expected, direction: 'drop', p, z: zOfTail(p), effectOk };
  }

  /**
   * The reference a pattern is tested against: among its tracked pairs with enough history, the
   * one whose share varied least relative to its power (dispersion times 1 - share). Kept while
   * the pattern is held, so a fault does not switch its pattern to a reference it moved with.
   */
  private reference(st: ServiceState, pattern: string, refs: Map<string, PairState>): string | undefined {
    const kept = st.chosen.get(pattern);
    if (kept !== undefined && refs.has(kept)) return kept;
    let best: string | undefined;
    let bestCost = Infinity;
    for (const [ref, ps] of refs) {
      if (ps.slices < this.opts.minPairSlices || ps.a <= 0 || ps.b <= 0 || ps.v <= 0) continue;
      const raw = ps.r2 / ps.v;
      if (raw > this.opts.maxSiblingDispersion) continue;
      const q = ps.b / (ps.a + ps.b);
      const cost = Math.max(1, raw) * Math.max(this.opts.minVarianceShare, 1 - q);
      if (cost < bestCost) [best, bestCost] = [ref, cost];
    }
    if (best !== undefined) st.chosen.set(pattern, best);
    return best;
  }

  /** The service's most frequent patterns become references; a new one must clearly beat the weakest. */
  private updateReferences(st: ServiceState): void {
    const o = this.opts;
    const ranked = [...st.totals].sort((x, y) => y[1].n - x[1].n);
    for (const [k, t] of ranked) {
      if (t.n <= 0 || st.references.includes(k)) continue;
      if (st.references.length < o.references) {
        st.references.push(k);
        continue;
      }
      let weakest = 0;
      for (let i = 1; i < st.references.length; i++) if ((st.totals.get(st.references[i]!)?.n ?? 0) < (st.totals.get(st.references[weakest]!)?.n ?? 0)) weakest = i;
      if (t.n < o.referenceSwitchRatio * (st.totals.get(st.references[weakest]!)?.n ?? 0)) break;
      this.dropReference(st, st.references[weakest]!);
      st.references[weakest] = k;
    }
  }

  private dropReference(st: ServiceState, ref: string): void {
    for (const refs of st.pairs.values()) if (refs.delete(ref)) this.pairCount--;
    for (const [p, r] of st.chosen) if (r === ref) st.chosen.delete(p);
  }

  private service(name: string): ServiceState {
    let st = this.services.get(name);
    if (st !== undefined) return st;
    if (this.services.size >= this.opts.maxServices) {
      const oldest = leastRecentlySeen(this.services);
      if (oldest !== undefined) this.forget(oldest);
    }
    st = { learned: 0, lastSeen: this.tick, totals: new Map(), references: [], pairs: new Map(), chosen: new Map() };
    this.services.set(name, st);
    return st;
  }

  private forget(service: string): void {
    const st = this.services.get(service);
    if (st === undefined) return;
    for (const refs of st.pairs.values()) this.pairCount -= refs.size;
    this.services.delete(service);
  }

  private total(st: ServiceState, key: string): { n: number; lastSeen: number } {
    let t = st.totals.get(key);
    if (t !== undefined) return t;
    if (st.totals.size >= this.opts.maxPatternsPerService) {
      const oldest = leastRecentlySeen(st.totals, (k) => !st.references.includes(k));
      if (oldest !== undefined) {
        st.totals.delete(oldest);
        const refs = st.pairs.get(oldest);
        if (refs !== undefined) this.pairCount -= refs.size;
        st.pairs.delete(oldest);
        st.chosen.delete(oldest);
      }
    }
    t = { n: 0, lastSeen: this.tick };
    st.totals.set(key, t);
    return t;
  }
}

/** One slice into a pair's decayed sums; its residual is measured against the share learned so far. */
function addPairSlice(ps: PairState, b: number, a: number, d: number): void {
  const n = a + b;
  if (n > 0 && ps.a + ps.b > 0) {
    const q = ps.b / (ps.a + ps.b);
    ps.r2 = ps.r2 * d + (b - q * n) ** 2;
    ps.v = ps.v * d + Math.max(q * (1 - q), 0.25 / (ps.a + ps.b + 1)) * n;
  } else {
    ps.r2 *= d;
    ps.v *= d;
  }
  ps.a = ps.a * d + a;
  ps.b = ps.b * d + b;
  if (n > 0) ps.slices++;
}
