import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sidecar } from '../sidecar.js';
import { createLogger } from '../emit/logger.js';
import type { StoredEvent } from '../emit/event-bus.js';
import { FIXTURE_SERVICE, writeAppRepo } from './app-repo.js';
import { affectsRuntime, AppSupervisor } from './app-supervisor.js';
import { DEMO_TEST_COMMAND, demoConfig } from './demo-config.js';
import { DemoProgress } from './demo-progress.js';
import { Narrator } from './narrator.js';

const run = promisify(execFile);

export interface DemoOptions {
  /** Holds the demo repository, the database, worktrees and releases; recreated on each run. */
  stateDir: string;
  /** Stop after one full loop (exit code 0) instead of running until `signal` aborts. */
  once: boolean;
  /** Dashboard port (default 8787; 0 picks a free one; a busy port falls back to a free one). */
  adminPort?: number;
  /** The loop must complete within this time from the start (default 170 s). */
  deadlineMs?: number;
  /** When the latency fault is injected, counted from the app's first run (default 12 s). */
  latencyAtMs?: number;
  /** When the exception fault is injected, counted from the app's first run (default 15 s: before the first fix is deployed, so no release is suspected). */
  exceptionAtMs?: number;
  /** Sequence runs per second of the demo app (default 25). */
  rate?: number;
  /** Prints one narrated line (no trailing newline). */
  out: (line: string) => void;
  /** Ends a run without --once (Ctrl-C). */
  signal?: AbortSignal;
}

export interface DemoResult {
  completed: boolean;
  /** Why the demo ended; for a failure, which step was not reached. */
  message: string;
  repoDir: string;
  dashboardUrl: string;
  /** Merge commits the demo deployed, oldest first. */
  merges: string[];
}

async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout.trim();
}

/** Creates the demo repository and runs its tests once, so a coverage report exists for detection. */
export async function prepareDemoRepo(repoDir: string): Promise<void> {
  await writeAppRepo(repoDir);
  const [cmd, ...args] = DEMO_TEST_COMMAND.split(' ');
  await run(cmd === 'node' ? process.execPath : cmd!, args, { cwd: repoDir, timeout: 120_000, env: { ...process.env, CI: '1', NO_COLOR: '1' } });
}

/** Removes what an earlier run left in the state directory (only the demo's own entries). */
async function resetStateDir(stateDir: string): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  for (const entry of ['app', 'live', 'worktrees', 'state.db', 'state.db-wal', 'state.db-shm']) {
    await rm(join(stateDir, entry), { recursive: true, force: true });
  }
}

async function startSidecar(opts: DemoOptions, repoDir: string): Promise<Sidecar> {
  const logger = createLogger('warn', { service: 'self-healing-demo' });
  const port = opts.adminPort ?? 8787;
  const start = (adminPort: number): Promise<Sidecar> => Sidecar.start(demoConfig({ repoDir, stateDir: opts.stateDir, adminPort }), { logger, cwd: opts.stateDir });
  try {
    return await start(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
    opts.out(`dashboard port ${port} is busy; using a free port`);
    return start(0);
  }
}

/**
 * The whole loop on one machine, no network: a real sidecar, a real git repository with real
 * tests, and an instrumented app process. Faults are injected on a schedule; the event bus drives
 * the narration and the "deploys" (merge commit -> release directory -> the app reloads).
 */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const deadlineMs = opts.deadlineMs ?? 170_000;
  const say = (text: string): void => opts.out(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${text}`);
  const repoDir = join(opts.stateDir, 'app');
  await resetStateDir(opts.stateDir);
  await mkdir(join(opts.stateDir, 'worktrees'), { recursive: true });

  say(`creating the demo repository (real git, real vitest tests) in ${repoDir}`);
  await prepareDemoRepo(repoDir);
  say('ran its tests once: coverage report at coverage/coverage-final.json');

  const sidecar = await startSidecar(opts, repoDir);
  const dashboardUrl = `${sidecar.admin!.url}/`;
  say(`sidecar running: OTLP gRPC on 127.0.0.1:${sidecar.grpc!.port}, healing in auto mode on the local repository`);
  say(`dashboard: ${dashboardUrl}`);

  const narrator = new Narrator();
  const progress = new DemoProgress();
  const merges: string[] = [];
  const rate = opts.rate ?? 25;
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  let finish!: (r: { completed: boolean; message: string }) => void;
  const finished = new Promise<{ completed: boolean; message: string }>((r) => (finish = r));

  // The app runs from its own checkout of main, like a deployed copy; a deploy moves it to the merge.
  const liveDir = join(opts.stateDir, 'live');
  await git(repoDir, ['worktree', 'add', '--detach', liveDir, 'main']);
  const app = new AppSupervisor({
    appDir: liveDir,
    otlpEndpoint: `http://127.0.0.1:${sidecar.grpc!.port}`,
    rate,
    onEvent: (e) => {
      if (e.type !== 'fault-injected') return;
      progress.faultInjected(e.fault);
      say(
        e.fault === 'latency'
          ? 'FAULT injected: every other run asks resolveTemplate for a long template id (a latency regression)'
          : 'FAULT injected: every other createComponent payload lacks `component` (v1.1.0 reads payload.component.name)',
      );
    },
    onCrash: (code, signal) => {
      if (!stopping) finish({ completed: false, message: `the demo app exited unexpectedly (code ${code ?? 'none'}, signal ${signal ?? 'none'})` });
    },
  });

  let releases = 0;
  let deployChain: Promise<void> = Promise.resolve();
  const deploy = (anomalyId: string, mergeSha: string): void => {
    deployChain = deployChain.then(async () => {
      if (stopping) return;
      try {
        const changed = (await git(repoDir, ['diff', '--name-only', `${mergeSha}^1`, mergeSha])).split('\n').filter(Boolean);
        if (!affectsRuntime(changed)) {
          say(narrator.notRolledOut(anomalyId, mergeSha, changed).text);
          progress.deployed(anomalyId);
          check();
          return;
        }
        const version = `1.1.${++releases}+${mergeSha.slice(0, 7)}`;
        await git(liveDir, ['checkout', '-q', '--detach', mergeSha]);
        await app.deploy(version);
        say(narrator.deployed(anomalyId, version, mergeSha).text);
        progress.deployed(anomalyId);
        check();
      } catch (err) {
        say(`deploy of ${mergeSha.slice(0, 10)} failed: ${(err as Error).message}`);
      }
    });
  };

  const check = (): void => {
    const verdict = progress.verdict(opts.once, Date.now());
    if (verdict) finish(verdict);
  };
  const subscription = sidecar.bus.subscribe(0, undefined, (event: StoredEvent) => {
    const { lines, loop } = narrator.narrate(event);
    for (const l of lines) say(l.text);
    if (!loop) return;
    progress.record(loop, narrator.anomaly(loop.anomalyId));
    if (loop.kind === 'merged' && loop.mergeSha) {
      merges.push(loop.mergeSha);
      deploy(loop.anomalyId, loop.mergeSha);
    }
    check();
  });

  const tick = setInterval(() => {
    check();
    if (opts.once && Date.now() - t0 > deadlineMs) {
      finish({ completed: false, message: `the loop did not complete within ${Math.round(deadlineMs / 1000)} s: ${progress.describe()}` });
    }
  }, 500);
  opts.signal?.addEventListener('abort', () => finish({ completed: progress.complete(), message: `interrupted: ${progress.describe()}` }), { once: true });

  try {
    await app.start('1.1.0');
    say(`demo app ${FIXTURE_SERVICE} 1.1.0 playing the canvas-component-create sequence on musical-conductor at up to ${rate} runs/s; learning baselines`);
    timers.push(setTimeout(() => app.inject('latency'), opts.latencyAtMs ?? 12_000));
    timers.push(setTimeout(() => app.inject('exception'), opts.exceptionAtMs ?? 15_000));
  } catch (err) {
    finish({ completed: false, message: (err as Error).message });
  }

  const result = await finished;
  stopping = true;
  clearInterval(tick);
  for (const t of timers) clearTimeout(t);
  subscription.close();
  say(result.completed ? `loop complete in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${result.message}` : `demo failed: ${result.message}`);
  await deployChain;
  await app.stop();
  await sidecar.stop();
  return { ...result, repoDir, dashboardUrl, merges };
}
