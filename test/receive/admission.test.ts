import { describe, expect, it } from 'vitest';
import { Admission, admissionFromConfig } from '../../src/receive/admission.js';
import type { Beat } from '../../src/model/beat.js';
import { receiveConfig } from './harness.js';

describe('Admission', () => {
  it('admits until the in-flight count reaches the limit and tracks it in the gauge', () => {
    const seen: number[] = [];
    const a = new Admission({ maxInflightSpans: 10 }, { gauge: { set: (v: number) => seen.push(v) } });
    expect(a.admits()).toBe(true);
    a.hold(9);
    expect(a.admits()).toBe(true);
    a.hold(3);
    expect(a.inflight).toBe(12);
    expect(a.refusal()).toBe('inflight_spans');
    a.release(5);
    expect(a.admits()).toBe(true);
    a.release(100);
    expect(a.inflight).toBe(0);
    expect(seen).toEqual([9, 12, 7, 0]);
  });

  it('reserves body bytes up to the budget, refuses at it and recovers as bytes are released', () => {
    const seen: number[] = [];
    const a = new Admission({ maxInflightSpans: 10, maxConcurrentBodyBytes: 100 }, { bodyGauge: { set: (v: number) => seen.push(v) } });
    expect(a.reserveBody(60)).toBe(true);
    expect(a.reserveBody(41)).toBe(false);
    expect(a.heldBodyBytes).toBe(60);
    expect(a.reserveBody(40)).toBe(true);
    expect(a.refusal()).toBe('body_bytes');
    a.releaseBody(40);
    expect(a.refusal()).toBeUndefined();
    a.releaseBody(1000);
    expect(a.heldBodyBytes).toBe(0);
    expect(seen).toEqual([60, 100, 60, 0]);
  });

  it('refuses on heap and event-loop pressure read by its monitor, and admits again when it falls', () => {
    let used = 10;
    let now = 0;
    const a = new Admission(
      { maxInflightSpans: 10, maxHeapUsedRatio: 0.7, maxEventLoopDelayMs: 200 },
      { probes: { heap: () => ({ used, limit: 100 }), collectGarbage: undefined, now: () => now, intervalMs: 100 } },
    );
    now = 100;
    a.monitor.sample();
    expect(a.refusal()).toBeUndefined();
    used = 80;
    now = 200;
    a.monitor.sample();
    expect(a.refusal()).toBe('heap');
    used = 20;
    now = 600;
    a.monitor.sample();
    expect(a.refusal()).toBe('event_loop');
    expect(a.monitor.eventLoopDelayMs).toBe(300);
    // Still refused while the loop has been punctual for less than the hold (1 s), then admitted.
    now = 700;
    a.monitor.sample();
    expect(a.refusal()).toBe('event_loop');
    for (now = 800; now <= 1500; now += 100) a.monitor.sample();
    expect(a.refusal()).toBe('event_loop');
    now = 1600;
    a.monitor.sample();
    expect(a.refusal()).toBeUndefined();
  });

  it('is built from the receive configuration', () => {
    const a = admissionFromConfig(receiveConfig({ maxInflightSpans: 5, maxConcurrentBodyBytes: 32 * 1024 * 1024, maxHeapUsedRatio: 0.7, maxEventLoopDelayMs: 500 }));
    expect(a.maxInflightSpans).toBe(5);
    expect(a.maxConcurrentBodyBytes).toBe(32 * 1024 * 1024);
    expect(a.monitor.limits).toEqual({ maxHeapUsedRatio: 0.7, maxEventLoopDelayMs: 500 });
    a.start();
    a.start();
    a.stop();
    a.stop();
    a.stop();
    expect(a.admits()).toBe(true);
  });

  it('releases after a synchronous sink returns', () => {
    const a = new Admission({ maxInflightSpans: 5 });
    let during = -1;
    const pending = a.deliver(() => {
      during = a.inflight;
    }, [] as Beat[], 4);
    expect(pending).toBeUndefined();
    expect(during).toBe(4);
    expect(a.inflight).toBe(0);
  });

  it('releases and rethrows when the sink throws', () => {
    const a = new Admission({ maxInflightSpans: 5 });
    expect(() =>
      a.deliver(() => {
        throw new Error('sink broke');
      }, [], 3),
    ).toThrow('sink broke');
    expect(a.inflight).toBe(0);
  });

  it('holds spans until an async sink settles (fulfilled or rejected) and passes the outcome on', async () => {
    const a = new Admission({ maxInflightSpans: 5 });
    let finish!: () => void;
    let fail!: (e: Error) => void;
    const asyncSink = (() => new Promise<void>((resolve) => (finish = resolve))) as unknown as (b: Beat[]) => void;
    const failingSink = (() => new Promise<void>((_r, reject) => (fail = reject))) as unknown as (b: Beat[]) => void;
    const ok = a.deliver(asyncSink, [], 4);
    const bad = a.deliver(failingSink, [], 2);
    expect(a.inflight).toBe(6);
    expect(a.admits()).toBe(false);
    finish();
    await ok;
    expect(a.inflight).toBe(2);
    fail(new Error('x'));
    await expect(bad).rejects.toThrow('x');
    expect(a.inflight).toBe(0);
  });
});
