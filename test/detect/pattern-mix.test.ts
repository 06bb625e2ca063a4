import { describe, expect, it } from 'vitest';
import { EventPatterns, type PatternSlice, type PatternTest } from '../../src/detect/event-patterns.js';
import { PatternMix, type MixTest } from '../../src/detect/pattern-mix.js';
import { poisson, seededRandom } from './beat-factory.js';

/**
 * A service whose workload comes in bursts (0-60 requests a slice, as Train Ticket's travel
 * service), each request of the search path writing `before` and then `after` (unless it throws in
 * between), and the other requests one `other` line each.
 */
function travelSlices(rand: () => number, length: number, throwsFrom: number, throwShare = 1): Array<Map<string, PatternSlice>> {
  return Array.from({ length }, (_, i) => {
    const search = rand() < 0.3 ? 0 : poisson(rand, 2 + rand() * 40);
    const other = poisson(rand, 5);
    let after = 0;
    for (let r = 0; r < search; r++) if (!(i >= throwsFrom && rand() < throwShare)) after++;
    const counts = new Map<string, number>([
      ['log:info:before', search],
      ['log:info:after', after],
      ['log:info:other', other],
      ['op:GET /trips', search],
    ]);
    return new Map([['travel', { requests: search + other, counts }]]);
  });
}

function runMix(mix: PatternMix, slices: Array<Map<string, PatternSlice>>): MixTest[][] {
  return slices.map((sl) => {
    const tests = mix.test(sl);
    const loud = new Set(tests.filter((t) => t.z >= 3).map((t) => `${t.service}|${t.pattern}`));
    mix.learn(sl, (s, p) => loud.has(`${s}|${p}`));
    return tests;
  });
}

function runPatterns(ep: EventPatterns, slices: Array<Map<string, PatternSlice>>): PatternTest[][] {
  return slices.map((sl) => {
    const tests = ep.test(sl);
    const loud = new Set(tests.filter((t) => t.z >= 3).map((t) => `${t.service}|${t.pattern}`));
    ep.learn(sl, (s, p) => loud.has(`${s}|${p}`));
    return tests;
  });
}

/** What ServiceSignals would count as a discovery (minZ 4, effect large enough). */
const significant = (t: PatternTest): boolean => t.effectOk && t.z >= 4;

describe('PatternMix', () => {
  it('finds a line that stops after its sibling line of the same code path, where its rate per request cannot', () => {
    const slices = travelSlices(seededRandom(11), 90, 80);
    const mix = runMix(new PatternMix(), slices);
    expect(mix.slice(0, 80).flat().filter(significant)).toEqual([]);
    const found = mix.slice(82).flat().filter(significant);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((t) => t.pattern === 'log:info:after' && t.direction === 'drop' && t.observed < t.expected)).toBe(true);
    expect(new Set(found.map((t) => t.reference))).toEqual(new Set(['log:info:before']));
    // The same slices through the per-request test: the bursts' dispersion hides the loss.
    const perRequest = runPatterns(new EventPatterns(), slices);
    expect(perRequest.slice(80).flat().filter((t) => t.pattern === 'log:info:after' && significant(t))).toEqual([]);
  });

  it('tests every window since the loss began, up to longWindowSlices: a pair written a few times a minute becomes significant once enough lines are missing', () => {
    // The search path runs about once a slice: 6 slices hold too few lines for any loss to be
    // significant after the penalty for looking, but 15 slices without a single `after` are.
    const slow = (rand: () => number): Array<Map<string, PatternSlice>> =>
      Array.from({ length: 120 }, (_, i) => {
        const search = poisson(rand, 1.2);
        const counts = new Map<string, number>([
          ['log:info:before', search],
          ['log:info:after', i >= 100 ? 0 : search],
          ['log:info:other', poisson(rand, 5)],
        ]);
        return new Map([['travel', { requests: search, counts }]]);
      });
    const afterLoss = (mix: PatternMix): MixTest[] => runMix(mix, slow(seededRandom(5))).slice(100).flat().filter((t) => t.pattern === 'log:info:after');
    const scanned = afterLoss(new PatternMix());
    const fixed = afterLoss(new PatternMix({ longWindowSlices: 6 }));
    expect(fixed.filter(significant)).toEqual([]);
    expect(scanned.filter(significant).length).toBeGreaterThan(0);
    // The longer windows only come into play once the loss outlasts the short one.
    expect(Math.max(...scanned.filter(significant).map((t) => t.expected))).toBeGreaterThan(Math.max(...fixed.map((t) => t.expected)));
    // And before the loss, the scan over windows stays as quiet as the fixed window.
    expect(runMix(new PatternMix(), slow(seededRandom(5))).slice(0, 100).flat().filter(significant)).toEqual([]);
  });

  it('stays quiet over a long steady period of bursty workload, and when the whole code path just gets less traffic', () => {
    const rand = seededRandom(12);
    const quiet = runMix(new PatternMix(), travelSlices(rand, 400, Infinity));
    expect(quiet.flat().filter(significant)).toEqual([]);
    // The search path stops being called at all: both lines vanish together, their share is unchanged.
    const slices = travelSlices(rand, 90, Infinity);
    for (const sl of slices.slice(80)) {
      const s = sl.get('travel')!;
      const counts = new Map(s.counts);
      for (const k of ['log:info:before', 'log:info:after', 'op:GET /trips']) counts.set(k, 0);
      sl.set('travel', { requests: counts.get('log:info:other')!, counts });
    }
    expect(runMix(new PatternMix(), slices).flat().filter(significant)).toEqual([]);
  });

  it('tests only sibling pairs: a line that drifts apart from every reference with the workload is not tested, however much it drops', () => {
    const rand = seededRandom(13);
    const tight = travelSlices(rand, 90, 80, 0.5);
    // The same, but `after` follows its own independent bursts before the fault.
    const loose = travelSlices(rand, 90, 80, 0.5).map((sl, i) => {
      const s = sl.get('travel')!;
      const counts = new Map(s.counts);
      if (i < 80) counts.set('log:info:after', rand() < 0.5 ? 0 : 2 * (counts.get('log:info:before') ?? 0));
      return new Map([['travel', { requests: s.requests, counts }]]);
    });
    const z = (slices: Array<Map<string, PatternSlice>>): number => Math.max(0, ...runMix(new PatternMix(), slices).slice(82).flat().filter((t) => t.pattern === 'log:info:after').map((t) => t.z));
    expect(z(tight)).toBeGreaterThan(4);
    expect(z(loose)).toBe(0);
  });

  it('scans the windows shorter than windowSlices: a loss is found while the 6-slice window still holds the slices before it', () => {
    // A code path run about 8 times a slice; `after` stops at slice 100. For its first five slices
    // the 6-slice window also holds normal slices, so k stays above a fifth of its expectation.
    const path = (rand: () => number): Array<Map<string, PatternSlice>> =>
      Array.from({ length: 112 }, (_, i) => {
        const search = poisson(rand, 8);
        const counts = new Map<string, number>([
          ['log:info:before', search],
          ['log:info:after', i >= 100 ? 0 : search],
          ['log:info:other', poisson(rand, 5)],
        ]);
        return new Map([['travel', { requests: search, counts }]]);
      });
    // The first slice (from the loss on) with a discovery in it and in the slice before: a finding.
    const confirmedAt = (mix: PatternMix, seed: number): number => {
      const found = runMix(mix, path(seededRandom(seed))).map((tests) => tests.some((t) => t.pattern === 'log:info:after' && significant(t)));
      for (let i = 100; i < found.length; i++) if (found[i] && found[i - 1]) return i - 100;
      return Infinity;
    };
    for (const seed of [21, 22, 23]) {
      const scanned = confirmedAt(new PatternMix(), seed);
      const fixed = confirmedAt(new PatternMix({ shortWindows: false }), seed);
      expect(scanned).toBeLessThan(fixed);
      // Found within 4 slices of the loss, where the 6-slice window alone needs all six.
      expect(scanned).toBeLessThanOrEqual(3);
      expect(fixed).toBeGreaterThanOrEqual(5);
    }
    // Before the loss the extra windows find nothing.
    expect(runMix(new PatternMix(), path(seededRandom(21))).slice(0, 100).flat().filter(significant)).toEqual([]);
  });

  it('tests nothing until a service is warm and keeps its pairs bounded', () => {
    const mix = new PatternMix({ warmupSlices: 5, windowSlices: 2, references: 2, maxPatternsPerService: 6, maxServices: 2, maxPairs: 20 });
    const first = new Map([['a', { requests: 1, counts: new Map([['log:info:x', 1]]) }]]);
    expect(mix.test(first)).toEqual([]);
    for (let i = 0; i < 40; i++) {
      const sl = new Map([
        ['a', { requests: 3, counts: new Map([['log:info:x', 3], ['log:info:y', 3], [`log:info:t${i}`, 1]]) }],
        [`svc${i}`, { requests: 1, counts: new Map([['log:info:z', 1]]) }],
      ]);
      mix.test(sl);
      mix.learn(sl, () => false);
    }
    const size = mix.size();
    expect(size.services).toBeLessThanOrEqual(2);
    expect(size.patterns).toBeLessThanOrEqual(6 + 6);
    expect(size.pairs).toBeLessThanOrEqual(20);
  });
});
