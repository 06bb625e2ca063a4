import type { GraphSlice } from '../detect/service-graph.js';
import { BucketAccumulator, type LatencyBand, type RollupBucket, type RollupTier } from '../detect/rollup-buckets.js';
import type { RollupStore } from './rollup-store.js';

/** What the detectors know that the rollups keep: learned bands and service versions. */
export interface RollupSources {
  /** An operation's learned p95 band now, if its key has learnt one. */
  band?(service: string, operation: string): LatencyBand | undefined;
  /** The service.version values a service has shown, with the first time each was seen. */
  versions?(service: string): ReadonlyArray<{ version: string; firstSeenMs: number }>;
}

/** Prune at most this often (data time): retention is hours to days, a minute late is nothing. */
const PRUNE_EVERY_MS = 60_000;
/** (service, version) pairs remembered as already stored; cleared (and re-learnt) beyond it. */
const MAX_KNOWN_VERSIONS = 50_000;

/**
 * Turns the service graph's closed slices into stored rollups: slices fill the finest tier's
 * bucket in memory; a closed bucket is written in one transaction (never per span), then every
 * coarser tier whose bucket closed with it is built from the stored rows below it, and each tier
 * is pruned to its retention. A slice older than the bucket being filled (a clock step back) is
 * dropped and counted.
 */
export class RollupRecorder {
  private readonly acc: BucketAccumulator;
  private readonly knownVersions = new Set<string>();
  private lastPruneMs = -Infinity;
  droppedSlices = 0;
  bucketsWritten = 0;

  constructor(
    private readonly store: RollupStore,
    readonly tiers: readonly RollupTier[],
    private readonly sources: RollupSources = {},
  ) {
    if (tiers.length === 0) throw new RangeError('at least one rollup tier is needed');
    this.acc = new BucketAccumulator(tiers[0]!.resolutionMs);
  }

  /**
   * The slices one evaluation closed, oldest first; `nowMs` drives retention. All buckets they
   * close are written in one transaction. Empty slices already past the finest tier's retention
   * are skipped: a long quiet stretch (or data time far behind the clock) is handed out as one
   * empty slice per slice width, and marking those buckets would only be pruned again.
   */
  record(slices: readonly GraphSlice[], nowMs: number): void {
    const band = this.sources.band?.bind(this.sources);
    const fine = this.tiers[0]!;
    const horizon = nowMs - fine.retentionMs;
    const closed: RollupBucket[] = [];
    for (const slice of slices) {
      if (slice.endMs < horizon && slice.services.size === 0 && slice.edges.size === 0) continue;
      const added = this.acc.add(slice, band);
      if (!added.accepted) this.droppedSlices++;
      for (const b of added.closed) closed.push(b);
      this.recordVersions(slice);
    }
    if (closed.length > 0) {
      this.store.writeBuckets(closed);
      this.bucketsWritten += closed.length;
      const end = closed[closed.length - 1]!.startMs + fine.resolutionMs;
      for (let i = 1; i < this.tiers.length; i++) this.store.downsample(this.tiers, i, end);
    }
    if (nowMs - this.lastPruneMs >= PRUNE_EVERY_MS) {
      this.lastPruneMs = nowMs;
      this.store.prune(this.tiers, nowMs);
    }
  }

  private recordVersions(slice: GraphSlice): void {
    const versions = this.sources.versions;
    if (versions === undefined) return;
    for (const s of slice.services.values()) {
      for (const v of versions.call(this.sources, s.service)) {
        if (v.version === '') continue;
        const key = `${s.service}\u0000${v.version}`;
        if (this.knownVersions.has(key)) continue;
        if (this.knownVersions.size >= MAX_KNOWN_VERSIONS) this.knownVersions.clear();
        this.store.recordVersion(s.service, v.version, Math.round(v.firstSeenMs));
        this.knownVersions.add(key);
      }
    }
  }
}
