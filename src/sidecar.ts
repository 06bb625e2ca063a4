import { resolve } from 'node:path';
import type { Server } from '@grpc/grpc-js';
import type { Config } from './config/index.js';
import type { Anomaly, AnomalyChange } from './model/anomaly.js';
import type { Beat, BeatSink } from './model/beat.js';
import type { LogEvent } from './model/log-event.js';
import type { Diagnosis } from './model/diagnosis.js';
import { STATUS_ERROR } from './model/beat.js';
import { openDatabase, type SqliteDatabase } from './store/database.js';
import { pruneBefore, type PruneCounts } from './store/retention.js';
import { AnomalyStore, coreMigrations } from './store/anomaly-store.js';
import { MonitoredAnomalyStore } from './store/monitored-anomaly-store.js';
import { StoreHealth, userVersionWriteProbe } from './store/store-health.js';
import { RetryingHandler } from './store/retrying-handler.js';
import { StoreMetrics } from './emit/store-metrics.js';
import { healMigrations } from './heal/migrations.js';
import type { DetectionEngine } from './detect/engine.js';
import { engineFromConfig } from './detect/engine-from-config.js';
import { skippedLine } from './detect/sequence-files.js';
import { AnomalyRecorder } from './diagnose/anomaly-recorder.js';
import { EventBus } from './emit/event-bus.js';
import { emitTarget } from './emit/otlp-target.js';
import { Notifier } from './emit/notifier.js';
import { AnomalySpanEmitter } from './emit/anomaly-spans.js';
import { registerEventsService } from './emit/events-grpc.js';
import { Forwarder } from './emit/forwarder.js';
import { resolveForwardHeaders } from './emit/forward-headers.js';
import { createMetrics, type SidecarMetrics } from './emit/metrics.js';
import { PipelineMetrics, registerSequenceFileMetrics } from './emit/pipeline-metrics.js';
import { registerGraphBudgetMetrics } from './emit/graph-budget-metrics.js';
import { registerBudgetMetrics } from './emit/budget-metrics.js';
import { createLogger, type Logger } from './emit/logger.js';
import { GrpcReceiver } from './receive/grpc-server.js';
import { HttpReceiver } from './receive/http-server.js';
import { admissionFromConfig } from './receive/admission.js';
import { createBearerCheck } from './receive/auth.js';
import { AdminServer } from './web/admin-server.js';
import { adminAccessFromConfig, adminTokenFromConfig, isLoopbackHost } from './web/admin-access-from-config.js';
import { registerInfoRoutes } from './web/info-api.js';
import { registerSignInRoutes } from './web/signin.js';
import { registerHealthRoutes } from './web/health.js';
import { registerApiRoutes } from './web/api.js';
import { clusterRole, type ClusterRole } from './diagnose/cluster-role.js';
import { PeerEventFollower } from './receive/peer-event-follower.js';
import { IncidentEngine, publishIncidentEvaluation, type IncidentOutlets } from './diagnose/incident-engine.js';
import { IncidentStore } from './store/incident-store.js';
import { SilenceGate } from './diagnose/silence-gate.js';
import { keepIncidentExemplars } from './diagnose/incident-exemplars.js';
import { IncidentSpanEmitter } from './emit/incident-spans.js';
import { registerIncidentRoutes } from './web/incidents-api.js';
import { registerFixesApi } from './web/fixes-api.js';
import { registerSeriesApi, serviceGraphRoute, type SeriesApiDeps } from './web/series-api.js';
import { RollupStore, rollupMigrations } from './store/rollup-store.js';
import { RollupRecorder } from './store/rollup-recorder.js';
import { AnomalyWindows } from './store/anomaly-windows.js';
import { effectiveRollupTiers } from './config/sections/rollups.js';
import type { GraphSlice } from './detect/service-graph.js';
import { registerDashboardRoutes } from './web/dashboard.js';
import { createDefaultStages, HealingPipeline, type HealingPipelineOptions } from './heal/pipeline.js';
import { JobQueue } from './heal/queue.js';
import { sweepOrphanedProcessGroups } from './heal/process-group-sweep.js';

import { Git } from './heal/git.js';
import { createDeploymentBackend } from './heal/backend-factory.js';
import { LearningStore, type HandlerTelemetry } from './heal/learn.js';
import { generateFix } from './heal/fix/generate-fix.js';
import { defaultStrategies } from './heal/fix/strategies.js';
import { LlmStrategy } from './heal/fix/llm.js';
import { OpenAiChatClient } from './heal/fix/llm-client.js';
import { runInTurns } from './detect/evaluate-in-turns.js';

const RETENTION_SWEEP_MS = 3_600_000;
/** Longest stretch a stepped evaluation keeps the event loop (issue 11: no turn over ~50 ms). */
const EVALUATION_TURN_MS = 20;
/** Anomaly changes kept for a retry while the store fails; beyond it the oldest are dropped and counted. */
const MAX_PENDING_CHANGES = 10_000;
/** A restarted correlator regroups peer anomalies seen this recently (older ones are history). */
const PEER_REPLAY_MS = 600_000;

export interface SidecarOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** Working directory for relative paths in the configuration. */
  cwd?: string;
  /** Turns the timers off so a caller (tests, offline analysis) drives evaluation itself. */
  manualEvaluation?: boolean;
}

/**
 * Live figures of a handler for learning.track, read from the detection engine's reservoirs.
 * Only beats that started within `sinceMs` of now count, so the "after" snapshot taken at the
 * end of the observation window holds post-deploy runs only, not a mix.
 */
export function engineTelemetry(engine: DetectionEngine, sinceMs = Infinity, now: () => number = Date.now): HandlerTelemetry {
  return {
    snapshot(service, handler) {
      const from = now() - sinceMs;
      const beats = engine.recentBeats(service, handler).filter((b) => b.startMs >= from);
      let errors = 0;
      const durationsMs: number[] = [];
      for (const b of beats) {
        durationsMs.push(b.durationMs);
        if (b.status === STATUS_ERROR) errors++;
      }
      let latest: { version: string; firstSeenMs: number } | undefined;
      for (const v of engine.versions(service)) if (latest === undefined || v.firstSeenMs > latest.firstSeenMs) latest = v;
      return { durationsMs, errors, count: beats.length, version: latest?.version ?? '' };
    },
  };
}

export interface HealingDeps {
  cwd: string;
  env: NodeJS.ProcessEnv;
  telemetry?: HandlerTelemetry;
  beatsFor?: (service: string, handler: string) => Beat[];
  emitter?: AnomalySpanEmitter;
  onEvent?: HealingPipelineOptions['onEvent'];
  holdFor?: HealingPipelineOptions['holdFor'];
  log?: Logger;
}

/** The healing pipeline over the configured repository, or undefined when healing is off or has no repository. */
export function buildHealingPipeline(config: Config, db: SqliteDatabase, deps: HealingDeps): HealingPipeline | undefined {
  const repoPath = config.heal.repository.path;
  if (!config.heal.enabled || !repoPath) return undefined;
  const git = new Git(resolve(deps.cwd, repoPath), config.heal.workDir);
  // Test runs of a sidecar that was killed mid-validation die before their worktrees are removed.
  const swept = sweepOrphanedProcessGroups(new JobQueue(db)).filter((g) => g.result === 'killed');
  if (swept.length > 0) deps.log?.warn('killed test commands left running by an ended process', { groups: swept.length });
  // Worktrees left by an earlier process that died mid-stage; its jobs run again from the queue.
  void git.removeStaleWorktrees().then(
    (removed) => {
      if (removed > 0) deps.log?.info('removed worktrees left by an ended process', { removed, workDir: config.heal.workDir });
    },
    (err: unknown) => deps.log?.warn('could not clean up old worktrees', { err }),
  );
  const llm = config.heal.fix.llm;
  // The LLM strategy only exists when configured; its patches go through the same validation.
  const strategies = llm ? [...defaultStrategies(), new LlmStrategy(new OpenAiChatClient(llm, deps.env))] : defaultStrategies();
  const stages = createDefaultStages({
    heal: config.heal,
    git,
    backend: createDeploymentBackend(config.heal, { db, git, env: deps.env, ...(config.emit.jaegerUrl ? { jaegerUrl: config.emit.jaegerUrl } : {}) }),
    learning: new LearningStore(db),
    generateFix: (ctx, opts) => generateFix(ctx, { ...opts, strategies }),
    ...(deps.telemetry ? { telemetry: deps.telemetry } : {}),
    beatsFor: (service, handler) => (handler && deps.beatsFor ? deps.beatsFor(service, handler) : []),
    env: deps.env,
    secretEnv: [config.receive.auth.tokenEnv, config.admin.auth.tokenEnv, ...(config.forward.headersEnv ? [config.forward.headersEnv] : [])],
  });
  const emitter = deps.emitter;
  return new HealingPipeline({
    db,
    config: config.heal,
    stages,
    ...(emitter ? { tracer: emitter.getTracer(), linkFor: (id: string) => emitter.spanContextFor(id) } : {}),
    ...(deps.onEvent ? { onEvent: deps.onEvent } : {}),
    ...(deps.holdFor ? { holdFor: deps.holdFor } : {}),
  });
}

/**
 * Whether a freshly diagnosed anomaly gets a healing run. One defect often opens several
 * anomalies (a new fingerprint and an error-rate spike; beats missing after the one that throws):
 * one run per handler at a time, none for symptoms of an upstream anomaly, and none where no
 * code can be named.
 */
export function healingDecision(diagnosis: Pick<Diagnosis, 'rootCause' | 'handler' | 'recommendedFixes'>, activeJobForHandler: string | undefined): { heal: true } | { heal: false; reason: string } {
  if (activeJobForHandler !== undefined) return { heal: false, reason: `job ${activeJobForHandler} is already healing this handler` };
  if (diagnosis.rootCause.cause === 'upstream-cause') return { heal: false, reason: `a symptom of an upstream anomaly (${diagnosis.rootCause.evidence.join('; ')})` };
  // Code fixes need code to change: a sequence-wide anomaly names no handler. A release rollback
  // is the one fix that works on the whole service.
  if (diagnosis.handler === undefined && !diagnosis.recommendedFixes.includes('rollback')) return { heal: false, reason: 'no handler to change (a sequence-wide anomaly)' };
  return { heal: true };
}

/**
 * The running sidecar: every stage built from the configuration and connected in one place.
 * Data flows receive -> detect -> diagnose -> emit (+ heal, asynchronously).
 */
export class Sidecar {
  readonly metrics: SidecarMetrics;
  readonly engine: DetectionEngine;
  /** Service graph, service-level signals and incidents (fed the same beats as the engine). */
  readonly incidents: IncidentEngine;
  readonly store: AnomalyStore;
  /** Incidents with their history and operator state (acknowledge, silence). */
  readonly incidentStore: IncidentStore;
  /** Silenced incidents neither notify nor heal. */
  readonly silences: SilenceGate;
  readonly bus: EventBus;
  readonly admin: AdminServer | undefined;
  readonly grpc: GrpcReceiver | undefined;
  readonly http: HttpReceiver | undefined;
  readonly forwarder: Forwarder | undefined;
  readonly emitter: AnomalySpanEmitter | undefined;
  private readonly incidentSpans: IncidentSpanEmitter | undefined;
  readonly pipeline: HealingPipeline | undefined;
  readonly notifier: Notifier | undefined;
  /** The other instances' anomaly events, on the correlator of a scaled-out shape. */
  readonly peers: PeerEventFollower | undefined;
  readonly clusterRole: ClusterRole;
  /** RED rollups of the service graph's closed slices (store.rollups); undefined when disabled. */
  readonly rollups: RollupRecorder | undefined;
  private readonly db: SqliteDatabase;
  private readonly log: Logger;
  private evaluateTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly recorder: AnomalyRecorder;
  private readonly pipelineMetrics: PipelineMetrics;
  private readonly storeHealth: StoreHealth;
  private readonly storeMetrics: StoreMetrics;
  private readonly changes: RetryingHandler<AnomalyChange, { change: AnomalyChange; diagnosis?: Diagnosis }>;
  /** Time of the evaluation in progress, so diagnoses are stamped with data time offline. */
  private evaluationNowMs = Date.now();
  private stopping = false;
  /** A stepped evaluation is running (evaluateInTurns). */
  private evaluating = false;
  private started = false;

  private constructor(
    readonly config: Config,
    parts: {
      db: SqliteDatabase;
      dbPath: string;
      engine: DetectionEngine;
      log: Logger;
      env: NodeJS.ProcessEnv;
      cwd: string;
    },
  ) {
    this.db = parts.db;
    this.engine = parts.engine;
    this.log = parts.log;
    this.metrics = createMetrics();
    this.storeMetrics = new StoreMetrics(this.metrics.registry, () => this.changes.pending);
    this.storeHealth = new StoreHealth(parts.dbPath, (operation, code) => this.storeMetrics.countError(operation, code), userVersionWriteProbe(this.db));
    // Changes the store refused are retried at the next evaluation, so they still get stored, diagnosed and healed.
    this.changes = new RetryingHandler({
      handle: (change, retry) => this.handleChange(change, retry),
      failures: () => this.storeHealth.failures,
      capacity: MAX_PENDING_CHANGES,
      onDropped: (change) => {
        this.storeMetrics.countDropped();
        this.log.error('store retry queue full: dropped an anomaly change', { anomalyId: change.anomaly.id });
      },
      onError: (err, change) => this.log.error('handling an anomaly change failed', { err, anomalyId: change.anomaly.id }),
    });
    this.store = new MonitoredAnomalyStore(this.db, this.storeHealth);
    this.bus = new EventBus(this.store);

    if (config.forward.enabled) {
      this.forwarder = new Forwarder({ ...config.forward, headers: resolveForwardHeaders(config.forward, parts.env) }, this.metrics);
    }
    this.clusterRole = clusterRole(config.cluster);
    const correlator = this.clusterRole.role === 'correlator' ? this.clusterRole : undefined;
    this.incidents = new IncidentEngine({ graph: { sliceMs: config.detect.sliceMs, ...config.detect.serviceGraph }, ...(correlator ? { incidents: { joinUnseenServices: true } } : {}) });
    if (correlator) {
      this.peers = new PeerEventFollower({
        peers: correlator.follow,
        token: adminTokenFromConfig(config, parts.env),
        maxQueue: config.cluster.maxQueue,
        retryMs: config.cluster.retryMs,
        registry: this.metrics.registry,
        log: this.log,
        sinceMs: Date.now() - PEER_REPLAY_MS,
      });
    }
    this.incidentStore = new IncidentStore(this.db);
    // Open incidents of an earlier process: nothing here tracks them any more.
    this.incidentStore.closeInterrupted(new Set(), Date.now());
    this.silences = new SilenceGate(this.incidentStore, this.incidents);
    const sink: BeatSink = (beats) => {
      this.engine.observe(beats);
      this.incidents.observe(beats);
    };
    const admission = admissionFromConfig(config.receive, this.metrics);
    const onAccepted = this.forwarder ? (body: Buffer, type: 'application/x-protobuf' | 'application/json') => void this.forwarder!.enqueue(body, type) : undefined;
    const logSink = (events: LogEvent[]): void => {
      this.engine.observeLogs(events);
      this.incidents.observeLogs(events, this.engine.logTemplatesOf(events));
    };
    const receiverOptions = { admission, logSink, ...(onAccepted ? { onAccepted } : {}) };
    if (config.receive.grpc.enabled) {
      this.grpc = new GrpcReceiver(config.receive, sink, this.metrics, receiverOptions);
      // The event stream is an admin surface (diagnoses, patches): the admin token, which is the
      // receivers' token unless admin.auth names another.
      registerEventsService(this.grpc.grpcServer as Server, this.bus, createBearerCheck(adminTokenFromConfig(config, parts.env)));
    }
    if (config.receive.http.enabled) this.http = new HttpReceiver(config.receive, sink, this.metrics, receiverOptions);

    if (config.notify.targets.length > 0) this.notifier = new Notifier(config.notify, this.bus, this.metrics.registry, this.log, { env: parts.env, silence: this.silences });
    const target = emitTarget(config);
    if (target.kind === 'export') {
      this.emitter = new AnomalySpanEmitter({
        endpoint: target.url,
        protocol: target.protocol,
        serviceName: config.serviceName,
        resourceAttributes: config.emit.resourceAttributes,
        counters: { failures: this.metrics.exportFailures, exported: this.metrics.exportedSpans },
        log: this.log,
        ...(config.emit.jaegerUrl ? { jaegerUrl: config.emit.jaegerUrl } : {}),
      });
    } else if (target.warn) {
      this.log.warn('not exporting anomaly spans', { reason: target.reason });
    }
    if (this.emitter) this.incidentSpans = new IncidentSpanEmitter(this.emitter);

    this.pipeline = buildHealingPipeline(config, this.db, {
      cwd: parts.cwd,
      env: parts.env,
      log: this.log,
      telemetry: engineTelemetry(this.engine, config.heal.observationMs),
      beatsFor: (service, handler) => [...this.engine.baselineBeats(service, handler), ...this.engine.recentBeats(service, handler)],
      ...(this.emitter ? { emitter: this.emitter } : {}),
      onEvent: (kind, payload) => {
        this.bus.publish(kind, payload, {
          ...(typeof payload.anomalyId === 'string' ? { anomalyId: payload.anomalyId } : {}),
          ...(typeof payload.diagnosisId === 'string' ? { diagnosisId: payload.diagnosisId } : {}),
        });
        this.log.info(kind, { jobId: payload.jobId });
        if (kind === 'job.held' && typeof payload.incidentId === 'string') {
          this.incidentStore.note(payload.incidentId, this.evaluationNowMs, 'heal-held', `healing job ${String(payload.jobId)} of ${String(payload.anomalyId)} held before ${String(payload.stage)}: ${String(payload.reason)}`);
        }
      },
      // A job queued before its incident was silenced waits (re-checked every minute) instead of
      // running its next stage; learning.track only observes and goes on.
      holdFor: (job) => {
        const s = this.silences.anomaly({ id: job.anomalyId, service: job.service, firstSeenMs: job.anomaly.firstSeenMs });
        if (s === undefined) return undefined;
        return { reason: `incident ${s.incidentId} is silenced until ${new Date(s.untilMs).toISOString()}`, untilMs: s.untilMs, incidentId: s.incidentId };
      },
    });

    const pipeline = this.pipeline;
    this.pipelineMetrics = new PipelineMetrics(this.metrics.registry, {
      detect: () => ({ ...this.engine.stats(), openAnomalies: this.engine.openAnomalies().length }),
      ...(pipeline ? { jobs: () => pipeline.queue.counts() } : {}),
    });
    registerBudgetMetrics(this.metrics.registry, () => this.engine.stats());
    registerGraphBudgetMetrics(this.metrics.registry, () => this.incidents.graphBudget());
    this.recorder = new AnomalyRecorder({
      store: this.store,
      events: this.bus,
      ...(this.emitter ? { spans: this.emitter } : {}),
      evidence: this.engine,
      openAnomalies: () => this.engine.openAnomalies(),
      clock: () => this.evaluationNowMs,
      onError: (err, anomaly) => this.log.error('diagnosis or span failed', { err, anomalyId: anomaly.id }),
    });

    const rollupStore = new RollupStore(this.db);
    const tiers = effectiveRollupTiers(config.store.rollups, config.detect.sliceMs);
    if (config.store.rollups.enabled) {
      this.rollups = new RollupRecorder(rollupStore, tiers, { band: (s, op) => this.engine.latencyLearning(s, op)?.band, versions: (s) => this.engine.versions(s) });
    }

    if (config.admin.enabled) {
      const access = adminAccessFromConfig(config, parts.env);
      if (!access.authEnabled && !isLoopbackHost(config.admin.host)) this.log.warn('admin server reachable beyond this machine without a token: set admin.auth or receive.auth', { host: config.admin.host });
      this.admin = new AdminServer({ host: config.admin.host, port: config.admin.port, access, limits: config.admin, onError: (err) => this.log.error('admin handler failed', { err }) });
      registerHealthRoutes(this.admin, { ready: () => this.readiness(), registry: this.metrics.registry });
      const series: SeriesApiDeps = {
        rollups: rollupStore,
        tiers,
        anomalies: new AnomalyWindows(this.db),
        // Stored incidents (live ones are saved on every change), so marks survive a restart.
        incidents: { incidents: () => this.incidentStore.list({ limit: 500, offset: 0 }, Date.now()).items },
        liveGraph: () => this.incidents.graphFigures(),
        learning: (s, op) => {
          const l = this.engine.latencyLearning(s, op);
          return l === undefined ? { done: 0, needed: config.detect.baselineMinSlices } : l.warm ? null : { done: Math.min(l.done, l.needed), needed: l.needed };
        },
      };
      registerSeriesApi(this.admin, series);
      registerApiRoutes(this.admin, { store: this.store, engine: this.engine, bus: this.bus, incidents: this.incidents, serviceGraph: serviceGraphRoute(series) });
      const queue = this.pipeline?.queue ?? new JobQueue(this.db);
      registerIncidentRoutes(this.admin, {
        records: this.incidentStore,
        // A member leaves incidents to the correlator: its own would be one fault's fragments.
        ...(this.clusterRole.role === 'member' ? {} : { live: this.incidents }),
        anomalies: this.store,
        bus: this.bus,
        fixesFor: (ids) => queue.list({ limit: 1000 }).filter((j) => ids.includes(j.anomalyId)).map((j) => queue.summarize(j)),
      });
      registerFixesApi(this.admin, queue);
      registerInfoRoutes(this.admin, config, { healing: this.pipeline !== undefined, learning: new LearningStore(this.db) });
      registerSignInRoutes(this.admin, access);
      registerDashboardRoutes(this.admin);
    }
  }

  /** Builds and starts every component; the returned sidecar is receiving. */
  static async start(config: Config, options: SidecarOptions = {}): Promise<Sidecar> {
    const log = options.logger ?? createLogger(config.logLevel, { service: config.serviceName }, undefined, config.logFormat);
    const cwd = options.cwd ?? process.cwd();
    const { engine, sequences, coverage, sequenceFiles } = await engineFromConfig(config, cwd);
    for (const f of sequenceFiles) if (f.status === 'skipped') log.warn(skippedLine(cwd, { file: f.file, reason: f.reason ?? '' }));
    const dbPath = config.store.path === ':memory:' ? ':memory:' : resolve(cwd, config.store.path);
    const db = openDatabase(dbPath, [...coreMigrations, ...healMigrations, ...rollupMigrations]);
    const sidecar = new Sidecar(config, { db, dbPath, engine, log, env: options.env ?? process.env, cwd });
    registerSequenceFileMetrics(sidecar.metrics.registry, sequenceFiles);
    await sidecar.listen(options.manualEvaluation === true);
    log.info('self-healing started', {
      grpc: sidecar.grpc ? `${config.receive.grpc.host}:${sidecar.grpc.port}` : 'off',
      http: sidecar.http ? `${config.receive.http.host}:${sidecar.http.port}` : 'off',
      admin: sidecar.admin?.url ?? 'off',
      sequences,
      sequenceFilesSkipped: sequenceFiles.filter((f) => f.status === 'skipped').length,
      coverage,
      healing: sidecar.pipeline ? config.heal.policy.mode : 'off',
    });
    return sidecar;
  }

  private async listen(manual: boolean): Promise<void> {
    try {
      await this.grpc?.start();
      if (this.grpc && !this.grpc.flowControlApplied) {
        this.log.warn('receive.grpc.flowControlWindow not applied: this @grpc/grpc-js version hides its HTTP/2 servers; using HTTP/2 default windows');
      }
      if (this.grpc && !this.grpc.connectionLimitApplied) this.log.warn('receive.grpc.maxConnections not applied: this @grpc/grpc-js version hides its HTTP/2 servers');
      await this.http?.start();
      await this.admin?.listen();
      this.notifier?.start();
      this.peers?.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (!manual) {
      const every = this.config.detect.sliceMs;
      this.evaluateTimer = setInterval(() => void this.evaluateInTurns(Date.now()), every);
      this.evaluateTimer.unref();
      this.pipeline?.start();
      if (this.config.store.retentionDays > 0) {
        this.retentionTimer = setInterval(() => this.prune(Date.now()), RETENTION_SWEEP_MS);
        this.retentionTimer.unref();
      }
    }
    this.started = true;
  }

  /** Applies store.retentionDays (the timer runs it hourly). */
  prune(nowMs: number): PruneCounts | undefined {
    if (this.config.store.retentionDays <= 0) return undefined;
    try {
      const counts = pruneBefore(this.db, nowMs - this.config.store.retentionDays * 86_400_000);
      if (counts.events + counts.anomalies + counts.jobs > 0) this.log.info('retention: deleted old rows', { ...counts });
      return counts;
    } catch (err) {
      this.log.error('retention sweep failed', { err });
      return undefined;
    }
  }

  private readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.started) reasons.push('starting');
    if (this.stopping) reasons.push('shutting down');
    if (this.grpc && !this.grpc.listening) reasons.push('gRPC receiver not listening');
    reasons.push(...this.storeHealth.reasons());
    if (this.changes.pending > 0) reasons.push(`store: ${this.changes.pending} anomaly change(s) waiting to be stored`);
    return { ready: reasons.length === 0, reasons };
  }

  /**
   * Closes due slices, turns findings into anomaly changes and acts on them: persist, publish,
   * diagnose new anomalies, emit spans, hand diagnoses to healing. Returns the changes.
   */
  evaluate(nowMs: number): Array<{ change: AnomalyChange; diagnosis?: Diagnosis }> {
    let changes: AnomalyChange[];
    this.evaluationNowMs = nowMs;
    try {
      changes = this.engine.evaluate(nowMs);
    } catch (err) {
      this.log.error('detection failed', { err });
      return [];
    }
    return this.actOn(changes, nowMs);
  }

  /**
   * `evaluate` as the slice timer runs it: detection hands the event loop back every
   * EVALUATION_TURN_MS, so receivers and /healthz are answered at many keys. A tick that finds
   * the previous evaluation still running is skipped (the next one covers its slices).
   */
  async evaluateInTurns(nowMs: number): Promise<Array<{ change: AnomalyChange; diagnosis?: Diagnosis }>> {
    if (this.evaluating || this.stopping) return [];
    this.evaluating = true;
    let changes: AnomalyChange[];
    try {
      this.evaluationNowMs = nowMs;
      changes = await runInTurns(this.engine.evaluation(nowMs), EVALUATION_TURN_MS);
    } catch (err) {
      this.log.error('detection failed', { err });
      return [];
    } finally {
      this.evaluating = false;
    }
    if (this.stopping) return [];
    this.evaluationNowMs = nowMs;
    return this.actOn(changes, nowMs);
  }

  private actOn(changes: AnomalyChange[], nowMs: number): Array<{ change: AnomalyChange; diagnosis?: Diagnosis }> {
    const out = this.changes.process(changes);
    this.incidents.noteAnomalyChanges(changes);
    if (this.peers) this.notePeerChanges();
    let slices: GraphSlice[] = [];
    try {
      const ev = this.incidents.evaluate(nowMs);
      slices = ev.slices ?? [];
      if (this.clusterRole.role === 'member') ev.incidentChanges = [];
      publishIncidentEvaluation(ev, this.incidentOutlets(nowMs), this.bus);
    } catch (err) {
      this.log.error('incident evaluation failed', { err });
    }
    try {
      this.rollups?.record(slices, nowMs);
    } catch (err) {
      this.log.error('storing RED rollups failed', { err });
    }
    return out;
  }

  /** Peer anomalies are stored (an incident's anomaly ids resolve here) but never published again. */
  private notePeerChanges(): void {
    const got = this.peers!.drain().map((p) => p.change);
    for (const c of got) {
      try {
        this.store.saveAnomaly(c.anomaly);
      } catch (err) {
        this.log.warn('could not store a peer anomaly', { err, anomalyId: c.anomaly.id });
      }
    }
    this.incidents.notePeerAnomalyChanges(got);
  }

  private incidentOutlets(nowMs: number): IncidentOutlets {
    const spans = this.emitter;
    const incidentSpans = this.incidentSpans;
    return {
      saveAnomaly: (a) => this.store.saveAnomaly(a),
      saveIncident: (c) => {
        this.incidentStore.saveIncident(c.incident, nowMs);
        keepIncidentExemplars(c.incident, this.incidentStore, (id) => this.store.getAnomaly(id), (traceId) => this.engine.traceBeats(traceId));
      },
      ...(spans ? { anomalySpan: (c: AnomalyChange) => spans.emit(c) } : {}),
      ...(incidentSpans ? { incidentSpan: (c: Parameters<IncidentSpanEmitter['emit']>[0]) => incidentSpans.emit(c) } : {}),
    };
  }

  private handleChange(change: AnomalyChange, retry = false): { change: AnomalyChange; diagnosis?: Diagnosis } {
    const a: Anomaly = change.anomaly;
    const diagnosis = this.recorder.handle(change);
    if (!retry) this.pipelineMetrics.countChange(change);
    this.log.info(`anomaly ${change.kind}`, {
      anomalyId: a.id,
      type: `${a.type}/${a.subtype}`,
      service: a.service,
      handler: a.handler ?? a.sequence,
      ...(diagnosis ? { rootCause: diagnosis.rootCause.cause } : {}),
    });
    if (diagnosis && change.kind === 'opened' && this.pipeline) {
      const silenced = this.silences.anomaly(a);
      const decision = healingDecision(diagnosis, this.activeJobFor(a.service, diagnosis.handler ?? a.handler));
      if (silenced !== undefined && decision.heal) this.skipSilencedHealing(a, diagnosis, silenced.incidentId, silenced.untilMs);
      else if (decision.heal) this.pipeline.enqueue(diagnosis, a);
      else this.log.info(`not healing: ${decision.reason}`, { anomalyId: a.id });
    }
    return diagnosis ? { change, diagnosis } : { change };
  }

  /** Healing an anomaly of a silenced incident is skipped, and said so: log, event and the incident's timeline. */
  private skipSilencedHealing(a: Anomaly, d: Diagnosis, incidentId: string, untilMs: number): void {
    const reason = `incident ${incidentId} is silenced until ${new Date(untilMs).toISOString()}`;
    this.log.info(`not healing: ${reason}`, { anomalyId: a.id, incidentId });
    this.bus.publish('heal.skipped', { anomalyId: a.id, diagnosisId: d.id, incidentId, reason }, { anomalyId: a.id, diagnosisId: d.id });
    this.incidentStore.note(incidentId, this.evaluationNowMs, 'heal-skipped', `not healing ${a.id}: ${reason}`);
  }

  private activeJobFor(service: string, handler: string | undefined): string | undefined {
    if (!this.pipeline || handler === undefined) return undefined;
    for (const state of ['queued', 'running'] as const) {
      const job = this.pipeline.queue.list({ state, limit: 1000 }).find((j) => j.service === service && j.handler === handler);
      if (job) return job.id;
    }
    return undefined;
  }

  /** Graceful shutdown: stop accepting, drain in-flight work, flush forwarder and spans, close. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.evaluateTimer) clearInterval(this.evaluateTimer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    // Event streams end first: an open Subscribe call would otherwise hold the gRPC server's
    // graceful shutdown for its whole grace period.
    await this.notifier?.stop();
    await this.peers?.stop();
    this.bus.close();
    await Promise.allSettled([this.grpc?.stop(), this.http?.stop()]);
    await this.pipeline?.stop();
    await this.forwarder?.close(5_000);
    await this.emitter?.shutdown().catch((err: unknown) => this.log.warn('span flush failed', { err }));
    await this.admin?.close();
    this.metrics.stop();
    this.db.close();
  }
}
