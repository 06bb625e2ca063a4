import { PendingChanges } from './pending-changes.js';

export interface RetryingHandlerOptions<T, R> {
  /** Does the work for one item; store writes inside it are reported to `failures`. */
  handle: (item: T, retry: boolean) => R;
  /** A counter of failed store writes (StoreHealth.failures): a rise during `handle` means "not stored". */
  failures: () => number;
  capacity: number;
  /** An item that had to go because the queue was full. */
  onDropped?: (item: T) => void;
  /** An error thrown by `handle` (logged; the item is retried only if a store write failed). */
  onError?: (err: unknown, item: T) => void;
}

/**
 * Runs items (anomaly changes) through a handler whose store writes may fail. An item during which
 * a write failed is kept and run again, in order, before newer items, until the store takes it:
 * a full disk or a read-only file delays anomalies instead of losing them.
 */
export class RetryingHandler<T, R> {
  private readonly queue: PendingChanges<T>;

  constructor(private readonly opts: RetryingHandlerOptions<T, R>) {
    this.queue = new PendingChanges<T>(opts.capacity);
  }

  /** Items waiting for the store. */
  get pending(): number {
    return this.queue.size;
  }

  /** Retries what waits, then handles `items`; returns the results of every item handled now. */
  process(items: readonly T[]): R[] {
    const out: R[] = [];
    this.queue.retry((item) => this.attempt(item, true, out));
    for (const item of items) {
      // While older items wait, newer ones queue behind them so one anomaly's changes stay in order.
      if (this.queue.size > 0 || !this.attempt(item, false, out)) {
        const dropped = this.queue.push(item);
        if (dropped !== undefined) this.opts.onDropped?.(dropped);
      }
    }
    return out;
  }

  private attempt(item: T, retry: boolean, out: R[]): boolean {
    const before = this.opts.failures();
    try {
      out.push(this.opts.handle(item, retry));
    } catch (err) {
      this.opts.onError?.(err, item);
    }
    return this.opts.failures() === before;
  }
}
