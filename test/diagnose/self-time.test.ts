import { describe, expect, it } from 'vitest';
import { selfTimeSplit, timingHypothesis } from '../../src/diagnose/self-time.js';
import { beat, FakeEvidence, runWithChild } from './fixtures.js';

describe('selfTimeSplit', () => {
  it('subtracts the union of direct children, clipped to the parent', () => {
    const p = beat({ startMs: 0, durationMs: 100 });
    const kids = [
      beat({ handler: 'a', parentSpanId: p.spanId, startMs: 10, durationMs: 30 }), // 10-40
      beat({ handler: 'b', parentSpanId: p.spanId, startMs: 20, durationMs: 30 }), // 20-50 overlaps
      beat({ handler: '', spanName: 'GET /x', parentSpanId: p.spanId, startMs: 90, durationMs: 50 }), // clipped to 90-100
      beat({ handler: 'c', parentSpanId: p.spanId, startMs: 200, durationMs: 5 }), // outside
      beat({ handler: 'grandchild', parentSpanId: 'other', startMs: 10, durationMs: 80 }),
    ];
    const split = selfTimeSplit(p, [p, ...kids]);
    expect(split.childMs).toBe(50);
    expect(split.selfMs).toBe(50);
    expect(Object.fromEntries(split.children)).toEqual({ a: 30, b: 30, 'GET /x': 10 });
  });

  it('is all self time without children', () => {
    const p = beat({ durationMs: 7 });
    expect(selfTimeSplit(p, [p])).toMatchObject({ selfMs: 7, childMs: 0 });
  });
});

describe('timingHypothesis', () => {
  function setup(slowParent: number, slowChild: number): { ev: FakeEvidence; slow: ReturnType<typeof beat>[]; normal: ReturnType<typeof beat>[] } {
    const ev = new FakeEvidence();
    const slow = [];
    const normal = [];
    for (let i = 0; i < 6; i++) {
      const run = runWithChild(slowParent, slowChild);
      ev.addTrace(run);
      slow.push(run[0]!);
      const base = runWithChild(20, 10);
      ev.addTrace(base);
      normal.push(base[0]!);
    }
    return { ev, slow, normal };
  }

  it('blames the handler when its own time grew', () => {
    const { ev, slow, normal } = setup(120, 12);
    const r = timingHypothesis(slow, normal, ev);
    expect(r.hypothesis?.cause).toBe('self-time-regression');
    expect(r.hypothesis!.score).toBeGreaterThan(0.8);
    expect(r.figures).toMatchObject({ slowSelfMs: 108, baselineSelfMs: 10, slowChildMs: 12, baselineChildMs: 10 });
  });

  it('names the child whose time grew for a slow dependency', () => {
    const { ev, slow, normal } = setup(120, 105);
    const r = timingHypothesis(slow, normal, ev);
    expect(r.hypothesis?.cause).toBe('slow-dependency');
    expect(r.hypothesis!.description).toContain("'queryDb'");
    expect(r.figures).toMatchObject({ slowChild: 'queryDb', slowChildGrowthMs: 95 });
  });

  it('compares with the newest baseline runs that still have their traces', () => {
    const { ev, slow, normal } = setup(120, 12);
    // Thirty newer baseline beats whose traces were already evicted must not crowd out the six held runs.
    const evicted = Array.from({ length: 30 }, (_, i) => beat({ durationMs: 20, traceId: `evicted-${i}` }));
    const r = timingHypothesis(slow, [...normal, ...evicted], ev);
    expect(r.hypothesis?.cause).toBe('self-time-regression');
    expect(r.figures).toMatchObject({ baselineSelfMs: 10, baselineChildMs: 10 });
  });

  it('assumes the whole baseline was self time when baseline traces are gone', () => {
    const ev = new FakeEvidence();
    const run = runWithChild(100, 90);
    ev.addTrace(run);
    const r = timingHypothesis([run[0]!], [beat({ durationMs: 20, traceId: 'evicted' })], ev);
    expect(r.hypothesis?.cause).toBe('slow-dependency');
    expect(r.hypothesis!.score).toBeLessThan(0.3); // one run only: weak
  });

  it('returns nothing without traces or growth', () => {
    const ev = new FakeEvidence();
    expect(timingHypothesis([beat({ traceId: 'none' })], [], ev)).toEqual({});
    const run = runWithChild(10, 5);
    ev.addTrace(run);
    expect(timingHypothesis([run[0]!], [], ev)).toEqual({});
    const r = timingHypothesis([run[0]!], [beat({ durationMs: 50, traceId: 'gone' })], ev);
    expect(r.hypothesis).toBeUndefined();
    expect(r.figures).toBeDefined();
  });
});
