import { describe, expect, it } from 'vitest';
import { KeyTable } from '../../src/detect/key-table.js';

describe('KeyTable', () => {
  it('creates entries once and separates kinds', () => {
    let created = 0;
    const t = new KeyTable<{ id: number }>(10, 1000, () => ({ id: ++created }));
    const a = t.get(0, 'svc', 'h', 0);
    expect(t.get(0, 'svc', 'h', 5)).toBe(a);
    const b = t.get(1, 'svc', 'h', 5);
    expect(b).not.toBe(a);
    expect(t.size).toBe(2);
    expect(t.peek(0, 'svc', 'h')).toBe(a);
    expect(t.peek(0, 'svc', 'x')).toBeUndefined();
    expect(t.peek(7, 'svc', 'h')).toBeUndefined();
  });

  it('evicts the least recently used entry when full', () => {
    const evicted: string[] = [];
    const t = new KeyTable<string>(3, 1e9, (_k, _s, n) => n, (node) => evicted.push(node.name));
    t.get(0, 's', 'a', 0);
    t.get(0, 's', 'b', 0);
    t.get(0, 's', 'c', 0);
    t.get(0, 's', 'a', 1); // a is now the most recent
    t.get(0, 's', 'd', 2);
    expect(evicted).toEqual(['b']);
    expect(t.size).toBe(3);
    expect(t.evicted).toBe(1);
    const order: string[] = [];
    t.forEach((n) => order.push(n.name));
    expect(order).toEqual(['c', 'a', 'd']);
  });

  it('never hands out an evicted entry for the key looked up last', () => {
    let created = 0;
    const t = new KeyTable<{ id: number }>(2, 1000, () => ({ id: ++created }));
    const a = t.get(0, 's', 'a', 0);
    expect(t.get(0, 's', 'a', 1)).toBe(a);
    t.get(0, 's', 'b', 2000);
    // 'a' is idle: evicted, then looked up again right after as the last key of its kind.
    const a2 = t.get(0, 's', 'a', 2000);
    expect(t.evictIdle(2500)).toBe(0);
    t.get(0, 's', 'a', 5000);
    expect(t.evictIdle(5500)).toBe(1); // 'b'
    expect(t.get(0, 's', 'a', 5600)).toBe(a2);
    expect(t.evictIdle(9000)).toBe(1); // 'a'
    const a3 = t.get(0, 's', 'a', 9000);
    expect(a3).not.toBe(a2);
    expect(a3!.id).toBe(created);
    // The same name in another service or kind is another entry.
    expect(t.get(0, 'other', 'a', 9000)).not.toBe(a3);
    expect(t.get(1, 's', 'a', 9000)).not.toBe(a3);
    expect(t.peek(0, 's', 'a')).toBe(a3);
  });

  it('evicts idle entries by data time', () => {
    const t = new KeyTable<string>(10, 1000, (_k, _s, n) => n);
    t.get(0, 's', 'old', 0);
    t.get(0, 's', 'new', 5000);
    t.get(0, 'other', 'x', 100);
    expect(t.evictIdle(5500)).toBe(2);
    expect(t.size).toBe(1);
    expect(t.peek(0, 's', 'new')).toBe('new');
    expect(t.peek(0, 'other', 'x')).toBeUndefined();
  });

  it('stays bounded with 1e5 distinct names', () => {
    const t = new KeyTable<number>(1000, 1e12, () => 0);
    for (let i = 0; i < 100_000; i++) t.get(0, 'svc', `handler-${i}`, i);
    expect(t.size).toBe(1000);
    expect(t.evicted).toBe(99_000);
    expect(t.peek(0, 'svc', 'handler-99999')).toBe(0);
    expect(t.peek(0, 'svc', 'handler-0')).toBeUndefined();
  });

  it('refuses a new key while the least recently used one is still active, and counts it', () => {
    const evicted: string[] = [];
    const t = new KeyTable<string>(2, 1e9, (_k, _s, n) => n, (node) => evicted.push(node.name), 1000);
    t.get(0, 's', 'a', 0);
    t.get(0, 's', 'b', 500);
    expect(t.get(0, 's', 'c', 900)).toBeUndefined();
    expect(t.get(1, 'new-service', 'c', 1000)).toBeUndefined();
    expect(t.refused).toBe(2);
    expect(t.size).toBe(2);
    expect(evicted).toEqual([]);
    // Refused names leave no index entry behind.
    expect(t.peek(1, 'new-service', 'c')).toBeUndefined();
    // Once 'a' has been quiet for longer than activeMs it gives way.
    expect(t.get(0, 's', 'c', 1001)).toBe('c');
    expect(evicted).toEqual(['a']);
    expect(t.refused).toBe(2);
    // Known keys are always served, full table or not.
    expect(t.get(0, 's', 'b', 1002)).toBe('b');
  });

  it('keeps the same keys under a cyclic pattern wider than the table (no thrash)', () => {
    let created = 0;
    const t = new KeyTable<number>(100, 1e12, () => ++created, undefined, 60_000);
    for (let round = 0; round < 20; round++) for (let i = 0; i < 120; i++) t.get(0, 'svc', `h${i}`, round * 1000 + i);
    expect(created).toBe(100);
    expect(t.evicted).toBe(0);
    expect(t.refused).toBe(20 * 20);
  });
});
