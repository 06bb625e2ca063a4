/**
 * One frozen copy per distinct parameter set, handed to every detector built with it: every
 * latency key holds several novelty detectors, and a copy of the same handful of numbers each is
 * ~100 B a detector. The set is keyed by every field it has, so a field added to a parameter type
 * can never make two different sets share a copy. At most `max` sets are kept (a process has a
 * handful); beyond that a set gets a frozen copy of its own.
 */
export class SharedParams<T extends object> {
  private readonly sets = new Map<string, Readonly<T>>();

  constructor(private readonly max = 64) {}

  of(params: T): Readonly<T> {
    const fields = params as Record<string, unknown>;
    const key = Object.keys(fields)
      .sort()
      .map((k) => `${k}=${String(fields[k])}`)
      .join('|');
    let shared = this.sets.get(key);
    if (shared === undefined) {
      shared = Object.freeze({ ...params });
      if (this.sets.size < this.max) this.sets.set(key, shared);
    }
    return shared;
  }
}
