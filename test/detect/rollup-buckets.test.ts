import { describe, expect, it } from 'vitest';
import { BucketAccumulator, bucketStart, chooseTier, DEFAULT_POINTS, MAX_POINTS, mergeBuckets, percentile, seriesKey, sketchOfSamples, WHOLE_SERVICE, type RollupBucket } from '../../src/detect/rollup-buckets.js';
import { SampleSet, ServiceGraph, type GraphSlice } from '../../src/detect/service-graph.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const T0 = 1_700_000_400_000; // on a 10-minute boundary
const TIERS = [
  { resolutionMs: 10_000, retentionMs: 6 * 3_600_000 },
  { resolutionMs: 60_000, retentionMs: 48 * 3_600_000 },
  { resolutionMs: 600_000, retentionMs: 8 * 86_400_000 },
];

function slices(fromMs: number, toMs: number, perSecond: number, sliceMs = 10_000, faults = {}): GraphSlice[] {
  const graph = new ServiceGraph({ sliceMs, traceGraceMs: 1_000 });
  const { beats } = generateTraffic(fromMs, toMs, perSecond, faults);
  graph.observe(beats);
  return graph.advance(toMs + 60_000);
}

describe('sketchOfSamples', () => {
  it('keeps exact values under the reservoir capacity and the exact count beyond it', () => {
    const small = new SampleSet(256);
    for (let i = 1; i <= 100; i++) small.add(i);
    const s = sketchOfSamples(small);
    expect(s.count).toBe(100);
    expect(s.max).toBe(100);
    const big = new SampleSet(64);
    for (let i = 0; i < 1001; i++) big.add(i % 10 === 0 ? 500 : 5);
    const b = sketchOfSamples(big);
    expect(b.count).toBe(1001);
    expect(b.quantile(0.5)).toBeCloseTo(5, 0);
    expect(sketchOfSamples(new SampleSet(8)).count).toBe(0);
  });
});

describe('BucketAccumulator', () => {
  it('rolls closed graph slices into per-service, per-operation and per-edge buckets, one request counted once', () => {
    const acc = new BucketAccumulator(10_000);
    const closed: RollupBucket[] = [];
    const all = slices(T0, T0 + 30_000, 10);
    for (const s of all) closed.push(...acc.add(s, (svc, op) => (svc === 'pricing' && op === 'GET /price' ? { lowMs: 4, highMs: 9 } : undefined)).closed);
    expect(closed.map((b) => b.startMs)).toEqual(all.map((s) => s.startMs));
    const first = closed[0]!;
    const fe = first.series.get(seriesKey('frontend', WHOLE_SERVICE))!;
    // 10 requests per second for 10 s, each with a middleware span that must not count.
    expect(fe.requests).toBe(100);
    expect(fe.latency.count).toBe(100);
    expect(first.series.get(seriesKey('frontend', 'GET /checkout'))!.requests).toBe(100);
    expect(first.series.get(seriesKey('frontend', 'middleware - query'))).toBeUndefined();
    const price = first.series.get(seriesKey('pricing', 'GET /price'))!;
    expect(price.bandCount).toBe(1);
    expect(price.bandLowSum).toBe(4);
    const edge = first.edges.get('cart\u0000pricing')!;
    expect(edge.calls).toBe(100);
    expect(edge.gap.count).toBe(100);
    expect(percentile(fe.latency, 0.5)).toBeGreaterThan(percentile(price.latency, 0.5)!);
  });

  it('counts failures per request and holds a bucket open until a slice reaches its end', () => {
    const acc = new BucketAccumulator(60_000);
    const all = slices(T0, T0 + 120_000, 2, 10_000, { checkoutFails: () => true });
    const closed: RollupBucket[] = [];
    for (const s of all.slice(0, 5)) closed.push(...acc.add(s).closed);
    expect(closed).toEqual([]);
    expect(acc.openStartMs).toBe(bucketStart(T0, 60_000));
    for (const s of all.slice(5)) closed.push(...acc.add(s).closed);
    expect(closed.length).toBeGreaterThanOrEqual(2);
    const fe = closed[1]!.series.get(seriesKey('frontend', WHOLE_SERVICE))!;
    expect(fe.requests).toBe(120);
    expect(fe.errors).toBe(120);
    // A slice from before the open bucket is refused, not mixed in.
    expect(acc.add(all[0]!).accepted).toBe(false);
  });

  it('merges buckets into a coarser one with summed counts and merged sketches', () => {
    const acc = new BucketAccumulator(10_000);
    const closed = slices(T0, T0 + 60_000, 5).flatMap((s) => acc.add(s).closed);
    const merged = mergeBuckets(bucketStart(T0, 60_000), 60_000, closed);
    const total = closed.reduce((n, b) => n + b.series.get(seriesKey('cart', WHOLE_SERVICE))!.requests, 0);
    const cart = merged.series.get(seriesKey('cart', WHOLE_SERVICE))!;
    expect(cart.requests).toBe(total);
    expect(cart.latency.count).toBe(total);
    expect(merged.edges.get('frontend\u0000cart')!.calls).toBe(total);
  });
});

describe('chooseTier', () => {
  const now = T0;
  it('reads a short range from the finest tier with at most the default number of points', () => {
    const r = chooseTier(TIERS, now - 3_600_000, now, now);
    expect(r).toEqual({ tierIndex: 0, stepMs: 10_000 });
    const d = chooseTier(TIERS, now - 6 * 3_600_000, now, now);
    expect(d.tierIndex).toBe(1); // 60 s steps fit 360 points exactly
    expect((6 * 3_600_000) / d.stepMs).toBeLessThanOrEqual(DEFAULT_POINTS);
  });

  it('moves to the tier whose retention still holds the start of the range', () => {
    expect(chooseTier(TIERS, now - 24 * 3_600_000, now, now)).toEqual({ tierIndex: 1, stepMs: 240_000 });
    expect(chooseTier(TIERS, now - 72 * 3_600_000, now, now)).toEqual({ tierIndex: 2, stepMs: 1_200_000 });
    const day = chooseTier(TIERS, now - 24 * 3_600_000, now - 23 * 3_600_000, now);
    expect(day).toEqual({ tierIndex: 1, stepMs: 60_000 });
    expect(chooseTier(TIERS, now - 7 * 86_400_000, now, now)).toEqual({ tierIndex: 2, stepMs: 1_800_000 });
    // Older than every retention: the coarsest tier (which then holds nothing).
    expect(chooseTier(TIERS, 0, now, now).tierIndex).toBe(2);
  });

  it('raises a step below the resolution to it, rounds to whole buckets and caps the point count', () => {
    expect(chooseTier(TIERS, now - 3_600_000, now, now, 1).stepMs).toBe(10_000);
    expect(chooseTier(TIERS, now - 3_600_000, now, now, 25_000).stepMs).toBe(30_000);
    expect(chooseTier(TIERS, now - 3_600_000, now, now, 120_000)).toEqual({ tierIndex: 1, stepMs: 120_000 });
    const capped = chooseTier(TIERS, now - 5 * 3_600_000, now, now, 10_000);
    expect((5 * 3_600_000) / capped.stepMs).toBeLessThanOrEqual(MAX_POINTS);
  });
});
