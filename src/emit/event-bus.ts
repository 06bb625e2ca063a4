import type { AnomalyChange } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { AnomalyStore, StoredEvent } from '../store/anomaly-store.js';

export type { StoredEvent } from '../store/anomaly-store.js';

/** Kinds published by the core pipeline; the heal stages add their own (fix.generated, ...). */
export const EVENT_KINDS = {
  anomalyOpened: 'anomaly.opened',
  anomalyUpdated: 'anomaly.updated',
  anomalyResolved: 'anomaly.resolved',
  diagnosisCreated: 'diagnosis.created',
} as const;

/**
 * Receives events in order. Return `false` when the consumer's own sink is full (like
 * `stream.write`); delivery then pauses until `Subscription.resume()`.
 */
export type EventListener = (event: StoredEvent) => boolean | void;

export type CloseReason = 'unsubscribed' | 'overflow' | 'listener-error' | 'bus-closed';

export interface SubscribeOptions {
  /** Called once when the subscription ends for any reason other than the subscriber's close(). */
  onClose?: (reason: CloseReason) => void;
}

export interface Subscription {
  /** Continue after the listener returned false. */
  resume(): void;
  close(): void;
  readonly closed: boolean;
  /** Highest sequence number delivered so far. */
  readonly lastSeq: number;
}

export interface EventBusOptions {
  /** Live events a paused subscriber may have queued before it is disconnected. */
  maxBuffer?: number;
  /** Events read from the store per replay step. */
  replayBatch?: number;
  clock?: () => number;
}

export interface PublishIds {
  anomalyId?: string;
  diagnosisId?: string;
}

/** Matches a kind against a filter; entries ending in ".*" match by prefix ("fix.*"). */
export function kindMatcher(kinds: readonly string[] | undefined): (kind: string) => boolean {
  if (kinds === undefined || kinds.length === 0) return () => true;
  const exact = new Set(kinds.filter((k) => !k.endsWith('.*')));
  const prefixes = kinds.filter((k) => k.endsWith('.*')).map((k) => k.slice(0, -1));
  return (kind) => exact.has(kind) || prefixes.some((p) => kind.startsWith(p));
}

class Subscriber implements Subscription {
  closed = false;
  lastSeq: number;
  /** Replaying from the store until caught up; then live events are queued in memory. */
  private replaying = true;
  private paused = false;
  private scheduled = false;
  private readonly queue: StoredEvent[] = [];

  constructor(
    private readonly bus: EventBus,
    afterSeq: number,
    private readonly matches: (kind: string) => boolean,
    private readonly listener: EventListener,
    private readonly options: SubscribeOptions,
    private readonly maxBuffer: number,
    private readonly replayBatch: number,
  ) {
    this.lastSeq = afterSeq;
    this.schedule();
  }

  /** Called by the publisher: never runs listener code, never waits. */
  offer(e: StoredEvent): void {
    if (this.closed || this.replaying) return; // a replaying subscriber reads it from the store
    if (!this.matches(e.kind)) {
      return;
    }
    if (this.queue.length >= this.maxBuffer) {
      this.end('overflow');
      return;
    }
    this.queue.push(e);
    this.schedule();
  }

  resume(): void {
    if (this.closed || !this.paused) return;
    this.paused = false;
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.bus.detach(this);
  }

  end(reason: CloseReason): void {
    if (this.closed) return;
    this.close();
    this.options.onClose?.(reason);
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private deliver(e: StoredEvent): boolean {
    if (e.seq <= this.lastSeq) return true;
    this.lastSeq = e.seq;
    if (!this.matches(e.kind)) return true;
    try {
      return this.listener(e) !== false;
    } catch {
      this.end('listener-error');
      return false;
    }
  }

  private drain(): void {
    while (!this.closed && !this.paused) {
      if (this.replaying) {
        const batch = this.bus.readStore(this.lastSeq, this.replayBatch);
        for (const e of batch) {
          if (!this.deliver(e)) {
            this.paused = true;
            break;
          }
        }
        if (this.paused || this.closed) return;
        // Same tick as the last read: nothing can be published in between, so going live here
        // leaves no gap.
        if (batch.length < this.replayBatch) this.replaying = false;
        else {
          this.schedule(); // yield between batches so a long replay does not hog the loop
          return;
        }
      } else {
        const e = this.queue.shift();
        if (e === undefined) return;
        if (!this.deliver(e)) this.paused = true;
      }
    }
  }
}

/**
 * In-process event stream. publish() persists first (the event gets its seq and survives a
 * crash), then hands the event to live subscribers without running their code. subscribe()
 * replays from the store after the given seq and then goes live, so a reconnecting client that
 * passes its last seen seq loses nothing. A subscriber that falls too far behind is
 * disconnected rather than slowing the publisher or growing memory.
 */
export class EventBus {
  private readonly subscribers = new Set<Subscriber>();
  private readonly maxBuffer: number;
  private readonly replayBatch: number;
  private readonly clock: () => number;

  constructor(
    private readonly store: AnomalyStore,
    options: EventBusOptions = {},
  ) {
    this.maxBuffer = options.maxBuffer ?? 1000;
    this.replayBatch = options.replayBatch ?? 200;
    this.clock = options.clock ?? Date.now;
  }

  publish(kind: string, payload: unknown, ids: PublishIds = {}): StoredEvent {
    const e: StoredEvent = { seq: 0, kind, timeMs: this.clock(), payload };
    if (ids.anomalyId !== undefined) e.anomalyId = ids.anomalyId;
    if (ids.diagnosisId !== undefined) e.diagnosisId = ids.diagnosisId;
    e.seq = this.store.appendEvent(e);
    for (const s of this.subscribers) s.offer(e);
    return e;
  }

  /** anomaly.opened / anomaly.updated / anomaly.resolved with the anomaly as payload. */
  publishAnomalyChange(change: AnomalyChange): StoredEvent {
    return this.publish(`anomaly.${change.kind}`, change.anomaly, { anomalyId: change.anomaly.id });
  }

  publishDiagnosis(d: Diagnosis): StoredEvent {
    return this.publish(EVENT_KINDS.diagnosisCreated, d, { anomalyId: d.anomalyId, diagnosisId: d.id });
  }

  subscribe(
    afterSeq: number,
    kinds: readonly string[] | undefined,
    listener: EventListener,
    options: SubscribeOptions = {},
  ): Subscription {
    const s = new Subscriber(
      this,
      Math.max(0, afterSeq),
      kindMatcher(kinds),
      listener,
      options,
      this.maxBuffer,
      this.replayBatch,
    );
    this.subscribers.add(s);
    return s;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  lastSeq(): number {
    return this.store.lastEventSeq();
  }

  /** Ends every subscription (reason 'bus-closed'); used at shutdown. */
  close(): void {
    for (const s of [...this.subscribers]) s.end('bus-closed');
  }

  /** @internal */
  detach(s: Subscriber): void {
    this.subscribers.delete(s);
  }

  /** @internal */
  readStore(afterSeq: number, limit: number): StoredEvent[] {
    return this.store.eventsSince(afterSeq, limit);
  }
}
