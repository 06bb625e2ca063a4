/**
 * Bounded table of per-key state, keyed by (kind, service, name) without building a composite
 * string per lookup. Entries sit in an intrusive least-recently-used list: a lookup moves its
 * entry to the tail with a few pointer writes, and `evictIdle` drops entries not seen for
 * `idleEvictMs` of data time. Memory is therefore bounded by `maxKeys` whatever the number of
 * distinct names the traffic carries.
 *
 * A full table makes room for a new key only by evicting a key that has gone quiet: when even
 * the least recently used key saw a beat within `activeMs` of the new one, the new key is
 * refused (`get` returns undefined, counted in `refused`) and the tracked keys keep their
 * windows and baselines. Evicting an active key instead would throw away state that is rebuilt
 * a moment later: with more active keys than room, an LRU table cycling through them evicts and
 * recreates a key per beat and none of them ever warms up.
 */

export interface KeyNode<V> {
  readonly kind: number;
  readonly service: string;
  readonly name: string;
  readonly value: V;
  lastSeenMs: number;
  prev: KeyNode<V> | undefined;
  next: KeyNode<V> | undefined;
}

export type KeyFactory<V> = (kind: number, service: string, name: string) => V;

export class KeyTable<V> {
  readonly maxKeys: number;
  readonly idleEvictMs: number;
  /** kind -> service -> name -> node */
  private readonly index: Array<Map<string, Map<string, KeyNode<V>>>> = [];
  /**
   * The node each kind's last lookup found: a run's handler beats all look up its sequence key
   * in turn, and a hit here skips the two map lookups (the node is touched just the same).
   */
  private readonly last: Array<KeyNode<V> | undefined> = [];
  private head: KeyNode<V> | undefined;
  private tail: KeyNode<V> | undefined;
  private count = 0;
  private evictions = 0;
  private refusals = 0;

  constructor(
    maxKeys: number,
    idleEvictMs: number,
    private readonly create: KeyFactory<V>,
    private readonly onEvict?: (node: KeyNode<V>) => void,
    /** A key seen within this much data time of a new one is not evicted for it (0: plain LRU). */
    readonly activeMs = 0,
  ) {
    this.maxKeys = Math.max(1, Math.floor(maxKeys));
    this.idleEvictMs = idleEvictMs;
  }

  get size(): number {
    return this.count;
  }

  /** Entries evicted so far (idle or capacity). */
  get evicted(): number {
    return this.evictions;
  }

  /** Lookups of a new key refused because the table was full of active keys. */
  get refused(): number {
    return this.refusals;
  }

  /**
   * The entry for the key, created when missing; a full table first evicts its least recently
   * used entry, unless that one is still active (then the key is refused: undefined).
   */
  get(kind: number, service: string, name: string, seenMs: number): V | undefined {
    const last = this.last[kind];
    let node = last !== undefined && last.name === name && last.service === service ? last : this.index[kind]?.get(service)?.get(name);
    if (node) {
      this.last[kind] = node;
      if (seenMs > node.lastSeenMs) node.lastSeenMs = seenMs;
      if (node !== this.tail) {
        this.unlink(node);
        this.append(node);
      }
      return node.value;
    }
    if (this.count >= this.maxKeys && this.head) {
      if (this.head.lastSeenMs >= seenMs - this.activeMs) {
        this.refusals++;
        return undefined;
      }
      this.remove(this.head);
    }
    // Maps are made only for a key that is stored: refused names leave nothing behind.
    let byService = this.index[kind];
    if (!byService) {
      byService = new Map();
      this.index[kind] = byService;
    }
    let byName = byService.get(service);
    if (!byName) {
      byName = new Map();
      byService.set(service, byName);
    }
    node = { kind, service, name, value: this.create(kind, service, name), lastSeenMs: seenMs, prev: undefined, next: undefined };
    byName.set(name, node);
    this.last[kind] = node;
    this.append(node);
    this.count++;
    return node.value;
  }

  /** The entry if present, without touching its recency. */
  peek(kind: number, service: string, name: string): V | undefined {
    return this.index[kind]?.get(service)?.get(name)?.value;
  }

  /** Drops entries whose last beat is older than nowMs - idleEvictMs; returns how many. */
  evictIdle(nowMs: number): number {
    const limit = nowMs - this.idleEvictMs;
    let dropped = 0;
    // The list is in touch order, which is close to data-time order; scan it all so an entry
    // touched late by an old beat cannot shield idle ones behind it.
    let node = this.head;
    while (node) {
      const next = node.next;
      if (node.lastSeenMs < limit) {
        this.remove(node);
        dropped++;
      }
      node = next;
    }
    return dropped;
  }

  /** Visits every entry, least recently used first. */
  forEach(fn: (node: KeyNode<V>) => void): void {
    for (let node = this.head; node; node = node.next) fn(node);
  }

  private remove(node: KeyNode<V>): void {
    this.unlink(node);
    if (this.last[node.kind] === node) this.last[node.kind] = undefined;
    const byService = this.index[node.kind];
    const byName = byService?.get(node.service);
    if (byName) {
      byName.delete(node.name);
      if (byName.size === 0) byService!.delete(node.service);
    }
    this.count--;
    this.evictions++;
    this.onEvict?.(node);
  }

  private append(node: KeyNode<V>): void {
    node.prev = this.tail;
    node.next = undefined;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
  }

  private unlink(node: KeyNode<V>): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = undefined;
    node.next = undefined;
  }
}
