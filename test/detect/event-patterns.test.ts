import { describe, expect, it } from 'vitest';
import { EventPatterns, poissonLowerTailAt, poissonUpperTail, quasiPoissonTail, type PatternSlice, type PatternTest } from '../../src/detect/event-patterns.js';
import { poisson, seededRandom } from './beat-factory.js';

type Mix = Record<string, number>;

/** One slice per service: requests and, per pattern, a Poisson count of `perRequest * requests`. */
function slice(rand: () => number, services: Record<string, { requests: number; mix: Mix }>): Map<string, PatternSlice> {
  const out = new Map<string, PatternSlice>();
  for (const [name, s] of Object.entries(services)) {
    const counts = new Map<string, number>();
    for (const [p, perRequest] of Object.entries(s.mix)) {
      const n = poisson(rand, perRequest * s.requests);
      if (n > 0) counts.set(p, n);
    }
    out.set(name, { requests: s.requests, counts });
  }
  return out;
}

/** Runs slices through the detector, learning every slice whose tests stay calm (as ServiceSignals does). */
function run(ep: EventPatterns, slices: Array<Map<string, PatternSlice>>): PatternTest[][] {
  const all: PatternTest[][] = [];
  for (const sl of slices) {
    const tests = ep.test(sl);
    all.push(tests);
    const loud = new Set(tests.filter((t) => t.z >= 3).map((t) => `${t.service}|${t.pattern}`));
    ep.learn(sl, (s, p) => loud.has(`${s}|${p}`));
  }
  return all;
}

const significant = (t: PatternTest): boolean => t.effectOk && t.z >= 5;

describe('EventPatterns', () => {
  /** Slices of one service whose line `pattern` comes in a burst of 15 lines in one slice of every 18. */
  const bursty = (pattern: string, length: number): Array<Map<string, PatternSlice>> =>
    Array.from({ length }, (_, i) => new Map([['pay', { requests: 10, counts: new Map([['log:info:done', 10], ...(i % 18 === 17 ? [[pattern, 15] as [string, number]] : [])]) }]]));
  const burstsFlagged = (tests: PatternTest[][], pattern: string): number[] => tests.flatMap((t, i) => (t.some((x) => x.pattern === pattern && significant(x)) ? [Math.floor((i + 1) / 18) - 1] : [])).filter((b, i, a) => a.indexOf(b) === i);

  it('learns a warning that comes in short bursts: its first burst is news, the later ones are not, and a lasting surge still is', () => {
    const ep = new EventPatterns();
    const slices = bursty('log:warn:pool', 18 * 8);
    // Then the line stays at a burst's rate for a minute and more.
    for (let i = 0; i < 9; i++) slices.push(new Map([['pay', { requests: 10, counts: new Map([['log:info:done', 10], ['log:warn:pool', 15]]) }]]));
    const tests = run(ep, slices);
    expect(burstsFlagged(tests.slice(0, 18 * 8), 'log:warn:pool')).toEqual([0]);
    // The bursts' dispersion (about 14) is what the surge is now measured against: it still clears
    // ServiceSignals' minZ of 4 once the window is full of it, though no longer by far.
    expect(tests.slice(-3).map((t) => t.some((x) => x.pattern === 'log:warn:pool' && x.effectOk && x.z >= 4))).toEqual([true, true, true]);
  });

  it('never learns bursts of an error line, nor a learnable line whose hold outlasts selfLimitedSlices', () => {
    expect(burstsFlagged(run(new EventPatterns(), bursty('log:error:pool', 18 * 8)), 'log:error:pool')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(burstsFlagged(run(new EventPatterns({ selfLimitedSlices: 2 }), bursty('log:warn:pool', 18 * 8)), 'log:warn:pool')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('finds a regular log line that stops while the service keeps serving requests', () => {
    const rand = seededRandom(3);
    const ep = new EventPatterns();
    const normal: Mix = { 'log:info:query': 0.5, 'log:info:done': 1, 'op:GET /price': 1 };
    const faulty: Mix = { 'log:info:done': 1, 'op:GET /price': 1 };
    const slices = Array.from({ length: 60 }, (_, i) => slice(rand, { price: { requests: 10, mix: i >= 50 ? faulty : normal } }));
    const tests = run(ep, slices);
    expect(tests.slice(0, 50).flat().filter(significant)).toEqual([]);
    const late = tests.slice(52).flat().filter(significant);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((t) => t.pattern === 'log:info:query' && t.direction === 'drop' && t.observed < t.expected)).toBe(true);
  });

  it('does not blame a service that only gets fewer requests (its per-request mix is unchanged)', () => {
    const rand = seededRandom(4);
    const ep = new EventPatterns();
    const mix: Mix = { 'log:info:query': 0.5, 'op:GET /route': 1 };
    const slices = Array.from({ length: 60 }, (_, i) => slice(rand, { route: { requests: i >= 50 ? 2 : 20, mix } }));
    expect(run(ep, slices).flat().filter(significant)).toEqual([]);
  });

  it('finds a new error line, but never a new or more frequent info line or operation', () => {
    const rand = seededRandom(5);
    const ep = new EventPatterns();
    const normal: Mix = { 'log:info:ok': 1, 'op:GET /contacts': 1 };
    const faulty: Mix = { 'log:info:ok': 1, 'op:GET /contacts': 3, 'log:info:fresh': 0.5, 'log:error:no contact': 0.5 };
    const slices = Array.from({ length: 60 }, (_, i) => slice(rand, { contacts: { requests: 8, mix: i >= 50 ? faulty : normal } }));
    const found = run(ep, slices).flat().filter(significant);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((t) => `${t.pattern}/${t.direction}`))).toEqual(new Set(['log:error:no contact/surge']));
  });

  it('finds a burst of a rare error line in its first slice, which the whole window alone dilutes', () => {
    /** z of the rare line in the burst's slice: one line every 20 slices, then 5 in slice 60. */
    const zAtBurst = (surgeScales: number[]): number => {
      const ep = new EventPatterns({ surgeScales });
      const slices = Array.from({ length: 61 }, (_, i) => new Map([['contacts', { requests: 8, counts: new Map([['log:info:ok', 8], ['log:error:no contact', i === 60 ? 5 : i % 20 === 7 ? 1 : 0]]) }]]));
      const last = run(ep, slices).at(-1)!.find((t) => t.pattern === 'log:error:no contact')!;
      expect(last.direction).toBe('surge');
      expect(last.effectOk).toBe(true);
      return last.z;
    };
    expect(zAtBurst([1])).toBeGreaterThanOrEqual(5);
    expect(zAtBurst([])).toBeLessThan(5);
  });

  it('does not learn the first slices of a new error line that its still mostly normal window dilutes', () => {
    /** The error line's test at slice `at`: two requests a slice, no error line for 60 slices, then one line per request from slice 60 on. */
    const testAt = (at: number, onsetHoldZ: number): PatternTest => {
      const ep = new EventPatterns({ onsetHoldZ });
      const slices = Array.from({ length: at + 1 }, (_, i) => new Map([['contacts', { requests: 2, counts: new Map([['log:info:found', 2], ['log:error:no contact', i >= 60 ? 2 : 0]]) }]]));
      // The line exists from the start (seen once as a rare error long ago) so its state is tracked.
      slices[3]!.get('contacts')!.counts.set('log:error:no contact', 1);
      return run(ep, slices).at(-1)!.find((t) => t.pattern === 'log:error:no contact')!;
    };
    const held = testAt(64, 3);
    const learned = testAt(64, Infinity);
    // Without the rule the window z of the first error slices stays under 3 and they are learned:
    // the expectation of the fifth slice is the fault's own rate in part.
    expect(learned.expected).toBeGreaterThan(1.5 * held.expected);
    expect(held.z).toBeGreaterThan(learned.z + 0.5);
    expect(held.z).toBeGreaterThanOrEqual(5);
  });

  it('pays for the shorter windows: a line that trickles in scores a little lower with them', () => {
    const zOf = (surgeScales: number[]): number => {
      const ep = new EventPatterns({ surgeScales });
      const slices = Array.from({ length: 66 }, (_, i) => new Map([['contacts', { requests: 8, counts: new Map([['log:info:ok', 8], ['log:error:no contact', i >= 60 ? 1 : i % 20 === 7 ? 1 : 0]]) }]]));
      return run(ep, slices).at(-1)!.find((t) => t.pattern === 'log:error:no contact')!.z;
    };
    expect(zOf([1])).toBeLessThan(zOf([]));
    expect(zOf([1])).toBeGreaterThan(zOf([]) - 0.5);
  });

  it('compares a service without traced requests per slice', () => {
    const rand = seededRandom(6);
    const ep = new EventPatterns();
    const slices = Array.from({ length: 60 }, () => slice(rand, { worker: { requests: 0, mix: {} } }));
    // requests 0: the mix is per slice, so counts are drawn directly.
    for (const [i, sl] of slices.entries()) sl.set('worker', { requests: 0, counts: new Map([['log:info:tick', i >= 50 ? 0 : poisson(rand, 6)]]) });
    const found = run(ep, slices).flat().filter(significant);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((t) => t.direction === 'drop')).toBe(true);
  });

  it('needs a larger change from a bursty pattern (quasi-Poisson dispersion)', () => {
    const rand = seededRandom(7);
    const steady = new EventPatterns();
    const bursty = new EventPatterns();
    const steadySlices: Array<Map<string, PatternSlice>> = [];
    const burstySlices: Array<Map<string, PatternSlice>> = [];
    for (let i = 0; i < 60; i++) {
      const on = i >= 50;
      steadySlices.push(new Map([['s', { requests: 10, counts: new Map([['log:warn:retry', on ? 30 : poisson(rand, 5)]]) }]]));
      // Same mean, but in bursts of 10.
      burstySlices.push(new Map([['s', { requests: 10, counts: new Map([['log:warn:retry', on ? 30 : rand() < 0.5 ? 10 : 0]]) }]]));
    }
    const zSteady = Math.max(...run(steady, steadySlices).slice(50).flat().map((t) => t.z));
    const zBursty = Math.max(...run(bursty, burstySlices).slice(50).flat().map((t) => t.z));
    expect(zSteady).toBeGreaterThan(zBursty);
  });

  it('tests nothing until a service is warm and keeps its memory bounded', () => {
    const ep = new EventPatterns({ warmupSlices: 5, windowSlices: 2, maxPatternsPerService: 4, maxServices: 2 });
    const counts = (i: number): Map<string, number> => new Map([[`log:info:t${i}`, 1]]);
    expect(ep.test(new Map([['a', { requests: 1, counts: counts(0) }]]))).toEqual([]);
    for (let i = 0; i < 20; i++) {
      const sl = new Map([
        ['a', { requests: 1, counts: counts(i) }],
        [`svc${i}`, { requests: 1, counts: counts(i) }],
      ]);
      ep.test(sl);
      ep.learn(sl, () => false);
    }
    const size = ep.size();
    expect(size.services).toBeLessThanOrEqual(2);
    expect(size.patterns).toBeLessThanOrEqual(8);
  });
});

describe('Poisson tails', () => {
  it('agree with each other and with the normal approximation for large means', () => {
    expect(poissonUpperTail(0, 3)).toBe(1);
    expect(poissonLowerTailAt(-1, 3)).toBe(0);
    expect(poissonUpperTail(4, 3) + poissonLowerTailAt(3, 3)).toBeCloseTo(1, 12);
    // Far in the tail the upper sum keeps its digits (1 - lower would give 0).
    expect(poissonUpperTail(40, 1)).toBeGreaterThan(0);
    expect(poissonUpperTail(40, 1)).toBeLessThan(1e-40);
    expect(quasiPoissonTail(130, 100, true)).toBeCloseTo(poissonUpperTail(130, 100), 2);
    expect(quasiPoissonTail(75, 100, false)).toBeCloseTo(poissonLowerTailAt(75, 100), 2);
    expect(quasiPoissonTail(0, 5, false)).toBeCloseTo(Math.exp(-5), 10);
  });
});
