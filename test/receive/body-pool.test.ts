import { describe, expect, it } from 'vitest';
import { BodyPool } from '../../src/receive/body-pool.js';

describe('BodyPool', () => {
  it('hands out buffers of the exact size and reuses returned ones', () => {
    const pool = new BodyPool(2, 1024 * 1024);
    const a = pool.take(200_000);
    expect(a.length).toBe(200_000);
    a.fill(7);
    pool.give(a);
    expect(pool.size).toBe(1);
    const b = pool.take(150_000);
    expect(b.length).toBe(150_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.size).toBe(0);
    // A larger request than any pooled buffer gets a new one.
    pool.give(b);
    const c = pool.take(300_000);
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.size).toBe(1);
  });

  it('keeps at most maxBuffers, never the same buffer twice, and never oversized ones', () => {
    const pool = new BodyPool(2, 256 * 1024);
    const bufs = [pool.take(70_000), pool.take(70_000), pool.take(70_000)];
    for (const b of bufs) pool.give(b);
    expect(pool.size).toBe(2);
    const again = pool.take(10);
    pool.give(again);
    pool.give(again);
    expect(pool.size).toBe(2);
    const big = pool.take(300 * 1024);
    expect(big.length).toBe(300 * 1024);
    const before = pool.size;
    pool.give(big);
    expect(pool.size).toBe(before);
  });

  it('ignores buffers it did not hand out whole (views with an offset, small pool slices)', () => {
    const pool = new BodyPool(4, 1024 * 1024);
    const taken = pool.take(100_000);
    pool.give(taken.subarray(10));
    pool.give(Buffer.from('small'));
    expect(pool.size).toBe(0);
  });
});
