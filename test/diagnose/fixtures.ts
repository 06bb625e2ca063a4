import type { Anomaly } from '../../src/model/anomaly.js';
import { STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../../src/model/beat.js';
import type { EvidenceSource } from '../../src/model/evidence.js';

let counter = 0;

export function beat(over: Partial<Beat> = {}): Beat {
  counter++;
  return {
    service: 'shop',
    serviceVersion: '1.0.0',
    sequence: 'checkout',
    movement: 'pay',
    beatNumber: 1,
    event: 'pay',
    handler: 'chargeCard',
    plugin: 'payments',
    kind: 'stage-crew',
    correlationId: `c${counter}`,
    startMs: 1_000_000 + counter,
    durationMs: 10,
    status: STATUS_OK,
    error: undefined,
    traceId: `t${counter}`,
    spanId: `s${counter}`,
    parentSpanId: '',
    spanName: 'chargeCard',
    attributes: {},
    ...over,
  };
}

export function failing(error: Partial<BeatError>, over: Partial<Beat> = {}): Beat {
  return beat({
    status: STATUS_ERROR,
    error: {
      type: 'TypeError',
      message: "Cannot read properties of undefined (reading 'amount')",
      topFrame: 'src/pay.ts:42',
      stacktrace: "TypeError: Cannot read properties of undefined (reading 'amount')\n    at charge (src/pay.ts:42:7)",
      fingerprint: 'fp1',
      ...error,
    },
    ...over,
  });
}

export function anomaly(over: Partial<Anomaly> = {}): Anomaly {
  return {
    id: 'a1',
    key: 'performance:shop:chargeCard',
    type: 'performance',
    subtype: 'latency-regression',
    severity: 'high',
    confidence: 0.9,
    state: 'open',
    service: 'shop',
    handler: 'chargeCard',
    sequence: 'checkout',
    windowStartMs: 2_000_000,
    windowEndMs: 2_060_000,
    firstSeenMs: 2_060_000,
    lastSeenMs: 2_060_000,
    summary: 'chargeCard p95 120 ms vs 12 ms',
    observed: { p95Ms: 120 },
    expected: { p95Ms: 12 },
    details: {},
    exemplars: [],
    ...over,
  };
}

/** In-memory EvidenceSource; traces are indexed from every beat handed in. */
export class FakeEvidence implements EvidenceSource {
  recent: Beat[] = [];
  baseline: Beat[] = [];
  traces = new Map<string, Beat[]>();
  versionList: Array<{ version: string; firstSeenMs: number; lastSeenMs: number }> = [];
  share = 0.25;

  addTrace(beats: Beat[]): void {
    for (const b of beats) {
      const list = this.traces.get(b.traceId) ?? [];
      list.push(b);
      this.traces.set(b.traceId, list);
    }
  }
  recentBeats(): Beat[] {
    return this.recent;
  }
  baselineBeats(): Beat[] {
    return this.baseline;
  }
  traceBeats(traceId: string): Beat[] | undefined {
    return this.traces.get(traceId);
  }
  versions(): Array<{ version: string; firstSeenMs: number; lastSeenMs: number }> {
    return this.versionList;
  }
  trafficShare(): number {
    return this.share;
  }
}

/** A handler beat with one child call, both in their own trace; returns [parent, child]. */
export function runWithChild(parentMs: number, childMs: number, over: Partial<Beat> = {}, child = 'queryDb'): Beat[] {
  const p = beat({ durationMs: parentMs, ...over });
  const c = beat({
    handler: child,
    spanName: child,
    traceId: p.traceId,
    parentSpanId: p.spanId,
    startMs: p.startMs + 1,
    durationMs: childMs,
  });
  return [p, c];
}
