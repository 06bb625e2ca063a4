import { randomUUID } from 'node:crypto';
import {
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { HealConfig } from '../config/sections/heal.js';
import type { Anomaly } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Diagnosis, FixKind } from '../model/diagnosis.js';
import type {
  DeploymentOutcome,
  GeneratedFix,
  LearningOutcome,
  StageName,
  TelemetrySnapshot,
  ValidationResult,
} from '../model/heal.js';
import type { SqliteDatabase } from '../store/database.js';
import { deployFix, type DeploymentBackend } from './deploy.js';
import type { Git } from './git.js';
import { compareSnapshots, takeSnapshot, type HandlerTelemetry, type LearningStore } from './learn.js';
import { JobQueue, type HealJob } from './queue.js';
import { markdownInline } from './text/markdown.js';
import { validateFix, type ProcessGroupRecorder } from './validate.js';
import { killProcessGroup, processStartTime } from './process-group.js';
import { sweepOrphanedProcessGroups } from './process-group-sweep.js';

/** Thrown by a stage that ran correctly and decided the job must stop (not retried). */
export class StageRejection extends Error {
  constructor(
    message: string,
    readonly result?: unknown,
    readonly artefacts?: unknown,
  ) {
    super(message);
    this.name = 'StageRejection';
  }
}

export interface ValidationStageResult {
  /** Index into the generated fixes of the first one that passed. */
  chosen: number;
  results: ValidationResult[];
  /**
   * The chosen fix together with a regression-test candidate, when that combination passed too:
   * the test failed without the fix (red) and passes with it (green), so both ship together.
   */
  combined?: { fix: GeneratedFix; validation: ValidationResult; redGreen: boolean };
}

/** The fix validation settled on and its validation, combined or not. */
export function chosenFix(fixes: GeneratedFix[] | undefined, v: ValidationStageResult | undefined): { fix: GeneratedFix; validation: ValidationResult } | undefined {
  if (!v || !fixes) return undefined;
  if (v.combined) return { fix: v.combined.fix, validation: v.combined.validation };
  const fix = fixes[v.chosen];
  const validation = v.results[v.chosen];
  return fix && validation ? { fix, validation } : undefined;
}

/** One patch holding both fixes (they touch different files, so the diffs concatenate). */
export function combineFixes(fix: GeneratedFix, test: GeneratedFix): GeneratedFix {
  const testFiles = [...(fix.claims.testFiles ?? []), ...(test.claims.testFiles ?? [])];
  const claims: GeneratedFix['claims'] = { ...test.claims, ...fix.claims };
  if (testFiles.length > 0) claims.testFiles = [...new Set(testFiles)];
  const diff = fix.diff.endsWith('\n') ? fix.diff + test.diff : `${fix.diff}\n${test.diff}`;
  return {
    kind: fix.kind,
    title: `${fix.title} (with regression test)`,
    description: `${fix.description}\n\n${test.title}: ${test.description}`,
    diff,
    files: [...new Set([...fix.files, ...test.files])],
    claims,
  };
}

export interface StageContext {
  job: HealJob;
  diagnosis: Diagnosis;
  anomaly: Anomaly;
  /** Results of the earlier stages, as recorded. */
  fixes: GeneratedFix[] | undefined;
  validation: ValidationStageResult | undefined;
  /** The fix validation chose. */
  fix: GeneratedFix | undefined;
  deployment: DeploymentOutcome | undefined;
  before: TelemetrySnapshot | undefined;
  span: Span;
  /** Records the test command's process group in the job row while it runs. */
  processGroup?: ProcessGroupRecorder;
}

export interface StageOutput<T> {
  result: T;
  /** Bulky things kept for humans (patch text, output tail); not needed by later stages. */
  artefacts?: unknown;
}

/** The side-effecting work of each stage, injected so tests and the CLI can swap any of them. */
export interface StageImplementations {
  generate(ctx: StageContext): Promise<StageOutput<GeneratedFix[]>>;
  validate(ctx: StageContext): Promise<StageOutput<ValidationStageResult>>;
  deploy(ctx: StageContext): Promise<StageOutput<DeploymentOutcome>>;
  learn(ctx: StageContext): Promise<StageOutput<LearningOutcome>>;
  /** Live figures of the handler when the job starts, kept for learning.track. */
  snapshot?(service: string, handler: string): TelemetrySnapshot | undefined;
}

export type HealEventKind =
  | 'fix.generated'
  | 'validation.completed'
  | 'deployment.completed'
  | 'learning.completed'
  | 'job.parked'
  | 'job.held'
  | 'job.resumed'
  | 'job.failed';

export interface HealingPipelineOptions {
  db: SqliteDatabase;
  config: HealConfig;
  stages: StageImplementations;
  tracer?: Tracer;
  onEvent?: (kind: HealEventKind, payload: Record<string, unknown>) => void;
  linkFor?: (anomalyId: string) => SpanContext | undefined;
  /**
   * Asked before each stage that changes something (all but learning.track): a hold keeps the job
   * queued, not attempted, until `untilMs` or the next recheck, whichever is first.
   */
  holdFor?: (job: HealJob, stage: StageName) => JobHold | undefined;
  /** Identifies this worker in leases (default: random). */
  workerId?: string;
  now?: () => number;
}

export interface JobHold {
  reason: string;
  untilMs: number;
  /** Carried in the `job.held` event so listeners can say where the hold comes from. */
  incidentId?: string;
}

/** A held job is looked at again this often, so lifting the hold early (a silence lifted) is noticed. */
export const HOLD_RECHECK_MS = 60_000;

const EVENT_FOR: Record<StageName, HealEventKind> = {
  'fix.generate': 'fix.generated',
  'validation.run': 'validation.completed',
  'deployment.deploy': 'deployment.completed',
  'learning.track': 'learning.completed',
};

/** True when the deploy put the fix into the base branch, so there is something to observe. */
export function wasDeployed(d: DeploymentOutcome | undefined): boolean {
  return d?.merge?.merged === true;
}

/**
 * Drives healing jobs through fix.generate -> validation.run -> deployment.deploy ->
 * learning.track. Enqueue is one insert; a timer-driven, unref'd worker loop leases due jobs and
 * runs them, recording every attempt. Each stage is a span in the job's trace.
 */
export class HealingPipeline {
  readonly queue: JobQueue;
  readonly workerId: string;
  private readonly tracer: Tracer;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Set by stop(): jobs in flight finish their current stage, then give their lease back. */
  private stopping = false;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly opts: HealingPipelineOptions) {
    this.queue = new JobQueue(opts.db);
    this.tracer = opts.tracer ?? trace.getTracer('self-healing.heal');
    this.workerId = opts.workerId ?? `worker-${randomUUID()}`;
    this.now = opts.now ?? Date.now;
  }

  /** Records the job (idempotent per diagnosis) and returns its id; never waits for work. */
  enqueue(diagnosis: Diagnosis, anomaly: Anomaly): string {
    const { id } = this.queue.enqueue(diagnosis, anomaly, this.now());
    if (this.running) this.schedule(0);
    return id;
  }

  start(): void {
    if (this.running) return;
    // Test runs left by a sidecar that died (kill -9, OOM) go first: their jobs run again here.
    sweepOrphanedProcessGroups(this.queue);
    const resumed = this.queue.resumeLostWorkerJobs(this.now());
    for (const jobId of resumed) this.emit('job.resumed', { jobId, reason: 'parked for lost workers; the sidecar started again' });
    this.running = true;
    this.stopping = false;
    this.schedule(0);
  }

  /** Stops pulling jobs and waits for the ones in flight to reach a stage boundary. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Runs one job now (ignoring its backoff) until it ends or waits; for the CLI and tests. */
  async runJobNow(jobId: string): Promise<HealJob | undefined> {
    const existing = this.inFlight.get(jobId);
    if (existing) await existing;
    const now = this.now();
    const [job] = this.queue.claimDue(this.workerId, now, this.opts.config.leaseMs, 1, jobId);
    // Its backoff (or hold re-check) is skipped for this run only: the stored due time is kept.
    if (job) await this.track({ ...job, nextRunMs: Math.min(job.nextRunMs, now) });
    return this.queue.get(jobId);
  }

  /** One pass of the worker loop: lease due jobs up to the concurrency limit. */
  tick(): void {
    const free = this.opts.config.concurrency - this.inFlight.size;
    const jobs = this.queue.claimDue(this.workerId, this.now(), this.opts.config.leaseMs, free, undefined, new Set(this.inFlight.keys()));
    for (const job of jobs) void this.track(job);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.tick();
      } finally {
        this.schedule(this.opts.config.pollMs);
      }
    }, delayMs);
    this.timer.unref();
  }

  private track(job: HealJob): Promise<void> {
    const p = this.runJob(job).finally(() => {
      this.inFlight.delete(job.id);
      if (this.running) this.schedule(0);
    });
    this.inFlight.set(job.id, p);
    return p;
  }

  private rootContext(job: HealJob): SpanContext {
    if (job.traceId && job.spanId) return { traceId: job.traceId, spanId: job.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    const anomalySpan = this.opts.linkFor?.(job.anomalyId);
    const links: Link[] = anomalySpan ? [{ context: anomalySpan, attributes: { 'link.reason': 'heals-anomaly' } }] : [];
    // The root marks the job's start; stages hang off it even across restarts (its ids are stored).
    const root = this.tracer.startSpan(
      'heal.job',
      {
        root: true,
        links,
        attributes: { 'heal.job.id': job.id, 'heal.anomaly.id': job.anomalyId, 'heal.diagnosis.id': job.diagnosisId, 'self_healing.target.service': job.service },
      },
      ROOT_CONTEXT,
    );
    const ctx = root.spanContext();
    root.end();
    // Without an SDK the tracer is a no-op with all-zero ids: nothing worth keeping.
    if (isSpanContextValid(ctx)) this.queue.setTraceRoot(job.id, ctx.traceId, ctx.spanId);
    return ctx;
  }

  private contextFor(job: HealJob, span: Span): StageContext {
    const fixes = this.queue.succeeded(job.id, 'fix.generate') as GeneratedFix[] | undefined;
    const validation = this.queue.succeeded(job.id, 'validation.run') as ValidationStageResult | undefined;
    return {
      job,
      diagnosis: job.diagnosis,
      anomaly: job.anomaly,
      fixes,
      validation,
      fix: chosenFix(fixes, validation)?.fix,
      deployment: this.queue.succeeded(job.id, 'deployment.deploy') as DeploymentOutcome | undefined,
      before: job.before,
      span,
      processGroup: {
        started: (pgid) => this.queue.recordProcessGroup(job.id, pgid, processStartTime(pgid)),
        ended: (pgid) => this.queue.clearProcessGroup(job.id, pgid),
      },
    };
  }

  private async execute(stage: StageName, ctx: StageContext): Promise<StageOutput<unknown>> {
    const s = this.opts.stages;
    switch (stage) {
      case 'fix.generate': {
        const out = await s.generate(ctx);
        if (out.result.length === 0) throw new StageRejection('no fix could be generated', out.result, out.artefacts);
        return out;
      }
      case 'validation.run':
        return s.validate(ctx);
      case 'deployment.deploy':
        return s.deploy(ctx);
      case 'learning.track':
        return s.learn(ctx);
    }
  }

  private emit(kind: HealEventKind, payload: Record<string, unknown>): void {
    try {
      this.opts.onEvent?.(kind, payload);
    } catch {
      // A broken listener must not break the job.
    }
  }

  /** True when the job was given back to the queue on hold; `job.held` is emitted when a hold starts. */
  private hold(job: HealJob, stage: StageName, base: Record<string, unknown>): boolean {
    if (stage === 'learning.track') return false;
    const held = this.opts.holdFor?.(job, stage);
    if (held === undefined) return false;
    const now = this.now();
    const reason = `held: ${held.reason}`;
    if (!this.queue.defer(job.id, this.workerId, Math.min(held.untilMs, now + HOLD_RECHECK_MS), reason, now)) return true;
    // A recheck that finds the same hold says nothing new.
    if (job.error !== reason) this.emit('job.held', { ...base, service: job.service, reason: held.reason, untilMs: held.untilMs, ...(held.incidentId ? { incidentId: held.incidentId } : {}) });
    return true;
  }

  private async runJob(claimed: HealJob): Promise<void> {
    const cfg = this.opts.config;
    let job: HealJob | undefined = claimed;
    if (claimed.testPgid !== undefined) {
      // The job was abandoned by a worker whose test command may still run: it must not outlive
      // the attempt (nor keep using a worktree that is about to go).
      killProcessGroup(claimed.testPgid, claimed.testPgidStart);
      this.queue.clearProcessGroup(claimed.id, claimed.testPgid);
    }
    const root = this.rootContext(claimed);
    const parent = trace.setSpanContext(ROOT_CONTEXT, root);
    if (!claimed.before && claimed.handler && this.opts.stages.snapshot) {
      const snap = this.opts.stages.snapshot(claimed.service, claimed.handler);
      if (snap) this.queue.setBefore(claimed.id, snap);
    }
    while (job && job.state === 'running' && job.leaseOwner === this.workerId && job.stage && job.nextRunMs <= this.now()) {
      if (this.stopping) {
        // Another worker (or this one after a restart) picks the job up at this stage.
        this.queue.releaseLease(job.id, this.workerId, this.now());
        return;
      }
      const stage: StageName = job.stage;
      const base = { jobId: job.id, anomalyId: job.anomalyId, diagnosisId: job.diagnosisId, stage };
      if (job.lostAttempts >= cfg.maxLostAttempts) {
        // Attempts keep dying with their workers (the test command takes the process down?): stop
        // for this run of the sidecar; the job resumes when it starts again.
        const error = `${job.lostAttempts} attempt(s) at ${stage} lost with their worker (crash, kill or lease expiry)`;
        if (this.queue.parkLostWorkers(job.id, this.workerId, stage, error, this.now())) this.emit('job.parked', { ...base, error, reason: 'lost-workers' });
        return;
      }
      if (job.attempt >= cfg.maxAttempts) {
        // Earlier attempts were lost with their workers (crash / kill): count them, do not loop forever.
        const outcome = this.queue.failStage(job.id, this.workerId, undefined, stage, job.error ?? 'attempts exhausted by lost workers', cfg, this.now());
        if (outcome === 'parked') this.emit('job.parked', { ...base, error: 'attempts exhausted by lost workers' });
        return;
      }
      if (this.hold(job, stage, base)) return;
      if (stage === 'deployment.deploy' && job.attempt === 0 && job.handler && this.opts.stages.snapshot) {
        // The "before" of learning is the state being fixed: by the time a fix has been generated
        // and validated, the fault has run long enough to show in the live figures, which the
        // snapshot at job start (taken the moment the anomaly opened) often does not. Only on the
        // first attempt: a retried deploy may already have merged.
        const snap = this.opts.stages.snapshot(job.service, job.handler);
        if (snap) this.queue.refreshBefore(job.id, snap);
      }
      const started = this.queue.startStage(job.id, this.workerId, stage, this.now());
      if (!started) return;
      const span = this.tracer.startSpan(
        stage,
        { attributes: { 'heal.job.id': job.id, 'heal.stage': stage, 'heal.attempt': started.attempt, 'heal.anomaly.id': job.anomalyId } },
        parent,
      );
      const heartbeat = setInterval(() => {
        this.queue.renewLease(claimed.id, this.workerId, this.now(), cfg.leaseMs);
      }, Math.max(50, Math.floor(cfg.leaseMs / 3)));
      heartbeat.unref();
      try {
        const ctx = this.contextFor(this.queue.get(job.id)!, span);
        const out = await otelContext.with(trace.setSpan(parent, span), () => this.execute(stage, ctx));
        const finishedMs = this.now();
        const nextRunMs = stage === 'deployment.deploy' && wasDeployed(out.result as DeploymentOutcome) ? finishedMs + cfg.observationMs : finishedMs;
        const recorded = this.queue.completeStage(job.id, this.workerId, started.resultId, stage, { ...out, nextRunMs }, finishedMs);
        if (!recorded) {
          span.setAttribute('heal.lease_lost', true);
          return;
        }
        span.setStatus({ code: SpanStatusCode.OK });
        this.emit(EVENT_FOR[stage], { ...base, attempt: started.attempt, result: out.result });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        if (err instanceof StageRejection) {
          span.setAttribute('heal.rejected', true);
          const recorded = this.queue.rejectStage(
            job.id,
            this.workerId,
            started.resultId,
            stage,
            { reason: message, result: err.result, artefacts: err.artefacts },
            this.now(),
          );
          if (recorded) {
            if (stage === 'validation.run') this.emit('validation.completed', { ...base, passed: false, reason: message, result: err.result });
            this.emit('job.failed', { ...base, reason: message });
          }
          return;
        }
        span.recordException(err instanceof Error ? err : new Error(message));
        const outcome = this.queue.failStage(job.id, this.workerId, started.resultId, stage, message, cfg, this.now());
        if (outcome === 'parked') this.emit('job.parked', { ...base, attempt: started.attempt, error: message });
        return;
      } finally {
        clearInterval(heartbeat);
        span.end();
      }
      job = this.queue.get(job.id);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The production stage implementations: fix strategies, git worktrees, the test command, a backend.

/** Same shape as src/heal/fix/strategy.ts's FixContext / generateFix, so it can be passed as is. */
export interface FixGeneratorContext {
  diagnosis: Diagnosis;
  anomaly: Anomaly;
  repoDir: string;
  heal: HealConfig;
  beats: Beat[];
}
export type FixGenerator = (
  ctx: FixGeneratorContext,
  opts?: { preferKinds?: FixKind[]; strategyRanking?: Record<string, number> },
) => Promise<GeneratedFix[]>;

export interface DefaultStageDeps {
  heal: HealConfig;
  git: Git;
  backend: DeploymentBackend;
  learning: LearningStore;
  generateFix: FixGenerator;
  telemetry?: HandlerTelemetry;
  /** Recent beats of the handler, for strategies that look at real inputs. */
  beatsFor?: (service: string, handler: string | undefined) => Beat[];
  /** Extra environment for test commands. */
  env?: NodeJS.ProcessEnv;
  /** Environment variables holding the sidecar's other secrets (receive.auth.tokenEnv), hidden from test commands. */
  secretEnv?: readonly string[];
  now?: () => number;
}

/** The production stage implementations: strategies, git worktrees, the test command, a backend. */
export function createDefaultStages(deps: DefaultStageDeps): StageImplementations {
  const { heal, git, backend, learning } = deps;
  const now = deps.now ?? Date.now;
  const base = heal.repository.baseBranch;
  return {
    snapshot: deps.telemetry ? (service, handler) => takeSnapshot(deps.telemetry!, service, handler, now()) : undefined,

    async generate(ctx) {
      const wt = await git.addWorktree(base);
      try {
        const fixes = await deps.generateFix(
          { diagnosis: ctx.diagnosis, anomaly: ctx.anomaly, repoDir: wt.dir, heal, beats: deps.beatsFor?.(ctx.job.service, ctx.job.handler) ?? [] },
          // The generator already follows the diagnosis' recommended order; learning breaks ties.
          { strategyRanking: learning.strategyRanking(ctx.anomaly.type) },
        );
        ctx.span.setAttribute('heal.fix.candidates', fixes.length);
        return { result: fixes, artefacts: { patches: fixes.map((f) => f.diff) } };
      } finally {
        await wt.remove();
      }
    },

    async validate(ctx) {
      const fixes = ctx.fixes ?? [];
      const results: ValidationResult[] = [];
      const run = (fix: GeneratedFix): Promise<ValidationResult> =>
        validateFix({
          git,
          heal,
          fix,
          baseRef: base,
          ...(deps.env ? { env: deps.env } : {}),
          ...(deps.secretEnv ? { secretEnv: deps.secretEnv } : {}),
          ...(ctx.processGroup ? { processGroup: ctx.processGroup } : {}),
        });
      for (let i = 0; i < fixes.length; i++) {
        const fix = fixes[i]!;
        const result = await run(fix);
        results.push(result);
        if (!result.passed) continue;
        ctx.span.setAttributes({ 'heal.validation.passed': true, 'heal.fix.kind': fix.kind, 'heal.tests.passed': result.tests?.passed ?? 0 });
        const out: ValidationStageResult = { chosen: i, results };
        if (fix.kind !== 'regression-test' && result.proof?.verdict !== 'proven') {
          // The proof rule: a code fix ships with a regression test that fails on the base and
          // passes with the fix (validateFix runs both). A combination that passes but is not
          // proven is kept only when nothing proven turns up; the fix then goes out 'unverified'.
          for (let j = 0; j < fixes.length; j++) {
            const test = fixes[j]!;
            if (j === i || test.kind !== 'regression-test') continue;
            const combined = combineFixes(fix, test);
            const validation = await run(combined);
            if (!validation.passed) continue;
            const proven = validation.proof?.verdict === 'proven';
            if (proven || out.combined === undefined) out.combined = { fix: combined, validation, redGreen: proven };
            if (proven) break;
          }
          ctx.span.setAttribute('heal.validation.red_green', out.combined?.redGreen ?? false);
        }
        const chosen = chosenFix(fixes, out)!;
        ctx.span.setAttribute('heal.proof', chosen.validation.proof?.verdict ?? 'not-needed');
        return { result: out, artefacts: { patch: chosen.fix.diff, outputTail: chosen.validation.outputTail } };
      }
      ctx.span.setAttribute('heal.validation.passed', false);
      const reasons = results.map((r, i) => `${fixes[i]!.kind}: ${r.reasons.join('; ')}`).join(' | ');
      throw new StageRejection(`validation failed: ${reasons}`, { results }, { outputTails: results.map((r) => r.outputTail) });
    },

    async deploy(ctx) {
      const { fix, validation } = chosenFix(ctx.fixes, ctx.validation)!;
      const outcome = await deployFix(
        backend,
        { jobId: ctx.job.id, anomaly: ctx.anomaly, diagnosis: ctx.diagnosis, fix, validation, baseBranch: base },
        heal.policy,
        now,
      );
      ctx.span.setAttributes({ 'heal.deploy.decision': outcome.decision, 'heal.deploy.merged': wasDeployed(outcome) });
      if (outcome.proposal) ctx.span.setAttribute('heal.deploy.branch', outcome.proposal.branch);
      return { result: outcome };
    },

    async learn(ctx) {
      const subject = {
        jobId: ctx.job.id,
        fixKind: ctx.fix?.kind ?? 'unknown',
        anomalyType: ctx.anomaly.type,
        service: ctx.job.service,
        handler: ctx.job.handler,
      };
      let outcome: LearningOutcome;
      if (!wasDeployed(ctx.deployment)) outcome = { verdict: 'not-deployed', samplesBefore: 0, samplesAfter: 0 };
      else if (!deps.telemetry || !ctx.before || !ctx.job.handler) {
        outcome = { verdict: 'insufficient-data', samplesBefore: ctx.before?.durationsMs.length ?? 0, samplesAfter: 0 };
      } else {
        const after = takeSnapshot(deps.telemetry, ctx.job.service, ctx.job.handler, now());
        outcome = compareSnapshots(ctx.before, after, heal.learning);
        const proposal = ctx.deployment!.proposal;
        if (outcome.verdict === 'worse' && heal.learning.revertOnWorse && proposal) {
          // Rollback path: the fix made live behaviour worse.
          const revert = await backend.revert(proposal, `Live telemetry of ${markdownInline(ctx.job.handler)} got worse after ${proposal.branch}`);
          // Restoring the known state needs no kind/severity allowance, only an auto mode.
          const mode = backend.name === 'github' ? heal.policy.githubMode : heal.policy.mode;
          const merged = mode === 'auto' ? await backend.merge(revert) : undefined;
          outcome.revert = merged?.merged ? { ...revert, state: 'merged', mergeSha: merged.mergeSha } : revert;
        }
      }
      learning.record(subject, outcome);
      ctx.span.setAttribute('heal.learning.verdict', outcome.verdict);
      return { result: outcome };
    },
  };
}
