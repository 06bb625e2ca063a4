import { describe, expect, it } from 'vitest';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { CountingExporter } from '../../src/emit/counting-exporter.js';
import { createLogger } from '../../src/emit/logger.js';

class ScriptedExporter implements SpanExporter {
  results: ExportResult[] = [];
  shutdowns = 0;
  export(_spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    done(this.results.shift() ?? { code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
}

describe('CountingExporter', () => {
  it('counts exported spans and failed batches, and logs failures with backoff and the recovery', async () => {
    const inner = new ScriptedExporter();
    const counts = { failures: 0, exported: 0 };
    const lines: Array<{ level: string; msg: string; failedBatches?: number; reason?: string }> = [];
    const log = createLogger('debug', {}, (line) => lines.push(JSON.parse(line) as (typeof lines)[number]));
    let now = 0;
    const exporter = new CountingExporter(
      inner,
      { failures: { inc: (n = 1) => (counts.failures += n) }, exported: { inc: (n = 1) => (counts.exported += n) } },
      log,
      'http://jaeger:4318/v1/traces',
      () => now,
    );
    const spans = [{}, {}, {}] as ReadableSpan[];
    const results: number[] = [];
    const fail: ExportResult = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') };
    inner.results = [{ code: ExportResultCode.SUCCESS }, fail, fail, fail, fail, { code: ExportResultCode.SUCCESS }];
    exporter.export(spans, (r) => results.push(r.code)); // ok
    exporter.export(spans, (r) => results.push(r.code)); // fail at 0: logged
    now = 5_000;
    exporter.export(spans, (r) => results.push(r.code)); // within 10 s: quiet
    now = 10_000;
    exporter.export(spans, (r) => results.push(r.code)); // logged, next after 20 s more
    now = 20_000;
    exporter.export(spans, (r) => results.push(r.code)); // quiet
    exporter.export(spans, (r) => results.push(r.code)); // ok: recovered
    expect(results).toEqual([0, 1, 1, 1, 1, 0]);
    expect(counts).toEqual({ failures: 4, exported: 6 });
    expect(lines.map((l) => [l.level, l.msg, l.failedBatches])).toEqual([
      ['warn', 'span export failed', 1],
      ['warn', 'span export failed', 3],
      ['info', 'span export recovered', 4],
    ]);
    expect(lines[0]!.reason).toBe('connect ECONNREFUSED');
    await exporter.forceFlush();
    await exporter.shutdown();
    expect(inner.shutdowns).toBe(1);
  });
});
