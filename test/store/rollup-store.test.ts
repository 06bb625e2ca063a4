import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';
import { RollupStore, rollupMigrations } from '../../src/store/rollup-store.js';
import { RollupRecorder } from '../../src/store/rollup-recorder.js';
import { SampleSet, ServiceGraph, type GraphSlice } from '../../src/detect/service-graph.js';
import { newRollupSketch, WHOLE_SERVICE, type RollupTier } from '../../src/detect/rollup-buckets.js';
import { generateTraffic } from '../diagnose/service-traffic.js';

const T0 = 1_700_000_400_000; // on a 10-minute boundary
const TIERS: RollupTier[] = [
  { resolutionMs: 10_000, retentionMs: 600_000 },
  { resolutionMs: 60_000, retentionMs: 3_600_000 },
  { resolutionMs: 600_000, retentionMs: 86_400_000 },
];

function graphSlices(fromMs: number, toMs: number, perSecond: number, faults = {}): GraphSlice[] {
  const graph = new ServiceGraph({ sliceMs: 10_000, traceGraceMs: 1_000 });
  graph.observe(generateTraffic(fromMs, toMs, perSecond, faults).beats);
  return graph.advance(toMs + 30_000).filter((s) => s.startMs < toMs);
}

describe('RollupStore and RollupRecorder on a real SQLite file', () => {
  const dirs: string[] = [];
  const dbs: SqliteDatabase[] = [];
  afterEach(() => {
    for (const db of dbs.splice(0)) if (db.open) db.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function open(path?: string): { db: SqliteDatabase; store: RollupStore; path: string } {
    let p = path;
    if (p === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'sh-rollups-'));
      dirs.push(dir);
      p = join(dir, 'state.db');
    }
    const db = openDatabase(p, rollupMigrations);
    dbs.push(db);
    return { db, store: new RollupStore(db), path: p };
  }

  it('writes one row set per closed bucket and builds the coarser tiers from them', () => {
    const { store } = open();
    const rec = new RollupRecorder(store, TIERS, { band: (s, op) => (s === 'cart' && op === 'GET /cart' ? { lowMs: 10, highMs: 30 } : undefined) });
    const slices = graphSlices(T0, T0 + 20 * 60_000, 2);
    expect(slices).toHaveLength(120);
    rec.record(slices, T0 + 20 * 60_000);
    expect(rec.bucketsWritten).toBe(120);
    // Fine tier: 10 s buckets; 2 requests/s -> 20 per bucket.
    const fine = store.series(10_000, 'frontend', WHOLE_SERVICE, T0 + 19 * 60_000, T0 + 20 * 60_000);
    expect(fine.map((r) => r.requests)).toEqual([20, 20, 20, 20, 20, 20]);
    // Medium tier: every closed minute, each the sum of its six fine buckets.
    const medium = store.series(60_000, 'frontend', WHOLE_SERVICE, T0, T0 + 20 * 60_000);
    expect(medium).toHaveLength(20);
    expect(medium.every((r) => r.requests === 120 && r.latency.count === 120)).toBe(true);
    const cartOp = store.series(60_000, 'cart', 'GET /cart', T0, T0 + 60_000)[0]!;
    expect(cartOp.bandCount).toBe(6);
    expect(cartOp.bandLowSum / cartOp.bandCount).toBe(10);
    // Coarse tier: the two closed 10-minute buckets.
    const coarse = store.series(600_000, 'pricing', WHOLE_SERVICE, T0, T0 + 20 * 60_000);
    expect(coarse.map((r) => r.requests)).toEqual([1200, 1200]);
    const edges = store.edges(600_000, T0, T0 + 600_000);
    expect(edges.map((e) => `${e.caller}->${e.callee}:${e.calls}`).sort()).toEqual(['cart->pricing:1200', 'frontend->cart:1200']);
    expect(store.closedUntil(600_000)).toBe(T0 + 20 * 60_000);
  });

  it('keeps percentiles of the coarse tier equal to the merged fine buckets', () => {
    const { store } = open();
    const rec = new RollupRecorder(store, TIERS);
    rec.record(graphSlices(T0, T0 + 10 * 60_000, 3, { slowPricingMs: (t: number) => (t > T0 + 300_000 ? 200 : 0) }), T0 + 10 * 60_000);
    const fine = store.series(10_000, 'pricing', WHOLE_SERVICE, T0, T0 + 600_000);
    const coarse = store.series(600_000, 'pricing', WHOLE_SERVICE, T0, T0 + 600_000)[0]!;
    const merged = newRollupSketch();
    for (const r of fine) merged.merge(r.latency);
    expect(coarse.latency.quantile(0.95)).toBe(merged.quantile(0.95));
    expect(coarse.latency.count).toBe(1800);
    // The second half was 200 ms slower: its buckets show it, the early ones do not.
    expect(fine[0]!.latency.quantile(0.5)).toBeLessThan(100);
    expect(fine[fine.length - 1]!.latency.quantile(0.5)).toBeGreaterThan(200);
  });

  it('prunes each tier to its own retention', () => {
    const { store } = open();
    const rec = new RollupRecorder(store, TIERS);
    rec.record(graphSlices(T0, T0 + 20 * 60_000, 1), T0 + 20 * 60_000);
    const now = T0 + 20 * 60_000;
    // Fine retention is 10 minutes: only the last 10 minutes of 10 s buckets remain.
    expect(store.bucketStarts(10_000, 0, now)[0]).toBe(now - 600_000);
    expect(store.series(10_000, 'cart', WHOLE_SERVICE, 0, now)).toHaveLength(60);
    expect(store.series(60_000, 'cart', WHOLE_SERVICE, 0, now)).toHaveLength(20);
    const counts = store.prune(TIERS, now + 3_600_000);
    expect(counts.series).toBeGreaterThan(0);
    expect(store.series(10_000, 'cart', WHOLE_SERVICE, 0, Infinity)).toHaveLength(0);
    expect(store.series(60_000, 'cart', WHOLE_SERVICE, 0, Infinity)).toHaveLength(0);
    expect(store.series(600_000, 'cart', WHOLE_SERVICE, 0, Infinity)).toHaveLength(2);
    expect(store.edges(10_000, 0, Infinity)).toHaveLength(0);
  });

  it('survives closing and reopening the file, and continues where it left off', () => {
    const first = open();
    new RollupRecorder(first.store, TIERS, { versions: () => [{ version: '1.0.0', firstSeenMs: T0 }] }).record(graphSlices(T0, T0 + 5 * 60_000, 1), T0 + 5 * 60_000);
    first.db.close();
    expect(statSync(first.path).size).toBeGreaterThan(0);
    const again = open(first.path);
    expect(again.store.series(60_000, 'frontend', WHOLE_SERVICE, T0, T0 + 5 * 60_000).map((r) => r.requests)).toEqual([60, 60, 60, 60, 60]);
    expect(again.store.versions('frontend')).toEqual([{ version: '1.0.0', firstSeenMs: T0 }]);
    // A new process: its later buckets extend the same history, and the next 10-minute bucket
    // is built from fine rows written before and after the restart.
    const rec = new RollupRecorder(again.store, TIERS, { versions: () => [{ version: '1.0.0', firstSeenMs: T0 + 400_000 }, { version: '1.1.0', firstSeenMs: T0 + 420_000 }] });
    rec.record(graphSlices(T0 + 5 * 60_000, T0 + 10 * 60_000, 1), T0 + 10 * 60_000);
    expect(again.store.series(600_000, 'frontend', WHOLE_SERVICE, T0, T0 + 600_000).map((r) => r.requests)).toEqual([600]);
    expect(again.store.versions('frontend')).toEqual([
      { version: '1.0.0', firstSeenMs: T0 },
      { version: '1.1.0', firstSeenMs: T0 + 420_000 },
    ]);
  });

  it('merges a bucket written twice (a restart inside it) instead of losing the first part', () => {
    const { store } = open();
    const [a, b] = graphSlices(T0, T0 + 10_000, 2).concat(graphSlices(T0, T0 + 10_000, 3));
    new RollupRecorder(store, TIERS).record([a!], T0 + 10_000);
    new RollupRecorder(store, TIERS).record([b!], T0 + 10_000);
    expect(store.series(10_000, 'cart', WHOLE_SERVICE, T0, T0 + 10_000).map((r) => r.requests)).toEqual([50]);
    expect(store.series(10_000, 'cart', WHOLE_SERVICE, T0, T0 + 10_000)[0]!.latency.count).toBe(50);
  });

  it('drops and counts a slice from before what it already closed', () => {
    const { store } = open();
    const rec = new RollupRecorder(store, TIERS);
    const slices = graphSlices(T0, T0 + 30_000, 1);
    rec.record(slices, T0 + 30_000);
    rec.record([slices[0]!], T0 + 30_000);
    expect(rec.droppedSlices).toBe(1);
    expect(store.series(10_000, 'cart', WHOLE_SERVICE, T0, T0 + 10_000)[0]!.requests).toBe(10);
  });

  it('skips empty slices past the finest retention (a long quiet stretch) but keeps old data', () => {
    const { store } = open();
    const rec = new RollupRecorder(store, TIERS);
    const empty = (start: number): GraphSlice => ({ startMs: start, endMs: start + 10_000, services: new Map(), endpoints: new Map(), edges: new Map(), rootLatencyMs: new SampleSet(1) });
    const now = T0 + 86_400_000;
    rec.record([empty(T0), empty(T0 + 10_000), empty(now - 20_000)], now);
    expect(store.bucketStarts(10_000, 0, now)).toEqual([now - 20_000]);
    // Slices with requests are written and feed the coarser tiers as usual.
    rec.record(graphSlices(now, now + 60_000, 1), now + 60_000);
    expect(store.series(60_000, 'cart', WHOLE_SERVICE, now, now + 60_000).map((r) => r.requests)).toEqual([60]);
  });

  it('records versions once, skips empty ones, and needs at least one tier', () => {
    const { store } = open();
    let calls = 0;
    const rec = new RollupRecorder(store, TIERS, {
      versions: (s) => {
        calls++;
        return s === 'cart' ? [{ version: '', firstSeenMs: T0 }, { version: '2.0', firstSeenMs: T0 + 5 }] : [];
      },
    });
    rec.record(graphSlices(T0, T0 + 30_000, 1), T0 + 30_000);
    expect(calls).toBeGreaterThan(3);
    expect(store.versions('cart')).toEqual([{ version: '2.0', firstSeenMs: T0 + 5 }]);
    expect(() => new RollupRecorder(store, [])).toThrow(/tier/);
  });
});
