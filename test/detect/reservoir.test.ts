import { describe, expect, it } from 'vitest';
import { BeatRing, HandlerReservoir } from '../../src/detect/reservoir.js';
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
