import { z } from 'zod';
import type { DDSketch } from '../detect/ddsketch.js';
import type { EdgeSummary } from '../detect/service-graph.js';
import { chooseTier, newRollupSketch, percentile, round, WHOLE_SERVICE, type RollupTier } from '../detect/rollup-buckets.js';
import type { Incident } from '../model/incident.js';
import type { AnomalyWindow, AnomalyWindows } from '../store/anomaly-windows.js';
import type { RollupStore } from '../store/rollup-store.js';
import { sendJson, type AdminServer, type RouteHandler } from './admin-server.js';
import { describeIssues } from './api.js';
import { DEFAULT_HISTORY_BAND, historyBand } from './history-band.js';

export interface SeriesApiDeps {
  rollups: RollupStore;
  tiers: readonly RollupTier[];
  anomalies: AnomalyWindows;
  /** An operation's baseline warm-up: null once learnt. */
  learning?: (service: string, operation: string) => { done: number; needed: number } | null;
  incidents?: { incidents(): Incident[] };
  /** The live service graph (GET /api/v1/service-graph without a range). */
  liveGraph?: () => { edges: EdgeSummary[]; keys: unknown[] };
  now?: () => number;
}

const DEFAULT_RANGE_MS = 3_600_000;
/** Largest epoch-ms accepted (year 2286): keeps arithmetic on times exact. */
const MAX_TIME_MS = 1e13;
const MAX_STEP_MS = 30 * 86_400_000;

const time = z.coerce.number().int().min(0).max(MAX_TIME_MS);
const RangeShape = { from: time.optional(), to: time.optional() };

export const RangeQuerySchema = z.object(RangeShape).strict();
export const SeriesQuerySchema = z
  .object({
    service: z.string().min(1).max(500),
    operation: z.string().min(1).max(1000).optional(),
    step: z.coerce.number().int().min(1).max(MAX_STEP_MS).optional(),
    ...RangeShape,
  })
  .strict();

type Range = { from: number; to: number };

/** from/to with their defaults (the last hour); a message naming the field when to <= from. */
function resolveRange(q: { from?: number | undefined; to?: number | undefined }, nowMs: number): Range | string {
  const to = q.to ?? (q.from !== undefined && q.from >= nowMs ? q.from + DEFAULT_RANGE_MS : nowMs);
  const from = q.from ?? to - DEFAULT_RANGE_MS;
  if (to <= from) return `invalid query parameter 'to': must be greater than from (${from})`;
  return { from: Math.max(0, from), to };
}

/** Parses a route's query: the values, or undefined after answering 400. */
function parseQuery<T extends z.ZodType>(schema: T, url: URL, res: Parameters<RouteHandler>[1]): z.infer<T> | undefined {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    sendJson(res, 400, { error: describeIssues(parsed.error, 'query parameter') });
    return undefined;
  }
  return parsed.data;
}

interface Totals {
  requests: number;
  errors: number;
  latency: DDSketch;
}

function totals(): Totals {
  return { requests: 0, errors: 0, latency: newRollupSketch() };
}

const perSecond = (n: number, seconds: number): number => (seconds > 0 ? round(n / seconds, 4) : 0);
const rate = (part: number, whole: number): number => (whole > 0 ? round(part / whole, 4) : 0);

function anomalyMark(a: AnomalyWindow): { t: number; endT: number | null; kind: 'anomaly'; id: string; severity: string } {
  return { t: a.firstSeenMs, endT: a.resolvedMs, kind: 'anomaly', id: a.id, severity: a.severity };
}

function incidentsOf(all: readonly Incident[], service: string, range?: Range): Incident[] {
  return all.filter(
    (i) => i.services.includes(service) && (range === undefined ? i.state === 'open' : i.startMs < range.to && (i.state === 'open' || i.endMs >= range.from)),
  );
}

/**
 * GET /api/v1/services   every service with RED figures over a range, versions and operations
 * GET /api/v1/series     one service's (or operation's) RED time series, learned band, deploys, marks
 * Both read the stored rollups (store/rollup-store.ts), closed buckets only.
 */
export function registerSeriesApi(admin: AdminServer, deps: SeriesApiDeps): void {
  const now = deps.now ?? Date.now;

  admin.addRoute('GET', '/api/v1/services', (_req, res, _params, url) => {
    const q = parseQuery(RangeQuerySchema, url, res);
    if (q === undefined) return;
    const range = resolveRange(q, now());
    if (typeof range === 'string') return sendJson(res, 400, { error: range });
    const { tierIndex } = chooseTier(deps.tiers, range.from, range.to, now());
    const resMs = deps.tiers[tierIndex]!.resolutionMs;
    const seconds = (deps.rollups.bucketStarts(resMs, range.from, range.to).length * resMs) / 1000;
    const byService = new Map<string, { whole: Totals; ops: Map<string, Totals> }>();
    for (const row of deps.rollups.allSeries(resMs, range.from, range.to)) {
      let s = byService.get(row.service);
      if (s === undefined) {
        s = { whole: totals(), ops: new Map() };
        byService.set(row.service, s);
      }
      let t = s.whole;
      if (row.operation !== WHOLE_SERVICE) {
        t = s.ops.get(row.operation) ?? totals();
        s.ops.set(row.operation, t);
      }
      t.requests += row.requests;
      t.errors += row.errors;
      t.latency.merge(row.latency);
    }
    const open = deps.anomalies.openCounts();
    // Read once per request, not once per service.
    const incidents = deps.incidents?.incidents() ?? [];
    const services = [...byService]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, s]) => ({
        name,
        requests: s.whole.requests,
        errors: s.whole.errors,
        ratePerSec: perSecond(s.whole.requests, seconds),
        errorRate: rate(s.whole.errors, s.whole.requests),
        p50Ms: percentile(s.whole.latency, 0.5),
        p95Ms: percentile(s.whole.latency, 0.95),
        p99Ms: percentile(s.whole.latency, 0.99),
        versions: deps.rollups.versions(name),
        operations: [...s.ops]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([op, t]) => ({
            name: op,
            requests: t.requests,
            errors: t.errors,
            ratePerSec: perSecond(t.requests, seconds),
            errorRate: rate(t.errors, t.requests),
            p95Ms: percentile(t.latency, 0.95),
            learning: deps.learning?.(name, op) ?? null,
          })),
        openAnomalies: open.get(name) ?? 0,
        openIncidents: incidentsOf(incidents, name).length,
      }));
    sendJson(res, 200, { from: range.from, to: range.to, services });
  });

  admin.addRoute('GET', '/api/v1/series', (_req, res, _params, url) => {
    const q = parseQuery(SeriesQuerySchema, url, res);
    if (q === undefined) return;
    const range = resolveRange(q, now());
    if (typeof range === 'string') return sendJson(res, 400, { error: range });
    const { tierIndex, stepMs } = chooseTier(deps.tiers, range.from, range.to, now(), q.step);
    const resMs = deps.tiers[tierIndex]!.resolutionMs;
    // Points start on a step boundary at or after `from`; a point is shown once all of it closed.
    const start = Math.ceil(range.from / stepMs) * stepMs;
    const closedUntil = deps.rollups.closedUntil(resMs) ?? -Infinity;
    const groups = new Map<number, Totals & { buckets: number; bandLow: number; bandHigh: number; bandCount: number }>();
    const group = (t: number): Totals & { buckets: number; bandLow: number; bandHigh: number; bandCount: number } => {
      const key = Math.floor(t / stepMs) * stepMs;
      let g = groups.get(key);
      if (g === undefined) {
        g = { ...totals(), buckets: 0, bandLow: 0, bandHigh: 0, bandCount: 0 };
        groups.set(key, g);
      }
      return g;
    };
    // Steps before `from` are read too: a series no detector keeps a band for learns one from them.
    const lead = Math.max(0, start - DEFAULT_HISTORY_BAND.window * stepMs);
    const rows = deps.rollups.series(resMs, q.service, q.operation ?? WHOLE_SERVICE, lead, range.to);
    // Buckets closed while the sidecar ran: there a quiet series reads as zero, elsewhere as a gap.
    // A series with no request in the range has no points at all.
    if (rows.some((r) => r.startMs >= start)) for (const b of deps.rollups.bucketStarts(resMs, lead, range.to)) group(b).buckets++;
    for (const row of rows) {
      const g = group(row.startMs);
      g.requests += row.requests;
      g.errors += row.errors;
      g.latency.merge(row.latency);
      g.bandLow += row.bandLowSum;
      g.bandHigh += row.bandHighSum;
      g.bandCount += row.bandCount;
    }
    const points: unknown[] = [];
    const baseline: unknown[] = [];
    const history: Array<number | null> = [];
    for (const [t, g] of [...groups].sort((a, b) => a[0] - b[0])) {
      if (t + stepMs > closedUntil) continue;
      const p95 = percentile(g.latency, 0.95);
      if (t < start) {
        history.push(p95);
        continue;
      }
      const seconds = (g.buckets * resMs) / 1000;
      points.push({
        t,
        requests: g.requests,
        errors: g.errors,
        ratePerSec: perSecond(g.requests, seconds),
        errorRate: rate(g.errors, g.requests),
        p50Ms: percentile(g.latency, 0.5),
        p95Ms: p95,
        p99Ms: percentile(g.latency, 0.99),
      });
      if (g.bandCount > 0) baseline.push({ t, p95LowMs: round(g.bandLow / g.bandCount), p95HighMs: round(g.bandHigh / g.bandCount) });
      else {
        const band = historyBand(history);
        if (band !== undefined) baseline.push({ t, p95LowMs: round(band.lowMs), p95HighMs: round(band.highMs) });
      }
      history.push(p95);
    }
    // The first version a service showed is where its history starts, not a deploy.
    const deploys = deps.rollups
      .versions(q.service)
      .slice(1)
      .filter((v) => v.firstSeenMs >= range.from && v.firstSeenMs < range.to)
      .map((v) => ({ t: v.firstSeenMs, version: v.version }));
    const marks = [
      ...deps.anomalies.between(range.from, range.to, { service: q.service, ...(q.operation !== undefined ? { handler: q.operation } : {}) }).map(anomalyMark),
      ...incidentsOf(deps.incidents?.incidents() ?? [], q.service, range).map((i) => ({ t: i.startMs, endT: i.state === 'resolved' ? i.endMs : null, kind: 'incident' as const, id: i.id, severity: i.severity })),
    ].sort((a, b) => a.t - b.t);
    sendJson(res, 200, { service: q.service, operation: q.operation ?? null, from: range.from, to: range.to, stepMs, points, baseline, deploys, marks });
  });
}

/**
 * GET /api/v1/service-graph[?from=&to=]: without a range the live graph (as before, with rates,
 * error rates, gap p95 and anomaly flags added); with one, the same shape from stored edge rollups.
 */
export function serviceGraphRoute(deps: SeriesApiDeps): RouteHandler {
  const now = deps.now ?? Date.now;
  return (_req, res, _params, url) => {
    const q = parseQuery(RangeQuerySchema, url, res);
    if (q === undefined) return;
    const live = deps.liveGraph?.() ?? { edges: [], keys: [] };
    if (q.from === undefined && q.to === undefined) {
      const flagged = flags(deps.anomalies.open());
      const edges = live.edges.map((e) => ({
        ...e,
        ratePerSec: round(e.callsPerMinute / 60, 4),
        errorRate: rate(e.errors, e.calls),
        gapP95Ms: Number.isFinite(e.gapP95Ms) ? round(e.gapP95Ms) : null,
        anomalous: flagged.edges.has(`${e.caller}\u0000${e.callee}`),
      }));
      sendJson(res, 200, { edges, services: graphServices(edges, [], flagged.services), keys: live.keys });
      return;
    }
    const range = resolveRange(q, now());
    if (typeof range === 'string') return sendJson(res, 400, { error: range });
    const { tierIndex } = chooseTier(deps.tiers, range.from, range.to, now());
    const resMs = deps.tiers[tierIndex]!.resolutionMs;
    const seconds = (deps.rollups.bucketStarts(resMs, range.from, range.to).length * resMs) / 1000;
    const byEdge = new Map<string, { caller: string; callee: string; calls: number; errors: number; gap: DDSketch }>();
    for (const row of deps.rollups.edges(resMs, range.from, range.to)) {
      const key = `${row.caller}\u0000${row.callee}`;
      let e = byEdge.get(key);
      if (e === undefined) {
        e = { caller: row.caller, callee: row.callee, calls: 0, errors: 0, gap: newRollupSketch() };
        byEdge.set(key, e);
      }
      e.calls += row.calls;
      e.errors += row.errors;
      e.gap.merge(row.gap);
    }
    const flagged = flags(deps.anomalies.between(range.from, range.to));
    const edges = [...byEdge.entries()]
      .map(([key, e]) => ({
        caller: e.caller,
        callee: e.callee,
        calls: e.calls,
        errors: e.errors,
        ratePerSec: perSecond(e.calls, seconds),
        errorRate: rate(e.errors, e.calls),
        gapP95Ms: percentile(e.gap, 0.95),
        anomalous: flagged.edges.has(key),
      }))
      .sort((a, b) => b.calls - a.calls);
    sendJson(res, 200, { from: range.from, to: range.to, edges, services: graphServices(edges, deps.rollups.services(resMs, range.from, range.to), flagged.services), keys: live.keys });
  };
}

function flags(anomalies: AnomalyWindow[]): { services: Set<string>; edges: Set<string> } {
  const services = new Set<string>();
  const edges = new Set<string>();
  for (const a of anomalies) {
    services.add(a.service);
    if (a.caller !== null) edges.add(`${a.caller}\u0000${a.service}`);
  }
  return { services, edges };
}

function graphServices(edges: ReadonlyArray<{ caller: string; callee: string }>, more: readonly string[], anomalous: Set<string>): Array<{ name: string; anomalous: boolean }> {
  const names = new Set(more);
  for (const e of edges) {
    names.add(e.caller);
    names.add(e.callee);
  }
  return [...names].sort().map((name) => ({ name, anomalous: anomalous.has(name) }));
}
