import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, kindMatcher, type CloseReason, type StoredEvent } from '../../src/emit/event-bus.js';
import type { AnomalyStore } from '../../src/store/anomaly-store.js';
import { anomaly } from '../diagnose/fixtures.js';
import { tempStore, waitFor } from './store-fixture.js';

describe('EventBus', () => {
  let store: AnomalyStore;
  let cleanup: () => void;
  beforeEach(() => {
    ({ store, cleanup } = tempStore());
  });
  afterEach(() => cleanup());

  it('persists before notifying and delivers live events in order', async () => {
    const bus = new EventBus(store, { clock: () => 1234 });
    const got: StoredEvent[] = [];
    bus.subscribe(0, undefined, (e) => {
      got.push(e);
    });
    const e1 = bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly() });
    expect(store.eventsSince(0, 10)).toHaveLength(1); // durable at once
    expect(got).toHaveLength(0); // listener never runs inside publish
    bus.publish('fix.generated', { pr: 1 });
    await waitFor(() => got.length === 2);
    expect(e1).toMatchObject({ seq: 1, kind: 'anomaly.opened', timeMs: 1234, anomalyId: 'a1' });
    expect(got.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'anomaly.opened'],
      [2, 'fix.generated'],
    ]);
    expect(bus.lastSeq()).toBe(2);
  });

  it('replays missed events then goes live without gaps or duplicates, filtered by kind', async () => {
    const bus = new EventBus(store, { replayBatch: 3 });
    for (let i = 0; i < 10; i++) bus.publish(i % 2 === 0 ? 'anomaly.updated' : 'fix.validated', { i });
    const got: number[] = [];
    const sub = bus.subscribe(2, ['anomaly.updated', 'diagnosis.created'], (e) => {
      got.push(e.seq);
      // Publishing while replay is still running must not create gaps or duplicates.
      if (e.seq === 5) bus.publish('anomaly.updated', { live: true });
    });
    await waitFor(() => got.includes(11));
    bus.publishDiagnosis({ id: 'd1', anomalyId: 'a1' } as never);
    await waitFor(() => got.includes(12));
    expect(got).toEqual([3, 5, 7, 9, 11, 12]);
    expect(sub.lastSeq).toBe(12);
    const stored = store.eventsSince(11, 1)[0]!;
    expect(stored).toMatchObject({ kind: 'diagnosis.created', anomalyId: 'a1', diagnosisId: 'd1' });
  });

  it('pauses on backpressure and disconnects a subscriber that falls too far behind', async () => {
    const bus = new EventBus(store, { maxBuffer: 3 });
    const got: number[] = [];
    const reasons: CloseReason[] = [];
    const slow = bus.subscribe(0, [], (e) => {
      got.push(e.seq);
      return false; // sink full after every event
    }, { onClose: (r) => reasons.push(r) });
    const fast: number[] = [];
    bus.subscribe(0, undefined, (e) => {
      fast.push(e.seq);
    });
    // Let both catch up with the (empty) log so they are live: a replaying subscriber reads
    // from the store instead of buffering and cannot overflow.
    await new Promise((r) => setImmediate(r));
    bus.publish('k', 1);
    await waitFor(() => got.length === 1 && fast.length === 1);
    for (let i = 0; i < 3; i++) bus.publish('k', i);
    expect(slow.closed).toBe(false);
    slow.resume();
    await waitFor(() => got.length === 2);
    bus.publish('k', 'a'); // 3 queued while paused: the limit
    expect(slow.closed).toBe(false);
    bus.publish('k', 'b'); // one more overflows
    expect(slow.closed).toBe(true);
    expect(reasons).toEqual(['overflow']);
    await waitFor(() => fast.length === 6);
    expect(bus.subscriberCount).toBe(1);
    slow.resume(); // no effect once closed
  });

  it('resumes a paused replay and ends on listener errors and bus close', async () => {
    const bus = new EventBus(store);
    for (let i = 0; i < 4; i++) bus.publish('k', i);
    const got: number[] = [];
    const sub = bus.subscribe(0, undefined, (e) => {
      got.push(e.seq);
      return e.seq !== 2;
    });
    await waitFor(() => got.length === 2);
    sub.resume();
    sub.resume();
    await waitFor(() => got.length === 4);

    const reasons: CloseReason[] = [];
    bus.subscribe(0, undefined, () => {
      throw new Error('bad listener');
    }, { onClose: (r) => reasons.push(r) });
    await waitFor(() => reasons.length === 1);
    expect(reasons).toEqual(['listener-error']);

    const closed: CloseReason[] = [];
    bus.subscribe(100, undefined, () => undefined, { onClose: (r) => closed.push(r) });
    bus.close();
    expect(closed).toEqual(['bus-closed']);
    expect(sub.closed).toBe(true);
    sub.close(); // idempotent
    expect(bus.subscriberCount).toBe(0);
  });

  it('matches kinds exactly or by prefix', () => {
    const m = kindMatcher(['fix.*', 'anomaly.opened']);
    expect(m('fix.generated')).toBe(true);
    expect(m('anomaly.opened')).toBe(true);
    expect(m('anomaly.updated')).toBe(false);
    expect(kindMatcher([])('x')).toBe(true);
  });
});
