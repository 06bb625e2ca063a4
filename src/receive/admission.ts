import type { Beat, BeatSink } from '../model/beat.js';

/** Anything with a set(n), e.g. a prom-client Gauge. */
export interface InflightGauge {
  set(value: number): void;
}

/**
 * Backpressure for the receivers: counts spans accepted but not yet processed by the sink.
 * Receivers ask `admits()` before reading/decoding a request and refuse it (503 / UNAVAILABLE)
 * when the count is at the limit, so a slow consumer makes clients back off instead of growing
 * memory. A request admitted below the limit may overshoot it by its own size; the overshoot is
 * bounded by maxRequestBytes per concurrent request.
 */
export class Admission {
  private count = 0;

  constructor(
    readonly maxInflightSpans: number,
    private readonly gauge?: InflightGauge,
  ) {}

  get inflight(): number {
    return this.count;
  }

  /** True while new requests may be accepted. */
  admits(): boolean {
    return this.count < this.maxInflightSpans;
  }

  hold(spans: number): void {
    this.count += spans;
    this.gauge?.set(this.count);
  }

  release(spans: number): void {
    this.count = Math.max(0, this.count - spans);
    this.gauge?.set(this.count);
  }

  /**
   * Hands beats to the sink while holding `spans` in flight. A synchronous sink releases on return;
   * a sink that returns a promise (an async consumer) keeps them held until it settles.
   * Errors thrown by the sink release and propagate.
   */
  deliver(sink: BeatSink, beats: Beat[], spans: number): void {
    this.hold(spans);
    let result: unknown;
    try {
      result = sink(beats);
    } catch (err) {
      this.release(spans);
      throw err;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.release(spans),
        () => this.release(spans),
      );
    } else {
      this.release(spans);
    }
  }
}
