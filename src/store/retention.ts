import type { SqliteDatabase } from './database.js';

export interface PruneCounts {
  events: number;
  anomalies: number;
  diagnoses: number;
  jobs: number;
  incidents: number;
}

/**
 * Deletes what is older than `cutoffMs` and finished: events, resolved anomalies with their
 * diagnoses and feedback, resolved incidents with their rows, and healing jobs that ended (their
 * stage results go with them).
 * Open anomalies and unfinished jobs are kept whatever their age. Without this the database
 * grows with uptime: every anomaly change and every stage result (patches, output tails) is a row.
 */
export function pruneBefore(db: SqliteDatabase, cutoffMs: number): PruneCounts {
  const hasJobs = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'heal_jobs'").get() !== undefined;
  const hasIncidents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'").get() !== undefined;
  return db.transaction(() => {
    const events = db.prepare('DELETE FROM events WHERE time_ms < ?').run(cutoffMs).changes;
    const old = "SELECT id FROM anomalies WHERE state = 'resolved' AND last_seen_ms < ?";
    const diagnoses = db.prepare(`DELETE FROM diagnoses WHERE anomaly_id IN (${old})`).run(cutoffMs).changes;
    db.prepare(`DELETE FROM anomaly_feedback WHERE anomaly_id IN (${old})`).run(cutoffMs);
    const anomalies = db.prepare("DELETE FROM anomalies WHERE state = 'resolved' AND last_seen_ms < ?").run(cutoffMs).changes;
    const jobs = hasJobs
      ? db.prepare("DELETE FROM heal_jobs WHERE state IN ('succeeded', 'failed', 'parked') AND updated_ms < ?").run(cutoffMs).changes
      : 0;
    let incidents = 0;
    if (hasIncidents) {
      const oldIncidents = "SELECT id FROM incidents WHERE state = 'resolved' AND end_ms < ?";
      for (const table of ['incident_anomalies', 'incident_services', 'incident_timeline', 'incident_exemplars']) {
        db.prepare(`DELETE FROM ${table} WHERE incident_id IN (${oldIncidents})`).run(cutoffMs);
      }
      incidents = db.prepare("DELETE FROM incidents WHERE state = 'resolved' AND end_ms < ?").run(cutoffMs).changes;
    }
    return { events, anomalies, diagnoses, jobs, incidents };
  })();
}
