import { describe, expect, it } from 'vitest';
import { exposedGarbageCollector, PressureMonitor, v8Heap } from '../../src/receive/pressure-monitor.js';

describe('PressureMonitor', () => {
  it('judges the heap after asking for a collection, so garbage alone does not keep it over the limit', () => {
    let used = 90;
    let collections = 0;
    let now = 0;
    const m = new PressureMonitor(
      { maxHeapUsedRatio: 0.7, maxEventLoopDelayMs: 0 },
      {
        heap: () => ({ used, limit: 100 }),
        collectGarbage: () => {
          collections++;
          used = 30;
        },
        now: () => now,
      },
    );
    now = 100;
    m.sample();
    expect(collections).toBe(1);
    expect(m.heapOver).toBe(false);
    expect(m.heapRatio).toBeCloseTo(0.3);
  });

  it('stays over while live data fills the heap, collecting at most once a second', () => {
    let now = 0;
    let collections = 0;
    const m = new PressureMonitor(
      { maxHeapUsedRatio: 0.7, maxEventLoopDelayMs: 0 },
      { heap: () => ({ used: 80, limit: 100 }), collectGarbage: () => collections++, now: () => now },
    );
    for (let i = 1; i <= 15; i++) {
      now = i * 100;
      m.sample();
      expect(m.heapOver).toBe(true);
    }
    expect(collections).toBe(2);
  });

  it('measures event-loop lag from its own timer and checks nothing when both limits are 0', () => {
    let now = 0;
    const m = new PressureMonitor({ maxHeapUsedRatio: 0, maxEventLoopDelayMs: 250 }, { now: () => now, intervalMs: 100 });
    now = 150;
    m.sample();
    expect(m.eventLoopDelayMs).toBe(50);
    expect(m.eventLoopOver).toBe(false);
    now = 500;
    m.sample();
    expect(m.eventLoopDelayMs).toBe(250);
    expect(m.eventLoopOver).toBe(true);
    // Punctual samples after a late one: still over until a second has passed without lag.
    for (now = 600; now <= 1400; now += 100) {
      m.sample();
      expect(m.eventLoopDelayMs).toBe(0);
      expect(m.eventLoopOver).toBe(true);
    }
    now = 1500;
    m.sample();
    expect(m.eventLoopOver).toBe(false);
    // A configured hold replaces the default.
    const short = new PressureMonitor({ maxHeapUsedRatio: 0, maxEventLoopDelayMs: 250, eventLoopHoldMs: 150 }, { now: () => now, intervalMs: 100 });
    now += 400;
    short.sample();
    expect(short.eventLoopOver).toBe(true);
    now += 100;
    short.sample();
    expect(short.eventLoopOver).toBe(true);
    now += 100;
    short.sample();
    expect(short.eventLoopOver).toBe(false);
    now = 3000;
    m.sample();
    expect(m.eventLoopOver).toBe(true);
    m.stop();
    expect(m.eventLoopOver).toBe(false);
    const off = new PressureMonitor({ maxHeapUsedRatio: 0, maxEventLoopDelayMs: 0 });
    expect(off.idle).toBe(true);
    off.start();
    off.sample();
    expect(off.heapOver || off.eventLoopOver).toBe(false);
  });

  it('samples on its own timer once started', async () => {
    const m = new PressureMonitor({ maxHeapUsedRatio: 0.01, maxEventLoopDelayMs: 0 }, { heap: () => ({ used: 5, limit: 10 }), collectGarbage: undefined, intervalMs: 10 });
    m.start();
    m.start();
    await new Promise((r) => setTimeout(r, 60));
    expect(m.heapOver).toBe(true);
    m.stop();
  });

  it('reads the real V8 heap and can obtain a garbage collector', () => {
    const h = v8Heap();
    expect(h.used).toBeGreaterThan(0);
    expect(h.limit).toBeGreaterThan(h.used);
    const gc = exposedGarbageCollector();
    expect(typeof gc).toBe('function');
    gc!();
    expect(exposedGarbageCollector()).toBe(gc);
  });
});
