import { describe, expect, it } from 'vitest';
import { SliceWindow, type Slice, type SliceSink } from '../../src/detect/slice-window.js';
import { makeBeat, makeError } from './beat-factory.js';

class RecordingSink implements SliceSink {
  closed: Array<{ index: number; count: number; errors: number; p50: number }> = [];
  skipped = 0;
  closeSlice(slice: Slice): void {
    this.closed.push({ index: slice.index, count: slice.count, errors: slice.errors, p50: slice.sketch.quantile(0.5) });
  }
  skipSlices(n: number): void {
    this.skipped += n;
  }
}

describe('SliceWindow', () => {
  it('places beats by start time and rolls slices into the sink as they leave', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 3);
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 4; i++) w.add(makeBeat({ startMs: s * 1000 + i * 10, durationMs: 10 * (s + 1) }), i === 0, sink);
    }
    expect(w.head).toBe(4);
    expect(w.startMs).toBe(2000);
    expect(sink.closed.map((c) => c.index)).toEqual([0, 1]);
    expect(sink.closed[0]).toMatchObject({ count: 4, errors: 1 });
    expect(Math.abs(sink.closed[1]!.p50 - 20) / 20).toBeLessThan(0.01);
    const inWindow: number[] = [];
    w.forEachSlice((s) => inWindow.push(s.index));
    expect(inWindow).toEqual([2, 3, 4]);
    // Three slices of four beats, one failing in each, are in the window.
    expect(w.totals()).toEqual({ count: 12, errors: 3 });
    expect(new SliceWindow(1000, 3).totals()).toEqual({ count: 0, errors: 0 });
  });

  it('holds no slices for a key that went quiet once its window has passed', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 4);
    for (let s = 0; s < 3; s++) w.add(makeBeat({ startMs: s * 1000, durationMs: 5 }), s === 1, sink);
    expect(w.heldSlices).toBe(3);
    w.advanceTo(5_500, sink);
    // Slices 0 and 1 left the window (closed into the sink), slice 2 is still in it.
    expect(sink.closed.map((c) => c.index)).toEqual([0, 1]);
    expect(w.heldSlices).toBe(1);
    w.advanceTo(60_000, sink);
    expect(w.heldSlices).toBe(0);
    expect(sink.closed).toMatchObject([{ index: 0, count: 1, errors: 0 }, { index: 1, count: 1, errors: 1 }, { index: 2, count: 1, errors: 0 }]);
    // A beat after the quiet spell gets a fresh, empty slice.
    w.add(makeBeat({ startMs: 61_000, durationMs: 7 }), false, sink);
    expect(w.heldSlices).toBe(1);
    expect(w.totals()).toEqual({ count: 1, errors: 0 });
  });

  it('counts late beats and drops them', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 3);
    w.add(makeBeat({ startMs: 10_000, durationMs: 1 }), false, sink);
    expect(w.add(makeBeat({ startMs: 7_999, durationMs: 1 }), false, sink)).toBe(false);
    expect(w.add(makeBeat({ startMs: 8_000, durationMs: 1 }), false, sink)).toBe(true);
    expect(w.add(makeBeat({ startMs: Number.NaN, durationMs: 1 }), false, sink)).toBe(false);
    expect(w.lateBeats).toBe(2);
  });

  it('skips empty slices on a jump and reuses slots without stale data', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 3);
    w.add(makeBeat({ startMs: 0, durationMs: 5 }), false, sink);
    w.add(makeBeat({ startMs: 2000, durationMs: 5 }), false, sink);
    w.advanceTo(10_500, sink);
    // Slices 0 and 2 closed, 1 was empty, 3..7 never existed.
    expect(sink.closed.map((c) => c.index)).toEqual([0, 2]);
    expect(sink.skipped).toBe(1 + 5);
    let slices = 0;
    w.forEachSlice(() => slices++);
    expect(slices).toBe(0);
    w.add(makeBeat({ startMs: 10_600, durationMs: 7 }), false, sink);
    w.forEachSlice((s) => {
      expect(s.count).toBe(1);
      expect(s.index).toBe(10);
    });
    w.advanceTo(5_000, sink); // never backwards
    expect(w.head).toBe(10);
    expect(w.sliceAt(10)!.count).toBe(1);
    expect(w.sliceAt(9)).toBeUndefined();
    expect(w.sliceAt(11)).toBeUndefined();
    expect(w.sliceAt(2)).toBeUndefined();
  });

  it('does nothing before the first beat', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 3);
    w.advanceTo(50_000, sink);
    expect(Number.isNaN(w.head)).toBe(true);
    expect(w.sliceAt(0)).toBeUndefined();
    w.forEachSlice(() => {
      throw new Error('no slices expected');
    });
    expect(sink.skipped).toBe(0);
  });

  it('keeps the slowest and failing exemplars and tallies fingerprints', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 2);
    const durations = [5, 50, 20, 80, 10];
    for (const d of durations) w.add(makeBeat({ startMs: 100, durationMs: d, traceId: `t${d}`, spanId: `s${d}` }), false, sink);
    const e1 = makeError('TypeError', 'x is undefined');
    const e2 = makeError('RangeError', 'bad');
    for (let i = 0; i < 3; i++) w.add(makeBeat({ startMs: 200, durationMs: 1, error: e1, spanId: `f${i}` }), true, sink);
    w.add(makeBeat({ startMs: 300, durationMs: 1, error: e2 }), true, sink);
    for (let i = 0; i < 10; i++) {
      const e = makeError('E', `m${i}`);
      w.add(makeBeat({ startMs: 300, durationMs: 1, error: e }), true, sink);
    }
    w.forEachSlice((s) => {
      expect(s.slow.map((x) => x.durationMs)).toEqual([80, 50]);
      expect(s.slow[0]!.traceId).toBe('t80');
      expect(s.failingCount).toBe(2);
      expect(s.failing.map((x) => x.spanId)).toEqual(['f0', 'f1']);
      expect(s.failing[0]!.fingerprint).toBe(e1.fingerprint);
      expect(s.fingerprints.get(e1.fingerprint)!.count).toBe(3);
      expect(s.fingerprints.size).toBe(8);
      expect(s.errors).toBe(14);
    });
  });
});

describe('SliceWindow.closeThrough', () => {
  it('hands slices to the sink early, once, and not again when they leave the window', () => {
    const sink = new RecordingSink();
    const skippedAt: number[] = [];
    const recording: SliceSink = {
      closeSlice: (s) => sink.closeSlice(s),
      skipSlices: (n, first) => {
        for (let i = 0; i < n; i++) skippedAt.push(first + i);
      },
    };
    const w = new SliceWindow(1000, 10);
    // Slices 0, 1 and 3 hold beats; 2 is empty.
    for (const s of [0, 1, 3]) w.add(makeBeat({ startMs: s * 1000 + 5, durationMs: 5 }), false, recording);
    w.closeThrough(2, recording);
    expect(sink.closed.map((c) => c.index)).toEqual([0, 1]);
    expect(skippedAt).toEqual([2]);
    // Still in the window for the detectors.
    expect(w.totals().count).toBe(3);
    w.closeThrough(2, recording);
    expect(sink.closed).toHaveLength(2);
    // Moving the head far on: slice 3 leaves normally, the early ones are not handed again, and
    // the empty slices in between are skipped with their indexes.
    w.advanceTo(14_500, recording);
    expect(sink.closed.map((c) => c.index)).toEqual([0, 1, 3]);
    expect(skippedAt).toEqual([2, 4]);
  });

  it('never hands slices past the head, and does nothing before the first beat', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 5);
    w.closeThrough(10, sink);
    expect(sink.closed).toHaveLength(0);
    w.add(makeBeat({ startMs: 2_000, durationMs: 1 }), false, sink);
    w.closeThrough(10, sink);
    expect(sink.closed.map((c) => c.index)).toEqual([2]);
    // A beat arriving later in the already-handed slice stays in the window but is not re-handed.
    w.add(makeBeat({ startMs: 3_000, durationMs: 1 }), false, sink);
    w.closeThrough(3, sink);
    expect(sink.closed.map((c) => c.index)).toEqual([2, 3]);
  });
});

describe('SliceWindow exemplar ids', () => {
  it('keeps hex trace and span ids as bytes and gives them back as the same text; other ids as text', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 2);
    const hexTrace = '0123456789abcdef0123456789abcdef';
    const hexSpan = 'fedcba9876543210';
    w.add(makeBeat({ startMs: 100, durationMs: 30, traceId: hexTrace, spanId: hexSpan }), false, sink);
    w.add(makeBeat({ startMs: 100, durationMs: 40, traceId: 'not-hex', spanId: 'ABCDEF0123456789' }), false, sink);
    w.add(makeBeat({ startMs: 100, durationMs: 35, traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001' }), false, sink);
    w.forEachSlice((s) => {
      expect(s.slow).toEqual([
        { traceId: 'not-hex', spanId: 'ABCDEF0123456789', durationMs: 40 },
        { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', durationMs: 35 },
      ]);
    });
    // A quiet window gives its storage back and starts afresh.
    w.advanceTo(10_000, sink);
    expect(w.store).toBeUndefined();
    w.add(makeBeat({ startMs: 10_100, durationMs: 5, traceId: hexTrace, spanId: hexSpan }), false, sink);
    w.forEachSlice((s) => expect(s.slow).toEqual([{ traceId: hexTrace, spanId: hexSpan, durationMs: 5 }]));
  });
});

describe('SliceWindow fingerprint book', () => {
  it('keeps tallies right when more distinct fingerprints pass through than the book holds', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 2);
    // 100 slices of 8 new fingerprints each: 800 distinct, the book (255) is compacted on the way.
    for (let s = 0; s < 100; s++) {
      for (let i = 0; i < 8; i++) {
        const e = makeError('E', `slice ${s} kind ${i}`);
        for (let r = 0; r <= i; r++) w.add(makeBeat({ startMs: s * 1000 + r, durationMs: 1, error: e }), true, sink);
      }
    }
    const seen: Array<{ index: number; counts: number[]; messages: string[]; failing: string[] }> = [];
    w.forEachSlice((s) =>
      seen.push({
        index: s.index,
        counts: [...s.fingerprints.values()].map((t) => t.count),
        messages: [...s.fingerprints.values()].map((t) => t.error.message),
        failing: s.failing.map((f) => f.fingerprint),
      }),
    );
    expect(seen.map((x) => x.index)).toEqual([98, 99]);
    for (const x of seen) {
      expect(x.counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(x.messages).toEqual(Array.from({ length: 8 }, (_, i) => `slice ${x.index} kind ${i}`));
      expect(x.failing).toHaveLength(2);
      expect(x.failing.every((f) => f !== '')).toBe(true);
    }
  });
});

describe('SliceWindow failure rows', () => {
  it('gives a failure row only to slices with failures, grows them to one per slot, and reuses them without stale data', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 30);
    // Failures in two of ten slices: two rows in use.
    for (let s = 0; s < 10; s++) w.add(makeBeat({ startMs: s * 1000, durationMs: 2 }), false, sink);
    const rare = makeError('TimeoutError', 'rare');
    w.add(makeBeat({ startMs: 3000, durationMs: 9, error: rare, traceId: 'not-hex-trace', spanId: 'not-hex-span' }), true, sink);
    w.add(makeBeat({ startMs: 7000, durationMs: 8, error: rare }), true, sink);
    expect(w.failureRows).toBe(2);
    // Then failures in every slice of the window (rows grow past the first few, ids move along).
    for (let s = 10; s < 40; s++) {
      const e = makeError('E', `slice ${s}`);
      for (let r = 0; r < 3; r++) w.add(makeBeat({ startMs: s * 1000 + r, durationMs: 1 + r, error: e, spanId: `${s}-${r}` }), true, sink);
    }
    expect(w.failureRows).toBe(30);
    const seen: Array<{ index: number; failing: string[]; counts: number[] }> = [];
    w.forEachSlice((sl) => seen.push({ index: sl.index, failing: sl.failing.map((f) => f.spanId), counts: [...sl.fingerprints.values()].map((t) => t.count) }));
    expect(seen.map((x) => x.index)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    for (const x of seen) {
      expect(x.failing).toEqual([`${x.index}-0`, `${x.index}-1`]);
      expect(x.counts).toEqual([3]);
    }
    // Slices that leave give their rows back: a later slice without failures reads none.
    w.add(makeBeat({ startMs: 45_000, durationMs: 2 }), false, sink);
    expect(w.failureRows).toBe(24); // slices 10-15 left the window (16-45 now)
    w.forEachSlice((sl) => {
      if (sl.index === 45) {
        expect(sl.failing).toEqual([]);
        expect(sl.fingerprints.size).toBe(0);
      }
    });
  });

  it('tallies each slice\'s first eight fingerprints in first-seen order, interleaved across slices, and keeps the others\' tallies when a slice leaves', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 4);
    const errs = Array.from({ length: 10 }, (_, i) => makeError('E', `kind ${i}`));
    // Slices 0-3 take turns: slice s gets kinds (s + j) % 10 for j = 0..9, kind (s + j) % 10 j + 1 times.
    for (let j = 0; j < 10; j++) {
      for (let s = 0; s < 4; s++) {
        for (let r = 0; r <= j; r++) w.add(makeBeat({ startMs: s * 1000 + r, durationMs: 1, error: errs[(s + j) % 10] }), true, sink);
      }
    }
    const read = (): Map<number, Array<[string, number]>> => {
      const out = new Map<number, Array<[string, number]>>();
      w.forEachSlice((sl) => out.set(sl.index, [...sl.fingerprints.values()].map((t) => [t.error.message, t.count])));
      return out;
    };
    const expected = (s: number): Array<[string, number]> => Array.from({ length: 8 }, (_, j) => [`kind ${(s + j) % 10}`, j + 1]);
    let seen = read();
    for (let s = 0; s < 4; s++) expect(seen.get(s)).toEqual(expected(s));
    // Slice 0 leaves (slice 4 arrives without failures): the others read the same.
    w.add(makeBeat({ startMs: 4000, durationMs: 1 }), false, sink);
    seen = read();
    expect([...seen.keys()]).toEqual([1, 2, 3, 4]);
    for (let s = 1; s < 4; s++) expect(seen.get(s)).toEqual(expected(s));
    expect(seen.get(4)).toEqual([]);
    // Slice 5 takes slice 1's slot and its freed row: it starts with no tallies of slice 1.
    w.add(makeBeat({ startMs: 5000, durationMs: 1, error: errs[9] }), true, sink);
    seen = read();
    expect(seen.get(5)).toEqual([['kind 9', 1]]);
    for (let s = 2; s < 4; s++) expect(seen.get(s)).toEqual(expected(s));
  });

  it('keeps non-hex ids of failing exemplars when its rows grow', () => {
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 10);
    const e = makeError('E', 'x');
    w.add(makeBeat({ startMs: 0, durationMs: 1, error: e, traceId: 'trace-A', spanId: 'span-A' }), true, sink);
    for (let s = 1; s < 10; s++) w.add(makeBeat({ startMs: s * 1000, durationMs: 1, error: e }), true, sink);
    expect(w.failureRows).toBe(10);
    w.forEachSlice((sl) => {
      if (sl.index === 0) expect(sl.failing.map((f) => [f.traceId, f.spanId])).toEqual([['trace-A', 'span-A']]);
    });
  });
});

describe('Slice sketch view', () => {
  it('reads the figures of the slice it is on and merges into a DDSketch like the values themselves', async () => {
    const { DDSketch } = await import('../../src/detect/ddsketch.js');
    const sink = new RecordingSink();
    const w = new SliceWindow(1000, 3);
    const values = [3, 7, 7, 12, 40, 0];
    for (const d of values) w.add(makeBeat({ startMs: 1500, durationMs: d }), false, sink);
    w.add(makeBeat({ startMs: 2500, durationMs: 100 }), false, sink);
    const direct = new DDSketch();
    for (const d of values) direct.add(d);
    const viaView = new DDSketch();
    const s = w.sliceAt(1)!;
    expect([s.sketch.count, s.sketch.min, s.sketch.max, s.sketch.sum]).toEqual([6, 0, 40, 69]);
    expect(s.startMs).toBe(1000);
    viaView.merge(s.sketch);
    expect(viaView.toState()).toEqual(direct.toState());
    // An empty slice sketch merges as nothing.
    expect(new SliceWindow(1000, 3).sliceAt(0)).toBeUndefined();
  });
});
