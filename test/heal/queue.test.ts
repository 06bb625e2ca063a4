import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay, JobQueue, nextStage } from '../../src/heal/queue.js';
import { sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from './fixtures/samples.js';

const OPTS = { maxAttempts: 3, backoffMs: 1_000 };

describe('JobQueue', () => {
  let t: TempDb;
  let q: JobQueue;
  beforeEach(() => {
    t = tempDb();
    q = new JobQueue(t.db);
  });
  afterEach(() => t.close());

  it('enqueues idempotently per diagnosis id', () => {
    const a = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 100);
    const b = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 200);
    expect(a.created).toBe(true);
    expect(b).toEqual({ id: a.id, created: false });
    const job = q.get(a.id)!;
    expect(job).toMatchObject({ state: 'queued', stage: 'fix.generate', attempt: 0, nextRunMs: 100, service: 'canvas-app', handler: 'createComponent', severity: 'high', anomalyType: 'error' });
    expect(job.diagnosis.rootCause.cause).toBe('null-access');
    expect(q.list()).toHaveLength(1);
    expect(q.counts()).toMatchObject({ queued: 1, running: 0 });
  });

  it('leases due jobs once and reclaims them after the lease expires', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 100);
    expect(q.claimDue('w1', 50, 1_000, 5)).toHaveLength(0); // not due yet
    const [job] = q.claimDue('w1', 100, 1_000, 5);
    expect(job).toMatchObject({ id, state: 'running', leaseOwner: 'w1', leaseExpiresMs: 1_100 });
    expect(q.claimDue('w2', 500, 1_000, 5)).toHaveLength(0);
    const started = q.startStage(id, 'w1', 'fix.generate', 600)!;
    expect(started.attempt).toBe(1);
    // w1 dies; after expiry w2 takes over and the orphaned attempt is marked failed.
    const [again] = q.claimDue('w2', 1_200, 1_000, 5);
    expect(again!.leaseOwner).toBe('w2');
    const rows = q.stageResults(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'failed', error: 'abandoned: worker lease expired' });
    // The old owner can no longer record anything.
    expect(q.completeStage(id, 'w1', started.resultId, 'fix.generate', { result: [], nextRunMs: 0 }, 1_300)).toBe(false);
    expect(q.renewLease(id, 'w1', 1_300, 1_000)).toBe(false);
    expect(q.renewLease(id, 'w2', 1_300, 1_000)).toBe(true);
    expect(q.get(id)!.leaseExpiresMs).toBe(2_300);
  });

  it('does not hand a worker back a job it is still running after a stall', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    const other = q.enqueue({ ...sampleDiagnosis(), id: 'dg-2' }, sampleAnomaly(), 0).id;
    q.claimDue('w1', 0, 1_000, 1);
    // w1 stalled past its lease while running the job: it must not claim it a second time.
    expect(q.claimDue('w1', 5_000, 1_000, 1, undefined, new Set([id])).map((j) => j.id)).toEqual([other]);
    expect(q.claimDue('w1', 9_000, 1_000, 2, undefined, new Set([id, other]))).toEqual([]);
    // Without the in-flight list the expired lease is reclaimable (another worker takes over).
    expect(q.claimDue('w2', 9_000, 1_000, 2).map((j) => j.id).sort()).toEqual([id, other].sort());
  });

  it('advances through every stage and records each success exactly once', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.claimDue('w', 0, 10_000, 1);
    for (const stage of ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track'] as const) {
      const s = q.startStage(id, 'w', stage, 10)!;
      expect(q.completeStage(id, 'w', s.resultId, stage, { result: { stage }, artefacts: { a: 1 }, nextRunMs: 10 }, 10)).toBe(true);
      // A second completion of the same stage is refused (the job has moved on).
      expect(q.completeStage(id, 'w', s.resultId, stage, { result: { stage }, nextRunMs: 10 }, 11)).toBe(false);
    }
    expect(q.get(id)).toMatchObject({ state: 'succeeded', stage: undefined, leaseOwner: undefined });
    const rows = q.stageResults(id);
    expect(rows.map((r) => `${r.stage}:${r.status}`)).toEqual([
      'fix.generate:succeeded',
      'validation.run:succeeded',
      'deployment.deploy:succeeded',
      'learning.track:succeeded',
    ]);
    expect(rows[0]!.artefacts).toEqual({ a: 1 });
    expect(q.succeeded(id, 'validation.run')).toEqual({ stage: 'validation.run' });
    expect(q.succeeded('nope', 'validation.run')).toBeUndefined();
  });

  it('refuses a second succeeded row for a stage even when written directly', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    const insert = t.db.prepare(
      `INSERT INTO heal_stage_results (job_id, stage, attempt, status, started_ms) VALUES (?, 'fix.generate', 1, 'succeeded', 0)`,
    );
    insert.run(id);
    expect(() => insert.run(id)).toThrow(/UNIQUE/);
  });

  it('releases the lease when the next stage is due later (learning waits)', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.claimDue('w', 0, 10_000, 1);
    const s = q.startStage(id, 'w', 'fix.generate', 0)!;
    q.completeStage(id, 'w', s.resultId, 'fix.generate', { result: [], nextRunMs: 5_000 }, 10);
    expect(q.get(id)).toMatchObject({ state: 'queued', stage: 'validation.run', nextRunMs: 5_000, leaseOwner: undefined });
    expect(q.claimDue('w', 4_999, 10_000, 1)).toHaveLength(0);
    expect(q.claimDue('w', 5_000, 10_000, 1)).toHaveLength(1);
  });

  it('retries with exponential backoff and parks after maxAttempts', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    let now = 0;
    const delays: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const [job] = q.claimDue('w', now, 10_000, 1);
      expect(job).toBeDefined();
      const s = q.startStage(id, 'w', 'fix.generate', now)!;
      expect(s.attempt).toBe(i);
      const out = q.failStage(id, 'w', s.resultId, 'fix.generate', `boom ${i}`, OPTS, now);
      if (i < 3) {
        expect(out).toBe('retry');
        const next = q.get(id)!;
        delays.push(next.nextRunMs - now);
        now = next.nextRunMs;
      } else expect(out).toBe('parked');
    }
    expect(delays).toEqual([1_000, 2_000]);
    expect(q.get(id)).toMatchObject({ state: 'parked', error: 'boom 3', stage: 'fix.generate' });
    expect(q.stageResults(id).map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(q.failStage(id, 'w', undefined, 'fix.generate', 'x', OPTS, now)).toBe('lease-lost');
    // An operator can put it back.
    expect(q.requeue(id, now)).toBe(true);
    expect(q.get(id)).toMatchObject({ state: 'queued', attempt: 0 });
    expect(q.requeue(id, now)).toBe(false);
  });

  it('rejection ends the job as failed without retry', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.claimDue('w', 0, 10_000, 1);
    const s = q.startStage(id, 'w', 'fix.generate', 0)!;
    q.completeStage(id, 'w', s.resultId, 'fix.generate', { result: [], nextRunMs: 0 }, 0);
    const v = q.startStage(id, 'w', 'validation.run', 0)!;
    expect(q.rejectStage(id, 'w', v.resultId, 'validation.run', { reason: 'validation failed: 1 test failed', result: { results: [] } }, 5)).toBe(true);
    expect(q.get(id)).toMatchObject({ state: 'failed', error: 'validation failed: 1 test failed' });
    expect(q.claimDue('w', 10_000, 10_000, 5)).toHaveLength(0);
    expect(q.stageResults(id)[1]).toMatchObject({ status: 'rejected', result: { results: [] } });
    expect(q.startStage(id, 'w', 'validation.run', 0)).toBeUndefined();
    expect(q.list({ state: 'failed' })).toHaveLength(1);
  });

  it('claims one given job for runJobNow even before it is due', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 50_000);
    expect(q.claimDue('w', 0, 1_000, 1, id)).toHaveLength(1);
    q.releaseLease(id, 'w', 1);
    expect(q.get(id)).toMatchObject({ state: 'queued', leaseOwner: undefined });
    expect(q.claimDue('w', 0, 1_000, 0)).toHaveLength(0);
  });

  it('stores the trace root and before snapshot once', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.setTraceRoot(id, 't1', 's1');
    q.setTraceRoot(id, 't2', 's2');
    const snap = { takenMs: 1, durationsMs: [1, 2], errors: 0, count: 2, version: '1.1.0' };
    q.setBefore(id, snap);
    q.setBefore(id, { ...snap, count: 99 });
    expect(q.get(id)).toMatchObject({ traceId: 't1', spanId: 's1', before: snap });
  });

  it('summarizes a job from its recorded results', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.claimDue('w', 0, 10_000, 1);
    const results: Record<string, unknown> = {
      'fix.generate': [{ kind: 'guard', title: 'Guard' }, { kind: 'llm', title: 'LLM' }],
      'validation.run': { chosen: 1, results: [{ passed: false }, { passed: true, tests: { passed: 3, failed: 0, skipped: 0, total: 3 }, coverage: { linePct: 91 } }] },
      'deployment.deploy': { decision: 'merge', proposal: { branch: 'self-healing/an-1-x', state: 'merged', mergeSha: 'abc', url: 'https://github.com/o/r/pull/7' } },
      'learning.track': { verdict: 'improved' },
    };
    for (const stage of ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track'] as const) {
      const s = q.startStage(id, 'w', stage, 0)!;
      q.completeStage(id, 'w', s.resultId, stage, { result: results[stage], nextRunMs: 0 }, 0);
    }
    const sum = q.summarize(q.get(id)!);
    expect(sum).toMatchObject({
      state: 'succeeded',
      fix: { kind: 'llm', title: 'LLM' },
      validation: { passed: true, tests: { passed: 3, total: 3 }, linePct: 91 },
      deployment: { decision: 'merge', branch: 'self-healing/an-1-x', state: 'merged', mergeSha: 'abc', url: 'https://github.com/o/r/pull/7' },
      verdict: 'improved',
    });
  });

  it('summarizes the combined fix when validation shipped one', () => {
    const { id } = q.enqueue(sampleDiagnosis(), sampleAnomaly(), 0);
    q.claimDue('w', 0, 10_000, 1);
    const g = q.startStage(id, 'w', 'fix.generate', 0)!;
    q.completeStage(id, 'w', g.resultId, 'fix.generate', { result: [{ kind: 'regression-test', title: 'Test' }, { kind: 'guard', title: 'Guard' }], nextRunMs: 0 }, 0);
    const v = q.startStage(id, 'w', 'validation.run', 0)!;
    const combined = { fix: { kind: 'guard', title: 'Guard (with regression test)' }, validation: { passed: true, tests: { passed: 5, failed: 0, skipped: 0, total: 5 }, proof: { verdict: 'proven' } } };
    q.completeStage(id, 'w', v.resultId, 'validation.run', { result: { chosen: 1, results: [{ passed: false }, { passed: true }], combined }, nextRunMs: 0 }, 0);
    expect(q.summarize(q.get(id)!)).toMatchObject({ fix: combined.fix, validation: { passed: true, tests: { total: 5 }, proof: 'proven' } });
  });

  it('has helpers for stage order and backoff', () => {
    expect(nextStage('fix.generate')).toBe('validation.run');
    expect(nextStage('learning.track')).toBeUndefined();
    expect(backoffDelay(500, 1)).toBe(500);
    expect(backoffDelay(500, 4)).toBe(4_000);
  });
});
