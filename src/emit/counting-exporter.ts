import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from './logger.js';

export interface ExportCounters {
  failures: { inc(n?: number): void };
  exported: { inc(n?: number): void };
}

/** Log a failure at most this often while failures go on, doubling up to the cap. */
const FIRST_LOG_INTERVAL_MS = 10_000;
const MAX_LOG_INTERVAL_MS = 10 * 60_000;

/**
 * Counts what the OTLP exporter delivers and what it fails to, and logs failures with backoff:
 * the first at once, then at growing intervals with the count in between, and one line when
 * export works again. A silent exporter was how spans got lost before.
 */
export class CountingExporter implements SpanExporter {
  private failedSinceLog = 0;
  private nextLogMs = 0;
  private intervalMs = FIRST_LOG_INTERVAL_MS;
  private failing = false;

  constructor(
    private readonly inner: SpanExporter,
    private readonly counters: ExportCounters,
    private readonly log: Logger,
    private readonly target: string,
    private readonly now: () => number = Date.now,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) {
        this.counters.exported.inc(spans.length);
        if (this.failing) {
          this.log.info('span export recovered', { target: this.target, failedBatches: this.failedSinceLog });
          this.failing = false;
          this.failedSinceLog = 0;
          this.intervalMs = FIRST_LOG_INTERVAL_MS;
          this.nextLogMs = 0;
        }
      } else {
        this.counters.failures.inc();
        this.failing = true;
        this.failedSinceLog++;
        const t = this.now();
        if (t >= this.nextLogMs) {
          this.log.warn('span export failed', { target: this.target, failedBatches: this.failedSinceLog, reason: result.error?.message ?? 'unknown' });
          this.nextLogMs = t + this.intervalMs;
          this.intervalMs = Math.min(this.intervalMs * 2, MAX_LOG_INTERVAL_MS);
        }
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
