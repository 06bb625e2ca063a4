import { describe, expect, it } from 'vitest';
import { GraphSpanColumns } from '../../src/detect/graph-span-columns.js';
import { SPAN_KIND_CLIENT, STATUS_ERROR } from '../../src/model/beat.js';
import { makeBeat } from '../bench/faults/beats.js';

/** The span ids of the chain starting at head. */
function chain(c: GraphSpanColumns, head: number): string[] {
  const out: string[] = [];
  for (let s = head; s !== -1; s = c.next[s]!) out.push(c.spanId(s));
  return out;
}

describe('GraphSpanColumns', () => {
  it('stores the fields the graph folds, and chains slots in the order they are linked', () => {
    const c = new GraphSpanColumns(2);
    const a = c.add(makeBeat({ service: 'web', spanName: 'GET /x', spanId: 'a', startMs: 10.5, durationMs: 3.25, status: STATUS_ERROR, spanKind: SPAN_KIND_CLIENT }));
    const b = c.add(makeBeat({ service: 'db', spanName: 'SELECT', spanId: 'b', parentSpanId: 'a', startMs: 11 }));
    c.next[a] = b;
    expect(chain(c, a)).toEqual(['a', 'b']);
    expect([c.service[a], c.spanName[a], c.startMs[a], c.durationMs[a], c.status[a], c.kind[a], c.parentSpanId(a), c.isRoot(a)]).toEqual(['web', 'GET /x', 10.5, 3.25, STATUS_ERROR, SPAN_KIND_CLIENT, '', true]);
    // A beat built without a span kind reads as unspecified.
    expect([c.kind[b], c.parentSpanId(b), c.isRoot(b), c.isParentOf(a, b), c.isParentOf(b, a)]).toEqual([0, 'a', false, true, false]);
    expect(c.used).toBe(2);
  });

  it('grows as spans are buffered and reuses the slots of released chains before growing again', () => {
    const c = new GraphSpanColumns(4);
    const slots = Array.from({ length: 9 }, (_, i) => c.add(makeBeat({ spanId: `s${i}`, startMs: i })));
    expect(new Set(slots).size).toBe(9);
    expect(c.capacity).toBe(16);
    // Data survives growth.
    expect(slots.map((s) => c.startMs[s])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 0; i < 3; i++) c.next[slots[i]!] = slots[i + 1]!;
    c.release(slots[0]!, slots[3]!, 4);
    expect(c.used).toBe(5);
    const again = Array.from({ length: 4 }, (_, i) => c.add(makeBeat({ spanId: `r${i}` })));
    expect(new Set(again)).toEqual(new Set(slots.slice(0, 4)));
    expect(c.capacity).toBe(16);
    // Reused slots start a fresh chain.
    for (const s of again) expect(c.next[s]).toBe(-1);
    expect(c.used).toBe(9);
  });

  it('keeps hex span ids as numbers and matches ids exactly as the strings would', () => {
    const c = new GraphSpanColumns(2);
    const root = c.add(makeBeat({ spanId: '00f067aa0ba902b7' }));
    const child = c.add(makeBeat({ spanId: 'ffffffff00000001', parentSpanId: '00f067aa0ba902b7' }));
    const sibling = c.add(makeBeat({ spanId: '8000000000000000', parentSpanId: '00f067aa0ba902b7' }));
    // Upper case is another string, so another id, even though it reads as the same number.
    const upper = c.add(makeBeat({ spanId: '00F067AA0BA902B7', parentSpanId: 'FFFFFFFF00000001' }));
    const again = c.add(makeBeat({ spanId: '00f067aa0ba902b7' }));
    const short = c.add(makeBeat({ spanId: 'abc', parentSpanId: '00f067aa0ba902b7' }));
    expect([root, child, sibling, upper, again, short].map((s) => c.spanId(s))).toEqual([
      '00f067aa0ba902b7',
      'ffffffff00000001',
      '8000000000000000',
      '00F067AA0BA902B7',
      '00f067aa0ba902b7',
      'abc',
    ]);
    expect([c.parentSpanId(child), c.parentSpanId(upper), c.parentSpanId(short)]).toEqual(['00f067aa0ba902b7', 'FFFFFFFF00000001', '00f067aa0ba902b7']);
    expect([c.isParentOf(root, child), c.isParentOf(root, sibling), c.isParentOf(root, short), c.isParentOf(again, child)]).toEqual([true, true, true, true]);
    expect([c.isParentOf(upper, child), c.isParentOf(child, upper), c.isParentOf(child, root)]).toEqual([false, false, false]);
    expect([c.sameSpanId(root, again), c.sameSpanId(root, upper), c.sameSpanId(root, child), c.sameSpanId(short, short)]).toEqual([true, false, false, true]);
  });
});
