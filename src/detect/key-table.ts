/**
 * Bounded table of per-key state, keyed by (kind, service, name) without building a composite
 * string per lookup. Entries sit in an intrusive least-recently-used list: a lookup moves its
 * entry to the tail with a few pointer writes, a full table evicts from the head, and
 * `evictIdle` drops entries not seen for `idleEvictMs` of data time. Memory is therefore bounded
 * by `maxKeys` whatever the number of distinct names the traffic carries.
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
  private head: KeyNode<V> | undefined;
  private tail: KeyNode<V> | undefined;
  private count = 0;
  private evictions = 0;

  constructor(
    maxKeys: number,
    idleEvictMs: number,
    private readonly create: KeyFactory<V>,
    private readonly onEvict?: (node: KeyNode<V>) => void,
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

  /** The entry for the key, created (evicting the least recently used one if full) when missing. */
  get(kind: number, service: string, name: string, seenMs: number): V {
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
    let node = byName.get(name);
    if (node) {
      if (seenMs > node.lastSeenMs) node.lastSeenMs = seenMs;
      if (node !== this.tail) {
        this.unlink(node);
        this.append(node);
      }
      return node.value;
    }
    if (this.count >= this.maxKeys && this.head) this.remove(this.head);
    node = { kind, service, name, value: this.create(kind, service, name), lastSeenMs: seenMs, prev: undefined, next: undefined };
    byName.set(name, node);
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
