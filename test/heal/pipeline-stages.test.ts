import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/sections/heal.js';
import type { DeploymentBackend } from '../../src/heal/deploy.js';
import { Git } from '../../src/heal/git.js';
import { LearningStore, type HandlerTelemetry } from '../../src/heal/learn.js';
import { LocalBackend } from '../../src/heal/local-backend.js';
import { chosenFix, combineFixes, createDefaultStages, StageRejection, type FixGenerator, type StageContext } from '../../src/heal/pipeline.js';
import type { HealJob } from '../../src/heal/queue.js';
import { JobQueue } from '../../src/heal/queue.js';
import type { DeploymentOutcome, GeneratedFix, TelemetrySnapshot } from '../../src/model/heal.js';
import { diffFor, initRepo, sh } from './fixtures/git-repo.js';
import { sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from './fixtures/samples.js';

const LIB = 'export function label(name) {\n  return name.trim();\n}\n';
const TEST = "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('label trims', () => assert.equal(label(' a '), 'a'));\n";

describe('createDefaultStages', { timeout: 120_000 }, () => {
  let repo: { dir: string; cleanup(): void };
  let t: TempDb;
  let work: string;
  let heal: HealConfig;
  let git: Git;
  let backend: LocalBackend;
  let learning: LearningStore;
  let job: HealJob;

  beforeEach(() => {
    repo = initRepo({ 'lib.mjs': LIB, 'test/lib.test.mjs': TEST });
    t = tempDb();
    work = mkdtempSync(join(tmpdir(), 'heal-stages-'));
    const base = ConfigSchema.parse({}).heal;
    heal = {
      ...base,
      workDir: work,
      policy: { ...base.policy, mode: 'auto', autoMerge: { guard: ['high'] } },
      repository: { ...base.repository, testCommand: 'node --test test/', testTimeoutMs: 60_000 },
    };
    git = new Git(repo.dir, work);
    backend = new LocalBackend(t.db, git);
    learning = new LearningStore(t.db);
    const q = new JobQueue(t.db);
    job = q.get(q.enqueue(sampleDiagnosis({ recommendedFixes: ['guard', 'regression-test'] }), sampleAnomaly()).id)!;
  });
  afterEach(() => {
    t.close();
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  function ctx(over: Partial<StageContext> = {}): StageContext {
    return {
      job,
      diagnosis: job.diagnosis,
      anomaly: job.anomaly,
      fixes: undefined,
      validation: undefined,
      fix: undefined,
      deployment: undefined,
      before: undefined,
      span: trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
      ...over,
    };
  }

  const goodFix = (): GeneratedFix => ({ kind: 'guard', title: 'Guard', description: 'd', diff: diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()") }), files: ['lib.mjs'], claims: {} });
  const badFix = (): GeneratedFix => ({ kind: 'llm', title: 'Break', description: 'd', diff: diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', 'name') }), files: ['lib.mjs'], claims: {} });

  it('hands the generator a clean worktree and the learned ranking', async () => {
    learning.record({ jobId: 'old', fixKind: 'guard', anomalyType: 'error', service: 's', handler: 'h' }, { verdict: 'improved', samplesBefore: 9, samplesAfter: 9 });
    let seen: { repoDir: string; status: string; opts: unknown; beats: number } | undefined;
    const generateFix: FixGenerator = async (c, opts) => {
      seen = { repoDir: c.repoDir, status: sh(c.repoDir, ['status', '--porcelain']), opts, beats: c.beats.length };
      return [goodFix()];
    };
    const stages = createDefaultStages({ heal, git, backend, learning, generateFix, beatsFor: () => [] });
    const out = await stages.generate(ctx());
    expect(out.result).toHaveLength(1);
    expect(seen!.repoDir.startsWith(work)).toBe(true);
    expect(seen!.status).toBe('');
    expect(seen!.opts).toEqual({ strategyRanking: { guard: 2 / 3 } });
    expect(stages.snapshot).toBeUndefined();
  });

  it('validates candidates in order and chooses the first that passes', async () => {
    const stages = createDefaultStages({ heal, git, backend, learning, generateFix: async () => [] });
    const out = await stages.validate(ctx({ fixes: [badFix(), goodFix()] }));
    expect(out.result.chosen).toBe(1);
    expect(out.result.results.map((r) => r.passed)).toEqual([false, true]);
    const err = await stages.validate(ctx({ fixes: [badFix()] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageRejection);
    expect((err as StageRejection).message).toBe('validation failed: llm: test command exited with 1; 1 test(s) failed');
  });

  it('runs the test command without the secrets named in secretEnv', async () => {
    // The test command fails when it can see the receiver token.
    const leaky = { ...heal, repository: { ...heal.repository, testCommand: 'test -z "$RECEIVER_TOKEN" && node --test test/' } };
    const env = { RECEIVER_TOKEN: 'tok-123' };
    const hidden = createDefaultStages({ heal: leaky, git, backend, learning, generateFix: async () => [], env, secretEnv: ['RECEIVER_TOKEN'] });
    expect((await hidden.validate(ctx({ fixes: [goodFix()] }))).result.chosen).toBe(0);
    // Listed in passEnv (the repository's own settings) and not named a secret, it reaches the command.
    const listed = { ...leaky, validation: { ...leaky.validation, passEnv: ['RECEIVER_TOKEN'] } };
    const visible = createDefaultStages({ heal: listed, git, backend, learning, generateFix: async () => [], env });
    await expect(visible.validate(ctx({ fixes: [goodFix()] }))).rejects.toBeInstanceOf(StageRejection);
  });

  const redTest = (): GeneratedFix => ({
    kind: 'regression-test',
    title: 'Regression test for undefined names',
    description: 'label(undefined) must not throw',
    diff: diffFor(repo.dir, 'main', { 'test/undefined.test.mjs': "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('undefined name', () => assert.equal(label(undefined), ''));\n" }),
    files: ['test/undefined.test.mjs'],
    claims: { testFiles: ['test/undefined.test.mjs'] },
  });

  it('ships a failing regression test together with the fix that makes it pass (red -> green)', async () => {
    const stages = createDefaultStages({ heal, git, backend, learning, generateFix: async () => [] });
    const fixes = [redTest(), goodFix()];
    const out = await stages.validate(ctx({ fixes }));
    expect(out.result.results.map((r) => r.passed)).toEqual([false, true]);
    expect(out.result.results[0]!.tests).toMatchObject({ failed: 1 });
    expect(out.result.chosen).toBe(1);
    const combined = out.result.combined!;
    expect(combined.redGreen).toBe(true);
    expect(combined.fix).toMatchObject({ kind: 'guard', title: 'Guard (with regression test)', files: ['lib.mjs', 'test/undefined.test.mjs'], claims: { testFiles: ['test/undefined.test.mjs'] } });
    expect(combined.validation.tests).toMatchObject({ passed: 2, failed: 0, total: 2 });
    // A guard claims no latency budget, so its tests are judged by results, not timing.
    expect(combined.validation.performance).toBeUndefined();
    expect(chosenFix(fixes, out.result)!.fix).toBe(combined.fix);
    expect(combined.validation.proof).toMatchObject({ verdict: 'proven', testFiles: ['test/undefined.test.mjs'] });
    // A later regression test is tried with the fix too; the proof runs decide, not the order.
    const later = await stages.validate(ctx({ fixes: [goodFix(), redTest()] }));
    expect(later.result.combined).toMatchObject({ redGreen: true });
    // The fix on its own is unverified: proposed, never merged, even though guard is opted in.
    const alone = await stages.validate(ctx({ fixes: [goodFix()] }));
    expect(alone.result.results[0]!.proof).toMatchObject({ verdict: 'unverified' });
    const other = sampleAnomaly({ id: 'an-2' });
    const proposed = await stages.deploy(ctx({ anomaly: other, fixes: [goodFix()], fix: goodFix(), validation: alone.result }));
    expect(proposed.result).toMatchObject({ decision: 'propose', reason: expect.stringContaining('unverified') });
    expect(proposed.result.proposal!.title).toMatch(/^\[unverified\] /);
    expect(proposed.result.proposal!.body).toContain('UNVERIFIED');
    // Deploy ships both files.
    const deployed = await stages.deploy(ctx({ fixes, fix: combined.fix, validation: out.result }));
    expect(deployed.result.merge?.merged).toBe(true);
    expect(sh(repo.dir, ['show', 'main:test/undefined.test.mjs'])).toContain('undefined name');
  });

  it('keeps the plain fix when the regression test does not combine', async () => {
    const stages = createDefaultStages({ heal, git, backend, learning, generateFix: async () => [] });
    const clash: GeneratedFix = { ...redTest(), diff: diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', 'name.trim() ') }), files: ['lib.mjs'] };
    const out = await stages.validate(ctx({ fixes: [goodFix(), clash] }));
    expect(out.result).toMatchObject({ chosen: 0 });
    expect(out.result.combined).toBeUndefined();
    expect(chosenFix(undefined, out.result)).toBeUndefined();
    expect(combineFixes({ ...goodFix(), diff: 'a' }, { ...redTest(), diff: 'b\n', claims: {} }).diff).toBe('a\nb\n');
  });

  it('reverts a merged fix that made live latency worse, and merges the revert under auto', async () => {
    const fixes = [redTest(), goodFix()];
    const stages0 = createDefaultStages({ heal, git, backend, learning, generateFix: async () => [] });
    const validated = await stages0.validate(ctx({ fixes }));
    const fix = chosenFix(fixes, validated.result)!.fix;
    const deployed = await stages0.deploy(ctx({ fixes, fix, validation: validated.result }));
    expect(deployed.result).toMatchObject({ decision: 'merge', merge: { merged: true } });
    const before: TelemetrySnapshot = { takenMs: 0, durationsMs: Array.from({ length: 40 }, (_, i) => 10 + (i % 5)), errors: 0, count: 40, version: 'a' };
    const telemetry: HandlerTelemetry = { snapshot: () => ({ durationsMs: Array.from({ length: 40 }, (_, i) => 50 + (i % 5)), errors: 0, count: 40, version: 'b' }) };
    const stages = createDefaultStages({ heal, git, backend, learning, telemetry, generateFix: async () => [] });
    expect(stages.snapshot!('canvas-app', 'createComponent')?.count).toBe(40);
    const out = await stages.learn(ctx({ fix, deployment: deployed.result, before }));
    expect(out.result.verdict).toBe('worse');
    expect(out.result.revert).toMatchObject({ state: 'merged', branch: 'self-healing/revert-an-1-createcomponent' });
    expect(sh(repo.dir, ['show', 'main:lib.mjs'])).toBe(LIB);
    expect(learning.outcomes()[0]).toMatchObject({ jobId: job.id, verdict: 'worse', fixKind: 'guard' });
  });

  it('records not-deployed and insufficient-data without waiting on telemetry', async () => {
    const stages = createDefaultStages({ heal, git, backend, learning, generateFix: async () => [] });
    const dry: DeploymentOutcome = { decision: 'dry-run', backend: 'local', reason: 'x', deployedMs: 0 };
    expect((await stages.learn(ctx({ deployment: dry }))).result.verdict).toBe('not-deployed');
    const merged: DeploymentOutcome = { ...dry, decision: 'merge', merge: { merged: true, alreadyMerged: false } };
    expect((await stages.learn(ctx({ deployment: merged }))).result).toEqual({ verdict: 'insufficient-data', samplesBefore: 0, samplesAfter: 0 });
  });

  it('only opens the revert when the backend mode is not auto', async () => {
    const calls: string[] = [];
    const github: DeploymentBackend = {
      name: 'github',
      propose: async () => {
        throw new Error('unused');
      },
      checks: async () => 'success',
      merge: async () => {
        calls.push('merge');
        return { merged: true, alreadyMerged: false };
      },
      revert: async (p) => {
        calls.push('revert');
        return { ...p, id: 'r', branch: 'revert', state: 'open', revertOf: p.id };
      },
    };
    const telemetry: HandlerTelemetry = { snapshot: () => ({ durationsMs: Array.from({ length: 40 }, () => 90), errors: 0, count: 40, version: 'b' }) };
    const stages = createDefaultStages({ heal: { ...heal, policy: { ...heal.policy, githubMode: 'propose' } }, git, backend: github, learning, telemetry, generateFix: async () => [] });
    const deployment: DeploymentOutcome = {
      decision: 'merge',
      backend: 'github',
      reason: 'x',
      proposal: { id: 'p', backend: 'github', jobId: job.id, branch: 'b', baseBranch: 'main', title: 't', body: '', headSha: 'h', state: 'merged', mergeSha: 'm' },
      merge: { merged: true, alreadyMerged: false },
      deployedMs: 0,
    };
    const before: TelemetrySnapshot = { takenMs: 0, durationsMs: Array.from({ length: 40 }, () => 10), errors: 0, count: 40, version: 'a' };
    const out = await stages.learn(ctx({ deployment, before }));
    expect(out.result.revert).toMatchObject({ state: 'open', branch: 'revert' });
    expect(calls).toEqual(['revert']);
  });
});
