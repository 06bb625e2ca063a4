import { randomUUID } from 'node:crypto';
import type { Anomaly } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { STAGES, type JobState, type StageName, type StageStatus, type TelemetrySnapshot } from '../model/heal.js';
import type { SqliteDatabase } from '../store/database.js';

export interface HealJob {
  id: string;
  diagnosisId: string;
  anomalyId: string;
  service: string;
  handler: string | undefined;
  anomalyType: string;
  severity: string;
  diagnosis: Diagnosis;
  anomaly: Anomaly;
  state: JobState;
  /** The stage to run next; undefined once the job has ended. */
  stage: StageName | undefined;
  /** Attempts made so far at the current stage that ended (succeeded, failed or rejected) in their worker. */
  attempt: number;
  /** Attempts lost with their worker (crash, kill -9, lease expiry): a budget of their own. */
  lostAttempts: number;
  /** Why a parked job is parked: 'lost-workers' jobs resume when the sidecar starts again. */
  parkedReason: string | undefined;
  /** Process group of the test command running for this job, and its leader's start time. */
  testPgid: number | undefined;
  testPgidStart: string | undefined;
  nextRunMs: number;
  leaseOwner: string | undefined;
  leaseExpiresMs: number | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  before: TelemetrySnapshot | undefined;
  error: string | undefined;
  createdMs: number;
  updatedMs: number;
}

export interface StageResultRow {
  id: number;
  jobId: string;
  stage: StageName;
  attempt: number;
  status: StageStatus;
  startedMs: number;
  finishedMs: number | undefined;
  result: unknown;
  artefacts: unknown;
  error: string | undefined;
}

interface JobRow {
  id: string;
  diagnosis_id: string;
  anomaly_id: string;
  service: string;
  handler: string | null;
  anomaly_type: string;
  severity: string;
  diagnosis_json: string;
  anomaly_json: string;
  state: JobState;
  stage: StageName | null;
  attempt: number;
  lost_attempts: number;
  parked_reason: string | null;
  test_pgid: number | null;
  test_pgid_start: string | null;
  next_run_ms: number;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  trace_id: string | null;
  span_id: string | null;
  before_json: string | null;
  error: string | null;
  created_ms: number;
  updated_ms: number;
}

interface ResultRow {
  id: number;
  job_id: string;
  stage: StageName;
  attempt: number;
  status: StageStatus;
  started_ms: number;
  finished_ms: number | null;
  result_json: string | null;
  artefacts_json: string | null;
  error: string | null;
}

function toJob(r: JobRow): HealJob {
  return {
    id: r.id,
    diagnosisId: r.diagnosis_id,
    anomalyId: r.anomaly_id,
    service: r.service,
    handler: r.handler ?? undefined,
    anomalyType: r.anomaly_type,
    severity: r.severity,
    diagnosis: JSON.parse(r.diagnosis_json) as Diagnosis,
    anomaly: JSON.parse(r.anomaly_json) as Anomaly,
    state: r.state,
    stage: r.stage ?? undefined,
    attempt: r.attempt,
    lostAttempts: r.lost_attempts,
    parkedReason: r.parked_reason ?? undefined,
    testPgid: r.test_pgid ?? undefined,
    testPgidStart: r.test_pgid_start ?? undefined,
    nextRunMs: r.next_run_ms,
    leaseOwner: r.lease_owner ?? undefined,
    leaseExpiresMs: r.lease_expires_ms ?? undefined,
    traceId: r.trace_id ?? undefined,
    spanId: r.span_id ?? undefined,
    before: r.before_json === null ? undefined : (JSON.parse(r.before_json) as TelemetrySnapshot),
    error: r.error ?? undefined,
    createdMs: r.created_ms,
    updatedMs: r.updated_ms,
  };
}

function toResult(r: ResultRow): StageResultRow {
  return {
    id: r.id,
    jobId: r.job_id,
    stage: r.stage,
    attempt: r.attempt,
    status: r.status,
    startedMs: r.started_ms,
    finishedMs: r.finished_ms ?? undefined,
    result: r.result_json === null ? undefined : JSON.parse(r.result_json),
    artefacts: r.artefacts_json === null ? undefined : JSON.parse(r.artefacts_json),
    error: r.error ?? undefined,
  };
}

/** The stage after `stage`, or undefined after the last one. */
export function nextStage(stage: StageName): StageName | undefined {
  return STAGES[STAGES.indexOf(stage) + 1];
}

/** Exponential backoff before retry number `attempt` (1-based: the attempt that just failed). */
export function backoffDelay(baseMs: number, attempt: number): number {
  return baseMs * 2 ** Math.max(0, attempt - 1);
}

export interface TestFigures {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

/** One line's worth of a job: what was tried, how it was checked, where it went, what it did. */
export interface JobSummary {
  id: string;
  state: JobState;
  stage: StageName | undefined;
  attempt: number;
  anomalyId: string;
  diagnosisId: string;
  service: string;
  handler: string | undefined;
  severity: string;
  createdMs: number;
  updatedMs: number;
  nextRunMs: number;
  error: string | undefined;
  traceId: string | undefined;
  fix: { kind: string; title: string } | undefined;
  /** proof: 'proven' | 'unverified' | 'not-needed' (see ProofSchema); an unverified fix is never auto-merged. */
  validation: { passed: boolean; tests?: TestFigures; linePct?: number; proof?: string } | undefined;
  deployment: { decision: string; branch?: string; mergeSha?: string; state?: string; url?: string } | undefined;
  verdict: string | undefined;
  /** Attempts at the current stage lost with their worker, when any. */
  lostAttempts?: number;
  /** Why the job is parked, when it is parked for lost workers. */
  parkedReason?: string;
}

export type FailOutcome = 'retry' | 'parked' | 'lease-lost';

/** parked_reason of a job parked because its attempts kept dying with their workers. */
export const PARKED_LOST_WORKERS = 'lost-workers';

/**
 * The durable job queue. Every state transition is one SQLite transaction that first checks the
 * caller still holds the job's lease, so a worker whose lease was taken over (after a pause or a
 * crash) cannot record anything; the partial unique index on succeeded results is the last line
 * of defence against recording a stage twice.
 */
export class JobQueue {
  private readonly insertJob;
  private readonly selectJob;

  constructor(private readonly db: SqliteDatabase) {
    this.insertJob = db.prepare(`INSERT INTO heal_jobs
      (id, diagnosis_id, anomaly_id, service, handler, anomaly_type, severity, diagnosis_json, anomaly_json,
       state, stage, attempt, next_run_ms, created_ms, updated_ms)
      VALUES (@id, @diagnosisId, @anomalyId, @service, @handler, @anomalyType, @severity, @diagnosisJson, @anomalyJson,
       'queued', 'fix.generate', 0, @now, @now, @now)
      ON CONFLICT (diagnosis_id) DO NOTHING`);
    this.selectJob = db.prepare('SELECT * FROM heal_jobs WHERE id = ?');
  }

  /** Writes the job row (one insert, idempotent per diagnosis id). Returns the job id. */
  enqueue(diagnosis: Diagnosis, anomaly: Anomaly, nowMs = Date.now()): { id: string; created: boolean } {
    const id = randomUUID();
    const info = this.insertJob.run({
      id,
      diagnosisId: diagnosis.id,
      anomalyId: anomaly.id,
      service: diagnosis.service,
      handler: diagnosis.handler ?? anomaly.handler ?? null,
      anomalyType: anomaly.type,
      severity: diagnosis.impact.severity,
      diagnosisJson: JSON.stringify(diagnosis),
      anomalyJson: JSON.stringify(anomaly),
      now: nowMs,
    });
    if (info.changes === 1) return { id, created: true };
    const existing = this.db.prepare('SELECT id FROM heal_jobs WHERE diagnosis_id = ?').get(diagnosis.id) as { id: string };
    return { id: existing.id, created: false };
  }

  get(id: string): HealJob | undefined {
    const row = this.selectJob.get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  list(opts: { state?: JobState; limit?: number } = {}): HealJob[] {
    const limit = opts.limit ?? 100;
    const rows = (
      opts.state === undefined
        ? this.db.prepare('SELECT * FROM heal_jobs ORDER BY created_ms DESC, id LIMIT ?').all(limit)
        : this.db.prepare('SELECT * FROM heal_jobs WHERE state = ? ORDER BY created_ms DESC, id LIMIT ?').all(opts.state, limit)
    ) as JobRow[];
    return rows.map(toJob);
  }

  /**
   * Leases up to `limit` due jobs (queued, or running with an expired lease). Results left
   * 'running' by a crashed worker are marked failed so the history shows the lost attempt.
   */
  /**
   * Leases up to `limit` due jobs. `exclude` lists jobs this worker is still running: after a
   * long stall its own lease may look expired, and claiming such a job again would run a stage
   * twice at once.
   */
  claimDue(owner: string, nowMs: number, leaseMs: number, limit: number, onlyJobId?: string, exclude: ReadonlySet<string> = new Set()): HealJob[] {
    if (limit <= 0) return [];
    return this.db.transaction(() => {
      const rows = (
        onlyJobId === undefined
          ? (
              this.db
                .prepare(
                  `SELECT * FROM heal_jobs WHERE state IN ('queued','running') AND next_run_ms <= ?
                   AND (lease_owner IS NULL OR lease_expires_ms <= ?) ORDER BY next_run_ms, created_ms LIMIT ?`,
                )
                .all(nowMs, nowMs, limit + exclude.size) as JobRow[]
            )
              .filter((r) => !exclude.has(r.id))
              .slice(0, limit)
          : this.db
              .prepare(
                `SELECT * FROM heal_jobs WHERE id = ? AND state IN ('queued','running')
                 AND (lease_owner IS NULL OR lease_expires_ms <= ?)`,
              )
              .all(onlyJobId, nowMs)
      ) as JobRow[];
      const lease = this.db.prepare(
        `UPDATE heal_jobs SET state = 'running', lease_owner = ?, lease_expires_ms = ?, updated_ms = ? WHERE id = ?`,
      );
      const abandon = this.db.prepare(
        `UPDATE heal_stage_results SET status = 'failed', finished_ms = ?, error = 'abandoned: worker lease expired'
         WHERE job_id = ? AND status = 'running'`,
      );
      // A lost attempt is not a stage failure: it moves from the stage budget to the lost-worker one.
      const countLost = this.db.prepare(
        'UPDATE heal_jobs SET attempt = MAX(0, attempt - ?), lost_attempts = lost_attempts + ? WHERE id = ?',
      );
      for (const r of rows) {
        lease.run(owner, nowMs + leaseMs, nowMs, r.id);
        const lost = abandon.run(nowMs, r.id).changes;
        if (lost > 0) countLost.run(lost, lost, r.id);
      }
      return rows.map((r) => toJob(this.selectJob.get(r.id) as JobRow));
    })();
  }

  /** Extends the lease; false when another worker holds it now. */
  renewLease(jobId: string, owner: string, nowMs: number, leaseMs: number): boolean {
    const info = this.db
      .prepare(`UPDATE heal_jobs SET lease_expires_ms = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`)
      .run(nowMs + leaseMs, jobId, owner);
    return info.changes === 1;
  }

  /** Gives the lease back without changing the job (e.g. on shutdown between stages). */
  releaseLease(jobId: string, owner: string, nowMs: number): void {
    this.db
      .prepare(
        `UPDATE heal_jobs SET state = 'queued', lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ?
         WHERE id = ? AND lease_owner = ? AND state = 'running'`,
      )
      .run(nowMs, jobId, owner);
  }

  private holds(jobId: string, owner: string, stage: StageName): boolean {
    const row = this.db.prepare('SELECT lease_owner, state, stage FROM heal_jobs WHERE id = ?').get(jobId) as
      | Pick<JobRow, 'lease_owner' | 'state' | 'stage'>
      | undefined;
    return row !== undefined && row.lease_owner === owner && row.state === 'running' && row.stage === stage;
  }

  /** Records the start of an attempt; undefined when the lease was lost. */
  startStage(jobId: string, owner: string, stage: StageName, nowMs: number): { resultId: number; attempt: number } | undefined {
    return this.db.transaction(() => {
      if (!this.holds(jobId, owner, stage)) return undefined;
      const { attempt } = this.db.prepare('SELECT attempt FROM heal_jobs WHERE id = ?').get(jobId) as { attempt: number };
      const next = attempt + 1;
      this.db.prepare('UPDATE heal_jobs SET attempt = ?, updated_ms = ? WHERE id = ?').run(next, nowMs, jobId);
      const info = this.db
        .prepare(`INSERT INTO heal_stage_results (job_id, stage, attempt, status, started_ms) VALUES (?, ?, ?, 'running', ?)`)
        .run(jobId, stage, next, nowMs);
      return { resultId: Number(info.lastInsertRowid), attempt: next };
    })();
  }

  /**
   * Records success and advances the job in one transaction: to the next stage (due at
   * `nextRunMs`, lease kept only if it is due now) or to 'succeeded' after the last stage.
   */
  completeStage(
    jobId: string,
    owner: string,
    resultId: number,
    stage: StageName,
    payload: { result: unknown; artefacts?: unknown; nextRunMs: number },
    nowMs: number,
  ): boolean {
    return this.db.transaction(() => {
      if (!this.holds(jobId, owner, stage)) return false;
      this.db
        .prepare(
          `UPDATE heal_stage_results SET status = 'succeeded', finished_ms = ?, result_json = ?, artefacts_json = ? WHERE id = ?`,
        )
        .run(nowMs, JSON.stringify(payload.result ?? null), payload.artefacts === undefined ? null : JSON.stringify(payload.artefacts), resultId);
      const next = nextStage(stage);
      if (next === undefined) {
        this.db
          .prepare(
            `UPDATE heal_jobs SET state = 'succeeded', stage = NULL, attempt = 0, lost_attempts = 0, error = NULL, lease_owner = NULL,
             lease_expires_ms = NULL, updated_ms = ? WHERE id = ?`,
          )
          .run(nowMs, jobId);
      } else if (payload.nextRunMs > nowMs) {
        this.db
          .prepare(
            `UPDATE heal_jobs SET state = 'queued', stage = ?, attempt = 0, lost_attempts = 0, error = NULL, next_run_ms = ?, lease_owner = NULL,
             lease_expires_ms = NULL, updated_ms = ? WHERE id = ?`,
          )
          .run(next, payload.nextRunMs, nowMs, jobId);
      } else {
        this.db
          .prepare(`UPDATE heal_jobs SET stage = ?, attempt = 0, lost_attempts = 0, error = NULL, next_run_ms = ?, updated_ms = ? WHERE id = ?`)
          .run(next, payload.nextRunMs, nowMs, jobId);
      }
      return true;
    })();
  }

  /** The stage ran and said "stop" (e.g. validation failed): the job ends as failed, no retry. */
  rejectStage(
    jobId: string,
    owner: string,
    resultId: number,
    stage: StageName,
    payload: { reason: string; result?: unknown; artefacts?: unknown },
    nowMs: number,
  ): boolean {
    return this.db.transaction(() => {
      if (!this.holds(jobId, owner, stage)) return false;
      this.db
        .prepare(
          `UPDATE heal_stage_results SET status = 'rejected', finished_ms = ?, result_json = ?, artefacts_json = ?, error = ? WHERE id = ?`,
        )
        .run(
          nowMs,
          payload.result === undefined ? null : JSON.stringify(payload.result),
          payload.artefacts === undefined ? null : JSON.stringify(payload.artefacts),
          payload.reason,
          resultId,
        );
      this.db
        .prepare(
          `UPDATE heal_jobs SET state = 'failed', error = ?, lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ? WHERE id = ?`,
        )
        .run(payload.reason, nowMs, jobId);
      return true;
    })();
  }

  /** The stage crashed: retry after an exponential backoff, or park once attempts are used up. */
  failStage(
    jobId: string,
    owner: string,
    resultId: number | undefined,
    stage: StageName,
    error: string,
    opts: { maxAttempts: number; backoffMs: number },
    nowMs: number,
  ): FailOutcome {
    return this.db.transaction((): FailOutcome => {
      if (!this.holds(jobId, owner, stage)) return 'lease-lost';
      if (resultId !== undefined) {
        this.db
          .prepare(`UPDATE heal_stage_results SET status = 'failed', finished_ms = ?, error = ? WHERE id = ?`)
          .run(nowMs, error, resultId);
      }
      const { attempt } = this.db.prepare('SELECT attempt FROM heal_jobs WHERE id = ?').get(jobId) as { attempt: number };
      if (attempt >= opts.maxAttempts) {
        this.db
          .prepare(
            `UPDATE heal_jobs SET state = 'parked', error = ?, lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ? WHERE id = ?`,
          )
          .run(error, nowMs, jobId);
        return 'parked';
      }
      this.db
        .prepare(
          `UPDATE heal_jobs SET state = 'queued', error = ?, next_run_ms = ?, lease_owner = NULL, lease_expires_ms = NULL,
           updated_ms = ? WHERE id = ?`,
        )
        .run(error, nowMs + backoffDelay(opts.backoffMs, attempt), nowMs, jobId);
      return 'retry';
    })();
  }

  /**
   * Gives a leased job back to the queue without running its stage, due again at `nextRunMs`, with
   * the reason kept as its error (a hold, e.g. while its incident is silenced; not an attempt).
   */
  defer(jobId: string, owner: string, nextRunMs: number, reason: string, nowMs: number): boolean {
    const info = this.db
      .prepare(
        `UPDATE heal_jobs SET state = 'queued', error = ?, next_run_ms = ?, lease_owner = NULL, lease_expires_ms = NULL,
         updated_ms = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`,
      )
      .run(reason, nextRunMs, nowMs, jobId, owner);
    return info.changes === 1;
  }

  /** Puts a parked or failed job back in the queue at its current stage with fresh attempts. */
  requeue(jobId: string, nowMs = Date.now()): boolean {
    const info = this.db
      .prepare(
        `UPDATE heal_jobs SET state = 'queued', attempt = 0, lost_attempts = 0, parked_reason = NULL, next_run_ms = ?,
         lease_owner = NULL, lease_expires_ms = NULL, updated_ms = ? WHERE id = ? AND state IN ('parked','failed') AND stage IS NOT NULL`,
      )
      .run(nowMs, nowMs, jobId);
    return info.changes === 1;
  }

  /** Parks a job whose attempts at `stage` kept dying with their workers (lost-worker budget used up). */
  parkLostWorkers(jobId: string, owner: string, stage: StageName, error: string, nowMs: number): boolean {
    return this.db.transaction(() => {
      if (!this.holds(jobId, owner, stage)) return false;
      this.db
        .prepare(
          `UPDATE heal_jobs SET state = 'parked', parked_reason = ?, error = ?, lease_owner = NULL, lease_expires_ms = NULL,
           updated_ms = ? WHERE id = ?`,
        )
        .run(PARKED_LOST_WORKERS, error, nowMs, jobId);
      return true;
    })();
  }

  /**
   * Puts jobs parked for lost workers back in the queue with a fresh lost-worker budget: a crash
   * loop is a reason to stop for this run of the sidecar, not to give up on the anomaly for good.
   */
  resumeLostWorkerJobs(nowMs: number): string[] {
    return this.db.transaction(() => {
      const ids = (this.db.prepare(`SELECT id FROM heal_jobs WHERE state = 'parked' AND parked_reason = ?`).all(PARKED_LOST_WORKERS) as Array<{ id: string }>).map((r) => r.id);
      this.db
        .prepare(
          `UPDATE heal_jobs SET state = 'queued', lost_attempts = 0, parked_reason = NULL, next_run_ms = ?, updated_ms = ?
           WHERE state = 'parked' AND parked_reason = ?`,
        )
        .run(nowMs, nowMs, PARKED_LOST_WORKERS);
      return ids;
    })();
  }

  /** Records the process group of a test command the job started (killed if the job is abandoned). */
  recordProcessGroup(jobId: string, pgid: number, leaderStart: string | undefined): void {
    this.db.prepare('UPDATE heal_jobs SET test_pgid = ?, test_pgid_start = ? WHERE id = ?').run(pgid, leaderStart ?? null, jobId);
  }

  /** Forgets a process group once it has ended (only if it is still the recorded one). */
  clearProcessGroup(jobId: string, pgid: number): void {
    this.db.prepare('UPDATE heal_jobs SET test_pgid = NULL, test_pgid_start = NULL WHERE id = ? AND test_pgid = ?').run(jobId, pgid);
  }

  /** Every recorded process group: at start-up they belong to a sidecar that is gone. */
  processGroups(): Array<{ jobId: string; pgid: number; leaderStart: string | undefined }> {
    return (this.db.prepare('SELECT id, test_pgid, test_pgid_start FROM heal_jobs WHERE test_pgid IS NOT NULL').all() as Array<{ id: string; test_pgid: number; test_pgid_start: string | null }>).map((r) => ({
      jobId: r.id,
      pgid: r.test_pgid,
      leaderStart: r.test_pgid_start ?? undefined,
    }));
  }

  setTraceRoot(jobId: string, traceId: string, spanId: string): void {
    this.db.prepare('UPDATE heal_jobs SET trace_id = ?, span_id = ? WHERE id = ? AND trace_id IS NULL').run(traceId, spanId, jobId);
  }

  setBefore(jobId: string, snapshot: TelemetrySnapshot): void {
    this.db.prepare('UPDATE heal_jobs SET before_json = ? WHERE id = ? AND before_json IS NULL').run(JSON.stringify(snapshot), jobId);
  }

  /** Replaces the "before" snapshot (taken again just before deploying). */
  refreshBefore(jobId: string, snapshot: TelemetrySnapshot): void {
    this.db.prepare('UPDATE heal_jobs SET before_json = ? WHERE id = ?').run(JSON.stringify(snapshot), jobId);
  }

  stageResults(jobId: string): StageResultRow[] {
    return (this.db.prepare('SELECT * FROM heal_stage_results WHERE job_id = ? ORDER BY id').all(jobId) as ResultRow[]).map(toResult);
  }

  /** The recorded result of a stage that succeeded, if it did. */
  succeeded(jobId: string, stage: StageName): unknown {
    const row = this.db
      .prepare(`SELECT result_json FROM heal_stage_results WHERE job_id = ? AND stage = ? AND status = 'succeeded'`)
      .get(jobId, stage) as { result_json: string | null } | undefined;
    return row?.result_json == null ? undefined : JSON.parse(row.result_json);
  }

  summarize(job: HealJob): JobSummary {
    const rows = this.stageResults(job.id);
    const last = (stage: StageName): StageResultRow | undefined =>
      [...rows].reverse().find((r) => r.stage === stage && (r.status === 'succeeded' || r.status === 'rejected'));
    const fixes = last('fix.generate')?.result as Array<{ kind: string; title: string }> | undefined;
    const validationRow = last('validation.run');
    const validation = validationRow?.result as
      | {
          chosen?: number;
          results: Array<{ passed: boolean; tests?: TestFigures; coverage?: { linePct: number }; proof?: { verdict: string } }>;
          combined?: { fix: { kind: string; title: string }; validation: { passed: boolean; tests?: TestFigures; coverage?: { linePct: number }; proof?: { verdict: string } } };
        }
      | undefined;
    const chosen = validation?.chosen;
    const judged = validation
      ? (validation.combined?.validation ?? (chosen !== undefined ? validation.results[chosen] : validation.results[validation.results.length - 1]))
      : undefined;
    const fix = validation?.combined?.fix ?? (fixes && fixes.length > 0 ? fixes[chosen ?? 0] : undefined);
    const deploy = last('deployment.deploy')?.result as
      | { decision: string; proposal?: { branch: string; state: string; mergeSha?: string; url?: string } }
      | undefined;
    const learned = last('learning.track')?.result as { verdict: string } | undefined;
    const summary: JobSummary = {
      id: job.id,
      state: job.state,
      stage: job.stage,
      attempt: job.attempt,
      anomalyId: job.anomalyId,
      diagnosisId: job.diagnosisId,
      service: job.service,
      handler: job.handler,
      severity: job.severity,
      createdMs: job.createdMs,
      updatedMs: job.updatedMs,
      nextRunMs: job.nextRunMs,
      error: job.error,
      traceId: job.traceId,
      fix: fix ? { kind: fix.kind, title: fix.title } : undefined,
      validation: judged
        ? {
            passed: judged.passed,
            ...(judged.tests ? { tests: judged.tests } : {}),
            ...(judged.coverage ? { linePct: judged.coverage.linePct } : {}),
            ...(judged.proof ? { proof: judged.proof.verdict } : {}),
          }
        : undefined,
      deployment: deploy
        ? {
            decision: deploy.decision,
            ...(deploy.proposal ? { branch: deploy.proposal.branch, state: deploy.proposal.state } : {}),
            ...(deploy.proposal?.mergeSha ? { mergeSha: deploy.proposal.mergeSha } : {}),
            ...(deploy.proposal?.url ? { url: deploy.proposal.url } : {}),
          }
        : undefined,
      verdict: learned?.verdict,
    };
    if (job.lostAttempts > 0) summary.lostAttempts = job.lostAttempts;
    if (job.parkedReason !== undefined) summary.parkedReason = job.parkedReason;
    return summary;
  }

  /** Counts by state, for the CLI and metrics. */
  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, parked: 0 };
    for (const r of this.db.prepare('SELECT state, COUNT(*) AS n FROM heal_jobs GROUP BY state').all() as Array<{ state: JobState; n: number }>) {
      out[r.state] = r.n;
    }
    return out;
  }
}
