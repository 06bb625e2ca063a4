import {
  SPAN_KIND_CLIENT,
  SPAN_KIND_CONSUMER,
  SPAN_KIND_PRODUCER,
  SPAN_KIND_SERVER,
  STATUS_ERROR,
  type Beat,
} from '../model/beat.js';
import { SEVERITY_ERROR, SEVERITY_WARN, type LogEvent } from '../model/log-event.js';
import { LogTemplateMiner, type TemplateMatch } from './log-templates.js';
import { GraphSpanColumns } from './graph-span-columns.js';
import { TraceSlots } from './trace-slots.js';

/**
 * The service dependency graph and per-request figures, built from whole traces.
 *
 * A request is a trace entry span: a root, a SERVER/CONSUMER span, or a span whose parent is in
 * another service. Its figures (latency, failure, the service's own "self" time) are counted once
 * per request, never per span, so a route failing on every request shows a 100 % failure rate no
 * matter how many framework spans each request has.
 *
 * An edge caller -> callee exists for every span whose parent lives in another service (which
 * covers CLIENT/SERVER and PRODUCER/CONSUMER pairs as well as uninstrumented clients). When the
 * parent is the caller's client (or producer) span, the difference between the client span and the
 * callee's server span is the edge's gap: network and queueing time neither side's own code spent.
 *
 * Traces are buffered until they have been quiet for `traceGraceMs` and then folded into the
 * slice their entry spans started in; a slice is handed out once no trace can still add to it.
 * Memory is bounded by `maxTraces` buffered traces and `maxKeys` services, endpoints and edges.
 */
export interface ServiceGraphOptions {
  sliceMs: number;
  /** A trace with no new span for this long is complete. */
  traceGraceMs: number;
  /** Buffered traces; beyond it the oldest is folded early. */
  maxTraces: number;
  /** Distinct services + endpoints + edges tracked; new ones beyond it are counted and dropped. */
  maxKeys: number;
  /** Samples kept per key and slice for quantiles (reservoir). */
  maxSamples: number;
}

export interface ServiceGraphBudget {
  bufferedTraces: number;
  tracesFoldedEarly: number;
  droppedKeys: number;
  lateRequests: number;
}

/** Empty slices emitted at most to cover a quiet gap (an hour at the default 10 s slices). */
export const MAX_QUIET_SLICES = 360;

export const DEFAULT_SERVICE_GRAPH_OPTIONS: ServiceGraphOptions = {
  sliceMs: 10_000,
  traceGraceMs: 5_000,
  maxTraces: 10_000,
  maxKeys: 5_000,
  maxSamples: 256,
};

/** Values seen in one slice: count and a bounded reservoir of samples. */
export class SampleSet {
  count = 0;
  readonly samples: number[] = [];
  private seed = 0x2545f491;

  constructor(private readonly cap: number) {}

  add(v: number): void {
    this.count++;
    if (this.samples.length < this.cap) {
      this.samples.push(v);
      return;
    }
    // xorshift keeps the reservoir deterministic (replays give the same figures).
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    const j = (this.seed >>> 0) % this.count;
    if (j < this.cap) this.samples[j] = v;
  }

  quantile(q: number): number {
    if (this.samples.length === 0) return NaN;
    const s = [...this.samples].sort((a, b) => a - b);
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  }
}

/** A (log template, level) pattern: its key and label, and its records not yet added to `figures`. */
interface LogPattern {
  key: string;
  /** The template text its label was last set to. */
  labelled: string;
  /** The service-slice figures its pending records belong to (only during one observeLogs call). */
  figures: ServiceSliceFigures | undefined;
  pending: number;
}

/** Adds a pattern's pending records to its figures. */
function countPending(p: LogPattern): void {
  if (p.figures === undefined || p.pending === 0) return;
  p.figures.patterns.set(p.key, (p.figures.patterns.get(p.key) ?? 0) + p.pending);
  p.pending = 0;
}

export interface ServiceSliceFigures {
  service: string;
  requests: number;
  /** Requests that failed (entry span, a local span or a bound error log says so). */
  failed: number;
  /** Failed requests none of whose downstream requests failed: the failure started here. */
  ownFailed: number;
  latencyMs: SampleSet;
  /** Per request: time spent in the service's own spans, excluding callees and edge gaps. */
  selfMs: SampleSet;
  errorLogs: number;
  logs: number;
  /**
   * Event patterns: occurrences of each log template (`log:<level>:<template id>`) and of each
   * span operation run inside the service's requests (`op:<span name>`).
   */
  patterns: Map<string, number>;
}

export interface EndpointSliceFigures {
  service: string;
  operation: string;
  requests: number;
  failed: number;
  latencyMs: SampleSet;
}

export interface EdgeSliceFigures {
  caller: string;
  callee: string;
  calls: number;
  errors: number;
  /** Client (or producer) time not covered by the callee's server (or consumer) span. */
  gapMs: SampleSet;
}

export interface GraphSlice {
  startMs: number;
  endMs: number;
  services: Map<string, ServiceSliceFigures>;
  /** By `${service}\u0000${operation}`. */
  endpoints: Map<string, EndpointSliceFigures>;
  edges: Map<string, EdgeSliceFigures>;
  /** Latency of root requests (no parent span): what users wait for. */
  rootLatencyMs: SampleSet;
}

export interface EdgeSummary {
  caller: string;
  callee: string;
  calls: number;
  errors: number;
  callsPerMinute: number;
  gapP50Ms: number;
  gapP95Ms: number;
}

/**
 * The buffered traces, one slot each (TraceSlots numbers them), their fields in typed arrays: an
 * object per trace held for the trace grace would be promoted to the old generation and swept there.
 */
class BufferedTraces {
  readonly ids = new TraceSlots();
  /** First and last slot of the trace's spans in the graph's columns (a chain in arrival order). */
  head: Int32Array = new Int32Array(1024);
  tail: Int32Array = new Int32Array(1024);
  count: Int32Array = new Int32Array(1024);
  lastMs: Float64Array = new Float64Array(1024);
  /** Earliest span start: bounds which slices this trace can still add to. */
  firstMs: Float64Array = new Float64Array(1024);
  /** Arrival order: completed traces are folded in it (reservoirs and key admission depend on order). */
  seq: Float64Array = new Float64Array(1024);
  /** lastMs as the heap knows it; lastMs only grows, so a stale entry is re-filed when it surfaces. */
  heapMs: Float64Array = new Float64Array(1024);
  /** 1 while the slot holds a buffered trace. */
  live: Uint8Array = new Uint8Array(1024);

  get size(): number {
    return this.ids.size;
  }

  /** A slot for a new trace (its fields to be set by the caller). */
  add(id: string): number {
    const t = this.ids.add(id);
    if (t >= this.head.length) this.grow(this.ids.capacity);
    this.live[t] = 1;
    return t;
  }

  remove(t: number): void {
    this.live[t] = 0;
    this.ids.remove(t);
  }

  private grow(n: number): void {
    const i32 = (a: Int32Array): Int32Array => {
      const out = new Int32Array(n);
      out.set(a);
      return out;
    };
    const f64 = (a: Float64Array): Float64Array => {
      const out = new Float64Array(n);
      out.set(a);
      return out;
    };
    this.head = i32(this.head);
    this.tail = i32(this.tail);
    this.count = i32(this.count);
    this.lastMs = f64(this.lastMs);
    this.firstMs = f64(this.firstMs);
    this.seq = f64(this.seq);
    this.heapMs = f64(this.heapMs);
    const live = new Uint8Array(n);
    live.set(this.live);
    this.live = live;
  }
}

/**
 * The span tree of the trace being folded, by node index (a node is the first span with its id,
 * in arrival order): reused from trace to trace, so a fold allocates nothing per span.
 */
class FoldScratch {
  /** Column slot of each node. */
  slot = new Int32Array(64);
  /** Parent node in the trace, -1 when none. */
  parent = new Int32Array(64);
  firstChild = new Int32Array(64);
  lastChild = new Int32Array(64);
  nextSibling = new Int32Array(64);
  /** 1 when the parent lives in another service. */
  remote = new Uint8Array(64);
  readonly stack: number[] = [];
  /** Span id to node, used for traces longer than LINEAR_LOOKUP_SPANS. */
  readonly byId = new Map<string, number>();
  /** Children's clipped intervals (exclusiveMs). */
  lo = new Float64Array(64);
  hi = new Float64Array(64);

  ensure(n: number): void {
    if (n <= this.slot.length) return;
    let size = this.slot.length;
    while (size < n) size *= 2;
    this.slot = new Int32Array(size);
    this.parent = new Int32Array(size);
    this.firstChild = new Int32Array(size);
    this.lastChild = new Int32Array(size);
    this.nextSibling = new Int32Array(size);
    this.remote = new Uint8Array(size);
  }

  ensureIntervals(n: number): void {
    if (n <= this.lo.length) return;
    let size = this.lo.length;
    while (size < n) size *= 2;
    this.lo = new Float64Array(size);
    this.hi = new Float64Array(size);
  }
}

/** Traces up to this many spans find parents by a scan of their own ids instead of a map. */
const LINEAR_LOOKUP_SPANS = 16;

export function edgeKey(caller: string, callee: string): string {
  return `${caller}\u0000${callee}`;
}

export function endpointKey(service: string, operation: string): string {
  return `${service}\u0000${operation}`;
}

export class ServiceGraph {
  private readonly opts: ServiceGraphOptions;
  private readonly traces = new BufferedTraces();
  /** The buffered spans of all pending traces. */
  private readonly cols = new GraphSpanColumns();
  private readonly scratch = new FoldScratch();
  /**
   * `${a}\u0000${b}` keys of endpoints and edges by a, then b: built once per pair, since a new
   * string per request is hashed afresh by the map it is looked up in (bounded like the labels).
   */
  private readonly pairKeys = new Map<string, Map<string, string>>();
  private pairKeyCount = 0;
  /** The slice sliceFor() returned last (most requests of a fold fall in the same one). */
  private lastSlice: GraphSlice | undefined;
  /** Span name to its pattern key (bounded like the labels). */
  private readonly opKeys = new Map<string, string>();
  /** Buffered traces by (heapMs, seq): the least recently ended is found in O(log n), not by a scan. */
  private readonly byEnd: TraceHeap;
  /**
   * Traces buffered since the last pop and not yet filed in byEnd. A trace's later spans (its
   * parents, which end last) mostly come in the same request after its first one, so filing it at
   * its first span's end made nearly every entry stale: popped, re-filed and popped again. Filed
   * just before the next pop instead, with its end as of then; the heap still yields the true
   * least recently ended trace, because every buffered trace is in it whenever it is popped.
   */
  private readonly unfiled: number[] = [];
  private seq = 0;
  private readonly slices = new Map<number, GraphSlice>();
  /** Error logs bound to a span, waiting for their trace to be folded. */
  private readonly spanErrorLogs = new Map<string, number>();
  private readonly knownKeys = new Set<string>();
  /** Slices before this start were handed out; late contributions to them are dropped. */
  private emittedUntil = -Infinity;
  private readonly edgeTotals = new Map<string, { caller: string; callee: string; calls: number; errors: number; firstMs: number; lastMs: number; gap: SampleSet }>();
  /**
   * Log templates per service, for records that come without the log detector's templates (log
   * detection off, or the graph run alone): the same Drain-style miner, its own instance, made on
   * first use.
   */
  private miner: LogTemplateMiner | undefined;
  /** Readable text of pattern keys (service + key), bounded. */
  private readonly labels = new Map<string, string>();
  /** Pattern key of a log template at a level, and the template text its label was last set to (bounded). */
  private readonly logPatterns = [0, 1, 2].map(() => new Map<string, LogPattern>());
  /** Log patterns with records counted during the current observeLogs call, not yet added to their figures. */
  private readonly pendingPatterns: LogPattern[] = [];
  droppedKeys = 0;
  lateRequests = 0;
  /** Traces folded before their grace because `maxTraces` were buffered. */
  tracesFoldedEarly = 0;

  constructor(opts: Partial<ServiceGraphOptions> = {}) {
    this.opts = { ...DEFAULT_SERVICE_GRAPH_OPTIONS, ...opts };
    this.byEnd = new TraceHeap(this.traces);
  }

  observe(beats: readonly Beat[]): void {
    const tr = this.traces;
    // The spans of one trace mostly arrive back to back: only the first of them looks it up.
    let t = -1;
    let id = '';
    for (const b of beats) {
      if (t === -1 || id !== b.traceId) {
        id = b.traceId;
        t = tr.ids.find(id);
        if (t === -1) {
          if (tr.size >= this.opts.maxTraces) this.foldOldest();
          const end = Math.max(0, b.startMs + b.durationMs);
          t = tr.add(id);
          tr.head[t] = -1;
          tr.tail[t] = -1;
          tr.count[t] = 0;
          tr.lastMs[t] = end;
          tr.firstMs[t] = b.startMs;
          tr.seq[t] = this.seq++;
          this.unfiled.push(t);
        }
      }
      const slot = this.cols.add(b);
      const tail = tr.tail[t]!;
      if (tail === -1) tr.head[t] = slot;
      else this.cols.next[tail] = slot;
      tr.tail[t] = slot;
      tr.count[t] = tr.count[t]! + 1;
      tr.lastMs[t] = Math.max(tr.lastMs[t]!, b.startMs + b.durationMs);
      if (b.startMs < tr.firstMs[t]!) tr.firstMs[t] = b.startMs;
    }
  }

  /**
   * Log records: counted per service, and error records marked on their span's request.
   * `templates[i]` is the template the log detector mined from events[i]; without them the graph
   * mines the records itself.
   */
  observeLogs(events: readonly LogEvent[], templates?: readonly TemplateMatch[]): void {
    const mined = templates !== undefined && templates.length === events.length ? templates : undefined;
    const miner = mined === undefined ? (this.miner ??= new LogTemplateMiner({ maxTemplatesPerService: 256 })) : undefined;
    // Records come in runs of one service and slice: the figures found last serve the run (only
    // found ones, so refused records are still counted each).
    let last: ServiceSliceFigures | undefined;
    let lastStart = NaN;
    let lastService = '';
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const start = Math.floor(e.timeMs / this.opts.sliceMs) * this.opts.sliceMs;
      let svc = last;
      if (svc === undefined || start !== lastStart || e.service !== lastService) {
        const s = this.sliceFor(e.timeMs);
        if (s === undefined) continue;
        svc = this.serviceFigures(s, e.service);
        if (svc === undefined) continue;
        last = svc;
        lastStart = start;
        lastService = e.service;
      }
      svc.logs++;
      const m = mined !== undefined ? mined[i]! : miner!.add(e.service, e.body, e.bodyShape);
      const level = e.severityNumber >= SEVERITY_ERROR ? 'error' : e.severityNumber >= SEVERITY_WARN ? 'warn' : 'info';
      // The key and label strings of a (template, level) are built once, not per record; its
      // records are counted on it and added to the figures' map once per call (see countPending).
      const p = this.logPattern(m.templateId, level);
      if (p.figures !== svc) {
        if (p.figures === undefined) this.pendingPatterns.push(p);
        else countPending(p);
        p.figures = svc;
        // The map keeps its keys in the order they first came, as when it was counted per record.
        if (!svc.patterns.has(p.key)) svc.patterns.set(p.key, 0);
      }
      p.pending++;
      if (p.labelled !== m.template && this.label(e.service, p.key, `${level} log "${m.template}"`)) p.labelled = m.template;
      if (e.severityNumber < SEVERITY_ERROR) continue;
      svc.errorLogs++;
      if (e.spanId !== '' && this.spanErrorLogs.size < this.opts.maxTraces) this.spanErrorLogs.set(e.spanId, (this.spanErrorLogs.get(e.spanId) ?? 0) + 1);
    }
    const pending = this.pendingPatterns;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i]!;
      countPending(p);
      p.figures = undefined;
    }
    pending.length = 0;
  }

  /**
   * Folds the traces that are complete at data time nowMs and returns the slices no trace can add
   * to any more, oldest first.
   */
  advance(nowMs: number): GraphSlice[] {
    const tr = this.traces;
    const done: number[] = [];
    for (let t = this.popLeastRecent(); t !== -1; t = this.popLeastRecent()) {
      if (tr.lastMs[t]! + this.opts.traceGraceMs > nowMs) {
        this.byEnd.push(t);
        break;
      }
      done.push(t);
    }
    done.sort((a, b) => tr.seq[a]! - tr.seq[b]!);
    for (const t of done) this.foldAndFree(t);
    let oldestPending = Infinity;
    for (let t = 0; t < tr.live.length; t++) if (tr.live[t] === 1) oldestPending = Math.min(oldestPending, tr.firstMs[t]!);
    const ready: GraphSlice[] = [];
    const limit = Math.min(nowMs - this.opts.traceGraceMs, oldestPending);
    // Quiet periods still pass: empty slices let open findings resolve when traffic stops.
    if (Number.isFinite(this.emittedUntil)) {
      // A long gap (traffic paused, or a jump in the data's clock) needs only enough empty slices
      // for open findings to resolve and windows to drain; one per slice over hours or years of
      // gap would cost CPU proportional to the gap (a single span with an old timestamp did that).
      const newest = Math.floor(limit / this.opts.sliceMs) * this.opts.sliceMs - MAX_QUIET_SLICES * this.opts.sliceMs;
      for (let start = Math.max(this.emittedUntil, newest); start + this.opts.sliceMs <= limit; start += this.opts.sliceMs) this.sliceFor(start);
    }
    for (const [start, s] of this.slices) {
      if (s.endMs > limit) continue;
      this.slices.delete(start);
      if (s === this.lastSlice) this.lastSlice = undefined;
      ready.push(s);
    }
    ready.sort((a, b) => a.startMs - b.startMs);
    if (ready.length > 0) this.emittedUntil = Math.max(this.emittedUntil, ready[ready.length - 1]!.endMs);
    if (this.spanErrorLogs.size > 0 && this.traces.size === 0) this.spanErrorLogs.clear();
    return ready;
  }

  /** Edges seen so far with their cumulative figures (for the API), busiest first. */
  edges(): EdgeSummary[] {
    return [...this.edgeTotals.values()]
      .map((e) => ({
        caller: e.caller,
        callee: e.callee,
        calls: e.calls,
        errors: e.errors,
        callsPerMinute: e.calls / Math.max(1, (e.lastMs - e.firstMs) / 60_000),
        gapP50Ms: e.gap.quantile(0.5),
        gapP95Ms: e.gap.quantile(0.95),
      }))
      .sort((a, b) => b.calls - a.calls);
  }

  /** Readable text of a service's event pattern key (the template or the operation). */
  patternLabel(service: string, key: string): string {
    return this.labels.get(`${service}\u0000${key}`) ?? key;
  }

  /** Sets the readable text of a pattern key; false when the label table is full. */
  private label(service: string, key: string, text: string): boolean {
    const k = `${service}\u0000${key}`;
    if (!this.labels.has(k) && this.labels.size >= 4 * this.opts.maxKeys) return false;
    this.labels.set(k, text);
    return true;
  }

  private logPattern(templateId: string, level: 'error' | 'warn' | 'info'): LogPattern {
    // One map per level, keyed by the miner's own id string (its hash is computed once).
    const byId = this.logPatterns[level === 'error' ? 2 : level === 'warn' ? 1 : 0]!;
    let p = byId.get(templateId);
    if (p === undefined) {
      if (byId.size >= 4 * this.opts.maxKeys) byId.clear();
      p = { key: `log:${level}:${templateId}`, labelled: '', figures: undefined, pending: 0 };
      byId.set(templateId, p);
    }
    return p;
  }

  /** Services adjacent to `service` in the graph (callers and callees). */
  neighbours(service: string): Set<string> {
    const out = new Set<string>();
    for (const e of this.edgeTotals.values()) {
      if (e.caller === service) out.add(e.callee);
      if (e.callee === service) out.add(e.caller);
    }
    return out;
  }

  /** Services `service` calls. */
  callees(service: string): string[] {
    const out: string[] = [];
    for (const e of this.edgeTotals.values()) if (e.caller === service && e.callee !== service) out.push(e.callee);
    return out;
  }

  /** Whether requests or logs of `service` ever reached this graph. */
  observes(service: string): boolean {
    return this.knownKeys.has(`s:${service}`);
  }

  /** True when no other service was seen calling `service` (it is where requests come in). */
  isEntryService(service: string): boolean {
    for (const e of this.edgeTotals.values()) if (e.callee === service && e.caller !== service) return false;
    return true;
  }

  /** The buffered trace with the smallest lastMs (earliest arrival among equals), off the heap; -1 when none. */
  private popLeastRecent(): number {
    const tr = this.traces;
    const unfiled = this.unfiled;
    if (unfiled.length > 0) {
      for (let i = 0; i < unfiled.length; i++) {
        const u = unfiled[i]!;
        tr.heapMs[u] = tr.lastMs[u]!;
        this.byEnd.push(u);
      }
      unfiled.length = 0;
    }
    for (;;) {
      const t = this.byEnd.pop();
      if (t === -1 || tr.heapMs[t] === tr.lastMs[t]) return t;
      tr.heapMs[t] = tr.lastMs[t]!;
      this.byEnd.push(t);
    }
  }

  /** What the budgets hold and what they turned away, for metrics. */
  budget(): ServiceGraphBudget {
    return { bufferedTraces: this.traces.size, tracesFoldedEarly: this.tracesFoldedEarly, droppedKeys: this.droppedKeys, lateRequests: this.lateRequests };
  }

  private foldOldest(): void {
    const t = this.popLeastRecent();
    if (t === -1) return;
    this.tracesFoldedEarly++;
    this.foldAndFree(t);
  }

  /** Folds a complete trace (buffered in slot t) into its slices and frees its slot and its spans' slots. */
  private foldAndFree(t: number): void {
    const tr = this.traces;
    const head = tr.head[t]!;
    const tail = tr.tail[t]!;
    const count = tr.count[t]!;
    tr.remove(t);
    this.fold(head, tail, count);
  }

  /** Folds the spans of one trace (the chain head..tail of count slots) and frees their slots. */
  private fold(head: number, tail: number, count: number): void {
    const c = this.cols;
    const x = this.scratch;
    x.ensure(count);
    const slot = x.slot;
    const parent = x.parent;
    const firstChild = x.firstChild;
    const lastChild = x.lastChild;
    const nextSibling = x.nextSibling;
    const remote = x.remote;
    // Nodes: the first span with each id, in arrival order.
    const linear = count <= LINEAR_LOOKUP_SPANS;
    const byId = x.byId;
    if (!linear) byId.clear();
    let n = 0;
    for (let s = head; s !== -1; s = c.next[s]!) {
      if (linear) {
        if (this.nodeWithId(s, n) !== -1) continue;
      } else {
        const id = c.spanId(s);
        if (byId.has(id)) continue;
        byId.set(id, n);
      }
      slot[n] = s;
      parent[n] = -1;
      firstChild[n] = -1;
      lastChild[n] = -1;
      nextSibling[n] = -1;
      remote[n] = 0;
      n++;
    }
    for (let i = 0; i < n; i++) {
      const si = slot[i]!;
      if (c.isRoot(si)) continue;
      const p = linear ? this.parentNode(si, n) : (byId.get(c.parentSpanId(si)) ?? -1);
      if (p === -1) continue;
      parent[i] = p;
      if (lastChild[p] === -1) firstChild[p] = i;
      else nextSibling[lastChild[p]!] = i;
      lastChild[p] = i;
      remote[i] = c.service[slot[p]!] !== c.service[slot[i]!] ? 1 : 0;
    }
    for (let i = 0; i < n; i++) {
      const b = slot[i]!;
      const p = parent[i]!;
      const isRemote = remote[i] === 1;
      if (isRemote && p !== -1) this.foldEdge(slot[p]!, b);
      const kind = c.kind[b];
      const entry = c.isRoot(b) || isRemote || kind === SPAN_KIND_SERVER || kind === SPAN_KIND_CONSUMER;
      if (!entry || (p !== -1 && !isRemote)) continue;
      this.foldRequest(i);
    }
    if (!linear) byId.clear();
    c.release(head, tail, count);
  }

  /** Node, among the first n of the fold, whose span has the span id of slot s; -1 when none. */
  private nodeWithId(s: number, n: number): number {
    const c = this.cols;
    const slot = this.scratch.slot;
    for (let i = 0; i < n; i++) if (c.sameSpanId(slot[i]!, s)) return i;
    return -1;
  }

  /** Node, among the first n of the fold, that is the parent of the span in slot s; -1 when none. */
  private parentNode(s: number, n: number): number {
    const c = this.cols;
    const slot = this.scratch.slot;
    for (let i = 0; i < n; i++) if (c.isParentOf(slot[i]!, s)) return i;
    return -1;
  }

  private foldEdge(parent: number, child: number): void {
    const c = this.cols;
    const childStart = c.startMs[child]!;
    const s = this.sliceFor(childStart);
    if (s === undefined) return;
    const caller = c.service[parent]!;
    const callee = c.service[child]!;
    const key = this.pairKey(caller, callee);
    let e = s.edges.get(key);
    if (e === undefined) {
      if (!this.admit(`e:${key}`)) return;
      e = { caller, callee, calls: 0, errors: 0, gapMs: new SampleSet(this.opts.maxSamples) };
      s.edges.set(key, e);
    }
    e.calls++;
    const failed = c.status[child] === STATUS_ERROR || c.status[parent] === STATUS_ERROR;
    if (failed) e.errors++;
    let gap = NaN;
    const parentKind = c.kind[parent];
    if (parentKind === SPAN_KIND_PRODUCER) gap = Math.max(0, childStart - c.startMs[parent]!);
    else if (parentKind === SPAN_KIND_CLIENT) gap = Math.max(0, c.durationMs[parent]! - c.durationMs[child]!);
    if (!Number.isNaN(gap)) e.gapMs.add(gap);
    let total = this.edgeTotals.get(key);
    if (total === undefined) {
      total = { caller, callee, calls: 0, errors: 0, firstMs: childStart, lastMs: childStart, gap: new SampleSet(this.opts.maxSamples) };
      this.edgeTotals.set(key, total);
    }
    total.calls++;
    if (failed) total.errors++;
    total.lastMs = Math.max(total.lastMs, childStart);
    if (!Number.isNaN(gap)) total.gap.add(gap);
  }

  /**
   * The pattern key of an operation, `op:<span name>`. Built once per span name: a new string per
   * span would be hashed afresh by every map it is looked up in.
   */
  private opKey(name: string): string {
    let key = this.opKeys.get(name);
    if (key === undefined) {
      key = `op:${name}`;
      if (this.opKeys.size < 4 * this.opts.maxKeys) this.opKeys.set(name, key);
    }
    return key;
  }

  /** Whether the span in `slot` failed: its status, or an error log bound to it. */
  private spanFailed(slot: number): boolean {
    if (this.cols.status[slot] === STATUS_ERROR) return true;
    return this.spanErrorLogs.size > 0 && (this.spanErrorLogs.get(this.cols.spanId(slot)) ?? 0) > 0;
  }

  private foldRequest(entry: number): void {
    const c = this.cols;
    const x = this.scratch;
    const b = x.slot[entry]!;
    const service = c.service[b]!;
    const spanName = c.spanName[b]!;
    const startMs = c.startMs[b]!;
    const durationMs = c.durationMs[b]!;
    const s = this.sliceFor(startMs);
    if (s === undefined) {
      this.lateRequests++;
      return;
    }
    const svc = this.serviceFigures(s, service);
    if (svc === undefined) return;
    const epKey = this.pairKey(service, spanName);
    let ep = s.endpoints.get(epKey);
    if (ep === undefined && this.admit(`p:${epKey}`)) {
      ep = { service, operation: spanName, requests: 0, failed: 0, latencyMs: new SampleSet(this.opts.maxSamples) };
      s.endpoints.set(epKey, ep);
    }
    // Walk the request's local spans: their own time is the service's self time, their errors
    // (status or a bound error log) fail the request, remote children are the callees.
    let self = 0;
    let failed = false;
    let calleeFailed = false;
    const stack = x.stack;
    stack.length = 0;
    stack.push(entry);
    while (stack.length > 0) {
      const n = stack.pop()!;
      const ns = x.slot[n]!;
      const name = c.spanName[ns]!;
      const op = this.opKey(name);
      const seen = svc.patterns.get(op);
      if (seen !== undefined || svc.patterns.size < this.opts.maxSamples) {
        const count = (seen ?? 0) + 1;
        svc.patterns.set(op, count);
        if (count === 1) this.label(service, op, `operation "${name}"`);
      }
      if (this.spanFailed(ns)) failed = true;
      let remote = false;
      for (let ch = x.firstChild[n]!; ch !== -1; ch = x.nextSibling[ch]!) {
        if (x.remote[ch] === 1) {
          remote = true;
          if (this.spanFailed(x.slot[ch]!)) calleeFailed = true;
        } else stack.push(ch);
      }
      // A client span's own time is the edge gap (or, with no server span on the other side, a
      // call that never arrived), not this service's work.
      const kind = c.kind[ns];
      if (n === entry || (!remote && kind !== SPAN_KIND_CLIENT && kind !== SPAN_KIND_PRODUCER)) self += this.exclusiveMs(n);
    }
    svc.requests++;
    svc.latencyMs.add(durationMs);
    if (c.isRoot(b)) s.rootLatencyMs.add(durationMs);
    svc.selfMs.add(self);
    if (failed) svc.failed++;
    if (failed && !calleeFailed) svc.ownFailed++;
    if (ep !== undefined) {
      ep.requests++;
      ep.latencyMs.add(durationMs);
      if (failed) ep.failed++;
    }
  }

  /** Duration of node n not covered by any of its children (they may overlap; their union is subtracted). */
  private exclusiveMs(n: number): number {
    const c = this.cols;
    const x = this.scratch;
    const b = x.slot[n]!;
    const start = c.startMs[b]!;
    const duration = c.durationMs[b]!;
    const end = start + duration;
    if (x.firstChild[n] === -1) return duration;
    // The children's intervals clipped to the span, sorted by start (insertion sort: few children).
    let k = 0;
    for (let ch = x.firstChild[n]!; ch !== -1; ch = x.nextSibling[ch]!) k++;
    x.ensureIntervals(k);
    const lo = x.lo;
    const hi = x.hi;
    k = 0;
    for (let ch = x.firstChild[n]!; ch !== -1; ch = x.nextSibling[ch]!) {
      const cs = x.slot[ch]!;
      const s = Math.max(start, c.startMs[cs]!);
      const e = Math.min(end, c.startMs[cs]! + c.durationMs[cs]!);
      if (!(e > s)) continue;
      lo[k] = s;
      hi[k] = e;
      k++;
    }
    sortIntervals(lo, hi, k);
    let covered = 0;
    let curS = -Infinity;
    let curE = -Infinity;
    for (let i = 0; i < k; i++) {
      const s = lo[i]!;
      const e = hi[i]!;
      if (s > curE) {
        if (curE > curS) covered += curE - curS;
        curS = s;
        curE = e;
      } else curE = Math.max(curE, e);
    }
    if (curE > curS) covered += curE - curS;
    return Math.max(0, duration - covered);
  }

  private serviceFigures(s: GraphSlice, service: string): ServiceSliceFigures | undefined {
    let svc = s.services.get(service);
    if (svc === undefined) {
      if (!this.admit(`s:${service}`)) return undefined;
      svc = {
        service,
        requests: 0,
        failed: 0,
        ownFailed: 0,
        latencyMs: new SampleSet(this.opts.maxSamples),
        selfMs: new SampleSet(this.opts.maxSamples),
        errorLogs: 0,
        logs: 0,
        patterns: new Map(),
      };
      s.services.set(service, svc);
    }
    return svc;
  }

  private admit(key: string): boolean {
    if (this.knownKeys.has(key)) return true;
    if (this.knownKeys.size >= this.opts.maxKeys) {
      this.droppedKeys++;
      return false;
    }
    this.knownKeys.add(key);
    return true;
  }

  /** edgeKey(a, b) and endpointKey(a, b), which are the same string. */
  private pairKey(a: string, b: string): string {
    let byB = this.pairKeys.get(a);
    let key = byB?.get(b);
    if (key !== undefined) return key;
    key = `${a}\u0000${b}`;
    if (this.pairKeyCount >= 4 * this.opts.maxKeys) {
      this.pairKeys.clear();
      this.pairKeyCount = 0;
      byB = undefined;
    }
    if (byB === undefined) {
      byB = new Map();
      this.pairKeys.set(a, byB);
    }
    byB.set(b, key);
    this.pairKeyCount++;
    return key;
  }

  private sliceFor(ms: number): GraphSlice | undefined {
    const start = Math.floor(ms / this.opts.sliceMs) * this.opts.sliceMs;
    if (start < this.emittedUntil) return undefined;
    const last = this.lastSlice;
    if (last !== undefined && last.startMs === start) return last;
    let s = this.slices.get(start);
    if (s === undefined) {
      s = { startMs: start, endMs: start + this.opts.sliceMs, services: new Map(), endpoints: new Map(), edges: new Map(), rootLatencyMs: new SampleSet(this.opts.maxSamples) };
      this.slices.set(start, s);
    }
    this.lastSlice = s;
    return s;
  }
}

/** Sorts the first k intervals (lo[i], hi[i]) by start: insertion sort for a few, else by index. */
function sortIntervals(lo: Float64Array, hi: Float64Array, k: number): void {
  if (k <= 32) {
    for (let i = 1; i < k; i++) {
      const s = lo[i]!;
      const e = hi[i]!;
      let j = i - 1;
      while (j >= 0 && lo[j]! > s) {
        lo[j + 1] = lo[j]!;
        hi[j + 1] = hi[j]!;
        j--;
      }
      lo[j + 1] = s;
      hi[j + 1] = e;
    }
    return;
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => lo[a]! - lo[b]!);
  const ls = order.map((i) => lo[i]!);
  const hs = order.map((i) => hi[i]!);
  for (let i = 0; i < k; i++) {
    lo[i] = ls[i]!;
    hi[i] = hs[i]!;
  }
}

/**
 * Min-heap of buffered trace slots ordered by (heapMs, seq), four children per node: half the
 * levels of a binary heap, and a node's children's keys sit side by side (keys interleaved as
 * [ms, seq] pairs in one typed array: the four children's are one 64-byte line). At full speed a
 * trace is popped per new trace from a heap of maxTraces, so each level is a cache miss.
 */
class TraceHeap {
  private items = new Int32Array(1024);
  /** keys[2i] = heapMs, keys[2i + 1] = seq of items[i]. */
  private keys = new Float64Array(2048);
  private n = 0;

  constructor(private readonly traces: BufferedTraces) {}

  push(t: number): void {
    const n = this.n;
    if (n === this.items.length) this.grow();
    const items = this.items;
    const keys = this.keys;
    const k = this.traces.heapMs[t]!;
    const q = this.traces.seq[t]!;
    this.n = n + 1;
    let i = n;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pk = keys[2 * p]!;
      if (!(k < pk || (k === pk && q < keys[2 * p + 1]!))) break;
      items[i] = items[p]!;
      keys[2 * i] = pk;
      keys[2 * i + 1] = keys[2 * p + 1]!;
      i = p;
    }
    items[i] = t;
    keys[2 * i] = k;
    keys[2 * i + 1] = q;
  }

  /** The slot with the smallest key, removed; -1 when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const items = this.items;
    const top = items[0]!;
    const n = --this.n;
    if (n === 0) return top;
    const keys = this.keys;
    const last = items[n]!;
    const k = keys[2 * n]!;
    const q = keys[2 * n + 1]!;
    let i = 0;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The smallest of the (up to four) children.
      let c = first;
      let cm = keys[2 * c]!;
      let cq = keys[2 * c + 1]!;
      const end = Math.min(first + 4, n);
      for (let j = first + 1; j < end; j++) {
        const jm = keys[2 * j]!;
        if (jm < cm || (jm === cm && keys[2 * j + 1]! < cq)) {
          c = j;
          cm = jm;
          cq = keys[2 * j + 1]!;
        }
      }
      if (!(cm < k || (cm === k && cq < q))) break;
      items[i] = items[c]!;
      keys[2 * i] = cm;
      keys[2 * i + 1] = cq;
      i = c;
    }
    items[i] = last;
    keys[2 * i] = k;
    keys[2 * i + 1] = q;
    return top;
  }

  private grow(): void {
    const items = new Int32Array(this.items.length * 2);
    items.set(this.items);
    this.items = items;
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
  }
}
