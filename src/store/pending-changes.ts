/**
 * Work that could not be stored yet, kept in arrival order and bounded: when full, the oldest is
 * dropped (and counted by the caller) so a store that stays down cannot grow memory without limit.
 */
export class PendingChanges<T> {
  private readonly items: T[] = [];

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Adds an item; returns the one dropped to make room, if any. */
  push(item: T): T | undefined {
    this.items.push(item);
    return this.items.length > this.capacity ? this.items.shift() : undefined;
  }

  /**
   * Retries items in order; `attempt` returns whether the item is now stored. Stops at the first
   * failure (the store is still down: later items would fail too, and order is kept).
   */
  retry(attempt: (item: T) => boolean): number {
    let done = 0;
    while (this.items.length > 0) {
      if (!attempt(this.items[0]!)) break;
      this.items.shift();
      done++;
    }
    return done;
  }
}
