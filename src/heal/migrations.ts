import type { Migration } from '../store/database.js';

/** Tables of the healing pipeline: durable jobs, per-stage results, local PR records, learning state. */
export const healMigrations: Migration[] = [
  {
    module: 'heal',
    version: 1,
    description: 'healing jobs, stage results, pull request records, learning state',
    sql: `
      CREATE TABLE heal_jobs (
        id TEXT PRIMARY KEY,
        diagnosis_id TEXT NOT NULL UNIQUE,
        anomaly_id TEXT NOT NULL,
        service TEXT NOT NULL,
        handler TEXT,
        anomaly_type TEXT NOT NULL,
        severity TEXT NOT NULL,
        diagnosis_json TEXT NOT NULL,
        anomaly_json TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','parked')),
        stage TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        next_run_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_ms INTEGER,
        trace_id TEXT,
        span_id TEXT,
        before_json TEXT,
        error TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      CREATE INDEX heal_jobs_due ON heal_jobs (state, next_run_ms);
      CREATE TABLE heal_stage_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL REFERENCES heal_jobs(id) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running','succeeded','rejected','failed')),
        started_ms INTEGER NOT NULL,
        finished_ms INTEGER,
        result_json TEXT,
        artefacts_json TEXT,
        error TEXT
      );
      CREATE INDEX heal_stage_results_job ON heal_stage_results (job_id, id);
      -- The exactly-once guarantee: a stage can be recorded as succeeded only once per job.
      CREATE UNIQUE INDEX heal_stage_results_once ON heal_stage_results (job_id, stage) WHERE status = 'succeeded';
      CREATE TABLE prs (
        id TEXT PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        job_id TEXT NOT NULL,
        backend TEXT NOT NULL,
        branch TEXT NOT NULL UNIQUE,
        base_branch TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        head_sha TEXT NOT NULL,
        state TEXT NOT NULL,
        url TEXT,
        merge_sha TEXT,
        revert_of TEXT,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
      );
      CREATE TABLE learning_outcomes (
        job_id TEXT PRIMARY KEY,
        fix_kind TEXT NOT NULL,
        anomaly_type TEXT NOT NULL,
        service TEXT NOT NULL,
        handler TEXT,
        verdict TEXT NOT NULL,
        outcome_json TEXT NOT NULL,
        recorded_ms INTEGER NOT NULL
      );
      CREATE TABLE learning_kind_stats (
        fix_kind TEXT NOT NULL,
        anomaly_type TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        PRIMARY KEY (fix_kind, anomaly_type)
      );
      CREATE TABLE handler_sensitivity (
        service TEXT NOT NULL,
        handler TEXT NOT NULL,
        factor REAL NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (service, handler)
      );
    `,
  },
  {
    // A module of its own, so its version never collides with other changes to the heal tables.
    module: 'heal-durability',
    version: 1,
    description: 'lost-worker attempts counted apart from stage failures; the process group of the running test command',
    sql: `
      ALTER TABLE heal_jobs ADD COLUMN lost_attempts INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE heal_jobs ADD COLUMN parked_reason TEXT;
      ALTER TABLE heal_jobs ADD COLUMN test_pgid INTEGER;
      ALTER TABLE heal_jobs ADD COLUMN test_pgid_start TEXT;
    `,
  },
];
