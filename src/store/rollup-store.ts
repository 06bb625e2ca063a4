import type { SqliteDatabase, Migration } from './database.js';
import { bucketStart, emptyBucket, mergeBuckets, type EdgeFigures, type RollupBucket, type RollupTier, type SeriesFigures } from '../detect/rollup-buckets.js';
import { decodeSketch, encodeSketch } from './sketch-codec.js';

/**
 * RED rollups in SQLite: one row per (tier resolution, bucket, service, operation) and per
 * (tier resolution, bucket, edge), each with a stored latency sketch so percentiles of any range
 * come from merged sketches; `rollup_buckets` records which buckets were closed while the sidecar
 * ran (an idle service reads as zero there, a stopped sidecar as a gap); `service_versions` holds
 * the first time each service.version was seen (deploy markers). Rows are keyed by resolution,
 * not by tier number, so changing the tier list never mixes resolutions.
 */
export const rollupMigrations: Migration[] = [
  {
    module: 'rollups',
    version: 1,
    description: 'RED rollups per service, operation and edge; closed buckets; service versions',
    sql: `
      CREATE TABLE rollup_series (
        res_ms INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        service TEXT NOT NULL,
        operation TEXT NOT NULL,
        requests INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        latency BLOB NOT NULL,
        band_low_sum REAL NOT NULL,
        band_high_sum REAL NOT NULL,
        band_count INTEGER NOT NULL,
        PRIMARY KEY (res_ms, service, operation, start_ms)
      ) WITHOUT ROWID;
      CREATE INDEX rollup_series_time ON rollup_series (res_ms, start_ms);

      CREATE TABLE rollup_edges (
        res_ms INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        caller TEXT NOT NULL,
        callee TEXT NOT NULL,
        calls INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        gap BLOB NOT NULL,
        PRIMARY KEY (res_ms, caller, callee, start_ms)
      ) WITHOUT ROWID;
      CREATE INDEX rollup_edges_time ON rollup_edges (res_ms, start_ms);

      CREATE TABLE rollup_buckets (
        res_ms INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        PRIMARY KEY (res_ms, start_ms)
      ) WITHOUT ROWID;

      CREATE TABLE service_versions (
        service TEXT NOT NULL,
        version TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        PRIMARY KEY (service, version)
      ) WITHOUT ROWID;
    `,
  },
];

interface SeriesRow {
  start_ms: number;
  service: string;
  operation: string;
  requests: number;
  errors: number;
  latency: Buffer;
  band_low_sum: number;
  band_high_sum: number;
  band_count: number;
}

interface EdgeRow {
  start_ms: number;
  caller: string;
  callee: string;
  calls: number;
  errors: number;
  gap: Buffer;
}

export interface StoredSeries extends SeriesFigures {
  startMs: number;
}

export interface StoredEdge extends EdgeFigures {
  startMs: number;
}

export interface RollupPruneCounts {
  series: number;
  edges: number;
  buckets: number;
}

export class RollupStore {
  constructor(private readonly db: SqliteDatabase) {}

  /** Writes closed buckets (all their rows) in one transaction. A bucket written twice is merged. */
  writeBuckets(buckets: readonly RollupBucket[]): void {
    this.db.transaction(() => {
      for (const b of buckets) this.writeBucketRows(b);
    })();
  }

  /**
   * Builds the closed buckets of tier `tierIndex` (> 0) up to `untilMs` from the stored rows of the
   * tier below it, starting after the last bucket the tier already has. Returns how many it wrote.
   */
  downsample(tiers: readonly RollupTier[], tierIndex: number, untilMs: number): number {
    const res = tiers[tierIndex]!.resolutionMs;
    const finer = tiers[tierIndex - 1]!.resolutionMs;
    const limit = bucketStart(untilMs, res);
    const last = this.lastBucketStart(res);
    const fromMs = last === undefined ? -Infinity : last + res;
    if (fromMs >= limit) return 0;
    const starts = this.db
      .prepare('SELECT start_ms FROM rollup_buckets WHERE res_ms = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms')
      .pluck()
      .all(finer, Number.isFinite(fromMs) ? fromMs : Number.MIN_SAFE_INTEGER, limit) as number[];
    if (starts.length === 0) return 0;
    const coarse = new Set(starts.map((s) => bucketStart(s, res)));
    this.db.transaction(() => {
      for (const c of coarse) {
        const parts = this.readBuckets(finer, c, c + res);
        this.writeBucketRows(mergeBuckets(c, res, parts));
      }
    })();
    return coarse.size;
  }

  /** Deletes each tier's rows older than its retention, counted from `nowMs`. */
  prune(tiers: readonly RollupTier[], nowMs: number): RollupPruneCounts {
    const counts: RollupPruneCounts = { series: 0, edges: 0, buckets: 0 };
    this.db.transaction(() => {
      for (const t of tiers) {
        const cutoff = nowMs - t.retentionMs;
        counts.series += this.db.prepare('DELETE FROM rollup_series WHERE res_ms = ? AND start_ms < ?').run(t.resolutionMs, cutoff).changes;
        counts.edges += this.db.prepare('DELETE FROM rollup_edges WHERE res_ms = ? AND start_ms < ?').run(t.resolutionMs, cutoff).changes;
        counts.buckets += this.db.prepare('DELETE FROM rollup_buckets WHERE res_ms = ? AND start_ms < ?').run(t.resolutionMs, cutoff).changes;
      }
    })();
    return counts;
  }

  lastBucketStart(resMs: number): number | undefined {
    const v = this.db.prepare('SELECT MAX(start_ms) FROM rollup_buckets WHERE res_ms = ?').pluck().get(resMs) as number | null;
    return v ?? undefined;
  }

  /** End of the newest closed bucket of a resolution (nothing after it is returned as a point). */
  closedUntil(resMs: number): number | undefined {
    const last = this.lastBucketStart(resMs);
    return last === undefined ? undefined : last + resMs;
  }

  /** Starts of the closed buckets of a resolution in [fromMs, toMs). */
  bucketStarts(resMs: number, fromMs: number, toMs: number): number[] {
    return this.db.prepare('SELECT start_ms FROM rollup_buckets WHERE res_ms = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms').pluck().all(resMs, fromMs, toMs) as number[];
  }

  /** One series (a service's entry requests, or one of its operations) in [fromMs, toMs). */
  series(resMs: number, service: string, operation: string, fromMs: number, toMs: number): StoredSeries[] {
    const rows = this.db
      .prepare('SELECT * FROM rollup_series WHERE res_ms = ? AND service = ? AND operation = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms')
      .all(resMs, service, operation, fromMs, toMs) as SeriesRow[];
    return rows.map(toSeries);
  }

  /** Every series row of a resolution in [fromMs, toMs). */
  allSeries(resMs: number, fromMs: number, toMs: number): StoredSeries[] {
    const rows = this.db.prepare('SELECT * FROM rollup_series WHERE res_ms = ? AND start_ms >= ? AND start_ms < ?').all(resMs, fromMs, toMs) as SeriesRow[];
    return rows.map(toSeries);
  }

  /** Services with entry requests in [fromMs, toMs), by name. */
  services(resMs: number, fromMs: number, toMs: number): string[] {
    return this.db.prepare('SELECT DISTINCT service FROM rollup_series WHERE res_ms = ? AND start_ms >= ? AND start_ms < ? ORDER BY service').pluck().all(resMs, fromMs, toMs) as string[];
  }

  edges(resMs: number, fromMs: number, toMs: number): StoredEdge[] {
    const rows = this.db.prepare('SELECT * FROM rollup_edges WHERE res_ms = ? AND start_ms >= ? AND start_ms < ?').all(resMs, fromMs, toMs) as EdgeRow[];
    return rows.map(toEdge);
  }

  /** Records the first time a service showed a version; later sightings keep the first time. */
  recordVersion(service: string, version: string, firstSeenMs: number): void {
    this.db
      .prepare(
        `INSERT INTO service_versions (service, version, first_seen_ms) VALUES (?, ?, ?)
         ON CONFLICT (service, version) DO UPDATE SET first_seen_ms = MIN(first_seen_ms, excluded.first_seen_ms)`,
      )
      .run(service, version, firstSeenMs);
  }

  /** A service's versions, oldest first. */
  versions(service: string): Array<{ version: string; firstSeenMs: number }> {
    const rows = this.db.prepare('SELECT version, first_seen_ms FROM service_versions WHERE service = ? ORDER BY first_seen_ms, version').all(service) as Array<{ version: string; first_seen_ms: number }>;
    return rows.map((r) => ({ version: r.version, firstSeenMs: r.first_seen_ms }));
  }

  private readBuckets(resMs: number, fromMs: number, toMs: number): RollupBucket[] {
    const byStart = new Map<number, RollupBucket>();
    const bucket = (start: number): RollupBucket => {
      let b = byStart.get(start);
      if (b === undefined) {
        b = emptyBucket(start, resMs);
        byStart.set(start, b);
      }
      return b;
    };
    for (const s of this.allSeries(resMs, fromMs, toMs)) bucket(s.startMs).series.set(`${s.service}\u0000${s.operation}`, s);
    for (const e of this.edges(resMs, fromMs, toMs)) bucket(e.startMs).edges.set(`${e.caller}\u0000${e.callee}`, e);
    return [...byStart.values()];
  }

  private writeBucketRows(bucket: RollupBucket): void {
    const res = bucket.resolutionMs;
    const existing = this.db.prepare('SELECT 1 FROM rollup_buckets WHERE res_ms = ? AND start_ms = ?').get(res, bucket.startMs) !== undefined;
    // Rare (a restart inside a bucket, a clock step back): merge with what is there.
    const toWrite = existing ? mergeBuckets(bucket.startMs, res, [...this.readBuckets(res, bucket.startMs, bucket.startMs + 1), bucket]) : bucket;
    const series = this.db.prepare(
      `INSERT OR REPLACE INTO rollup_series (res_ms, start_ms, service, operation, requests, errors, latency, band_low_sum, band_high_sum, band_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const s of toWrite.series.values()) {
      series.run(res, bucket.startMs, s.service, s.operation, s.requests, s.errors, encodeSketch(s.latency), s.bandLowSum, s.bandHighSum, s.bandCount);
    }
    const edges = this.db.prepare('INSERT OR REPLACE INTO rollup_edges (res_ms, start_ms, caller, callee, calls, errors, gap) VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const e of toWrite.edges.values()) edges.run(res, bucket.startMs, e.caller, e.callee, e.calls, e.errors, encodeSketch(e.gap));
    this.db.prepare('INSERT OR IGNORE INTO rollup_buckets (res_ms, start_ms) VALUES (?, ?)').run(res, bucket.startMs);
  }
}

function toSeries(r: SeriesRow): StoredSeries {
  return {
    startMs: r.start_ms,
    service: r.service,
    operation: r.operation,
    requests: r.requests,
    errors: r.errors,
    latency: decodeSketch(r.latency),
    bandLowSum: r.band_low_sum,
    bandHighSum: r.band_high_sum,
    bandCount: r.band_count,
  };
}

function toEdge(r: EdgeRow): StoredEdge {
  return { startMs: r.start_ms, caller: r.caller, callee: r.callee, calls: r.calls, errors: r.errors, gap: decodeSketch(r.gap) };
}
