import type { Beat } from './beat.js';

/**
 * Read access to the recent beats the detectors keep, so diagnosis can look at real runs without
 * the hot path keeping anything beyond its bounded reservoirs.
 */
export interface EvidenceSource {
  /** Recent beats of one handler (bounded reservoir, newest last). */
  recentBeats(service: string, handler: string): Beat[];
  /** Beats of the same handler from before the current window, used as "normal" comparison. */
  baselineBeats(service: string, handler: string): Beat[];
  /** All beats seen for one trace (sequence run), if it is still held; children included. */
  traceBeats(traceId: string): Beat[] | undefined;
  /** service.version values seen for a service, with when each was first seen. */
  versions(service: string): Array<{ version: string; firstSeenMs: number; lastSeenMs: number }>;
  /** Traffic share of a handler within its service over the current window, 0..1. */
  trafficShare(service: string, handler: string): number;
}
