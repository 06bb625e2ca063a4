/**
 * End to end on a plain Express app: the app (a real git repository with real node:test tests)
 * runs as a child process under the real OpenTelemetry Node SDK with the HTTP and Express
 * auto-instrumentations, exporting to a real sidecar (in-process, loopback, port 0) that heals
 * on that repository with the local-git backend. One route reads `req.body.profile.address.city`;
 * once clients stop sending an address, every request to it throws. Nothing in the app captures
 * handler inputs, so a guard cannot be proven by a reproduction: it must be proposed as
 * `unverified` and never merged, even with a policy that would auto-merge guards. A proven fix
 * (reproduction red on the base, green on the patch) is the only other acceptable outcome.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { projectNodeModules } from '../../src/demo/app-repo.js';
import { createLogger } from '../../src/emit/logger.js';
import type { ValidationStageResult } from '../../src/heal/pipeline.js';
import type { DeploymentOutcome, GeneratedFix } from '../../src/model/heal.js';
import { Sidecar } from '../../src/sidecar.js';

const OTEL_SETUP = fileURLToPath(new URL('./fixtures/express-otel.mjs', import.meta.url));
const ALL_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

const APP = `'use strict';
const express = require('express');

function createApp() {
  const app = express();
  app.use(express.json());
  app.get('/health', (req, res) => {
    res.json({ ok: true });
  });
  app.post('/profile/city', (req, res) => {
    res.json({ city: req.body.profile.address.city });
  });
  return app;
}

module.exports = { createApp };
`;
const SERVER = `'use strict';
const { createApp } = require('./app');

const server = createApp().listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\\n');
});
`;
const APP_TEST = `'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { createApp } = require('../src/app');

test('reads the city of a profile', async () => {
  const server = createApp().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const base = 'http://127.0.0.1:' + server.address().port;
    assert.deepEqual(await (await fetch(base + '/health')).json(), { ok: true });
    const res = await fetch(base + '/profile/city', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: { address: { city: 'Oslo' } } }),
    });
    assert.deepEqual(await res.json(), { city: 'Oslo' });
  } finally {
    server.close();
  }
});
`;

/** Serves ./src/app of the current directory once and posts the body that failed in production. */
const REPLAY = `
const { createApp } = require(process.cwd() + '/src/app');
const server = createApp().listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/profile/city', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ profile: { name: 'user-0' } }),
  });
  const text = await res.text();
  process.stdout.write(JSON.stringify({ status: res.status, body: res.status === 200 ? JSON.parse(text) : text.slice(0, 80) }));
  server.close();
});
`;

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}

/** A plain CommonJS Express project: the app, a server entry point, one node:test test. */
function createExpressRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heal-express-'));
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Test']);
  git(dir, ['config', 'user.email', 'test@example.invalid']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'profile-api', private: true, scripts: { test: 'node --test test/' }, dependencies: { express: '^5.2.1' } }, null, 2) + '\n',
    '.gitignore': 'node_modules\n',
    'src/app.js': APP,
    'src/server.js': SERVER,
    'test/app.test.js': APP_TEST,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  symlinkSync(projectNodeModules(), join(dir, 'node_modules'), 'dir');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial']);
  return dir;
}

async function until(cond: () => boolean, timeoutMs: number, what: () => string, tick?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what()}: not met in time`);
    if (tick) await tick();
    else await new Promise((r) => setTimeout(r, 100));
  }
}

const TERMINAL = new Set(['succeeded', 'failed', 'parked']);
const CODE_FIXES = new Set(['guard', 'memoize', 'rollback']);

describe('plain Express app with OpenTelemetry auto-instrumentation: a route throwing on a nested property', { timeout: 240_000 }, () => {
  let repo: string;
  let state: string;
  let sidecar: Sidecar;
  let app: ChildProcessWithoutNullStreams;
  let base: string;
  let appOutput = '';

  beforeAll(async () => {
    repo = createExpressRepo();
    state = mkdtempSync(join(tmpdir(), 'heal-express-state-'));
    const config = ConfigSchema.parse({
      logLevel: 'warn',
      receive: { grpc: { host: '127.0.0.1', port: 0 }, http: { enabled: false } },
      admin: { host: '127.0.0.1', port: 0 },
      forward: { enabled: false },
      emit: { otlp: { enabled: false } },
      store: { path: join(state, 'state.db') },
      detect: { sliceMs: 1000, windowSlices: 4, baselineMinSlices: 4, minSamples: 10, errors: { fingerprintWarmupBeats: 20, minErrors: 3 } },
      heal: {
        enabled: true,
        pollMs: 100,
        backoffMs: 200,
        observationMs: 500,
        // Not created beforehand: healing creates it.
        workDir: join(state, 'worktrees'),
        // Guards may auto-merge here, so only the proof rule can keep an unproven guard out of main.
        policy: { mode: 'auto', autoMerge: { guard: [...ALL_SEVERITIES] } },
        repository: { path: repo, baseBranch: 'main', testCommand: 'node --test test/', testTimeoutMs: 60_000 },
      },
    });
    sidecar = await Sidecar.start(config, { logger: createLogger('warn') });

    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
    app = spawn(process.execPath, ['--import', OTEL_SETUP, 'src/server.js'], {
      cwd: repo,
      env: { ...env, OTLP_URL: `http://127.0.0.1:${sidecar.grpc!.port}`, OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    app.stdout.setEncoding('utf8');
    app.stderr.setEncoding('utf8');
    app.stderr.on('data', (d: string) => (appOutput += d));
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      app.stdout.on('data', (d: string) => {
        appOutput += d;
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { port: number }).port);
      });
      app.once('exit', (code) => reject(new Error(`app exited (${code}): ${appOutput}`)));
    });
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (app && app.exitCode === null) {
      app.kill('SIGTERM');
      await new Promise((r) => app.once('exit', r));
    }
    await sidecar?.stop();
    rmSync(repo, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  async function post(body: unknown): Promise<number> {
    const res = await fetch(`${base}/profile/city`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  }

  /** One burst of traffic: health checks, and the profile route with or without an address. */
  async function burst(failing: boolean): Promise<void> {
    for (let i = 0; i < 5; i++) {
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const status = await post(failing ? { profile: { name: `user-${i}` } } : { profile: { address: { city: `City ${i}` } } });
      expect(status).toBe(failing ? 500 : 200);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  // Express 5 route handlers all give spans named "request handler" (the route is only in http.route).
  const routeFigures = () => sidecar.engine.handlerFigures().filter((h) => h.service === 'profile-api' && h.handler.startsWith('request handler'));

  it('opens an error anomaly, proposes a guard that answers the failing request, and never merges it unproven', async () => {
    const mainBefore = git(repo, ['rev-parse', 'main']).trim();

    // Normal traffic until the route's handlers have a baseline.
    await until(() => routeFigures().some((h) => h.baselineP95Ms !== undefined), 60_000, () => `baseline of the profile route (${JSON.stringify(sidecar.engine.handlerFigures().map((h) => [h.service, h.handler, h.count, h.baselineP95Ms]))})`, () => burst(false));

    // Then every request to the route throws, until an error anomaly opens and healing has run.
    const queue = sidecar.pipeline!.queue;
    const jobs = () => queue.list();
    await until(
      () => jobs().length > 0 && jobs().every((j) => TERMINAL.has(j.state)),
      150_000,
      () => `error anomaly healed (jobs ${JSON.stringify(jobs().map((j) => [j.state, j.stage, j.error]))})`,
      () => burst(true),
    );

    const anomalies = sidecar.store.listAnomalies({ limit: 100, offset: 0 }).filter((a) => a.service === 'profile-api' && a.type === 'error');
    expect(anomalies.length, appOutput).toBeGreaterThan(0);
    // Errors are attributed to the failing route only: the root HTTP span of each request is the
    // route's sequence ("POST /profile/city"), and the health route stays clean.
    expect(anomalies.some((a) => a.sequence === 'POST /profile/city' || a.handler?.startsWith('request handler') === true)).toBe(true);
    const sequences = sidecar.engine.sequenceFigures().filter((f) => f.service === 'profile-api');
    expect(sequences.find((f) => f.sequence === 'POST /profile/city')!.errors).toBeGreaterThan(0);
    expect(sequences.find((f) => f.sequence === 'GET /health')).toMatchObject({ errors: 0 });

    // Every job completed; every code fix deployed was either proven or proposed unverified, unmerged.
    let guards = 0;
    let proven = false;
    for (const job of jobs()) {
      expect(job, JSON.stringify(queue.stageResults(job.id).map((r) => [r.stage, r.status, r.error]))).toMatchObject({ state: 'succeeded' });
      const deployment = queue.succeeded(job.id, 'deployment.deploy') as DeploymentOutcome;
      const validation = queue.succeeded(job.id, 'validation.run') as ValidationStageResult;
      const fix = (queue.succeeded(job.id, 'fix.generate') as GeneratedFix[])[validation.chosen]!;
      const result = validation.combined?.validation ?? validation.results[validation.chosen]!;
      if (fix.kind === 'guard') guards++;
      if (!CODE_FIXES.has(fix.kind)) continue;
      if (result.proof?.verdict === 'proven') {
        proven = true;
        expect(result.proof.base!.failed).toBeGreaterThan(0);
        expect(result.proof.patch).toMatchObject({ failed: 0, exitCode: 0 });
      } else {
        // No reproduction: the app captures no handler input. The app's own tests really ran.
        expect(result.proof).toMatchObject({ verdict: 'unverified', testFiles: [] });
        expect(result.tests).toMatchObject({ runner: 'node-test', failed: 0 });
        expect(result.tests!.passed).toBeGreaterThan(0);
        expect(deployment).toMatchObject({ decision: 'propose', reason: expect.stringContaining('unverified') });
        expect(deployment.merge?.merged ?? false).toBe(false);
        expect(deployment.proposal).toMatchObject({ state: 'open', title: expect.stringMatching(/^\[unverified\] /), body: expect.stringContaining('UNVERIFIED') });
      }
    }
    expect(guards).toBeGreaterThan(0);
    // The guard covers the whole failing chain in the real route handler, with a defined result.
    const branches = git(repo, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/self-healing']).split('\n').filter(Boolean);
    expect(branches.length).toBeGreaterThan(0);
    const guarded = branches.find((b) => git(repo, ['show', `${b}:src/app.js`]).includes('profile?.address?.city'));
    expect(guarded, branches.join(', ')).toBeDefined();
    // The proposed app answers the request that failed in production instead of throwing.
    const checkout = mkdtempSync(join(tmpdir(), 'heal-express-branch-'));
    try {
      git(repo, ['worktree', 'add', '-q', '--detach', join(checkout, 'app'), guarded!]);
      symlinkSync(projectNodeModules(), join(checkout, 'app', 'node_modules'), 'dir');
      const answer = execFileSync(process.execPath, ['-e', REPLAY], { cwd: join(checkout, 'app'), encoding: 'utf8' });
      expect(JSON.parse(answer)).toEqual({ status: 200, body: {} });
      expect(execFileSync(process.execPath, ['-e', REPLAY], { cwd: repo, encoding: 'utf8' })).toContain('"status":500');
    } finally {
      git(repo, ['worktree', 'remove', '--force', join(checkout, 'app')]);
      rmSync(checkout, { recursive: true, force: true });
    }

    // Nothing unproven reached main.
    if (!proven) {
      expect(git(repo, ['rev-parse', 'main']).trim()).toBe(mainBefore);
      expect(git(repo, ['show', 'main:src/app.js'])).toBe(APP);
    }
  });
});
