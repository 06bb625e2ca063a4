import type { JobQueue } from './queue.js';
import { killProcessGroup, type GroupKill } from './process-group.js';

/**
 * Kills the test-command process groups recorded in jobs and forgets them. Called when healing
 * starts: the sidecar that recorded them is gone (one sidecar owns a store), so anything still
 * running in those groups is an orphan working in a worktree that is about to be removed.
 */
export function sweepOrphanedProcessGroups(queue: JobQueue): Array<{ jobId: string; pgid: number; result: GroupKill }> {
  const out: Array<{ jobId: string; pgid: number; result: GroupKill }> = [];
  for (const g of queue.processGroups()) {
    out.push({ jobId: g.jobId, pgid: g.pgid, result: killProcessGroup(g.pgid, g.leaderStart) });
    queue.clearProcessGroup(g.jobId, g.pgid);
  }
  return out;
}
