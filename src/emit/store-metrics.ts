import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus figures of the store's health: errors, changes waiting to be stored, changes dropped. */
export class StoreMetrics {
  private readonly errors: Counter<'operation' | 'code'>;
  private readonly dropped: Counter;

  constructor(registry: Registry, pending: () => number, prefix = 'self_healing_') {
    const registers = [registry];
    this.errors = new Counter({
      name: `${prefix}store_errors_total`,
      help: 'Store failures by operation (a write, or probe for a readiness file check) and SQLite error code',
      labelNames: ['operation', 'code'],
      registers,
    });
    new Gauge({
      name: `${prefix}store_pending_changes`,
      help: 'Anomaly changes that failed to persist and wait for a retry',
      registers,
      collect() {
        this.set(pending());
      },
    });
    this.dropped = new Counter({
      name: `${prefix}store_dropped_changes_total`,
      help: 'Anomaly changes dropped because the retry queue was full',
      registers,
    });
  }

  countError(operation: string, code: string): void {
    this.errors.inc({ operation, code });
  }

  countDropped(): void {
    this.dropped.inc();
  }
}
