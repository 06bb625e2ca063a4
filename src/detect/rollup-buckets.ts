import { DDSketch } from './ddsketch.js';
import type { GraphSlice, SampleSet } from './service-graph.js';

/**
 * The pure side of the RED rollups: closed service-graph slices folded into fixed time buckets
 * (per service, per operation and per edge: counts plus a mergeable latency sketch), buckets
 * merged into coarser ones, and the choice of tier and step for a time range. No I/O: the store
 * (store/rollup-store.ts) persists what this computes.
 */

/** Relative accuracy of stored latency sketches: 2 %, plenty for a chart, and small rows. */
export const ROLLUP_SKETCH_ALPHA = 0.01;

/** `operation` for the row that covers all of a service's entry requests. */
export const WHOLE_SERVICE = '';

export interface RollupTier {
  resolutionMs: number;
  retentionMs: number;
}

/** The learned p95 band of a key at the time its bucket closed. */
export interface LatencyBand {
  lowMs: number;
  highMs: number;
}

export interface SeriesFigures {
  service: string;
  /** WHOLE_SERVICE for the service's own row. */
  operation: string;
  requests: number;
  errors: number;
  latency: DDSketch;
  /** Sums of the bands seen in the bucket (averaged when read), and how many. */
  bandLowSum: number;
  bandHighSum: number;
  bandCount: number;
}

export interface EdgeFigures {
  caller: string;
  callee: string;
  calls: number;
  errors: number;
  gap: DDSketch;
}

export interface RollupBucket {
  startMs: number;
  resolutionMs: number;
  series: Map<string, SeriesFigures>;
  edges: Map<string, EdgeFigures>;
}

export function newRollupSketch(): DDSketch {
  return new DDSketch({ alpha: ROLLUP_SKETCH_ALPHA, integerCounts: true, maxBuckets: 1024 });
}

export function bucketStart(ms: number, resolutionMs: number): number {
  return Math.floor(ms / resolutionMs) * resolutionMs;
}

export function seriesKey(service: string, operation: string): string {
  return `${service}\u0000${operation}`;
}

export function edgeRollupKey(caller: string, callee: string): string {
  return `${caller}\u0000${callee}`;
}

/**
 * A sketch of a slice's sampled values that still counts every value: the graph keeps a bounded
 * reservoir per key and slice, so beyond its capacity each kept sample stands for count/n values
 * (whole numbers, spread so that they add up to the exact count).
 */
export function sketchOfSamples(set: SampleSet): DDSketch {
  const sketch = newRollupSketch();
  const n = set.samples.length;
  if (n === 0) return sketch;
  const each = Math.floor(set.count / n);
  let extra = set.count - each * n;
  for (const v of set.samples) {
    const w = each + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    sketch.add(v, w);
  }
  return sketch;
}

export function emptyBucket(startMs: number, resolutionMs: number): RollupBucket {
  return { startMs, resolutionMs, series: new Map(), edges: new Map() };
}

function seriesFigures(bucket: RollupBucket, service: string, operation: string): SeriesFigures {
  const key = seriesKey(service, operation);
  let f = bucket.series.get(key);
  if (f === undefined) {
    f = { service, operation, requests: 0, errors: 0, latency: newRollupSketch(), bandLowSum: 0, bandHighSum: 0, bandCount: 0 };
    bucket.series.set(key, f);
  }
  return f;
}

function edgeFigures(bucket: RollupBucket, caller: string, callee: string): EdgeFigures {
  const key = edgeRollupKey(caller, callee);
  let f = bucket.edges.get(key);
  if (f === undefined) {
    f = { caller, callee, calls: 0, errors: 0, gap: newRollupSketch() };
    bucket.edges.set(key, f);
  }
  return f;
}

/** Adds one closed graph slice to a bucket; `band` gives an operation's learned p95 band, if any. */
export function addSlice(bucket: RollupBucket, slice: GraphSlice, band?: (service: string, operation: string) => LatencyBand | undefined): void {
  for (const s of slice.services.values()) {
    // A service seen only through its logs has no requests to chart.
    if (s.requests === 0) continue;
    const f = seriesFigures(bucket, s.service, WHOLE_SERVICE);
    f.requests += s.requests;
    f.errors += s.failed;
    f.latency.merge(sketchOfSamples(s.latencyMs));
  }
  for (const e of slice.endpoints.values()) {
    if (e.requests === 0) continue;
    const f = seriesFigures(bucket, e.service, e.operation);
    f.requests += e.requests;
    f.errors += e.failed;
    f.latency.merge(sketchOfSamples(e.latencyMs));
    const b = band?.(e.service, e.operation);
    if (b !== undefined && Number.isFinite(b.lowMs) && Number.isFinite(b.highMs)) {
      f.bandLowSum += b.lowMs;
      f.bandHighSum += b.highMs;
      f.bandCount++;
    }
  }
  for (const e of slice.edges.values()) {
    if (e.calls === 0) continue;
    const f = edgeFigures(bucket, e.caller, e.callee);
    f.calls += e.calls;
    f.errors += e.errors;
    f.gap.merge(sketchOfSamples(e.gapMs));
  }
}

/** Adds `from` into `into` (downsampling, or a range read merged into one figure). */
export function mergeSeries(into: SeriesFigures, from: SeriesFigures): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.latency.merge(from.latency);
  into.bandLowSum += from.bandLowSum;
  into.bandHighSum += from.bandHighSum;
  into.bandCount += from.bandCount;
}

export function mergeEdge(into: EdgeFigures, from: EdgeFigures): void {
  into.calls += from.calls;
  into.errors += from.errors;
  into.gap.merge(from.gap);
}

/** Merges buckets (of a finer tier) into one bucket of `resolutionMs` starting at `startMs`. */
export function mergeBuckets(startMs: number, resolutionMs: number, parts: Iterable<RollupBucket>): RollupBucket {
  const out = emptyBucket(startMs, resolutionMs);
  for (const p of parts) {
    for (const s of p.series.values()) mergeSeries(seriesFigures(out, s.service, s.operation), s);
    for (const e of p.edges.values()) mergeEdge(edgeFigures(out, e.caller, e.callee), e);
  }
  return out;
}

/**
 * Gathers graph slices into buckets of the finest tier and hands a bucket out once a slice at or
 * after its end has arrived (slices come in time order), so only closed buckets are ever written.
 */
export class BucketAccumulator {
  private open: RollupBucket | undefined;
  /** End of the newest bucket handed out: nothing may be added before it any more. */
  private closedUntilMs = -Infinity;

  constructor(readonly resolutionMs: number) {}

  /** Adds a slice; returns the buckets it closed, oldest first. A slice before the open bucket is refused. */
  add(slice: GraphSlice, band?: (service: string, operation: string) => LatencyBand | undefined): { closed: RollupBucket[]; accepted: boolean } {
    const start = bucketStart(slice.startMs, this.resolutionMs);
    const closed: RollupBucket[] = [];
    if (start < this.closedUntilMs || (this.open !== undefined && start < this.open.startMs)) return { closed, accepted: false };
    if (this.open !== undefined && start > this.open.startMs) {
      closed.push(this.open);
      this.open = undefined;
    }
    this.open ??= emptyBucket(start, this.resolutionMs);
    addSlice(this.open, slice, band);
    // A slice that reaches the bucket's end closes it at once (the usual case: slice = bucket).
    if (slice.endMs >= this.open.startMs + this.resolutionMs) {
      closed.push(this.open);
      this.open = undefined;
    }
    if (closed.length > 0) this.closedUntilMs = closed[closed.length - 1]!.startMs + this.resolutionMs;
    return { closed, accepted: true };
  }

  /** Start of the bucket still being filled, if any. */
  get openStartMs(): number | undefined {
    return this.open?.startMs;
  }
}

/** Most points a series reply holds; a smaller step asked for is raised to stay within it. */
export const MAX_POINTS = 1000;
/** Points aimed at when no step is given. */
export const DEFAULT_POINTS = 360;

/**
 * The tier to read a range from and the step to group it by: the coarsest tier that still holds
 * `fromMs` (its retention reaches back that far) and is no coarser than the step, so a short
 * range gets fine buckets and a week reads the 10-minute tier. The step is a whole multiple of
 * the tier's resolution, at least `askedStepMs`, with at most DEFAULT_POINTS points by default
 * and never more than MAX_POINTS.
 */
export function chooseTier(tiers: readonly RollupTier[], fromMs: number, toMs: number, nowMs: number, askedStepMs?: number): { tierIndex: number; stepMs: number } {
  const span = Math.max(1, toMs - fromMs);
  const wanted = Math.max(askedStepMs ?? Math.ceil(span / DEFAULT_POINTS), Math.ceil(span / MAX_POINTS));
  let covering = tiers.findIndex((t) => nowMs - t.retentionMs <= fromMs);
  if (covering < 0) covering = tiers.length - 1;
  let tierIndex = covering;
  for (let i = covering + 1; i < tiers.length; i++) if (tiers[i]!.resolutionMs <= wanted) tierIndex = i;
  const res = tiers[tierIndex]!.resolutionMs;
  return { tierIndex, stepMs: Math.max(1, Math.ceil(wanted / res)) * res };
}

/** Percentile in ms of a sketch, or null when it holds no value. */
export function percentile(sketch: DDSketch, q: number): number | null {
  if (sketch.count === 0) return null;
  return round(sketch.quantile(q));
}

export function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
