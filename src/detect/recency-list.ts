/**
 * An intrusive recency list: items carry their own `older` / `newer` links and the owner keeps
 * the two ends, so marking an item as just used is O(1) and allocates nothing (a Map re-insert
 * per record would). Used where every record touches an item (log templates, their rate state).
 */
export interface RecencyItem<T> {
  older: T | undefined;
  newer: T | undefined;
}

export interface RecencyEnds<T> {
  oldest: T | undefined;
  newest: T | undefined;
}

/** Makes t the newest item (t may be new, with no links, or already in the list). */
export function touchNewest<T extends RecencyItem<T>>(ends: RecencyEnds<T>, t: T): void {
  if (ends.newest === t) return;
  if (t.older !== undefined) t.older.newer = t.newer;
  else if (ends.oldest === t) ends.oldest = t.newer;
  if (t.newer !== undefined) t.newer.older = t.older;
  t.older = ends.newest;
  t.newer = undefined;
  if (ends.newest !== undefined) ends.newest.newer = t;
  ends.newest = t;
  if (ends.oldest === undefined) ends.oldest = t;
}

/** Takes the oldest item out of the list and returns it (undefined when empty). */
export function takeOldest<T extends RecencyItem<T>>(ends: RecencyEnds<T>): T | undefined {
  const t = ends.oldest;
  if (t === undefined) return undefined;
  ends.oldest = t.newer;
  if (t.newer !== undefined) t.newer.older = undefined;
  else ends.newest = undefined;
  t.newer = undefined;
  return t;
}

/**
 * The key of the item seen longest ago (smallest `lastSeen`, the first of equals), among those
 * `eligible` accepts; undefined when there is none. A scan, for budgets that evict at most once
 * per slice and key, where links kept on every touch would cost more than they save.
 */
export function leastRecentlySeen<K, V extends { lastSeen: number }>(items: ReadonlyMap<K, V>, eligible?: (key: K) => boolean): K | undefined {
  let oldest: K | undefined;
  let at = Infinity;
  for (const [k, v] of items) if (v.lastSeen < at && (eligible === undefined || eligible(k))) [oldest, at] = [k, v.lastSeen];
  return oldest;
}
