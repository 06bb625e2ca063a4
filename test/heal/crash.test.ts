import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM learning_outcomes').get()).toEqual({ n: 1 });
  });
});
