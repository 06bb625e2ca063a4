import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/sections/heal.js';
import { Git } from '../../src/heal/git.js';
import { LearningStore, type HandlerTelemetry } from '../../src/heal/learn.js';
import { LocalBackend } from '../../src/heal/local-backend.js';
import { createDefaultStages, HealingPipeline, type FixGenerator, type HealEventKind } from '../../src/heal/pipeline.js';
import type { LearningOutcome, ValidationResult } from '../../src/model/heal.js';
import { createFixtureRepo, FIXTURE_BUG, type FixtureRepo } from '../fixtures/app-repo.js';
import { sampleAnomaly, sampleDiagnosis, tempDb, type TempDb } from './fixtures/samples.js';

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}

async function until(cond: () => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const REGRESSION_TEST = `import { describe, expect, it } from 'vitest';
import { createComponent } from '../src/handlers/createComponent.js';

describe('createComponent without a component descriptor', () => {
  it('falls back instead of throwing', () => {
    const c = createComponent({ name: 'Old', position: { x: 1, y: 2 } });
    expect(c.name).toBe('untitled');
  });
});
`;

/** A stand-in for the fix strategies: edits the worktree it is given and returns the diff. */
function editingGenerator(edit: 'guard' | 'break', seen: string[]): FixGenerator {
  return async (ctx) => {
    seen.push(ctx.repoDir);
    const file = join(ctx.repoDir, FIXTURE_BUG.file);
    const source = readFileSync(file, 'utf8');
    if (edit === 'guard') {
      writeFileSync(file, source.replace('payload.component.name', 'payload.component?.name'));
      writeFileSync(join(ctx.repoDir, 'test/createComponent.guard.test.ts'), REGRESSION_TEST);
    } else {
      writeFileSync(file, source.replace("name: name ?? 'untitled'", "name: 'broken'"));
    }
    git(ctx.repoDir, ['add', '-A']);
    const diff = git(ctx.repoDir, ['diff', '--cached']);
    return [
      {
        kind: 'guard',
        title: edit === 'guard' ? 'Guard a missing component descriptor' : 'Break the name',
        description: 'Old clients send payload.name only.',
        diff,
        files: edit === 'guard' ? [FIXTURE_BUG.file, 'test/createComponent.guard.test.ts'] : [FIXTURE_BUG.file],
        claims: edit === 'guard' ? { testFiles: ['test/createComponent.guard.test.ts'] } : {},
      },
    ];
  };
}

function durations(n: number, center: number): number[] {
  return Array.from({ length: n }, (_, i) => center + ((i * 7) % 11) - 5);
}

describe('healing flow on the fixture application (real git, real vitest)', { timeout: 300_000 }, () => {
  let repo: FixtureRepo;
  let t: TempDb;
  let work: string;
  let heal: HealConfig;
  let deployed = false;
  const telemetry: HandlerTelemetry = {
    // Errors stop once the fix is live.
    snapshot: () => (deployed ? { durationsMs: durations(100, 2), errors: 0, count: 100, version: '1.1.1' } : { durationsMs: durations(100, 2), errors: 30, count: 100, version: '1.1.0' }),
  };

  beforeAll(async () => {
    repo = await createFixtureRepo({ bug: 'null-access' });
    t = tempDb();
    work = mkdtempSync(join(tmpdir(), 'heal-flow-'));
    const base = ConfigSchema.parse({}).heal;
    heal = {
      ...base,
      observationMs: 300,
      pollMs: 50,
      backoffMs: 50,
      workDir: work,
      validation: { ...base.validation, minLineCoverage: 50 },
      policy: { ...base.policy, mode: 'auto', autoMerge: { guard: ['high'] } },
      repository: { ...base.repository, path: repo.dir, testCommand: 'npx vitest run --coverage', testTimeoutMs: 240_000 },
    };
  });
  afterAll(async () => {
    t.close();
    await repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  function pipelineWith(generate: FixGenerator, events: Array<{ kind: HealEventKind; payload: Record<string, unknown> }>): { pipeline: HealingPipeline; learning: LearningStore; backend: LocalBackend } {
    const g = new Git(repo.dir, work);
    const learning = new LearningStore(t.db);
    const backend = new LocalBackend(t.db, g);
    const stages = createDefaultStages({ heal, git: g, backend, learning, generateFix: generate, telemetry });
    const pipeline = new HealingPipeline({
      db: t.db,
      config: heal,
      stages,
      onEvent: (kind, payload) => {
        events.push({ kind, payload });
        if (kind === 'deployment.completed') deployed = true;
      },
    });
    return { pipeline, learning, backend };
  }

  it('takes a diagnosis through every stage: worktree patch, real test run, branch, merge, verdict', async () => {
    const events: Array<{ kind: HealEventKind; payload: Record<string, unknown> }> = [];
    const seen: string[] = [];
    const { pipeline, learning, backend } = pipelineWith(editingGenerator('guard', seen), events);
    const checkoutBefore = readFileSync(join(repo.dir, FIXTURE_BUG.file), 'utf8');
    const mainBefore = git(repo.dir, ['rev-parse', 'main']).trim();
    const id = pipeline.enqueue(sampleDiagnosis(), sampleAnomaly());
    pipeline.start();
    try {
      await until(() => ['succeeded', 'failed', 'parked'].includes(pipeline.queue.get(id)!.state));
    } finally {
      await pipeline.stop();
    }
    const job = pipeline.queue.get(id)!;
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('succeeded');

    // The strategy worked in a separate worktree, never in the user's checkout.
    expect(resolve(seen[0]!)).not.toBe(resolve(repo.dir));
    expect(readFileSync(join(repo.dir, FIXTURE_BUG.file), 'utf8')).toBe(checkoutBefore);

    // Validation counts come from the real vitest run (3 existing tests + the regression test).
    const validation = pipeline.queue.succeeded(id, 'validation.run') as { chosen: number; results: ValidationResult[] };
    const v = validation.results[validation.chosen]!;
    expect(v.tests).toEqual({ runner: 'vitest', passed: 4, failed: 0, skipped: 0, total: 4 });
    expect(v.coverage!.linePct).toBeGreaterThanOrEqual(50);
    expect(v.coverage!.passed).toBe(true);

    // A branch with the fix and one --no-ff merge into main.
    const branch = 'self-healing/an-1-createcomponent';
    expect(git(repo.dir, ['branch', '--list', branch]).trim()).toBe(branch);
    const merges = git(repo.dir, ['log', '--merges', '--format=%H %s', 'main']).trim().split('\n');
    expect(merges).toHaveLength(1);
    expect(merges[0]).toContain(`Merge ${branch}`);
    expect(git(repo.dir, ['show', `main:${FIXTURE_BUG.file}`])).toContain('payload.component?.name');
    expect(git(repo.dir, ['rev-parse', 'main^1']).trim()).toBe(mainBefore);
    expect(git(repo.dir, ['log', '-1', '--format=%an <%ae>', branch]).trim()).toBe('self-healing <self-healing@localhost>');
    expect(backend.byBranch(branch)).toMatchObject({ state: 'merged' });

    // Before/after verdict: the error rate dropped from 30 % to 0.
    const outcome = pipeline.queue.succeeded(id, 'learning.track') as LearningOutcome;
    expect(outcome.verdict).toBe('improved');
    expect(outcome.errorRateBefore).toBeCloseTo(0.3);
    expect(outcome.errorRateAfter).toBe(0);
    expect(learning.strategyRanking('error')).toEqual({ guard: 2 / 3 });
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed']);
    expect(git(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
  });

  it('stops a fix that breaks a test at validation, with the failing counts, and deploys nothing', async () => {
    const events: Array<{ kind: HealEventKind; payload: Record<string, unknown> }> = [];
    const { pipeline } = pipelineWith(editingGenerator('break', []), events);
    const branchesBefore = git(repo.dir, ['branch', '--list']);
    const id = pipeline.enqueue(sampleDiagnosis({ id: 'dg-2', anomalyId: 'an-2' }), sampleAnomaly({ id: 'an-2' }));
    await pipeline.runJobNow(id);
    const job = pipeline.queue.get(id)!;
    expect(job.state).toBe('failed');
    // main now holds the first fix and its regression test: both name tests break.
    expect(job.error).toBe('validation failed: guard: test command exited with 1; 2 test(s) failed');
    const rows = pipeline.queue.stageResults(id);
    expect(rows.map((r) => `${r.stage}:${r.status}`)).toEqual(['fix.generate:succeeded', 'validation.run:rejected']);
    const result = rows[1]!.result as { results: ValidationResult[] };
    expect(result.results[0]!.tests).toEqual({ runner: 'vitest', passed: 2, failed: 2, skipped: 0, total: 4 });
    expect(git(repo.dir, ['branch', '--list'])).toBe(branchesBefore);
    expect(events.map((e) => e.kind)).toEqual(['fix.generated', 'validation.completed', 'job.failed']);
  });
});
