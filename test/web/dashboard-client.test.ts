import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The page's pure logic, run in Node: the modules are plain browser ES modules (no types), so
 * they are loaded by URL. Rendering is covered by the Chromium tests in test/e2e/dashboard-*.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Module = any;
const load = (name: string): Promise<Module> => import(pathToFileURL(join(process.cwd(), 'src', 'web', 'client', name)).href);

describe('activity feed', () => {
  it('collapses repeated updates of one anomaly into one line with a count and the latest text', async () => {
    const { FeedModel } = await load('feed.js');
    const feed = new FeedModel(10);
    feed.add({ kind: 'anomaly.opened', anomalyId: 'a1', timeMs: 1000, payload: { summary: 'p95 40 ms vs 4 ms' } });
    for (let i = 0; i < 5; i++) feed.add({ kind: 'anomaly.updated', anomalyId: 'a1', timeMs: 31_000 + i * 30_000, payload: { summary: `p95 ${41 + i} ms vs 4 ms` } });
    feed.add({ kind: 'anomaly.updated', anomalyId: 'a2', timeMs: 200_000, payload: { summary: 'other' } });
    expect(feed.entries.map((e: { kind: string; subject: string; count: number }) => [e.kind, e.subject, e.count])).toEqual([
      ['anomaly.updated', 'anomaly:a2', 1],
      ['anomaly.updated', 'anomaly:a1', 5],
      ['anomaly.opened', 'anomaly:a1', 1],
    ]);
    expect(feed.entries[1].text).toBe('p95 45 ms vs 4 ms');
    expect(feed.entries[1].firstMs).toBe(31_000);
    expect(feed.entries[1].lastMs).toBe(151_000);
  });

  it('keeps distinct events apart and stays bounded', async () => {
    const { FeedModel, describeEvent } = await load('feed.js');
    const feed = new FeedModel(3);
    for (let i = 0; i < 5; i++) feed.add({ kind: 'job.failed', timeMs: i, payload: { reason: `boom ${i}` } });
    expect(feed.entries.map((e: { text: string }) => e.text)).toEqual(['boom 4', 'boom 3', 'boom 2']);
    // The same text without a subject repeats as one line.
    feed.add({ kind: 'job.failed', timeMs: 9, payload: { reason: 'boom 4' } });
    expect(feed.entries[0].count).toBe(2);
    expect(describeEvent('incident.opened', { summary: 's', rootCauses: [{ service: 'pricing', operation: 'GET /p' }] })).toBe('s (root cause: pricing GET /p)');
    expect(describeEvent('anomaly.resolved', { summary: 'x' })).toBe('resolved: x');
    expect(describeEvent('job.held', { reason: 'incident i1 is silenced until 10:00' })).toBe('incident i1 is silenced until 10:00');
  });
});

describe('heatmap', () => {
  it('never colours the open slice and levels closed ones against the baseline', async () => {
    const { cellClass, cellsFromWindow, cellsFromSeries, typicalP95 } = await load('heatmap.js');
    const cells = cellsFromWindow([
      { startMs: 0, count: 10, errors: 0, p95Ms: 4 },
      { startMs: 1000, count: 10, errors: 2, p95Ms: 40 },
      { startMs: 2000, count: 3, errors: 3, p95Ms: 400 },
    ]);
    expect(cells.map((c: { closed: boolean }) => c.closed)).toEqual([true, true, false]);
    expect(cells.map((c: object) => cellClass(c, 4))).toEqual(['lvl0', 'lvl4 err', 'partial']);
    expect(cellClass({ closed: true, count: 0 }, 4)).toBe('');
    const series = cellsFromSeries({ points: [{ t: 0, requests: 5, errors: 0, p95Ms: 10 }, { t: 10_000, requests: 5, errors: 0, p95Ms: 17 }], baseline: [{ t: 10_000, p95LowMs: 8, p95HighMs: 12 }] });
    expect(series.every((c: { closed: boolean }) => c.closed)).toBe(true);
    expect(cellClass(series[1], undefined)).toBe('lvl2');
    expect(typicalP95([{ closed: true, count: 1, p95Ms: 3 }, { closed: true, count: 1, p95Ms: 5 }, { closed: true, count: 1, p95Ms: 90 }, { closed: false, count: 1, p95Ms: 1 }])).toBe(5);
    expect(typicalP95([])).toBeUndefined();
  });
});

describe('RED chart data', () => {
  it('turns a series into columns with the band following the latest baseline', async () => {
    const { seriesColumns, mergeSpans } = await load('charts.js');
    const cols = seriesColumns({
      points: [
        { t: 10_000, requests: 10, errors: 1, ratePerSec: 1, errorRate: 0.1, p50Ms: 2, p95Ms: 5, p99Ms: 9 },
        { t: 20_000, requests: 0, errors: 0, ratePerSec: 0, errorRate: 0, p50Ms: null, p95Ms: null, p99Ms: null },
        { t: 30_000, requests: 4, errors: 0, ratePerSec: 0.4, errorRate: 0, p50Ms: 3, p95Ms: 6, p99Ms: 7 },
      ],
      baseline: [{ t: 15_000, p95LowMs: 4, p95HighMs: 8 }],
    });
    expect(cols.x).toEqual([10, 20, 30]);
    expect(cols.errors).toEqual([10, null, 0]);
    expect(cols.p95).toEqual([5, null, 6]);
    expect(cols.lo).toEqual([null, 4, 4]);
    expect(cols.hi).toEqual([null, 8, 8]);
    expect(mergeSpans([{ t: 5, endT: 10 }, { t: 0, endT: 6 }, { t: 20, endT: null }, { t: 30, endT: 2 }], 50)).toEqual([[0, 10], [20, 50]]);
  });
});

describe('service map layout', () => {
  it('puts callers left of callees, survives cycles, and reads both edge shapes', async () => {
    const { layoutServices, normaliseEdge } = await load('service-map.js');
    const edges = [
      { caller: 'frontend', callee: 'cart' },
      { caller: 'cart', callee: 'pricing' },
      { caller: 'frontend', callee: 'pricing' },
      { caller: 'pricing', callee: 'cart' },
    ];
    const { pos, columns } = layoutServices(['pricing', 'cart', 'frontend', 'lonely'], edges);
    expect(pos.get('frontend').col).toBe(0);
    expect(pos.get('lonely').col).toBe(0);
    expect(pos.get('cart').col).toBeGreaterThan(0);
    // frontend -> cart -> pricing, and pricing -> cart closes a cycle: three columns.
    expect(columns).toBe(3);
    expect(pos.get('pricing').col).toBe(2);
    expect(normaliseEdge({ caller: 'a', callee: 'b', calls: 10, errors: 1, callsPerMinute: 120, gapP50Ms: 3 })).toMatchObject({ ratePerSec: 2, errorRate: 0.1, gapMs: 3, gapLabel: 'gap p50', anomalous: false });
    expect(normaliseEdge({ caller: 'a', callee: 'b', calls: 10, errors: 0, ratePerSec: 5, errorRate: 0, gapP95Ms: 7, anomalous: true })).toMatchObject({ ratePerSec: 5, gapMs: 7, gapLabel: 'gap p95', anomalous: true });
  });
});

describe('span waterfall', () => {
  it('orders spans as a tree with offsets inside the trace', async () => {
    const { waterfallRows } = await load('waterfall.js');
    const { rows, totalMs } = waterfallRows([
      { spanId: 'c', parentSpanId: 'b', service: 'pricing', name: 'GET /price', startMs: 1004, durationMs: 60 },
      { spanId: 'a', parentSpanId: undefined, service: 'frontend', name: 'GET /checkout', startMs: 1000, durationMs: 80 },
      { spanId: 'b', parentSpanId: 'a', service: 'cart', name: 'GET', startMs: 1002, durationMs: 70 },
      { spanId: 'x', parentSpanId: 'missing', service: 'cart', name: 'orphan', startMs: 1070, durationMs: 1 },
    ]);
    expect(totalMs).toBe(80);
    expect(rows.map((r: { span: { spanId: string }; depth: number }) => `${r.span.spanId}@${r.depth}`)).toEqual(['a@0', 'b@1', 'c@2', 'x@0']);
    expect(rows[2].offsetPct).toBeCloseTo(5);
    expect(rows[2].widthPct).toBeCloseTo(75);
    expect(waterfallRows(undefined)).toEqual({ rows: [], totalMs: 0 });
  });
});

describe('incidents', () => {
  it('filters, tells silence and summarises a resolved anomaly by its end', async () => {
    const { matchesIncident, isSilenced, anomalySummary, rootCauseText } = await load('incidents.js');
    const inc = { id: 'inc_1', state: 'open', severity: 'high', summary: 'pricing slow', services: ['cart', 'pricing'], rootCauses: [{ service: 'pricing', operation: 'GET /price', score: 5, reason: 'own time grew' }] };
    expect(matchesIncident(inc, {})).toBe(true);
    expect(matchesIncident(inc, { state: 'resolved' })).toBe(false);
    expect(matchesIncident(inc, { severity: 'high', service: 'cart', q: 'OWN TIME' })).toBe(true);
    expect(matchesIncident(inc, { service: 'frontend' })).toBe(false);
    expect(rootCauseText(inc.rootCauses[0])).toBe('pricing \u00b7 GET /price');
    expect(isSilenced({ silencedUntilMs: 2000 }, 1000)).toBe(true);
    expect(isSilenced({ silencedUntilMs: 500 }, 1000)).toBe(false);
    expect(isSilenced({ silencedUntilMs: null }, 1000)).toBe(false);
    const resolved = anomalySummary({ state: 'resolved', firstSeenMs: 0, resolvedMs: 185_000, summary: 'p95 400 ms vs 40 ms' });
    expect(resolved).toMatch(/^resolved .* after 3m 5s; worst: p95 400 ms vs 40 ms$/);
    expect(anomalySummary({ state: 'open', summary: 'now' })).toBe('now');
  });
});

describe('services list', () => {
  it('joins stored services with the live handler figures', async () => {
    const { joinLiveHandlers } = await load('services.js');
    const stored = [{ name: 'pricing', operations: [{ name: 'GET /price', requests: 10, learning: { done: 0, needed: 10 } }, { name: 'GET /quote', requests: 2, learning: { done: 4, needed: 10 } }] }];
    const slices = [{ startMs: 0, count: 5, errors: 0, p95Ms: 3 }, { startMs: 1000, count: 5, errors: 1, p95Ms: 4 }];
    const handlers = [
      { service: 'pricing', handler: 'GET /price', count: 10, errors: 0, errorRate: 0, p95Ms: 4, baselineP95Ms: 3.5, slices },
      { service: 'canvas', handler: 'renderComponent', count: 10, errors: 1, errorRate: 0.1, p95Ms: 2, baselineP95Ms: undefined, slices },
    ];
    const services = joinLiveHandlers(stored, handlers, 1000);
    expect(services.map((s: { name: string }) => s.name)).toEqual(['canvas', 'pricing']);
    const [price, quote] = services[1].operations;
    expect(price).toMatchObject({ name: 'GET /price', requests: 10, baselineP95Ms: 3.5, learning: null, slices });
    expect(quote.learning).toEqual({ done: 4, needed: 10 });
    expect(services[0].operations[0]).toMatchObject({ name: 'renderComponent', live: true, ratePerSec: 5, learning: 'learning' });
    expect(stored[0]!.operations).toHaveLength(2);
  });
});

describe('healing runs', () => {
  it('shows each stage as done, running, waiting, failed or not reached', async () => {
    const { stageStates } = await load('fixes.js');
    expect(stageStates({ state: 'succeeded' })).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(stageStates({ state: 'running', stage: 'validation.run' })).toEqual(['succeeded', 'running', '', '']);
    expect(stageStates({ state: 'queued', stage: 'fix.generate' })).toEqual(['waiting', '', '', '']);
    expect(stageStates({ state: 'parked', stage: 'deployment.deploy' })).toEqual(['succeeded', 'succeeded', 'failed', '']);
  });
});

describe('formatting', () => {
  it('formats figures and learning state', async () => {
    const f = await load('format.js');
    expect([f.fmtMs(0.5), f.fmtMs(12.34), f.fmtMs(250), f.fmtMs(12_500), f.fmtMs(null)]).toEqual(['0.50 ms', '12.3 ms', '250 ms', '12.5 s', '-']);
    expect([f.fmtPct(0), f.fmtPct(0.0004), f.fmtPct(0.0123), f.fmtPct(0.5)]).toEqual(['0%', '<0.1%', '1.2%', '50%']);
    expect(f.learningText({ done: 4, needed: 10 })).toBe('learning 4/10');
    expect(f.learningText(null)).toBe('');
    expect(f.learningText('baselined')).toBe('');
    expect(f.duration(3_725_000)).toBe('1h 2m');
  });
});
