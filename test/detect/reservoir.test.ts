import { describe, expect, it } from 'vitest';
import { BeatRing, HandlerReservoir, RetentionBudget } from '../../src/detect/reservoir.js';
import { makeBeat } from './beat-factory.js';

describe('BeatRing', () => {
  it('keeps the newest beats up to capacity, oldest first', () => {
    const ring = new BeatRing(3);
    const beats = [1, 2, 3, 4, 5].map((i) => makeBeat({ startMs: i, durationMs: 1 }));
    for (const b of beats) ring.push(b);
    expect(ring.length).toBe(3);
    expect(ring.total).toBe(5);
    expect(ring.toArray().map((b) => b.startMs)).toEqual([3, 4, 5]);
    const visited: number[] = [];
    const next = ring.forEachSince(0, (b) => {
      visited.push(b.startMs);
      return b.startMs < 4;
    });
    expect(visited).toEqual([3, 4]);
    expect(next).toBe(3);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
  });
});

describe('HandlerReservoir', () => {
  it('holds recent beats, recent errors and a baseline sample from before the window', () => {
    const r = new HandlerReservoir(10, 2, 10);
    for (let t = 0; t < 100; t++) r.add(makeBeat({ startMs: t * 1000, durationMs: 1 }), t % 10 === 0);
    expect(r.recent.toArray().map((b) => b.startMs / 1000)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(r.errors.toArray().map((b) => b.startMs / 1000)).toEqual([80, 90]);
    // The trail held the last 10 beats (90..99); those before 95 s move into the baseline.
    r.promote(95_000, 100, false);
    expect(r.baseline.toArray().map((b) => b.startMs / 1000)).toEqual([90, 91, 92, 93, 94]);
    // Nothing is promoted twice, and a frozen reservoir skips promotion.
    r.promote(200_000, 100, true);
    expect(r.baseline.length).toBe(5);
  });

  it('samples the trail with a stride so it spans about one window', () => {
    const r = new HandlerReservoir(10, 2, 8);
    r.promote(0, 60, false); // stride = ceil(60 / 6) = 10
    for (let t = 0; t < 100; t++) r.add(makeBeat({ startMs: t, durationMs: 1 }), false);
    r.promote(1000, 60, false);
    expect(r.baseline.toArray().map((b) => b.startMs)).toEqual([29, 39, 49, 59, 69, 79, 89, 99]);
  });
});

describe('RetentionBudget', () => {
  const beat = (t: number) => makeBeat({ startMs: t, durationMs: 1 });

  it('holds at most its budget over all reservoirs, counts what it capped, and keeps each ring newest-first', () => {
    const budget = new RetentionBudget(50);
    const reservoirs = Array.from({ length: 20 }, () => new HandlerReservoir(200, 50, 200, budget));
    for (let t = 0; t < 1000; t++) for (const r of reservoirs) r.add(beat(t), t % 10 === 0);
    const held = reservoirs.reduce((n, r) => n + r.recent.length + r.errors.length, 0);
    expect(budget.held).toBeLessThanOrEqual(50);
    expect(held).toBeLessThanOrEqual(50);
    expect(budget.capped).toBeGreaterThan(0);
    // A ring stopped by the budget still shows the newest beats, oldest first.
    const recent = reservoirs[0]!.recent.toArray().map((b) => b.startMs);
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.at(-1)).toBe(999);
    expect(recent).toEqual([...recent].sort((a, b) => a - b));
  });

  it('gives the room of a released reservoir back, and an empty ring drops when nothing is left', () => {
    const budget = new RetentionBudget(3);
    const a = new BeatRing(10, budget);
    for (let t = 0; t < 5; t++) a.push(beat(t));
    expect(a.toArray().map((b) => b.startMs)).toEqual([2, 3, 4]);
    const b = new BeatRing(10, budget);
    b.push(beat(9));
    expect(b.length).toBe(0);
    expect(budget.capped).toBe(3); // two overwrites in a (short of its capacity), one drop in b
    a.clear();
    expect(budget.held).toBe(0);
    b.push(beat(10));
    expect(b.toArray().map((x) => x.startMs)).toEqual([10]);
    const visited: number[] = [];
    a.forEachSince(0, (x) => void visited.push(x.startMs));
    expect(visited).toEqual([]);
  });
});

