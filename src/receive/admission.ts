import type { ReceiveConfig } from '../config/sections/receive.js';
import type { Beat, BeatSink } from '../model/beat.js';
import { PressureMonitor, type PressureProbes } from './pressure-monitor.js';

/** Anything with a set(n), e.g. a prom-client Gauge. */
export interface InflightGauge {
  set(value: number): void;
}

/** Why a request was refused; a closed set, used as a metrics label. */
export type RefusalReason = 'inflight_spans' | 'body_bytes' | 'heap' | 'event_loop';

export const REFUSAL_REASONS: readonly RefusalReason[] = ['inflight_spans', 'body_bytes', 'heap', 'event_loop'];

export interface AdmissionLimits {
  /** Spans accepted but not yet processed. */
  maxInflightSpans: number;
  /** Request body bytes held at once, over all connections. */
  maxConcurrentBodyBytes?: number;
  /** Heap used / heap limit; 0 or absent: not checked. */
  maxHeapUsedRatio?: number;
  /** Event-loop lag in ms; 0 or absent: not checked. */
  maxEventLoopDelayMs?: number;
}

export interface AdmissionOptions {
  /** Tracks spans in flight (self_healing_inflight_spans). */
  gauge?: InflightGauge;
  /** Tracks body bytes held (self_healing_receive_body_bytes). */
  bodyGauge?: InflightGauge;
  /** Heap and clock readings for the pressure monitor (tests). */
  probes?: PressureProbes;
}

/**
 * Backpressure for the receivers, on what the process actually holds: spans accepted but not yet
 * processed, request body bytes being read or waiting to be decoded, heap use against the heap
 * limit and event-loop lag. Receivers ask `refusal()` before reading a request and refuse it
 * (503 / UNAVAILABLE with a retry delay) when any is over its limit, so clients back off before
 * memory is at risk; they are admitted again as soon as the pressure falls.
 *
 * Span and byte counts are exact: receivers hold them while a request is read and processed in
 * slices, and release them as it goes. A request admitted below a limit may overshoot it by its
 * own size. Heap and event-loop readings come from a PressureMonitor sampling on a timer: call
 * start() when serving and stop() when done.
 */
export class Admission {
  private spans = 0;
  private bodyBytes = 0;
  readonly maxInflightSpans: number;
  readonly maxConcurrentBodyBytes: number;
  readonly monitor: PressureMonitor;
  private readonly gauge: InflightGauge | undefined;
  private readonly bodyGauge: InflightGauge | undefined;
  private users = 0;

  constructor(limits: AdmissionLimits, options: AdmissionOptions = {}) {
    this.maxInflightSpans = limits.maxInflightSpans;
    this.maxConcurrentBodyBytes = limits.maxConcurrentBodyBytes ?? Infinity;
    this.gauge = options.gauge;
    this.bodyGauge = options.bodyGauge;
    this.monitor = new PressureMonitor(
      { maxHeapUsedRatio: limits.maxHeapUsedRatio ?? 0, maxEventLoopDelayMs: limits.maxEventLoopDelayMs ?? 0 },
      options.probes,
    );
  }

  get inflight(): number {
    return this.spans;
  }

  /** Body bytes held right now. */
  get heldBodyBytes(): number {
    return this.bodyBytes;
  }

  /** Starts the pressure monitor; counted, so receivers sharing one admission each start and stop it. */
  start(): void {
    if (this.users++ === 0) this.monitor.start();
  }

  stop(): void {
    if (this.users > 0 && --this.users === 0) this.monitor.stop();
  }

  /** Why a new request must be refused now, or undefined when it may be accepted. */
  refusal(): RefusalReason | undefined {
    if (this.spans >= this.maxInflightSpans) return 'inflight_spans';
    if (this.bodyBytes >= this.maxConcurrentBodyBytes) return 'body_bytes';
    if (this.monitor.heapOver) return 'heap';
    if (this.monitor.eventLoopOver) return 'event_loop';
    return undefined;
  }

  /** True while new requests may be accepted. */
  admits(): boolean {
    return this.refusal() === undefined;
  }

  /**
   * Reserves `bytes` of request body (bytes that arrived or a buffer about to be allocated).
   * False, reserving nothing, when that would go over maxConcurrentBodyBytes.
   */
  reserveBody(bytes: number): boolean {
    if (this.bodyBytes + bytes > this.maxConcurrentBodyBytes) return false;
    this.bodyBytes += bytes;
    this.bodyGauge?.set(this.bodyBytes);
    return true;
  }

  releaseBody(bytes: number): void {
    this.bodyBytes = Math.max(0, this.bodyBytes - bytes);
    this.bodyGauge?.set(this.bodyBytes);
  }

  hold(spans: number): void {
    this.spans += spans;
    this.gauge?.set(this.spans);
  }

  release(spans: number): void {
    this.spans = Math.max(0, this.spans - spans);
    this.gauge?.set(this.spans);
  }

  /**
   * Hands beats to the sink while holding `spans` in flight. A synchronous sink releases on return;
   * a sink that returns a promise (an async consumer) keeps them held until it settles, and the
   * promise is returned so the caller can wait for it. Errors thrown by the sink release and
   * propagate.
   */
  deliver(sink: BeatSink, beats: Beat[], spans: number): Promise<void> | undefined {
    this.hold(spans);
    let result: unknown;
    try {
      result = sink(beats);
    } catch (err) {
      this.release(spans);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        () => this.release(spans),
        (err: unknown) => {
          this.release(spans);
          throw err;
        },
      );
    }
    this.release(spans);
    return undefined;
  }
}

/** The admission the receive configuration describes, reporting into the given gauges. */
export function admissionFromConfig(
  config: Pick<ReceiveConfig, 'maxInflightSpans' | 'maxConcurrentBodyBytes' | 'maxHeapUsedRatio' | 'maxEventLoopDelayMs'>,
  gauges: { inflightSpans?: InflightGauge; bodyBytes?: InflightGauge } = {},
): Admission {
  return new Admission(config, {
    ...(gauges.inflightSpans ? { gauge: gauges.inflightSpans } : {}),
    ...(gauges.bodyBytes ? { bodyGauge: gauges.bodyBytes } : {}),
  });
}
