import {
  SPAN_KIND_CLIENT,
  SPAN_KIND_CONSUMER,
  SPAN_KIND_PRODUCER,
  SPAN_KIND_SERVER,
  STATUS_ERROR,
  type Beat,
} from '../model/beat.js';
import { SEVERITY_ERROR, SEVERITY_WARN, type LogEvent } from '../model/log-event.js';
import { LogTemplateMiner } from './log-templates.js';

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

/** Empty slices emitted at most to cover a quiet gap (an hour at the default 10 s slices). */
export const MAX_QUIET_SLICES = 360;

export const DEFAULT_SERVICE_GRAPH_OPTIONS: ServiceGraphOptions = {
  sliceMs: 10_000,
  traceGraceMs: 5_000,
  maxTraces: 50_000,
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

/** The fields of a span the graph folds: buffered per trace instead of the whole Beat (memory). */
export type GraphSpan = Pick<Beat, 'service' | 'spanName' | 'startMs' | 'durationMs' | 'status' | 'spanId' | 'parentSpanId' | 'spanKind'>;

interface PendingTrace {
  id: string;
  spans: GraphSpan[];
  lastMs: number;
  /** Earliest span start: bounds which slices this trace can still add to. */
  firstMs: number;
  /** Arrival order: completed traces are folded in it (reservoirs and key admission depend on order). */
  seq: number;
  /** lastMs as the heap knows it; lastMs only grows, so a stale entry is re-filed when it surfaces. */
  heapMs: number;
}

interface Node {
  beat: GraphSpan;
  children: Node[];
  remoteParent: boolean;
}

export function edgeKey(caller: string, callee: string): string {
  return `${caller}\u0000${callee}`;
}

export function endpointKey(service: string, operation: string): string {
  return `${service}\u0000${operation}`;
}

export class ServiceGraph {
  private readonly opts: ServiceGraphOptions;
  private readonly traces = new Map<string, PendingTrace>();
  /** Buffered traces by (heapMs, seq): the least recently ended is found in O(log n), not by a scan. */
  private readonly byEnd = new TraceHeap();
  private seq = 0;
  private readonly slices = new Map<number, GraphSlice>();
  /** Error logs bound to a span, waiting for their trace to be folded. */
  private readonly spanErrorLogs = new Map<string, number>();
  private readonly knownKeys = new Set<string>();
  /** Slices before this start were handed out; late contributions to them are dropped. */
  private emittedUntil = -Infinity;
  private readonly edgeTotals = new Map<string, { caller: string; callee: string; calls: number; errors: number; firstMs: number; lastMs: number; gap: SampleSet }>();
  /** Log templates per service (the same Drain-style miner as log detection, its own instance). */
  private readonly miner = new LogTemplateMiner({ maxTemplatesPerService: 256 });
  /** Readable text of pattern keys (service + key), bounded. */
  private readonly labels = new Map<string, string>();
  /** Pattern key of a log template at a level, and the template text its label was last set to (bounded). */
  private readonly logPatterns = [0, 1, 2].map(() => new Map<string, { key: string; labelled: string }>());
  droppedKeys = 0;
  lateRequests = 0;

  constructor(opts: Partial<ServiceGraphOptions> = {}) {
    this.opts = { ...DEFAULT_SERVICE_GRAPH_OPTIONS, ...opts };
  }

  observe(beats: readonly Beat[]): void {
    // The spans of one trace mostly arrive back to back: only the first of them looks it up.
    let t: PendingTrace | undefined;
    for (const b of beats) {
      if (t === undefined || t.id !== b.traceId) t = this.traces.get(b.traceId);
      if (t === undefined) {
        if (this.traces.size >= this.opts.maxTraces) this.foldOldest();
        const end = Math.max(0, b.startMs + b.durationMs);
        t = { id: b.traceId, spans: [], lastMs: end, firstMs: b.startMs, seq: this.seq++, heapMs: end };
        this.traces.set(b.traceId, t);
        this.byEnd.push(t);
      }
      t.spans.push({
        service: b.service,
        spanName: b.spanName,
        startMs: b.startMs,
        durationMs: b.durationMs,
        status: b.status,
        spanId: b.spanId,
        parentSpanId: b.parentSpanId,
        spanKind: b.spanKind,
      });
      t.lastMs = Math.max(t.lastMs, b.startMs + b.durationMs);
      if (b.startMs < t.firstMs) t.firstMs = b.startMs;
    }
  }

  /** Log records: counted per service, and error records marked on their span's request. */
  observeLogs(events: readonly LogEvent[]): void {
    for (const e of events) {
      const s = this.sliceFor(e.timeMs);
      if (s === undefined) continue;
      const svc = this.serviceFigures(s, e.service);
      if (svc === undefined) continue;
      svc.logs++;
      const m = this.miner.add(e.service, e.body, e.bodyShape);
      const level = e.severityNumber >= SEVERITY_ERROR ? 'error' : e.severityNumber >= SEVERITY_WARN ? 'warn' : 'info';
      // The key and label strings of a (template, level) are built once, not per record.
      const p = this.logPattern(m.templateId, level);
      svc.patterns.set(p.key, (svc.patterns.get(p.key) ?? 0) + 1);
      if (p.labelled !== m.template && this.label(e.service, p.key, `${level} log "${m.template}"`)) p.labelled = m.template;
      if (e.severityNumber < SEVERITY_ERROR) continue;
      svc.errorLogs++;
      if (e.spanId !== '' && this.spanErrorLogs.size < this.opts.maxTraces) this.spanErrorLogs.set(e.spanId, (this.spanErrorLogs.get(e.spanId) ?? 0) + 1);
    }
  }

  /**
   * Folds the traces that are complete at data time nowMs and returns the slices no trace can add
   * to any more, oldest first.
   */
  advance(nowMs: number): GraphSlice[] {
    const done: PendingTrace[] = [];
    for (let t = this.popLeastRecent(); t !== undefined; t = this.popLeastRecent()) {
      if (t.lastMs + this.opts.traceGraceMs > nowMs) {
        this.byEnd.push(t);
        break;
      }
      this.traces.delete(t.id);
      done.push(t);
    }
    done.sort((a, b) => a.seq - b.seq);
    for (const t of done) this.fold(t.spans);
    let oldestPending = Infinity;
    for (const t of this.traces.values()) oldestPending = Math.min(oldestPending, t.firstMs);
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

  private logPattern(templateId: string, level: 'error' | 'warn' | 'info'): { key: string; labelled: string } {
    // One map per level, keyed by the miner's own id string (its hash is computed once).
    const byId = this.logPatterns[level === 'error' ? 2 : level === 'warn' ? 1 : 0]!;
    let p = byId.get(templateId);
    if (p === undefined) {
      if (byId.size >= 4 * this.opts.maxKeys) byId.clear();
      p = { key: `log:${level}:${templateId}`, labelled: '' };
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

  /** The buffered trace with the smallest lastMs (earliest arrival among equals), off the heap. */
  private popLeastRecent(): PendingTrace | undefined {
    for (;;) {
      const t = this.byEnd.pop();
      if (t === undefined || t.heapMs === t.lastMs) return t;
      t.heapMs = t.lastMs;
      this.byEnd.push(t);
    }
  }

  private foldOldest(): void {
    const t = this.popLeastRecent();
    if (t === undefined) return;
    this.traces.delete(t.id);
    this.fold(t.spans);
  }

  private fold(beats: GraphSpan[]): void {
    const nodes = new Map<string, Node>();
    for (const b of beats) if (!nodes.has(b.spanId)) nodes.set(b.spanId, { beat: b, children: [], remoteParent: false });
    for (const n of nodes.values()) {
      const p = n.beat.parentSpanId === '' ? undefined : nodes.get(n.beat.parentSpanId);
      if (p === undefined) continue;
      p.children.push(n);
      n.remoteParent = p.beat.service !== n.beat.service;
    }
    for (const n of nodes.values()) {
      const b = n.beat;
      const p = b.parentSpanId === '' ? undefined : nodes.get(b.parentSpanId);
      if (n.remoteParent && p !== undefined) this.foldEdge(p.beat, b);
      const entry = b.parentSpanId === '' || n.remoteParent || b.spanKind === SPAN_KIND_SERVER || b.spanKind === SPAN_KIND_CONSUMER;
      if (!entry || (p !== undefined && !n.remoteParent)) continue;
      this.foldRequest(n);
    }
  }

  private foldEdge(parent: GraphSpan, child: GraphSpan): void {
    const s = this.sliceFor(child.startMs);
    if (s === undefined) return;
    const key = edgeKey(parent.service, child.service);
    let e = s.edges.get(key);
    if (e === undefined) {
      if (!this.admit(`e:${key}`)) return;
      e = { caller: parent.service, callee: child.service, calls: 0, errors: 0, gapMs: new SampleSet(this.opts.maxSamples) };
      s.edges.set(key, e);
    }
    e.calls++;
    const failed = child.status === STATUS_ERROR || parent.status === STATUS_ERROR;
    if (failed) e.errors++;
    let gap = NaN;
    if (parent.spanKind === SPAN_KIND_PRODUCER) gap = Math.max(0, child.startMs - parent.startMs);
    else if (parent.spanKind === SPAN_KIND_CLIENT) gap = Math.max(0, parent.durationMs - child.durationMs);
    if (!Number.isNaN(gap)) e.gapMs.add(gap);
    let total = this.edgeTotals.get(key);
    if (total === undefined) {
      total = { caller: parent.service, callee: child.service, calls: 0, errors: 0, firstMs: child.startMs, lastMs: child.startMs, gap: new SampleSet(this.opts.maxSamples) };
      this.edgeTotals.set(key, total);
    }
    total.calls++;
    if (failed) total.errors++;
    total.lastMs = Math.max(total.lastMs, child.startMs);
    if (!Number.isNaN(gap)) total.gap.add(gap);
  }

  private foldRequest(entry: Node): void {
    const b = entry.beat;
    const s = this.sliceFor(b.startMs);
    if (s === undefined) {
      this.lateRequests++;
      return;
    }
    const svc = this.serviceFigures(s, b.service);
    if (svc === undefined) return;
    const epKey = endpointKey(b.service, b.spanName);
    let ep = s.endpoints.get(epKey);
    if (ep === undefined && this.admit(`p:${epKey}`)) {
      ep = { service: b.service, operation: b.spanName, requests: 0, failed: 0, latencyMs: new SampleSet(this.opts.maxSamples) };
      s.endpoints.set(epKey, ep);
    }
    // Walk the request's local spans: their own time is the service's self time, their errors
    // (status or a bound error log) fail the request, remote children are the callees.
    let self = 0;
    let failed = false;
    let calleeFailed = false;
    const stack: Node[] = [entry];
    while (stack.length > 0) {
      const n = stack.pop()!;
      const op = `op:${n.beat.spanName}`;
      if (svc.patterns.has(op) || svc.patterns.size < this.opts.maxSamples) {
        svc.patterns.set(op, (svc.patterns.get(op) ?? 0) + 1);
        if (svc.patterns.get(op) === 1) this.label(b.service, op, `operation "${n.beat.spanName}"`);
      }
      if (n.beat.status === STATUS_ERROR || (this.spanErrorLogs.get(n.beat.spanId) ?? 0) > 0) failed = true;
      let remote = false;
      for (const c of n.children) {
        if (c.remoteParent) {
          remote = true;
          if (c.beat.status === STATUS_ERROR || (this.spanErrorLogs.get(c.beat.spanId) ?? 0) > 0) calleeFailed = true;
        } else stack.push(c);
      }
      // A client span's own time is the edge gap (or, with no server span on the other side, a
      // call that never arrived), not this service's work.
      if (n === entry || (!remote && n.beat.spanKind !== SPAN_KIND_CLIENT && n.beat.spanKind !== SPAN_KIND_PRODUCER)) self += exclusiveMs(n);
    }
    svc.requests++;
    svc.latencyMs.add(b.durationMs);
    if (b.parentSpanId === '') s.rootLatencyMs.add(b.durationMs);
    svc.selfMs.add(self);
    if (failed) svc.failed++;
    if (failed && !calleeFailed) svc.ownFailed++;
    if (ep !== undefined) {
      ep.requests++;
      ep.latencyMs.add(b.durationMs);
      if (failed) ep.failed++;
    }
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

  private sliceFor(ms: number): GraphSlice | undefined {
    const start = Math.floor(ms / this.opts.sliceMs) * this.opts.sliceMs;
    if (start < this.emittedUntil) return undefined;
    let s = this.slices.get(start);
    if (s === undefined) {
      s = { startMs: start, endMs: start + this.opts.sliceMs, services: new Map(), endpoints: new Map(), edges: new Map(), rootLatencyMs: new SampleSet(this.opts.maxSamples) };
      this.slices.set(start, s);
    }
    return s;
  }
}

/** Duration not covered by any child (children may overlap; their union is subtracted). */
export function exclusiveMs(n: Node): number {
  const b = n.beat;
  if (n.children.length === 0) return b.durationMs;
  const spans = n.children
    .map((c) => [Math.max(b.startMs, c.beat.startMs), Math.min(b.startMs + b.durationMs, c.beat.startMs + c.beat.durationMs)] as const)
    .filter(([s, e]) => e > s)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let curS = -Infinity;
  let curE = -Infinity;
  for (const [s, e] of spans) {
    if (s > curE) {
      if (curE > curS) covered += curE - curS;
      curS = s;
      curE = e;
    } else curE = Math.max(curE, e);
  }
  if (curE > curS) covered += curE - curS;
  return Math.max(0, b.durationMs - covered);
}

/**
 * Binary min-heap of buffered traces ordered by (heapMs, seq). The keys live in typed arrays
 * beside the items, so sifting compares numbers in contiguous memory instead of following a
 * pointer to each trace (the heap holds up to maxTraces of them).
 */
class TraceHeap {
  private items: PendingTrace[] = [];
  private ms = new Float64Array(1024);
  private seqs = new Float64Array(1024);

  push(t: PendingTrace): void {
    const n = this.items.length;
    if (n === this.ms.length) this.grow();
    const items = this.items;
    const ms = this.ms;
    const seqs = this.seqs;
    const k = t.heapMs;
    const q = t.seq;
    items.push(t);
    let i = n;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!(k < ms[p]! || (k === ms[p]! && q < seqs[p]!))) break;
      items[i] = items[p]!;
      ms[i] = ms[p]!;
      seqs[i] = seqs[p]!;
      i = p;
    }
    items[i] = t;
    ms[i] = k;
    seqs[i] = q;
  }

  pop(): PendingTrace | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const n = items.length;
    if (top === undefined || last === undefined || n === 0) return top;
    const ms = this.ms;
    const seqs = this.seqs;
    const k = ms[n]!;
    const q = seqs[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (ms[r]! < ms[l]! || (ms[r]! === ms[l]! && seqs[r]! < seqs[l]!)) ? r : l;
      if (!(ms[c]! < k || (ms[c]! === k && seqs[c]! < q))) break;
      items[i] = items[c]!;
      ms[i] = ms[c]!;
      seqs[i] = seqs[c]!;
      i = c;
    }
    items[i] = last;
    ms[i] = k;
    seqs[i] = q;
    return top;
  }

  private grow(): void {
    const ms = new Float64Array(this.ms.length * 2);
    ms.set(this.ms);
    this.ms = ms;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }
}
