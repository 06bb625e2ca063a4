import { Counter, type Registry } from 'prom-client';

/**
 * A counter whose value is read at scrape time from a monotonic count the hot path keeps anyway,
 * so counting costs nothing per span: each scrape sets it to the source's value.
 */
export function mirroredCounter(registers: Registry[], name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
