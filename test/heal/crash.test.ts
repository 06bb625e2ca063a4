import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/heal/queue.js';
import { initRepo, sh } from './fixtures/git-repo.js';
import { sampleAnomaly, sampleDiagnosis, tempDb } from './fixtures/samples.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');
const workerScript = join(here, 'fixtures', 'crash-worker.ts');

const LIB = 'export function label(name) {\n  return name.trim();\n}\n';
const TEST = "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('label trims', () => assert.equal(label(' a '), 'a'));\n";

function startWorker(args: string[], mark: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', workerScript, ...args], {
    cwd: projectRoot,
    env: { ...process.env, HEAL_MARK: mark },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output })));
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash recovery (worker in a child process, kill -9 mid-stage)', () => {
  const repo = initRepo({ 'lib.mjs': LIB, 'test/lib.test.mjs': TEST });
  const t = tempDb();
  const work = mkdtempSync(join(tmpdir(), 'heal-crash-'));
  const mark = join(work, 'test-runs.txt');
  const leftovers: number[] = [];
  const workers: ChildProcess[] = [];

  afterAll(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    for (const pgid of leftovers) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already finished
      }
    }
    t.close();
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('resumes at the interrupted stage and completes every stage exactly once', { timeout: 300_000 }, async () => {
    const queue = new JobQueue(t.db);
    const { id } = queue.enqueue(sampleDiagnosis(), sampleAnomaly());
    const args = [t.path, repo.dir, work];

    // First worker: killed with SIGKILL while the test command of validation.run is running.
    const first = startWorker(args, mark);
    workers.push(first);
    const firstExit = exited(first);
    await until(() => existsSync(mark), 120_000);
    first.kill('SIGKILL');
    const killed = await firstExit;
    expect(killed.signal).toBe('SIGKILL');
    leftovers.push(...readFileSync(mark, 'utf8').trim().split('\n').map(Number));

    const interrupted = queue.get(id)!;
    expect(interrupted).toMatchObject({ state: 'running', stage: 'validation.run' });
    expect(queue.stageResults(id).map((r) => `${r.stage}:${r.status}`)).toEqual(['fix.generate:succeeded', 'validation.run:running']);

    // Second worker: reclaims the job once the dead worker's lease expires, and finishes it.
    const second = startWorker(args, mark);
    workers.push(second);
    const done = await exited(second);
    expect(done.output).toBe('');
    expect(done.code).toBe(0);

    const job = queue.get(id)!;
    expect(job.state).toBe('succeeded');
    const rows = queue.stageResults(id);
    for (const stage of ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track']) {
      expect(rows.filter((r) => r.stage === stage && r.status === 'succeeded')).toHaveLength(1);
    }
    expect(rows.filter((r) => r.stage === 'fix.generate')).toHaveLength(1);
    expect(rows.filter((r) => r.stage === 'validation.run').map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect(rows.find((r) => r.status === 'failed')!.error).toBe('abandoned: worker lease expired');
    // The test command ran once per validation attempt.
    expect(readFileSync(mark, 'utf8').trim().split('\n')).toHaveLength(2);

    // Merged exactly once, with the fix.
    expect(sh(repo.dir, ['rev-list', '--merges', '--count', 'main']).trim()).toBe('1');
    expect(sh(repo.dir, ['show', 'main:lib.mjs'])).toContain("(name ?? '').trim()");
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM prs').get()).toEqual({ n: 1 });
    expect(sh(repo.dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/self-healing']).trim().split('\n')).toHaveLength(1);
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM learning_outcomes').get()).toEqual({ n: 1 });
    // The killed worker's worktree was removed by the restart; nothing else is left either.
    expect(sh(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
    expect(readdirSync(work).filter((n) => n.startsWith('heal-wt-'))).toEqual([]);
  });
});

/** Whether any live (non-zombie) process is in the process group. */
function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/**
 * kill -9 inside the other three stages (validation.run has its own tests above and in
 * lost-workers.test.ts): the worker holds once the stage's real work is done (fix branch written,
 * merge made, outcome stored) and before its result is recorded, the worst moment for duplicates.
 */
describe.each([
  { hold: 'generate', stage: 'fix.generate' },
  { hold: 'deploy', stage: 'deployment.deploy' },
  { hold: 'learn', stage: 'learning.track' },
] as const)('kill -9 inside $stage', ({ hold, stage }) => {
  const repo = initRepo({ 'lib.mjs': LIB, 'test/lib.test.mjs': TEST });
  const t = tempDb();
  const work = mkdtempSync(join(tmpdir(), `heal-crash-${hold}-`));
  const mark = join(work, 'test-runs.txt');
  const stageMark = join(work, 'stage.txt');
  const holdFile = join(work, 'hold');
  const workers: ChildProcess[] = [];

  const testRuns = (): number[] => (existsSync(mark) ? readFileSync(mark, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);

  afterAll(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    for (const pgid of testRuns()) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already finished
      }
    }
    t.close();
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  function start(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript, t.path, repo.dir, work], {
      cwd: projectRoot,
      env: { ...process.env, HEAL_MARK: mark, HEAL_HOLD: holdFile, HEAL_HOLD_STAGE: hold, HEAL_STAGE_MARK: stageMark },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(child);
    return child;
  }

  it(`a restart redoes ${stage} without repeating its effect; every stage succeeds once`, { timeout: 300_000 }, async () => {
    const queue = new JobQueue(t.db);
    const { id } = queue.enqueue(sampleDiagnosis(), sampleAnomaly());
    writeFileSync(holdFile, '');

    const first = start();
    const firstExit = exited(first);
    await until(() => existsSync(stageMark), 120_000);
    expect(queue.get(id)).toMatchObject({ state: 'running', stage });
    first.kill('SIGKILL');
    expect((await firstExit).signal).toBe('SIGKILL');
    const before = queue.stageResults(id).map((r) => `${r.stage}:${r.status}`);
    expect(before[before.length - 1]).toBe(`${stage}:running`);
    // The killed stage's effect is already there: the merge or the learning outcome.
    if (hold === 'deploy' || hold === 'learn') expect(sh(repo.dir, ['rev-list', '--merges', '--count', 'main']).trim()).toBe('1');
    if (hold === 'learn') expect(t.db.prepare('SELECT COUNT(*) AS n FROM learning_outcomes').get()).toEqual({ n: 1 });

    // The restart does not hold again (no hold file), reclaims the job after the lease and ends it.
    unlinkSync(holdFile);
    const done = await exited(start());
    expect(done.output).toBe('');
    expect(done.code).toBe(0);

    const job = queue.get(id)!;
    expect(job.state).toBe('succeeded');
    expect(job.testPgid).toBeUndefined();
    const rows = queue.stageResults(id);
    for (const s of ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track']) {
      expect(rows.filter((r) => r.stage === s && r.status === 'succeeded'), s).toHaveLength(1);
      // Only the killed stage has a second row: the attempt the kill abandoned.
      expect(rows.filter((r) => r.stage === s).map((r) => r.status), s).toEqual(s === stage ? ['failed', 'succeeded'] : ['succeeded']);
    }
    expect(rows.find((r) => r.status === 'failed')!.error).toBe('abandoned: worker lease expired');
    // Validation ran its test command once (it was not the stage killed); nothing of it outlives the job.
    expect(testRuns()).toHaveLength(1);
    for (const pgid of testRuns()) expect(groupAlive(pgid), `test process group ${pgid}`).toBe(false);
    expect(queue.processGroups()).toEqual([]);

    // Exactly one merge, one proposal, one learning outcome.
    expect(sh(repo.dir, ['rev-list', '--merges', '--count', 'main']).trim()).toBe('1');
    expect(sh(repo.dir, ['show', 'main:lib.mjs'])).toContain("(name ?? '').trim()");
    // One fix commit reached main (the merge commit aside): a redone stage did not commit again.
    expect(sh(repo.dir, ['rev-list', '--no-merges', '--count', 'main']).trim()).toBe('2');
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM prs').get()).toEqual({ n: 1 });
    expect(sh(repo.dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/self-healing']).trim().split('\n')).toHaveLength(1);
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM learning_outcomes').get()).toEqual({ n: 1 });
    // The killed worker's worktree was removed by the restart; nothing else is left either.
    expect(sh(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
    expect(readdirSync(work).filter((n) => n.startsWith('heal-wt-'))).toEqual([]);
  });
});
