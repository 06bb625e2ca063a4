import { describe, expect, it } from 'vitest';
import { MAX_QUIET_SLICES, SampleSet, ServiceGraph, edgeKey, endpointKey } from '../../src/detect/service-graph.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_CONSUMER, SPAN_KIND_INTERNAL, SPAN_KIND_PRODUCER, SPAN_KIND_SERVER, STATUS_ERROR } from '../../src/model/beat.js';
import { beat } from '../diagnose/service-traffic.js';

const T = 1_700_000_000_000;

describe('ServiceGraph', () => {
  it('builds an edge per remote parent with the client/server gap, and per-request self time', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([
      beat({ service: 'a', traceId: 't', spanId: 'a1', spanName: 'GET /x', startMs: T, durationMs: 100 }, SPAN_KIND_SERVER),
      beat({ service: 'a', traceId: 't', spanId: 'a2', parentSpanId: 'a1', spanName: 'GET', startMs: T + 10, durationMs: 80 }, SPAN_KIND_CLIENT),
      beat({ service: 'b', traceId: 't', spanId: 'b1', parentSpanId: 'a2', spanName: 'GET /y', startMs: T + 20, durationMs: 50 }, SPAN_KIND_SERVER),
    ]);
    expect(g.advance(T + 5_000)).toEqual([]); // the slice is not over yet
    const [slice] = g.advance(T + 20_000);
    const e = slice!.edges.get(edgeKey('a', 'b'))!;
    expect(e.calls).toBe(1);
    expect(e.gapMs.samples).toEqual([30]);
    const a = slice!.services.get('a')!;
    expect(a.requests).toBe(1);
    expect(a.selfMs.samples).toEqual([20]); // 100 ms minus the 80 ms client span
    expect(slice!.services.get('b')!.selfMs.samples).toEqual([50]);
    expect(slice!.rootLatencyMs.samples).toEqual([100]);
    expect(g.neighbours('a')).toEqual(new Set(['b']));
    expect(g.callees('a')).toEqual(['b']);
    expect(g.isEntryService('a')).toBe(true);
    expect(g.isEntryService('b')).toBe(false);
    expect(g.edges()[0]).toMatchObject({ caller: 'a', callee: 'b', calls: 1, errors: 0, gapP50Ms: 30 });
  });

  it('counts a request once however many of its spans fail, and blames the failure where it starts', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    for (let i = 0; i < 10; i++) {
      const t = `t${i}`;
      g.observe([
        beat({ service: 'web', traceId: t, spanId: `${t}w`, spanName: 'GET /buy', startMs: T + i, durationMs: 40, status: STATUS_ERROR }, SPAN_KIND_SERVER),
        beat({ service: 'web', traceId: t, spanId: `${t}m1`, parentSpanId: `${t}w`, spanName: 'middleware - a', startMs: T + i, durationMs: 1, status: STATUS_ERROR }, SPAN_KIND_INTERNAL),
        beat({ service: 'web', traceId: t, spanId: `${t}m2`, parentSpanId: `${t}w`, spanName: 'request handler - /buy', startMs: T + i + 1, durationMs: 30, status: STATUS_ERROR }, SPAN_KIND_INTERNAL),
        beat({ service: 'web', traceId: t, spanId: `${t}c`, parentSpanId: `${t}m2`, spanName: 'POST', startMs: T + i + 2, durationMs: 20, status: STATUS_ERROR }, SPAN_KIND_CLIENT),
        beat({ service: 'stock', traceId: t, spanId: `${t}s`, parentSpanId: `${t}c`, spanName: 'POST /reserve', startMs: T + i + 3, durationMs: 10, status: STATUS_ERROR }, SPAN_KIND_SERVER),
      ]);
    }
    const [slice] = g.advance(T + 20_000);
    const web = slice!.services.get('web')!;
    expect(web.requests).toBe(10);
    expect(web.failed).toBe(10);
    expect(web.ownFailed).toBe(0); // its callee failed first
    const stock = slice!.services.get('stock')!;
    expect(stock.failed / stock.requests).toBe(1);
    expect(stock.ownFailed).toBe(10);
    const ep = slice!.endpoints.get(endpointKey('web', 'GET /buy'))!;
    expect(ep.failed / ep.requests).toBe(1);
    // Framework spans are not requests or endpoints of their own.
    expect(slice!.endpoints.has(endpointKey('web', 'middleware - a'))).toBe(false);
    expect(slice!.edges.get(edgeKey('web', 'stock'))!.errors).toBe(10);
  });

  it('fails a request whose span has an error log even when its status is unset', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([beat({ service: 'p', traceId: 't', spanId: 's1', spanName: 'GET /p', startMs: T, durationMs: 5 }, SPAN_KIND_SERVER)]);
    g.observeLogs([
      { service: 'p', serviceVersion: '', timeMs: T + 1, severityNumber: 17, severityText: 'ERROR', body: 'boom', traceId: 't', spanId: 's1', attributes: {} },
      { service: 'p', serviceVersion: '', timeMs: T + 2, severityNumber: 9, severityText: 'INFO', body: 'fine', traceId: '', spanId: '', attributes: {} },
    ]);
    const [slice] = g.advance(T + 20_000);
    const p = slice!.services.get('p')!;
    expect(p).toMatchObject({ requests: 1, failed: 1, ownFailed: 1, errorLogs: 1, logs: 2 });
  });

  it('counts each log record to its own service and slice when services and slices change within one call', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxKeys: 2 });
    const log = (service: string, timeMs: number) => ({ service, serviceVersion: '', timeMs, severityNumber: 9, severityText: '', body: 'tick 1', traceId: '', spanId: '', attributes: {} });
    g.observeLogs([
      log('a', T + 1), log('b', T + 2), log('a', T + 3), log('a', T + 4),
      log('a', T + 10_001), log('a', T + 10_002), log('b', T + 10_003), log('a', T + 10_004),
      // A third service is refused (maxKeys 2): every one of its records is counted as dropped.
      log('c', T + 10_005), log('c', T + 10_006), log('a', T + 10_007),
    ]);
    const slices = g.advance(T + 40_000);
    const logs = (i: number, service: string): number | undefined => slices.find((s) => s.startMs === T + i * 10_000)?.services.get(service)?.logs;
    expect([logs(0, 'a'), logs(0, 'b'), logs(1, 'a'), logs(1, 'b'), logs(1, 'c')]).toEqual([3, 1, 4, 1, undefined]);
    expect(g.droppedKeys).toBe(2);
  });

  it('counts event patterns per service: log templates by level and the operations its requests run', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    for (let i = 0; i < 3; i++) {
      g.observe([
        beat({ service: 'p', traceId: `t${i}`, spanId: `s${i}`, spanName: 'GET /price', startMs: T + i, durationMs: 5 }, SPAN_KIND_SERVER),
        beat({ service: 'p', traceId: `t${i}`, spanId: `q${i}`, parentSpanId: `s${i}`, spanName: 'SELECT price', startMs: T + i + 1, durationMs: 2 }, SPAN_KIND_INTERNAL),
      ]);
    }
    const log = (body: string, severityNumber: number) => ({ service: 'p', serviceVersion: '', timeMs: T + 5, severityNumber, severityText: '', body, traceId: '', spanId: '', attributes: {} });
    g.observeLogs([log('Query price for route 17', 9), log('Query price for route 42', 9), log('price <script>alert(1)</script> not found', 17)]);
    const [slice] = g.advance(T + 20_000);
    const patterns = slice!.services.get('p')!.patterns;
    expect(patterns.get('op:GET /price')).toBe(3);
    expect(patterns.get('op:SELECT price')).toBe(3);
    const logs = [...patterns].filter(([k]) => k.startsWith('log:'));
    expect(logs.map(([k, n]) => `${k.split(':')[1]}=${n}`).sort()).toEqual(['error=1', 'info=2']);
    const info = logs.find(([k]) => k.startsWith('log:info:'))![0];
    expect(g.patternLabel('p', info)).toContain('Query price for route');
    expect(g.patternLabel('p', 'op:SELECT price')).toBe('operation "SELECT price"');
    expect(g.patternLabel('p', 'unknown')).toBe('unknown');
  });

  it('counts log records under the templates it is given (the log detector\'s), and mines them itself without', () => {
    const log = (body: string, severityNumber: number) => ({ service: 'p', serviceVersion: '', timeMs: T + 5, severityNumber, severityText: '', body, traceId: '', spanId: '', attributes: {} });
    const events = [log('Query price for route 17', 9), log('Query price for route 42', 9), log('price 7 not found', 17)];
    const given = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    const query = { templateId: 'p#7', template: 'Query price for route <NUM>', created: false };
    given.observeLogs(events, [query, query, { templateId: 'p#9', template: 'price <NUM> not found', created: true }]);
    const [slice] = given.advance(T + 20_000);
    expect([...slice!.services.get('p')!.patterns]).toEqual([
      ['log:info:p#7', 2],
      ['log:error:p#9', 1],
    ]);
    expect(given.patternLabel('p', 'log:info:p#7')).toBe('info log "Query price for route <NUM>"');
    // Templates that do not line up with the records (another batch's) are not used.
    const own = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    own.observeLogs(events, [query]);
    const [mined] = own.advance(T + 20_000);
    const keys = [...mined!.services.get('p')!.patterns.keys()];
    expect(keys).toHaveLength(2);
    expect(keys.map((k) => own.patternLabel('p', k))).toEqual(['info log "Query price for route <NUM>"', 'error log "price <NUM> not found"']);
    expect(keys).not.toContain('log:info:p#7');
  });

  it('counts each record of a pattern to its own slice when records of two slices alternate in one call', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    const at = (timeMs: number, body: string, severityNumber = 9) => ({ service: 'p', serviceVersion: '', timeMs, severityNumber, severityText: '', body, traceId: '', spanId: '', attributes: {} });
    const a = 'Query price for route 1';
    const b = 'cache miss 7';
    g.observeLogs([at(T + 1, a), at(T + 10_001, a), at(T + 2, b), at(T + 3, a), at(T + 10_002, a, 17), at(T + 4, b), at(T + 10_003, a)]);
    g.observeLogs([at(T + 5, a)]);
    const slices = g.advance(T + 40_000);
    const counts = slices.map((sl) => [...sl.services.get('p')!.patterns].map(([k, n]) => `${g.patternLabel('p', k)}=${n}`));
    expect(counts).toEqual([
      ['info log "Query price for route <NUM>"=3', 'info log "cache miss <NUM>"=2'],
      ['info log "Query price for route <NUM>"=2', 'error log "Query price for route <NUM>"=1'],
    ]);
  });

  it('never counts a client span as the caller\'s own time, even when no server span answered it', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([
      beat({ service: 'a', traceId: 't', spanId: 'a1', spanName: 'GET /x', startMs: T, durationMs: 2_010 }, SPAN_KIND_SERVER),
      beat({ service: 'a', traceId: 't', spanId: 'a2', parentSpanId: 'a1', spanName: 'HTTP GET', startMs: T + 5, durationMs: 2_000 }, SPAN_KIND_CLIENT),
    ]);
    const [slice] = g.advance(T + 20_000);
    expect(slice!.services.get('a')!.selfMs.samples).toEqual([10]);
  });

  it('measures queueing time between producer and consumer', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([
      beat({ service: 'q1', traceId: 't', spanId: 'p', spanName: 'send', startMs: T, durationMs: 2 }, SPAN_KIND_PRODUCER),
      beat({ service: 'q2', traceId: 't', spanId: 'c', parentSpanId: 'p', spanName: 'receive', startMs: T + 250, durationMs: 5 }, SPAN_KIND_CONSUMER),
    ]);
    const [slice] = g.advance(T + 20_000);
    expect(slice!.edges.get(edgeKey('q1', 'q2'))!.gapMs.samples).toEqual([250]);
  });

  it('emits empty slices through quiet periods and drops contributions to slices already handed out', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([beat({ service: 'a', traceId: 't1', spanId: 's', spanName: 'x', startMs: T, durationMs: 1 }, SPAN_KIND_SERVER)]);
    expect(g.advance(T + 12_000)).toHaveLength(1);
    const quiet = g.advance(T + 45_000);
    expect(quiet.map((s) => s.startMs - T)).toEqual([10_000, 20_000, 30_000]);
    expect(quiet.every((s) => s.services.size === 0)).toBe(true);
    g.observe([beat({ service: 'a', traceId: 't2', spanId: 's2', spanName: 'x', startMs: T + 1, durationMs: 1 }, SPAN_KIND_SERVER)]);
    g.advance(T + 60_000);
    expect(g.lateRequests).toBe(1);
  });

  it('covers a long gap (a span from years ago, then now) with a bounded number of empty slices', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    const old = T - 5 * 365 * 86_400_000;
    g.observe([beat({ service: 'a', traceId: 'old', spanId: 's', spanName: 'x', startMs: old, durationMs: 1 }, SPAN_KIND_SERVER)]);
    expect(g.advance(old + 12_000)).toHaveLength(1);
    const filled = g.advance(T);
    expect(filled.length).toBeLessThanOrEqual(MAX_QUIET_SLICES);
    expect(filled.length).toBeGreaterThan(MAX_QUIET_SLICES - 2);
    const last = filled[filled.length - 1]!.endMs;
    expect(T - last).toBeLessThan(20_000);
    // and it carries on slice by slice from there
    expect(g.advance(last + 11_000).map((s) => s.startMs)).toEqual([last]);
  });

  it('keeps memory bounded: buffered traces and distinct keys', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxTraces: 2, maxKeys: 3 });
    for (let i = 0; i < 5; i++) g.observe([beat({ service: `svc${i}`, traceId: `t${i}`, spanId: `s${i}`, spanName: 'op', startMs: T + i, durationMs: 1 }, SPAN_KIND_SERVER)]);
    const slices = g.advance(T + 20_000);
    const services = slices.flatMap((s) => [...s.services.keys()]);
    expect(services.length).toBeLessThanOrEqual(3);
    expect(g.droppedKeys).toBeGreaterThan(0);
  });

  it('folds the least recently ended trace early when the buffer is full, and loses none', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxTraces: 2 });
    const err = (spanId: string) => ({ service: 'x', serviceVersion: '', timeMs: T + 3, severityNumber: 17, severityText: 'ERROR', body: 'boom', traceId: '', spanId, attributes: {} });
    g.observe([beat({ service: 'a', traceId: 'ta', spanId: 'sa', spanName: 'op', startMs: T, durationMs: 5_000 }, SPAN_KIND_SERVER)]);
    g.observe([beat({ service: 'b', traceId: 'tb', spanId: 'sb', spanName: 'op', startMs: T + 1, durationMs: 1 }, SPAN_KIND_SERVER)]);
    // A third trace folds 'tb' (ended first) although 'ta' arrived first; the error logs come later,
    // so only the trace still buffered sees its log.
    g.observe([beat({ service: 'c', traceId: 'tc', spanId: 'sc', spanName: 'op', startMs: T + 2, durationMs: 1 }, SPAN_KIND_SERVER)]);
    g.observeLogs([err('sa'), err('sb')]);
    // Before the grace passes: two buffered, one folded early, and the budget says so.
    expect(g.budget()).toEqual({ bufferedTraces: 2, tracesFoldedEarly: 1, droppedKeys: 0, lateRequests: 0 });
    const [slice] = g.advance(T + 20_000);
    expect(slice!.services.get('a')).toMatchObject({ requests: 1, failed: 1 });
    expect(slice!.services.get('b')).toMatchObject({ requests: 1, failed: 0 });
    // Folding at the grace is not early.
    expect(g.budget()).toMatchObject({ bufferedTraces: 0, tracesFoldedEarly: 1 });

    // 2 000 buffered traces: more than the heap's first allocation (1 024), fewer than the traces.
    const many = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxTraces: 2_000 });
    for (let i = 0; i < 10_000; i++) {
      many.observe([beat({ service: 'a', traceId: `t${i}`, spanId: `s${i}`, spanName: 'op', startMs: T + (i % 97), durationMs: (i * 7919) % 500 }, SPAN_KIND_SERVER)]);
    }
    const slices = many.advance(T + 60_000);
    expect(slices.reduce((n, s) => n + (s.services.get('a')?.requests ?? 0), 0)).toBe(10_000);

    // The same with 32-hex-digit trace ids (what the decoders produce, kept as numbers), spans of
    // a trace split over two batches: each trace is still one request.
    const hex = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxTraces: 2_000 });
    const id = (i: number): string => (i * 2654435761).toString(16).padStart(32, '0');
    for (let i = 0; i < 10_000; i++) {
      hex.observe([
        beat({ service: 'a', traceId: id(i), spanId: `r${i}`, spanName: 'op', startMs: T + (i % 97), durationMs: 600 }, SPAN_KIND_SERVER),
        beat({ service: 'a', traceId: id(i + 1), spanId: `c${i + 1}`, parentSpanId: `r${i + 1}`, spanName: 'child', startMs: T + ((i + 1) % 97) + 1, durationMs: 5 }, SPAN_KIND_INTERNAL),
      ]);
    }
    const hexSlices = hex.advance(T + 60_000);
    expect(hexSlices.reduce((n, s) => n + (s.services.get('a')?.requests ?? 0), 0)).toBe(10_000);
    // Every child but the last (whose root never came) ran inside its root's request.
    expect(hexSlices.reduce((n, s) => n + (s.services.get('a')?.patterns.get('op:child') ?? 0), 0)).toBe(9_999);
    expect(hex.budget()).toMatchObject({ bufferedTraces: 0, tracesFoldedEarly: 8_001 });
  });

  it('folds early by where a trace ends after all its spans so far, not by its first span', () => {
    const err = (spanId: string) => ({ service: 'x', serviceVersion: '', timeMs: T + 3, severityNumber: 17, severityText: 'ERROR', body: 'boom', traceId: '', spanId, attributes: {} });
    for (const split of [false, true]) {
      const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000, maxTraces: 2 });
      // 'ta' starts with a child that ends at once; its root, in the same batch or a later one, ends last of all.
      const child = beat({ service: 'a', traceId: 'ta', spanId: 'ca', parentSpanId: 'sa', spanName: 'child', startMs: T, durationMs: 1 }, SPAN_KIND_INTERNAL);
      const root = beat({ service: 'a', traceId: 'ta', spanId: 'sa', spanName: 'op', startMs: T, durationMs: 5_000 }, SPAN_KIND_SERVER);
      const tb = beat({ service: 'b', traceId: 'tb', spanId: 'sb', spanName: 'op', startMs: T + 1, durationMs: 10 }, SPAN_KIND_SERVER);
      if (split) {
        g.observe([child]);
        g.observe([tb]);
        g.observe([root]);
      } else {
        g.observe([child, root]);
        g.observe([tb]);
      }
      // A third trace folds 'tb', which ended first; 'ta' stays buffered and sees its error log.
      g.observe([beat({ service: 'c', traceId: 'tc', spanId: 'sc', spanName: 'op', startMs: T + 2, durationMs: 1 }, SPAN_KIND_SERVER)]);
      g.observeLogs([err('sa'), err('sb')]);
      expect(g.budget()).toEqual({ bufferedTraces: 2, tracesFoldedEarly: 1, droppedKeys: 0, lateRequests: 0 });
      const [slice] = g.advance(T + 20_000);
      expect(slice!.services.get('a')).toMatchObject({ requests: 1, failed: 1 });
      expect(slice!.services.get('a')!.patterns.get('op:child')).toBe(1);
      expect(slice!.services.get('b')).toMatchObject({ requests: 1, failed: 0 });
    }
  });

  it('hands out at most MAX_QUIET_SLICES empty slices for a long quiet gap, the last ones before now', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([beat({ service: 'a', traceId: 't', spanId: 's', spanName: 'op', startMs: T, durationMs: 1 }, SPAN_KIND_SERVER)]);
    expect(g.advance(T + 20_000)).toHaveLength(1);
    const yearLater = T + 365 * 86_400_000;
    const quiet = g.advance(yearLater);
    expect(quiet).toHaveLength(MAX_QUIET_SLICES);
    expect(quiet.every((s) => s.services.size === 0)).toBe(true);
    expect(quiet[quiet.length - 1]!.endMs).toBeLessThanOrEqual(yearLater);
    expect(quiet[quiet.length - 1]!.endMs).toBeGreaterThan(yearLater - 20_000);
    // Contiguous: the skipped part is the gap's beginning, not holes in its end.
    for (let i = 1; i < quiet.length; i++) expect(quiet[i]!.startMs).toBe(quiet[i - 1]!.endMs);
  });

  it('folds a trace of many spans the same way: children in any order, duplicate span ids once', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    const spans = [];
    // 40 one-millisecond children, sent latest first, two of them overlapping by half.
    for (let i = 39; i >= 0; i--) {
      spans.push(beat({ service: 'w', traceId: 't', spanId: `c${i}`, parentSpanId: 'root', spanName: 'step', startMs: T + 2 * i + (i === 1 ? -1.5 : 0), durationMs: 1 }, SPAN_KIND_INTERNAL));
    }
    spans.push(beat({ service: 'w', traceId: 't', spanId: 'c5', parentSpanId: 'root', spanName: 'duplicate', startMs: T, durationMs: 50 }, SPAN_KIND_INTERNAL));
    spans.push(beat({ service: 'w', traceId: 't', spanId: 'root', spanName: 'GET /many', startMs: T, durationMs: 100 }, SPAN_KIND_SERVER));
    spans.push(beat({ service: 'x', traceId: 't', spanId: 'r1', parentSpanId: 'c3', spanName: 'GET /remote', startMs: T + 6, durationMs: 1 }, SPAN_KIND_SERVER));
    g.observe(spans);
    const [slice] = g.advance(T + 20_000);
    const w = slice!.services.get('w')!;
    expect(w.requests).toBe(1);
    // The root's 100 ms less the 39.5 ms its children cover (two share 0.5 ms), plus each child's
    // own 1 ms but c3's, whose time is the call to x; the duplicate c5 is not a child.
    expect(w.selfMs.samples).toEqual([60.5 + 39]);
    expect(w.patterns.get('op:step')).toBe(40);
    expect(w.patterns.has('op:duplicate')).toBe(false);
    expect(slice!.edges.get(edgeKey('w', 'x'))!.calls).toBe(1);
    expect(slice!.services.get('x')!.requests).toBe(1);
  });

  it('subtracts overlapping children once', () => {
    const g = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
    g.observe([
      beat({ service: 'a', traceId: 't', spanId: 'r', spanName: 'GET /', startMs: T, durationMs: 100 }, SPAN_KIND_SERVER),
      beat({ service: 'a', traceId: 't', spanId: 'c1', parentSpanId: 'r', spanName: 'q1', startMs: T + 10, durationMs: 40 }, SPAN_KIND_INTERNAL),
      beat({ service: 'a', traceId: 't', spanId: 'c2', parentSpanId: 'r', spanName: 'q2', startMs: T + 30, durationMs: 40 }, SPAN_KIND_INTERNAL),
    ]);
    const [slice] = g.advance(T + 20_000);
    // Self time: 40 ms of the root not covered by [10, 70) plus both children's own 40 ms each.
    expect(slice!.services.get('a')!.selfMs.samples).toEqual([120]);
  });
});

describe('SampleSet', () => {
  it('keeps a bounded, deterministic reservoir and interpolated quantiles', () => {
    const s = new SampleSet(4);
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.count).toBe(100);
    expect(s.samples).toHaveLength(4);
    const t = new SampleSet(4);
    for (let i = 1; i <= 100; i++) t.add(i);
    expect(t.samples).toEqual(s.samples);
    const q = new SampleSet(10);
    for (const v of [1, 2, 3, 4]) q.add(v);
    expect(q.quantile(0.5)).toBe(2.5);
    expect(new SampleSet(3).quantile(0.5)).toBeNaN();
  });
});
