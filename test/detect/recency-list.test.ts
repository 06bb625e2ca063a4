import { describe, expect, it } from 'vitest';
import { leastRecentlySeen, takeOldest, touchNewest, type RecencyEnds } from '../../src/detect/recency-list.js';

interface Item {
  name: string;
  older: Item | undefined;
  newer: Item | undefined;
}

const item = (name: string): Item => ({ name, older: undefined, newer: undefined });

function order(ends: RecencyEnds<Item>): string[] {
  const out: string[] = [];
  for (let t = ends.oldest; t !== undefined; t = t.newer) out.push(t.name);
  // The backward links must tell the same story.
  const back: string[] = [];
  for (let t = ends.newest; t !== undefined; t = t.older) back.push(t.name);
  expect(back.reverse()).toEqual(out);
  return out;
}

describe('recency list', () => {
  it('moves touched items to the newest end from anywhere in the list, and takes the oldest first', () => {
    const ends: RecencyEnds<Item> = { oldest: undefined, newest: undefined };
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(item) as [Item, Item, Item, Item];
    for (const t of [a, b, c, d]) touchNewest(ends, t);
    expect(order(ends)).toEqual(['a', 'b', 'c', 'd']);
    touchNewest(ends, b); // from the middle
    expect(order(ends)).toEqual(['a', 'c', 'd', 'b']);
    touchNewest(ends, a); // from the oldest end
    expect(order(ends)).toEqual(['c', 'd', 'b', 'a']);
    touchNewest(ends, a); // already newest
    expect(order(ends)).toEqual(['c', 'd', 'b', 'a']);
    expect(takeOldest(ends)).toBe(c);
    expect(c.newer).toBeUndefined();
    expect(order(ends)).toEqual(['d', 'b', 'a']);
    expect([takeOldest(ends), takeOldest(ends), takeOldest(ends)].map((t) => t?.name)).toEqual(['d', 'b', 'a']);
    expect(ends).toEqual({ oldest: undefined, newest: undefined });
    expect(takeOldest(ends)).toBeUndefined();
    // A taken item can come back as new.
    touchNewest(ends, d);
    expect(order(ends)).toEqual(['d']);
  });
});

describe('leastRecentlySeen', () => {
  it('picks the key seen longest ago, the first of equals, among the eligible; none from an empty map', () => {
    const items = new Map([
      ['a', { lastSeen: 5 }],
      ['b', { lastSeen: 2 }],
      ['c', { lastSeen: 2 }],
      ['d', { lastSeen: 9 }],
    ]);
    expect(leastRecentlySeen(items)).toBe('b');
    expect(leastRecentlySeen(items, (k) => k !== 'b')).toBe('c');
    expect(leastRecentlySeen(items, (k) => k === 'd')).toBe('d');
    expect(leastRecentlySeen(items, () => false)).toBeUndefined();
    expect(leastRecentlySeen(new Map<string, { lastSeen: number }>())).toBeUndefined();
  });
});
