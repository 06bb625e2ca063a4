import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap in use and the most it may grow to (v8 heap_size_limit, set by --max-old-space-size). */
export interface HeapReading {
  used: number;
  limit: number;
}

export interface PressureLimits {
  /** Heap used / heap limit at or above which the process is under pressure; 0: not checked. */
  maxHeapUsedRatio: number;
  /** Event-loop lag (ms) at or above which the process is under pressure; 0: not checked. */
  maxEventLoopDelayMs: number;
  /** After a lag over the limit, pressure lasts until the lag has stayed under it this long (default 1 s). */
  eventLoopHoldMs?: number;
}

/** Where readings come from; the defaults read V8 and the clock (tests inject their own). */
export interface PressureProbes {
  heap?: () => HeapReading;
  /** Asks V8 for a full collection; undefined when it cannot be had. */
  collectGarbage?: (() => void) | undefined;
  now?: () => number;
  /** How often the monitor samples (ms). */
  intervalMs?: number;
}

const DEFAULT_INTERVAL_MS = 100;
/**
 * A lagging loop is judged over-pressure for this long after its last late sample. Without it
 * admission opens again at the first punctual sample (100 ms later) while the requests accepted
 * just before are still queued: every client sends again at once and the loop, and /healthz with
 * it, stays seconds late. One second matches the Retry-After receivers send.
 */
const DEFAULT_EVENT_LOOP_HOLD_MS = 1_000;
/** A collection is requested at most this often while the heap stays over its limit. */
const COLLECT_EVERY_MS = 1_000;

export function v8Heap(): HeapReading {
  const s = getHeapStatistics();
  return { used: s.used_heap_size, limit: s.heap_size_limit };
}

let exposedGc: (() => void) | null | undefined;

/**
 * V8's gc() without starting node with --expose-gc: the flag takes effect for contexts created
 * after it is set, so a fresh context hands out the function. Undefined if that fails.
 */
export function exposedGarbageCollector(): (() => void) | undefined {
  if (exposedGc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      exposedGc = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      exposedGc = null;
    }
  }
  return exposedGc ?? undefined;
}

/**
 * Samples what the process cannot see per request: heap use against the heap limit, and how late
 * the event loop runs (its own timer's lag, so blocking anywhere shows, not only in timers).
 *
 * Heap used includes garbage, and V8 only collects when something allocates. A receiver that
 * refuses because the heap looks full stops allocating, so garbage could keep it refusing for
 * many seconds after the live data is gone. While over the limit, the monitor therefore asks for
 * a full collection (at most once a second) and judges the heap after it: a refusal lasts only
 * as long as live data really fills the heap.
 */
export class PressureMonitor {
  heapRatio = 0;
  eventLoopDelayMs = 0;
  heapOver = false;
  eventLoopOver = false;
  private timer: NodeJS.Timeout | undefined;
  private lastSampleMs: number;
  private lastCollectMs = -Infinity;
  private lastLateMs = -Infinity;
  private readonly heap: () => HeapReading;
  private readonly collectGarbage: (() => void) | undefined;
  private readonly now: () => number;
  readonly intervalMs: number;

  constructor(
    readonly limits: PressureLimits,
    probes: PressureProbes = {},
  ) {
    this.heap = probes.heap ?? v8Heap;
    this.collectGarbage = 'collectGarbage' in probes ? probes.collectGarbage : limits.maxHeapUsedRatio > 0 ? exposedGarbageCollector() : undefined;
    this.now = probes.now ?? Date.now;
    this.intervalMs = probes.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.lastSampleMs = this.now();
  }

  /** True when neither check is on: nothing to sample. */
  get idle(): boolean {
    return this.limits.maxHeapUsedRatio <= 0 && this.limits.maxEventLoopDelayMs <= 0;
  }

  /** Starts sampling on a timer that does not keep the process alive. */
  start(): void {
    if (this.timer !== undefined || this.idle) return;
    this.lastSampleMs = this.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.heapOver = false;
    this.eventLoopOver = false;
    this.lastLateMs = -Infinity;
  }

  /** Takes one reading (the timer calls this every intervalMs; tests call it directly). */
  sample(): void {
    const now = this.now();
    const { maxHeapUsedRatio, maxEventLoopDelayMs } = this.limits;
    // The timer was due intervalMs after the previous sample: anything later is the loop's lag.
    this.eventLoopDelayMs = Math.max(0, now - this.lastSampleMs - this.intervalMs);
    this.lastSampleMs = now;
    if (maxEventLoopDelayMs > 0 && this.eventLoopDelayMs >= maxEventLoopDelayMs) this.lastLateMs = now;
    this.eventLoopOver = maxEventLoopDelayMs > 0 && now - this.lastLateMs < (this.limits.eventLoopHoldMs ?? DEFAULT_EVENT_LOOP_HOLD_MS);
    if (maxHeapUsedRatio <= 0) return;
    this.heapRatio = ratio(this.heap());
    if (this.heapRatio >= maxHeapUsedRatio && this.collectGarbage !== undefined && now - this.lastCollectMs >= COLLECT_EVERY_MS) {
      this.lastCollectMs = now;
      this.collectGarbage();
      this.heapRatio = ratio(this.heap());
      // The collection itself is not event-loop lag.
      this.lastSampleMs = this.now();
    }
    this.heapOver = this.heapRatio >= maxHeapUsedRatio;
  }
}

function ratio(r: HeapReading): number {
  return r.limit > 0 ? r.used / r.limit : 0;
}
