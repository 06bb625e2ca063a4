import { TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/sections/heal.js';
import { HealingPipeline, StageRejection, wasDeployed, type HealEventKind, type HealingPipelineOptions, type StageImplementations } from '../../src/heal/pipeline.js';
import type { DeploymentOutcome, GeneratedFix } from '../../src/model/heal.js';
import { passedValidation, sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from './fixtures/samples.js';

const FIX: GeneratedFix = { kind: 'guard', title: 'Guard', description: 'd', diff: 'diff', files: ['a.ts'], claims: {} };
const MERGED: DeploymentOutcome = {
  decision: 'merge',
  backend: 'local',
  reason: 'auto',
  merge: { merged: true, mergeSha: 'm', alreadyMerged: false },
  deployedMs: 0,
};

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function config(over: Partial<HealConfig> = {}): HealConfig {
  return { ...ConfigSchema.parse({}).heal, backoffMs: 10, pollMs: 20, observationMs: 50, leaseMs: 5_000, ...over };
}

function fakeStages(calls: string[], over: Partial<StageImplementations> = {}): StageImplementations {
  return {
    generate: async () => {
      calls.push('generate');
      return { result: [FIX], artefacts: { patches: [FIX.diff] } };
    },
    validate: async (ctx) => {
      calls.push(`validate:${ctx.fixes?.length}`);
      return { result: { chosen: 0, results: [passedValidation] } };
    },
    deploy: async (ctx) => {
      calls.push(`deploy:${ctx.fix?.kind}`);
      return { result: MERGED };
    },
    learn: async (ctx) => {
      calls.push(`learn:${ctx.deployment?.decision}:${ctx.before?.count}`);
      return { result: { verdict: 'improved', samplesBefore: 1, samplesAfter: 1 } };
    },
    snapshot: () => ({ takenMs: 0, durationsMs: [1], errors: 0, count: 7, version: 'v' }),
    ...over,
  };
}

describe('HealingPipeline', () => {
  let t: TempDb;
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let events: Array<{ kind: HealEventKind; payload: Record<string, unknown> }>;
  let pipeline: HealingPipeline | undefined;

  beforeEach(() => {
    t = tempDb();
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    events = [];
  });
  afterEach(async () => {
    await pipeline?.stop();
    pipeline = undefined;
    await provider.shutdown();
    t.close();
  });

  function make(stages: StageImplementations, cfg = config(), extra: { linkFor?: boolean; holdFor?: HealingPipelineOptions['holdFor']; now?: () => number } = {}): HealingPipeline {
    pipeline = new HealingPipeline({
      db: t.db,
      config: cfg,
      stages,
      tracer: provider.getTracer('test'),
      onEvent: (kind, payload) => events.push({ kind, payload }),
      ...(extra.linkFor ? { linkFor: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }) } : {}),
      ...(extra.holdFor ? { holdFor: extra.holdFor } : {}),
      ...(extra.now ? { now: extra.now } : {}),
      workerId: 'w-test',
    });
    return pipeline;
  }

  it('takes the learning "before" again just before deploying, when the fault has shown', async () => {
    const calls: string[] = [];
    let count = 3;
    const p = make(
      fakeStages(calls, {
        validate: async () => {
          count = 40; // the fault ran on while the fix was being validated
          return { result: { chosen: 0, results: [passedValidation] } };
        },
        snapshot: () => ({ takenMs: 0, durationsMs: [1], errors: 0, count, version: 'v' }),
      }),
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    p.start();
    await until(() => p.queue.get(id)?.state === 'succeeded');
    expect(calls.at(-1)).toBe('learn:merge:40');
    expect(p.queue.get(id)!.before?.count).toBe(40);
  });

  it('runs every stage in order, in one trace linked to the anomaly, and publishes events', async () => {
    const calls: string[] = [];
    const p = make(fakeStages(calls), config(), { linkFor: true });
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    expect(p.enqueue(sampleDiagnosis(), sampleAnomaly())).toBe(id);
    p.start();
    await until(() => p.queue.get(id)?.state === 'succeeded');
    expect(calls).toEqual(['generate', 'validate:1', 'deploy:guard', 'learn:merge:7']);
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed']);
    expect(events[0]!.payload).toMatchObject({ jobId: id, anomalyId: 'an-1', diagnosisId: 'dg-1', attempt: 1 });

    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'heal.job')!;
    expect(root.links[0]!.context.spanId).toBe('b7ad6b7169203331');
    const stageSpans = spans.filter((s) => s.name !== 'heal.job');
    expect(stageSpans.map((s) => s.name)).toEqual(['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track']);
    for (const s of stageSpans) {
      expect(s.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(s.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
    const job = p.queue.get(id)!;
    expect(job.traceId).toBe(root.spanContext().traceId);
    // learning.track waited for the observation window after the deploy.
    const rows = p.queue.stageResults(id);
    const deployed = rows.find((r) => r.stage === 'deployment.deploy')!;
    const learned = rows.find((r) => r.stage === 'learning.track')!;
    expect(learned.startedMs - deployed.finishedMs!).toBeGreaterThanOrEqual(50);
    expect(rows.filter((r) => r.status === 'succeeded')).toHaveLength(4);
    expect(p.queue.stageResults(id)[0]!.artefacts).toEqual({ patches: ['diff'] });
  });

  it('does not wait for observation when nothing was deployed', async () => {
    expect(wasDeployed({ ...MERGED, merge: undefined, decision: 'dry-run' })).toBe(false);
    const calls: string[] = [];
    const p = make(fakeStages(calls, { deploy: async () => ({ result: { decision: 'dry-run', backend: 'local', reason: 'dry', deployedMs: 0 } }) }), config({ observationMs: 3_600_000 }));
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    await p.runJobNow(id);
    expect(p.queue.get(id)!.state).toBe('succeeded');
    expect(calls.at(-1)).toBe('learn:dry-run:7');
  });

  it('retries a crashing stage with backoff and parks it after maxAttempts', async () => {
    let n = 0;
    const p = make(
      fakeStages([], {
        validate: async () => {
          n++;
          throw new Error(`runner exploded ${n}`);
        },
      }),
      config({ maxAttempts: 3 }),
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    p.start();
    await until(() => p.queue.get(id)?.state === 'parked');
    expect(n).toBe(3);
    const job = p.queue.get(id)!;
    expect(job).toMatchObject({ stage: 'validation.run', error: 'runner exploded 3' });
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'job.parked']);
    const failed = exporter.getFinishedSpans().filter((s) => s.name === 'validation.run');
    expect(failed).toHaveLength(3);
    expect(failed[0]!.status.code).toBe(2);
    expect(failed[0]!.events[0]!.name).toBe('exception');
  });

  it('stops on a rejection without retrying and says why', async () => {
    let n = 0;
    const p = make(
      fakeStages([], {
        validate: async () => {
          n++;
          throw new StageRejection('validation failed: 1 test failed', { results: [{ passed: false }] });
        },
      }),
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    await p.runJobNow(id);
    expect(n).toBe(1);
    expect(p.queue.get(id)).toMatchObject({ state: 'failed', error: 'validation failed: 1 test failed' });
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'validation.completed', 'job.failed']);
    expect(events[1]!.payload).toMatchObject({ passed: false });
    expect(p.queue.stageResults(id).map((r) => r.status)).toEqual(['succeeded', 'rejected']);
  });

  it('rejects a job for which no fix could be generated', async () => {
    const p = make(fakeStages([], { generate: async () => ({ result: [] }) }));
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    await p.runJobNow(id);
    expect(p.queue.get(id)).toMatchObject({ state: 'failed', error: 'no fix could be generated' });
  });

  it('parks a job whose attempts were all lost with crashed workers', async () => {
    const p = make(fakeStages([]), config({ maxAttempts: 2, maxLostAttempts: 2, leaseMs: 1 }));
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    // Two workers died mid-stage.
    const now = Date.now();
    for (const [w, at] of [['dead-1', now - 1_000], ['dead-2', now - 500]] as const) {
      expect(p.queue.claimDue(w, at, 1, 1, id)).toHaveLength(1);
      expect(p.queue.startStage(id, w, 'fix.generate', at)).toBeDefined();
    }
    await p.runJobNow(id);
    // Lost attempts have their own budget: the stage-failure budget is untouched.
    expect(p.queue.get(id)).toMatchObject({ state: 'parked', parkedReason: 'lost-workers', attempt: 0, lostAttempts: 2 });
    expect(events.map((e) => e.kind)).toEqual(['job.parked']);
  });

  it('does not count lost attempts against the stage budget, and resumes a job parked for lost workers on start', async () => {
    const calls: string[] = [];
    const p = make(fakeStages(calls), config({ maxAttempts: 1, maxLostAttempts: 1, leaseMs: 1 }));
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    const at = Date.now() - 1_000;
    expect(p.queue.claimDue('dead-1', at, 1, 1, id)).toHaveLength(1);
    expect(p.queue.startStage(id, 'dead-1', 'fix.generate', at)).toBeDefined();
    await p.runJobNow(id);
    expect(p.queue.get(id)).toMatchObject({ state: 'parked', parkedReason: 'lost-workers', attempt: 0, lostAttempts: 1 });
    expect(calls).toEqual([]);
    // A new start of the pipeline (the sidecar restarted) puts it back with a fresh budget.
    p.start();
    await vi.waitFor(() => expect(p.queue.get(id)!.state).toBe('succeeded'), { timeout: 10_000 });
    expect(events.map((e) => e.kind)).toContain('job.resumed');
    expect(calls[0]).toBe('generate');
  });

  it('respects the concurrency limit', async () => {
    let active = 0;
    let peak = 0;
    const p = make(
      fakeStages([], {
        generate: async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 50));
          active--;
          return { result: [FIX] };
        },
      }),
      config({ concurrency: 2 }),
    );
    const ids = [1, 2, 3, 4, 5].map((i) => p.enqueue(sampleDiagnosis({ id: `dg-${i}` }), sampleAnomaly({ id: `an-${i}` })));
    p.start();
    await until(() => ids.every((id) => p.queue.get(id)?.state === 'succeeded'));
    expect(peak).toBe(2);
  });

  it('a worker that lost its lease records nothing', async () => {
    let release: () => void = () => undefined;
    const p = make(
      fakeStages([], {
        generate: () =>
          new Promise((resolve) => {
            release = () => resolve({ result: [FIX] });
          }),
      }),
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    const run = p.runJobNow(id);
    await until(() => p.queue.stageResults(id).length === 1);
    // Another worker takes the job over (as if our lease had expired).
    t.db.prepare(`UPDATE heal_jobs SET lease_owner = 'other' WHERE id = ?`).run(id);
    release();
    await run;
    expect(p.queue.stageResults(id)[0]!.status).toBe('running');
    expect(events).toEqual([]);
    const span = exporter.getFinishedSpans().find((s) => s.name === 'fix.generate')!;
    expect(span.attributes['heal.lease_lost']).toBe(true);
  });

  it('stop() lets the running stage finish, then gives the job back', async () => {
    let release: () => void = () => undefined;
    const calls: string[] = [];
    const p = make(
      fakeStages(calls, {
        generate: () =>
          new Promise((resolve) => {
            release = () => resolve({ result: [FIX] });
          }),
      }),
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    p.start();
    await until(() => p.queue.stageResults(id).length === 1);
    const stopped = p.stop();
    release();
    await stopped;
    expect(p.queue.get(id)).toMatchObject({ state: 'queued', stage: 'validation.run', leaseOwner: undefined });
    expect(p.queue.stageResults(id).map((r) => r.status)).toEqual(['succeeded']);
    expect(calls).toEqual([]);
  });

  it('survives a throwing event listener and a stop() while idle', async () => {
    pipeline = new HealingPipeline({
      db: t.db,
      config: config(),
      stages: fakeStages([]),
      onEvent: () => {
        throw new Error('listener broke');
      },
    });
    const id = pipeline.enqueue(sampleDiagnosis(), sampleAnomaly());
    const job = await pipeline.runJobNow(id);
    expect(job?.state).toBe('queued'); // waiting for observation
    expect(job?.traceId).toBeUndefined(); // no tracer given: the global no-op one
    expect(pipeline.workerId).toMatch(/^worker-/);
    pipeline.start();
    pipeline.start();
    await until(() => pipeline!.queue.get(id)?.state === 'succeeded');
    await pipeline.stop();
  });
  it('holds a queued job while its hold lasts, says so once, re-checks, and runs every stage once it is lifted', async () => {
    const calls: string[] = [];
    let held = true;
    const asked: string[] = [];
    let clock = Date.now();
    const p = make(fakeStages(calls), config(), {
      now: () => clock,
      holdFor: (job, stage) => {
        asked.push(stage);
        return held ? { reason: 'incident inc-1 is silenced', untilMs: clock + 3_600_000, incidentId: 'inc-1' } : undefined;
      },
    });
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    await p.runJobNow(id);
    clock += 60_000;
    await p.runJobNow(id); // the recheck a minute later: still held
    expect(asked).toEqual(['fix.generate', 'fix.generate']);
    expect(calls).toEqual([]);
    const job = p.queue.get(id)!;
    expect(job.state).toBe('queued');
    expect(job.stage).toBe('fix.generate');
    expect(job.attempt).toBe(0);
    expect(job.error).toBe('held: incident inc-1 is silenced');
    // Re-checked within a minute, not parked until the silence ends (it can be lifted early).
    expect(job.nextRunMs).toBe(clock + 60_000);
    expect(events.map((e) => e.kind)).toEqual(['job.held']);
    expect(events[0]!.payload).toMatchObject({ jobId: id, anomalyId: 'an-1', stage: 'fix.generate', incidentId: 'inc-1', reason: 'incident inc-1 is silenced' });
    expect(exporter.getFinishedSpans().filter((s) => s.name === 'fix.generate')).toHaveLength(0);

    held = false;
    clock += 60_000;
    p.start();
    const tick = setInterval(() => (clock += 100), 20); // observation waits are in the pipeline's time
    await until(() => p.queue.get(id)?.state === 'succeeded').finally(() => clearInterval(tick));
    expect(calls).toEqual(['generate', 'validate:1', 'deploy:guard', 'learn:merge:7']);
    // learning.track only observes: it is never asked about.
    expect(asked).not.toContain('learning.track');
    expect(asked).toEqual(expect.arrayContaining(['fix.generate', 'validation.run', 'deployment.deploy']));
  });

  it('holds a job between stages: a hold that starts after validation stops the deploy', async () => {
    const calls: string[] = [];
    let held = false;
    const p = make(
      fakeStages(calls, {
        validate: async () => {
          calls.push('validate');
          held = true; // silenced while the fix was being validated
          return { result: { chosen: 0, results: [passedValidation] } };
        },
      }),
      config(),
      { holdFor: () => (held ? { reason: 'silenced', untilMs: Date.now() + 1_000 } : undefined) },
    );
    const id = p.enqueue(sampleDiagnosis(), sampleAnomaly());
    await p.runJobNow(id);
    expect(calls).toEqual(['generate', 'validate']);
    const job = p.queue.get(id)!;
    expect(job).toMatchObject({ state: 'queued', stage: 'deployment.deploy', error: 'held: silenced' });
    // A hold that ends sooner than the recheck is due when it ends.
    expect(job.nextRunMs).toBeLessThanOrEqual(Date.now() + 1_000);
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'validation.completed', 'job.held']);
    expect(events[2]!.payload).not.toHaveProperty('incidentId');
  });
});
