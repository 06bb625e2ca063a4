import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/receive/admission.js';
import type { Beat } from '../../src/model/beat.js';

describe('Admission', () => {
  it('admits until the in-flight count reaches the limit and tracks it in the gauge', () => {
    const seen: number[] = [];
    const a = new Admission(10, { set: (v) => seen.push(v) });
    expect(a.admits()).toBe(true);
    a.hold(9);
    expect(a.admits()).toBe(true);
    a.hold(3);
    expect(a.inflight).toBe(12);
    expect(a.admits()).toBe(false);
    a.release(5);
    expect(a.admits()).toBe(true);
    a.release(100);
    expect(a.inflight).toBe(0);
    expect(seen).toEqual([9, 12, 7, 0]);
  });

  it('releases after a synchronous sink returns', () => {
    const a = new Admission(5);
    let during = -1;
    a.deliver(() => {
      during = a.inflight;
    }, [] as Beat[], 4);
    expect(during).toBe(4);
    expect(a.inflight).toBe(0);
  });

  it('releases and rethrows when the sink throws', () => {
    const a = new Admission(5);
    expect(() =>
      a.deliver(() => {
        throw new Error('sink broke');
      }, [], 3),
    ).toThrow('sink broke');
    expect(a.inflight).toBe(0);
  });

  it('holds spans until an async sink settles (fulfilled or rejected)', async () => {
    const a = new Admission(5);
    let finish!: () => void;
    let fail!: (e: Error) => void;
    const asyncSink = (() => new Promise<void>((resolve) => (finish = resolve))) as unknown as (b: Beat[]) => void;
    const failingSink = (() => new Promise<void>((_r, reject) => (fail = reject))) as unknown as (b: Beat[]) => void;
    a.deliver(asyncSink, [], 4);
    a.deliver(failingSink, [], 2);
    expect(a.inflight).toBe(6);
    expect(a.admits()).toBe(false);
    finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(a.inflight).toBe(2);
    fail(new Error('x'));
    await new Promise((r) => setImmediate(r));
    expect(a.inflight).toBe(0);
  });
});
