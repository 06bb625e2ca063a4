import { describe, expect, it } from 'vitest';
import { TraceAssembler, runBeats, runSequenceName } from '../../src/detect/trace-assembler.js';
import { makeBeat, makeRun } from '../bench/faults/beats.js';

const opts = { maxInflightRuns: 100, runTimeoutMs: 30_000, rootGraceMs: 5_000 };

describe('TraceAssembler', () => {
  it('closes a run with its root after the grace period, beats ordered by start time', () => {
    const a = new TraceAssembler(opts);
    const spans = makeRun('t1', 'checkout', ['a', 'b', 'c'], 1000);
    for (const s of spans.reverse()) a.observe(s);
    expect(a.close(1050)).toEqual([]);
    const [closed] = a.close(1032 + 5_000);
    expect(closed!.outcome).toBe('complete');
    expect(closed!.sequence).toBe('checkout');
    expect(closed!.service).toBe('svc');
    expect(closed!.beats.map((b) => b.handler)).toEqual(['a', 'b', 'c']);
    expect(a.inflightCount).toBe(0);
  });

  it('closes early when the expectation is satisfied, and late spans join the closed run', () => {
    const a = new TraceAssembler(opts);
    for (const s of makeRun('t1', 'seq', ['a', 'b'], 0)) a.observe(s);
    const closed = a.close(100, (seq, beats) => seq === 'seq' && beats.length === 2);
    expect(closed).toHaveLength(1);
    a.observe(makeBeat({ traceId: 't1', spanId: 'late', parentSpanId: 't1-0', handler: 'SELECT 1', startMs: 5 }));
    expect(a.inflightCount).toBe(0);
    expect(a.traceBeats('t1')!.map((b) => b.spanId)).toContain('late');
    expect(a.resolvedSequence('t1')).toBe('seq');
  });

  it('close() visits in-flight runs in the order they opened, whatever table slots their ids reuse', () => {
    const a = new TraceAssembler({ ...opts, recentRuns: 1 });
    const always = (): boolean => true;
    for (const s of makeRun('x', 'seq', ['a'], 0)) a.observe(s);
    expect(a.closeSatisfied(always)).toHaveLength(1);
    for (const s of makeRun('first', 'seq', ['a'], 10, { root: false })) a.observe(s);
    // Closing 'y' pushes 'x' out of the recent runs: its id's slot is free for the next trace.
    for (const s of makeRun('y', 'seq', ['a'], 20)) a.observe(s);
    expect(a.closeSatisfied(always).map((c) => c.run.traceId)).toEqual(['y']);
    expect(a.traceBeats('x')).toBeUndefined();
    for (const s of makeRun('second', 'seq', ['a'], 30, { root: false })) a.observe(s);
    for (const s of makeRun('x', 'seq', ['b'], 40, { root: false })) a.observe(s);
    const closed = a.close(100_000);
    expect(closed.map((c) => c.run.traceId)).toEqual(['first', 'second', 'x']);
    expect(closed.map((c) => c.outcome)).toEqual(['incomplete', 'incomplete', 'incomplete']);
    // The recent runs answer by trace id, the reopened 'x' with its new spans only.
    expect(a.traceBeats('x')!.map((b) => b.handler)).toEqual(['b']);
    expect(a.resolvedSequence('first')).toBeUndefined(); // pushed out of the one recent run
  });

  it('closeSatisfied closes the rooted runs of the batch that are satisfied, and only those', () => {
    const a = new TraceAssembler(opts);
    for (const s of makeRun('done', 'seq', ['a', 'b'], 0)) a.observe(s);
    for (const s of makeRun('short', 'seq', ['a'], 0)) a.observe(s);
    for (const s of makeRun('rootless', 'seq', ['a', 'b'], 0, { root: false })) a.observe(s);
    const asked: string[] = [];
    const closed = a.closeSatisfied((seq, beats) => {
      asked.push(beats.map((b) => b.handler).join(','));
      return seq === 'seq' && beats.length === 2;
    });
    expect(closed.map((c) => [c.run.traceId, c.outcome, c.beats.map((b) => b.handler)])).toEqual([['done', 'complete', ['a', 'b']]]);
    // The rootless run is not asked: without its root the run may still be growing.
    expect(asked).toEqual(['a,b', 'a']);
    expect(a.inflightCount).toBe(2);
    expect(a.resolvedSequence('done')).toBe('seq');
    // A later batch asks again only about runs it touched.
    expect(a.closeSatisfied(() => true)).toEqual([]);
    a.observe(makeBeat({ traceId: 'short', spanId: 'short-1', parentSpanId: 'short-root', handler: 'b', sequence: 'seq', beatNumber: 2, startMs: 11 }));
    expect(a.closeSatisfied((_seq, beats) => beats.length === 2).map((c) => c.run.traceId)).toEqual(['short']);
    // An evicted run queued in the batch is not closed a second time.
    const small = new TraceAssembler({ ...opts, maxInflightRuns: 1 });
    for (const s of makeRun('first', 'seq', ['a'], 0)) small.observe(s);
    for (const s of makeRun('second', 'seq', ['a'], 0)) small.observe(s);
    expect(small.closeSatisfied(() => true).map((c) => c.run.traceId)).toEqual(['second']);
    expect(small.close(0).map((c) => [c.run.traceId, c.outcome])).toEqual([['first', 'evicted']]);
  });

  it('marks a run without root incomplete at timeout unless it reached its last beat', () => {
    const a = new TraceAssembler(opts);
    for (const s of makeRun('t1', 'seq', ['a', 'b'], 0, { root: false })) a.observe(s);
    for (const s of makeRun('t2', 'seq', ['a'], 0, { root: false })) a.observe(s);
    expect(a.close(29_000)).toEqual([]);
    const closed = a.close(40_000, undefined, (_seq, beats) => beats.some((b) => b.handler === 'b'));
    const byTrace = new Map(closed.map((c) => [c.run.traceId, c.outcome]));
    expect(byTrace.get('t1')).toBe('complete');
    expect(byTrace.get('t2')).toBe('incomplete');
  });

  it('evicts the least recently active run when full and counts it', () => {
    const a = new TraceAssembler({ ...opts, maxInflightRuns: 2 });
    a.observe(makeBeat({ traceId: 'x', spanId: 'x1', parentSpanId: 'r', sequence: 's', beatNumber: 1 }));
    a.observe(makeBeat({ traceId: 'y', spanId: 'y1', parentSpanId: 'r', sequence: 's', beatNumber: 1 }));
    a.observe(makeBeat({ traceId: 'x', spanId: 'x2', parentSpanId: 'r', sequence: 's', beatNumber: 2 }));
    a.observe(makeBeat({ traceId: 'z', spanId: 'z1', parentSpanId: 'r', sequence: 's', beatNumber: 1 }));
    expect(a.evicted).toBe(1);
    expect(a.inflightCount).toBe(2);
    const closed = a.close(0);
    expect(closed.map((c) => [c.run.traceId, c.outcome])).toEqual([['y', 'evicted']]);
    expect(a.traceBeats('y')).toHaveLength(1);
  });

  it('hands each run to onEvict as it is evicted, also those not kept for close()', () => {
    const seen: string[] = [];
    const a = new TraceAssembler({ ...opts, maxInflightRuns: 1, maxPendingEvicted: 1, onEvict: (c) => seen.push(`${c.run.traceId}:${c.outcome}:${c.run.spans.length}`) });
    for (const t of ['p', 'q', 'r']) for (const s of makeRun(t, 'seq', ['a', 'b'], 0)) a.observe(s);
    expect(seen).toEqual(['p:evicted:3', 'q:evicted:3']);
    expect(a.droppedEvictions).toBe(1);
    expect(a.close(0).map((c) => c.run.traceId)).toEqual(['p']);
  });

  it('keeps least-recently-active order when the spans of a run arrive back to back', () => {
    const a = new TraceAssembler({ ...opts, maxInflightRuns: 2 });
    const span = (traceId: string, n: number) => makeBeat({ traceId, spanId: `${traceId}${n}`, parentSpanId: 'r', sequence: 's', beatNumber: n });
    a.observe(span('x', 1));
    a.observe(span('x', 2));
    a.observe(span('y', 1));
    a.observe(span('x', 3));
    a.observe(span('x', 4));
    // y is now the least recently active run.
    a.observe(span('z', 1));
    expect(a.close(0).map((c) => c.run.traceId)).toEqual(['y']);
    expect(a.traceBeats('x')).toHaveLength(4);
  });

  it('forgets closed runs oldest first, then treats a returning trace as a new run', () => {
    const a = new TraceAssembler({ ...opts, recentRuns: 2 });
    for (const id of ['r1', 'r2', 'r3']) {
      for (const s of makeRun(id, 'seq', ['a'], 0)) a.observe(s);
      a.close(1_000_000);
    }
    expect(a.traceBeats('r1')).toBeUndefined();
    expect(a.resolvedSequence('r2')).toBe('seq');
    for (const s of makeRun('r1', 'seq', ['a', 'b'], 0)) a.observe(s);
    expect(a.inflightCount).toBe(1);
    const again = a.close(1_000_000);
    expect(again.map((c) => c.beats.map((b) => b.handler))).toEqual([['a', 'b']]);
    expect(a.traceBeats('r2')).toBeUndefined();
    expect(a.traceBeats('r3')).toHaveLength(2);
    expect(a.traceBeats('r1')).toHaveLength(3);
  });

  it('bounds spans per run and the ring of closed runs', () => {
    const a = new TraceAssembler({ ...opts, maxSpansPerRun: 3, recentRuns: 2 });
    for (let i = 0; i < 5; i++) a.observe(makeBeat({ traceId: 'big', spanId: `s${i}`, parentSpanId: 'p' }));
    expect(a.droppedSpans).toBe(2);
    expect(a.traceBeats('big')).toHaveLength(3);
    for (const id of ['r1', 'r2', 'r3']) for (const s of makeRun(id, 'seq', ['a'], 0)) a.observe(s);
    a.close(1_000_000);
    expect(a.traceBeats('big')).toBeUndefined();
    expect(a.traceBeats('r1')).toBeUndefined();
    expect(a.traceBeats('r3')).toHaveLength(2);
    expect(a.traceBeats('nope')).toBeUndefined();
    expect(a.resolvedSequence('nope')).toBeUndefined();
  });

  it('resolves the sequence from beat.sequence first, else from the root span name', () => {
    const a = new TraceAssembler(opts);
    a.observe(makeBeat({ traceId: 't', spanId: 'c', parentSpanId: 'r', handler: 'x' }));
    expect(a.resolvedSequence('t')).toBeUndefined();
    a.observe(makeBeat({ traceId: 't', spanId: 'r', parentSpanId: '', handler: 'POST /orders', spanName: 'POST /orders' }));
    expect(a.resolvedSequence('t')).toBe('POST /orders');
    a.observe(makeBeat({ traceId: 't', spanId: 'b', parentSpanId: 'r', sequence: 'order', beatNumber: 1 }));
    expect(a.resolvedSequence('t')).toBe('order');
  });
});

describe('runBeats', () => {
  const root = makeBeat({ spanId: 'r', parentSpanId: '', handler: 'seq' });
  const direct = makeBeat({ spanId: 'd', parentSpanId: 'r', handler: 'direct', startMs: 2 });
  const db = makeBeat({ spanId: 'db', parentSpanId: 'd', handler: 'SELECT', startMs: 3 });
  const nested = makeBeat({ spanId: 'n', parentSpanId: 'd', handler: 'nestedBeat', event: 'e', startMs: 4 });

  it('counts direct children of the root and spans with beat identity, not other children', () => {
    const run = { traceId: 't', spans: [db, nested, direct, root], root, sequence: 'seq', lastActivityMs: 0, firstStartMs: 0, droppedSpans: 0 };
    expect(runBeats(run).map((b) => b.handler)).toEqual(['direct', 'nestedBeat']);
    expect(runSequenceName(run)).toBe('seq');
  });

  it('without a root, treats spans whose parent is absent as children of the missing root', () => {
    const run = { traceId: 't', spans: [db, direct], root: undefined, sequence: '', lastActivityMs: 0, firstStartMs: 0, droppedSpans: 0 };
    expect(runBeats(run).map((b) => b.handler)).toEqual(['direct']);
    expect(runSequenceName(run)).toBe('');
  });

  it('counts a root with a beat number as a one-span sequence', () => {
    const single = makeBeat({ spanId: 'r', parentSpanId: '', beatNumber: 1, handler: 'only' });
    const run = { traceId: 't', spans: [single], root: single, sequence: '', lastActivityMs: 0, firstStartMs: 0, droppedSpans: 0 };
    expect(runBeats(run).map((b) => b.handler)).toEqual(['only']);
  });

  describe('budgets', () => {
    const child = (traceId: string, n: number, startMs = 0) => makeBeat({ traceId, spanId: `${traceId}-${n}`, parentSpanId: `${traceId}-r`, sequence: 's', beatNumber: n, startMs });

    it('evicts with a flat cost per eviction however many runs are in flight', () => {
      // Per eviction, the activity entries looked at: the old Map front walked the deleted holes.
      const visitsPerEviction = (inflight: number): number => {
        const a = new TraceAssembler({ ...opts, maxInflightRuns: inflight });
        // Runs that become active again leave dead entries behind, the worst case for a queue.
        for (let t = 0; t < inflight; t++) a.observe(child(`t${t}`, 1));
        for (let t = 0; t < inflight; t++) a.observe(child(`t${t}`, 2));
        const before = a.evictionVisits;
        for (let t = 0; t < 2 * inflight; t++) a.observe(child(`n${t}`, 1));
        expect(a.evicted).toBe(2 * inflight);
        expect(a.inflightCount).toBe(inflight);
        return (a.evictionVisits - before) / a.evicted;
      };
      const small = visitsPerEviction(1_000);
      const large = visitsPerEviction(20_000);
      expect(small).toBeLessThanOrEqual(2);
      expect(large).toBeLessThanOrEqual(2);
    });

    it('keeps the activity queue bounded when runs become active again and again without evictions', () => {
      const a = new TraceAssembler({ ...opts, maxInflightRuns: 10 });
      for (let i = 0; i < 20_000; i++) a.observe(child(i % 2 === 0 ? 'x' : 'y', i));
      expect(a.evicted).toBe(0);
      expect(a.activityEntries).toBeLessThanOrEqual(2 * 2 + 1024 + 1);
      // Order survives compaction: y was active last, so a new run beyond the limit pushes x out.
      const b = new TraceAssembler({ ...opts, maxInflightRuns: 2 });
      for (let i = 0; i < 5_000; i++) b.observe(child(i % 2 === 0 ? 'x' : 'y', i));
      b.observe(child('z', 1));
      expect(b.close(0).map((c) => c.run.traceId)).toEqual(['x']);
    });

    it('evicts the oldest runs to keep in-flight spans within maxInflightSpans', () => {
      const a = new TraceAssembler({ ...opts, maxInflightRuns: 1_000, maxInflightSpans: 10 });
      for (let t = 0; t < 6; t++) for (let n = 1; n <= 3; n++) a.observe(child(`t${t}`, n));
      expect(a.inflightSpans).toBeLessThanOrEqual(10);
      expect(a.evicted).toBe(3);
      const closed = a.close(0);
      expect(closed.map((c) => c.run.traceId)).toEqual(['t0', 't1', 't2']);
      expect(closed.every((c) => c.outcome === 'evicted')).toBe(true);
      expect(a.inflightSpans).toBe(9);
    });

    it('queues at most maxPendingEvicted evicted runs and counts the rest', () => {
      const a = new TraceAssembler({ ...opts, maxInflightRuns: 2, maxPendingEvicted: 5 });
      for (let t = 0; t < 100; t++) a.observe(child(`t${t}`, 1));
      expect(a.evicted).toBe(98);
      expect(a.pendingEvictedCount).toBe(5);
      expect(a.droppedEvictions).toBe(93);
      expect(a.close(0).filter((c) => c.outcome === 'evicted')).toHaveLength(5);
      expect(a.pendingEvictedCount).toBe(0);
    });

    it('keeps the recently closed runs within maxRecentSpans and counts late spans beyond it', () => {
      const a = new TraceAssembler({ ...opts, maxRecentSpans: 8 });
      for (let t = 0; t < 5; t++) for (let n = 1; n <= 3; n++) a.observe(child(`t${t}`, n));
      expect(a.close(60_000)).toHaveLength(5);
      expect(a.recentSpanCount).toBeLessThanOrEqual(8);
      // The oldest closed runs were forgotten; the newest two are still there.
      expect(a.traceBeats('t0')).toBeUndefined();
      expect(a.traceBeats('t4')).toHaveLength(3);
      a.observe(child('t4', 4));
      a.observe(child('t4', 5));
      a.observe(child('t4', 6));
      expect(a.recentSpanCount).toBe(8);
      expect(a.droppedLateSpans).toBe(1);
    });
  });
});
