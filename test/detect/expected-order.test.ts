import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OrderLearner, compareToExpected, declaredOrder, longestIncreasing, shapeKey } from '../../src/detect/expected-order.js';
import type { Sequence } from '../../src/model/sequence.js';

const seq: Sequence = {
  id: 'Cart.checkout',
  name: 'checkout',
  movements: [
    { name: 'validate', beats: [ { beat: 2, event: 'e2', handler: 'price' }, { beat: 1, event: 'e1', handler: 'validate' } ] },
    { name: 'pay', beats: [ { beat: 1, event: 'e3', handler: 'charge' } ] },
  ],
};

describe('declaredOrder', () => {
  it('orders by movement, then beat number', () => {
    const o = declaredOrder(seq);
    expect(o.handlers).toEqual(['validate', 'price', 'charge']);
    expect(o.source).toBe('declared');
    expect(o.positionFrequency).toEqual([1, 1, 1]);
  });
});

describe('compareToExpected', () => {
  const E = ['a', 'b', 'c', 'd'];
  it('finds nothing wrong in a conforming run', () => {
    expect(compareToExpected(E, ['a', 'b', 'c', 'd'])).toEqual([]);
  });
  it('reports missing, unexpected and duplicate beats', () => {
    const v = compareToExpected(E, ['a', 'x', 'b', 'b', 'd']);
    expect(v).toEqual(
      expect.arrayContaining([
        { kind: 'unexpected-beat', handler: 'x', index: 1 },
        { kind: 'duplicate-beat', handler: 'b', index: 3 },
        { kind: 'missing-beat', handler: 'c', index: -1 },
      ]),
    );
    expect(v).toHaveLength(3);
  });
  it('blames the minimal set of misplaced beats', () => {
    // Moving d to the front misplaces one beat, not three.
    expect(compareToExpected(E, ['d', 'a', 'b', 'c'])).toEqual([{ kind: 'out-of-order', handler: 'd', index: 0 }]);
    const swap = compareToExpected(E, ['a', 'c', 'b', 'd']);
    expect(swap).toHaveLength(1);
    expect(swap[0]!.kind).toBe('out-of-order');
  });
  it('matches repeated expected handlers occurrence by occurrence', () => {
    expect(compareToExpected(['a', 'b', 'a'], ['a', 'b', 'a'])).toEqual([]);
    expect(compareToExpected(['a', 'b', 'a'], ['a', 'b'])).toEqual([{ kind: 'missing-beat', handler: 'a', index: -1 }]);
  });
  it('a permutation of the expectation has exactly n - LIS misplaced beats', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(['a', 'b', 'c', 'd', 'e', 'f', 'g'], { minLength: 7, maxLength: 7 }), (perm) => {
        const E = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
        const v = compareToExpected(E, perm);
        const lis = longestIncreasing(perm.map((h) => E.indexOf(h))).size;
        expect(v.every((x) => x.kind === 'out-of-order')).toBe(true);
        expect(v).toHaveLength(7 - lis);
      }),
    );
  });
});

describe('longestIncreasing', () => {
  it('returns indices of one longest strictly increasing subsequence', () => {
    const idx = longestIncreasing([3, 1, 2, 5, 4, 6]);
    expect(idx.size).toBe(4);
    const vals = [...idx].sort((a, b) => a - b).map((i) => [3, 1, 2, 5, 4, 6][i]!);
    for (let i = 1; i < vals.length; i++) expect(vals[i]!).toBeGreaterThan(vals[i - 1]!);
    expect(longestIncreasing([]).size).toBe(0);
  });
});

describe('OrderLearner', () => {
  it('has no expectation before minRuns, then the anchor shape with presence frequencies', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 1000, maxSignatures: 8 });
    for (let i = 0; i < 9; i++) l.observe(i % 3 === 0 ? ['a', 'c'] : ['a', 'b', 'c']);
    expect(l.refresh()).toBe(false);
    expect(l.expected()).toBeUndefined();
    l.observe(['a', 'b', 'c']);
    // The expectation only moves in refresh(): one snapshot per evaluation.
    expect(l.expected()).toBeUndefined();
    expect(l.refresh()).toBe(true);
    const e = l.expected()!;
    expect(e.source).toBe('learned');
    expect(e.handlers).toEqual(['a', 'b', 'c']);
    expect(e.runs).toBe(10);
    expect(e.positionFrequency[0]).toBeCloseTo(1, 5);
    expect(e.positionFrequency[1]).toBeCloseTo(0.7, 2);
    // 30 % of runs skip b: that shape is normal too.
    expect(e.shapes).toEqual([['a', 'b', 'c'], ['a', 'c']]);
    expect(l.violations(['a', 'c'])).toEqual([]);
    expect(l.refresh()).toBe(false);
  });

  it('learns several normal shapes: one-span runs of different handlers under one sequence name', () => {
    const l = new OrderLearner({ minRuns: 30, halfLifeRuns: 2000, maxSignatures: 64 });
    let flips = 0;
    // Equal traffic: the heaviest shape keeps changing, the expectation must not.
    for (let i = 0; i < 5000; i++) {
      l.observe([i % 2 === 0 ? 'chargeCard' : 'reserveStock']);
      if (i % 50 === 49 && l.refresh() && i > 49) flips++;
    }
    expect(flips).toBe(0);
    expect(l.expected()!.shapes).toEqual([['chargeCard'], ['reserveStock']]);
    expect(l.violations(['chargeCard'])).toEqual([]);
    expect(l.violations(['reserveStock'])).toEqual([]);
    // A run that is neither is judged against the nearest normal shape only.
    expect(l.violations(['reserveStock', 'audit'])).toEqual([{ kind: 'unexpected-beat', handler: 'audit', index: 1 }]);
    expect(l.violations([])).toHaveLength(1);
  });

  it('offers provisional shapes between minRuns and the first refresh, recomputed as runs come in', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 1e9, maxSignatures: 8 });
    for (let i = 0; i < 9; i++) l.observe(['a', 'b']);
    expect(l.provisionalShapes()).toBeUndefined();
    l.observe(['a', 'b']);
    const first = l.provisionalShapes();
    expect(first).toEqual([['a', 'b']]);
    // Unchanged shapes: the same array (callers cache what they derive from it).
    for (let i = 0; i < 20; i++) l.observe(['a', 'b']);
    expect(l.provisionalShapes()).toBe(first);
    // A second shape past enterShare joins at the next recomputation; a rare one does not.
    for (let i = 0; i < 30; i++) l.observe(['a', 'c']);
    l.observe(['z']);
    expect(l.provisionalShapes()).toEqual([['a', 'b'], ['a', 'c']]);
    // Once there is an expectation, it is what counts.
    l.refresh();
    expect(l.expected()!.shapes).toEqual([['a', 'b'], ['a', 'c']]);
    expect(l.provisionalShapes()).toBeUndefined();
  });

  it('judges an abnormal run against the nearest normal shape', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 1e9, maxSignatures: 8 });
    for (let i = 0; i < 60; i++) l.observe(['a', 'b', 'c']);
    for (let i = 0; i < 40; i++) l.observe(['x', 'y']);
    l.refresh();
    const swapped = l.violations(['a', 'c', 'b']);
    expect(swapped).toHaveLength(1);
    expect(swapped[0]!.kind).toBe('out-of-order');
    expect(l.violations(['y', 'x'])).toHaveLength(1);
    expect(l.violations(['a', 'b', 'c'], shapeKey(['a', 'b', 'c']))).toEqual([]);
  });

  it('admits a shape at enterShare and drops it only under leaveShare (hysteresis)', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 1e9, maxSignatures: 8 });
    for (let i = 0; i < 88; i++) l.observe(['a']);
    for (let i = 0; i < 12; i++) l.observe(['b']);
    expect(l.refresh()).toBe(true);
    expect(l.expected()!.shapes).toHaveLength(2);
    for (let i = 0; i < 60; i++) l.observe(['a']);
    // b is 7.5 % now: under enterShare, still above leaveShare.
    expect(l.refresh()).toBe(false);
    expect(l.expected()!.shapes).toHaveLength(2);
    for (let i = 0; i < 100; i++) l.observe(['a']);
    expect(l.refresh()).toBe(true);
    expect(l.expected()!.shapes).toEqual([['a']]);
    expect(l.violations(['b'])).toHaveLength(2);
    const share = l.shapeShares().find((s) => s.key === shapeKey(['b']))!.share;
    expect(share).toBeCloseTo(12 / 260, 6);
  });

  it('learns a run only partly when given a weight', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 1e9, maxSignatures: 8 });
    for (let i = 0; i < 100; i++) l.observe(['a']);
    // 60 faulty runs at weight 0.05 weigh like 3: not a normal shape.
    for (let i = 0; i < 60; i++) l.observe(['a', 'a'], 0.05);
    l.refresh();
    expect(l.expected()!.shapes).toEqual([['a']]);
    expect(l.expected()!.runs).toBe(160);
  });

  it('keeps learning slowly: a lasting change of order eventually becomes the anchor', () => {
    const l = new OrderLearner({ minRuns: 5, halfLifeRuns: 50, maxSignatures: 8 });
    for (let i = 0; i < 500; i++) l.observe(['a', 'b']);
    l.refresh();
    for (let i = 0; i < 5; i++) l.observe(['b', 'a']);
    l.refresh();
    expect(l.expected()!.handlers).toEqual(['a', 'b']);
    expect(l.expected()!.shapes).toEqual([['a', 'b']]);
    for (let i = 0; i < 300; i++) l.observe(['b', 'a']);
    expect(l.refresh()).toBe(true);
    expect(l.expected()!.handlers).toEqual(['b', 'a']);
    expect(l.expected()!.shapes).toEqual([['b', 'a']]);
  });

  it('forgets the lightest signature when full but never the anchor', () => {
    const l = new OrderLearner({ minRuns: 1, halfLifeRuns: 10, maxSignatures: 2 });
    for (let i = 0; i < 5; i++) l.observe(['m']);
    for (let i = 0; i < 100; i++) l.observe([`x${i}`]);
    // Weights rescale many times over (half-life 10 runs) without losing the ordering.
    l.refresh();
    expect(l.expected()!.handlers[0]).toMatch(/^x/);
    const k = new OrderLearner({ minRuns: 1, halfLifeRuns: 1e9, maxSignatures: 2 });
    for (let i = 0; i < 5; i++) k.observe(['m']);
    k.refresh();
    for (let i = 0; i < 10; i++) k.observe([`x${i}`]);
    k.refresh();
    expect(k.expected()!.handlers).toEqual(['m']);
    expect(k.shapeShares().length).toBeLessThanOrEqual(2);
    // Forgotten runs stay in the total.
    expect(k.shapeShares().find((s) => s.key === 'm')!.share).toBeCloseTo(5 / 15, 6);
  });
});

describe('OrderLearner regular handlers', () => {
  const FULL = ['authenticate', 'validateCart', 'chargeCard', 'sendReceipt'];
  // 5 % of runs fail in chargeCard and never reach sendReceipt: a normal shape of its own.
  const FAILED = ['authenticate', 'validateCart', 'chargeCard'];

  function learnt(): OrderLearner {
    const l = new OrderLearner({ minRuns: 30, halfLifeRuns: 2000, maxSignatures: 64, enterShare: 0.04 });
    for (let i = 0; i < 2000; i++) l.observe(i % 20 === 0 ? FAILED : FULL);
    l.refresh();
    return l;
  }

  it('reports a handler present in most runs as missing from a run of a normal shape without it', () => {
    const l = learnt();
    expect(l.violations(FULL)).toEqual([]);
    expect(l.violations(FAILED)).toEqual([{ kind: 'missing-beat', handler: 'sendReceipt', index: -1 }]);
  });

  it('does not treat an occasional handler as regular', () => {
    const l = new OrderLearner({ minRuns: 30, halfLifeRuns: 2000, maxSignatures: 64 });
    // A cache miss branch in 40 % of runs.
    for (let i = 0; i < 2000; i++) l.observe(i % 5 < 2 ? ['lookup', 'loadFromDb', 'render'] : ['lookup', 'render']);
    l.refresh();
    expect(l.violations(['lookup', 'render'])).toEqual([]);
  });

  it('keeps a regular handler regular for a while after it stops being called (hysteresis)', () => {
    const l = learnt();
    // As many runs again without it: its share falls from 95 % to about half, under the 80 % entry
    // share but above the 40 % exit share.
    for (let i = 0; i < 1500; i++) l.observe(FAILED);
    l.refresh();
    expect(l.violations(FAILED).map((v) => v.handler)).toEqual(['sendReceipt']);
    for (let i = 0; i < 20_000; i++) l.observe(FAILED);
    l.refresh();
    expect(l.violations(FAILED)).toEqual([]);
  });

  it('re-derives its expectation when the regular set changes (refresh reports a change)', () => {
    const l = new OrderLearner({ minRuns: 10, halfLifeRuns: 100, maxSignatures: 8 });
    for (let i = 0; i < 50; i++) l.observe(['a', 'b']);
    expect(l.refresh()).toBe(true);
    expect(l.refresh()).toBe(false);
    // 'b' stops; 'a', 'c' becomes the anchor shape only much later, but 'b' leaving the regular
    // set alone is a change.
    let changed = false;
    for (let i = 0; i < 400 && !changed; i++) {
      l.observe(['a']);
      changed = l.refresh();
    }
    expect(changed).toBe(true);
  });
});
