import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { JobQueue } from '../../src/heal/queue.js';
import { sweepOrphanedProcessGroups } from '../../src/heal/process-group-sweep.js';
import { killProcessGroup, processStartTime } from '../../src/heal/process-group.js';
import { initRepo, sh } from './fixtures/git-repo.js';
import { sampleAnomaly, sampleDiagnosis, tempDb } from './fixtures/samples.js';

const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, '..', '..');
const workerScript = join(here, 'fixtures', 'crash-worker.ts');

const LIB = 'export function label(name) {\n  return name.trim();\n}\n';
const TEST = "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('label trims', () => assert.equal(label(' a '), 'a'));\n";
/** Reports its process group, then holds while the hold file exists (a long test run), then tests. */
const HOLDING_COMMAND = `node -e "require('fs').appendFileSync(process.env.HEAL_MARK, process.ppid + '\\n')" && while [ -e "$HEAL_HOLD" ]; do sleep 0.1; done && node --test test/`;

/** Whether any live (non-zombie) process is in the group: orphans are reaped late or never here. */
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

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not met in time`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('lost workers: kill -9 inside validation, orphaned test runs swept, parked job resumed', () => {
  const repo = initRepo({ 'lib.mjs': LIB, 'test/lib.test.mjs': TEST });
  const t = tempDb();
  const work = mkdtempSync(join(tmpdir(), 'heal-lost-'));
  const mark = join(work, 'groups.txt');
  const hold = join(work, 'hold');
  const workers: ChildProcess[] = [];
  const groups: number[] = [];

  afterAll(() => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    for (const pgid of groups) killProcessGroup(pgid, undefined);
    t.close();
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  function startWorker(): { child: ChildProcess; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> } {
    const child = spawn(process.execPath, ['--import', 'tsx', workerScript, t.path, repo.dir, work], {
      cwd: projectRoot,
      env: { ...process.env, HEAL_MARK: mark, HEAL_HOLD: hold, HEAL_TEST_COMMAND: HOLDING_COMMAND, HEAL_MAX_LOST: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workers.push(child);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    return { child, exit: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output }))) };
  }

  const marked = (): number[] => (existsSync(mark) ? readFileSync(mark, 'utf8').trim().split('\n').filter(Boolean).map(Number) : []);

  it('three crashes inside one validation do not park the job for good; a restart resumes and completes it', { timeout: 300_000 }, async () => {
    const queue = new JobQueue(t.db);
    const { id } = queue.enqueue(sampleDiagnosis(), sampleAnomaly());
    writeFileSync(hold, '');

    for (let k = 1; k <= 3; k++) {
      const w = startWorker();
      await until(() => marked().length === k, 120_000, `test command of worker ${k} running`);
      const pgid = marked()[k - 1]!;
      groups.push(pgid);
      // The running test command's process group is recorded in the job row.
      await until(() => queue.get(id)!.testPgid === pgid, 10_000, 'process group recorded');
      expect(queue.get(id)!.testPgidStart).toBe(processStartTime(pgid));
      // Starting this worker swept the test run the previous kill -9 left behind.
      if (k > 1) expect(groupAlive(groups[k - 2]!), `group of worker ${k - 1} swept`).toBe(false);
      w.child.kill('SIGKILL');
      expect((await w.exit).signal).toBe('SIGKILL');
      // The sidecar is gone; its test run is not (until someone sweeps it).
      expect(groupAlive(pgid)).toBe(true);
      expect(queue.get(id)).toMatchObject({ state: 'running', stage: 'validation.run' });
    }

    // A fourth worker sweeps the third orphan, finds the lost-worker budget (3) used up and parks
    // the job, without touching the stage-failure budget.
    const fourth = startWorker();
    const fourthExit = await fourth.exit;
    expect(fourthExit.code, fourthExit.output).toBe(0);
    expect(groupAlive(groups[2]!)).toBe(false);
    expect(queue.get(id)).toMatchObject({ state: 'parked', parkedReason: 'lost-workers', stage: 'validation.run', attempt: 0, lostAttempts: 3, testPgid: undefined });
    expect(queue.get(id)!.error).toContain('3 attempt(s) at validation.run lost');
    expect(queue.summarize(queue.get(id)!)).toMatchObject({ state: 'parked', lostAttempts: 3, parkedReason: 'lost-workers' });

    // A restart resumes the parked job and completes it.
    unlinkSync(hold);
    const fifth = startWorker();
    const done = await fifth.exit;
    expect(done.code, done.output).toBe(0);
    const job = queue.get(id)!;
    expect(job.state).toBe('succeeded');
    expect(job.testPgid).toBeUndefined();
    const validation = queue.stageResults(id).filter((r) => r.stage === 'validation.run');
    expect(validation.map((r) => r.status)).toEqual(['failed', 'failed', 'failed', 'succeeded']);
    expect(validation.slice(0, 3).every((r) => r.error === 'abandoned: worker lease expired')).toBe(true);
    expect(sh(repo.dir, ['rev-list', '--merges', '--count', 'main']).trim()).toBe('1');
    expect(sh(repo.dir, ['show', 'main:lib.mjs'])).toContain("(name ?? '').trim()");
  });
});

describe('process groups', () => {
  it('sweeps a recorded orphan group (leader gone, member alive) and leaves a reused number alone', async () => {
    const t = tempDb();
    try {
      const queue = new JobQueue(t.db);
      const { id } = queue.enqueue(sampleDiagnosis(), sampleAnomaly());
      // A group whose leader (sh) exits at once, leaving a sleeping member behind.
      const child = spawn('sh', ['-c', 'sleep 30 & echo $!'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      const pgid = child.pid!;
      const start = processStartTime(pgid);
      let member = '';
      child.stdout!.on('data', (d: Buffer) => (member += d.toString()));
      await new Promise((r) => child.on('exit', r));
      expect(groupAlive(pgid)).toBe(true);
      queue.recordProcessGroup(id, pgid, start);
      expect(queue.processGroups()).toEqual([{ jobId: id, pgid, leaderStart: start }]);
      expect(sweepOrphanedProcessGroups(queue)).toEqual([{ jobId: id, pgid, result: 'killed' }]);
      await until(() => !groupAlive(pgid), 5_000, 'orphan group killed');
      expect(queue.processGroups()).toEqual([]);
      expect(Number(member.trim())).toBeGreaterThan(0);

      // A live leader with another start time than recorded holds a reused number: left alone.
      const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      try {
        await until(() => processStartTime(other.pid!) !== undefined, 5_000, 'sleep started');
        expect(killProcessGroup(other.pid!, 'not-its-start-time')).toBe('reused');
        expect(groupAlive(other.pid!)).toBe(true);
        expect(killProcessGroup(other.pid!, processStartTime(other.pid!))).toBe('killed');
      } finally {
        other.kill('SIGKILL');
      }
      expect(killProcessGroup(1, undefined)).toBe('gone');
      expect(killProcessGroup(2 ** 22 + 7, undefined)).toBe('gone');
    } finally {
      t.close();
    }
  });
});
