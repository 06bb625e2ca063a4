import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `self-healing demo --once` as a user runs it: a child process (the CLI through tsx), no
 * network beyond loopback. Asserts the exit code, the narrated steps in order and that the merge
 * commit it names exists on main of the demo repository.
 */

const run = promisify(execFile);
const git = async (dir: string, ...args: string[]): Promise<string> => (await run('git', args, { cwd: dir })).stdout.trim();

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('self-healing demo --once', () => {
  let stateDir: string;
  afterAll(async () => {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('completes the loop, narrating each step in order, and leaves the merge on main', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'demo-e2e-'));
    const { code, stdout, stderr } = await runCli(['demo', '--once', '--port', '0', '--state-dir', stateDir]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const lines = stdout.split('\n');

    const steps = [
      /dashboard: http:\/\/127\.0\.0\.1:\d+\//,
      /FAULT injected: every other createComponent payload/,
      /anomaly detected +\[createComponent\] error\//,
      /diagnosis +\[createComponent\] root cause /,
      /fix generated +\[createComponent\] guard: /,
      /validation +\[createComponent\] candidate \d passed: tests \d+ passed, 0 failed \(vitest\)/,
      /merged +\[createComponent\] self-healing\/\S+ into main: merge commit [0-9a-f]{10}/,
      /deploy +\[createComponent\] canvas-app \S+ rolled out/,
      /learning +\[createComponent\] verdict \w+/,
      /loop complete in \d+\.\d s: .*exception: full loop/,
    ];
    let at = -1;
    for (const step of steps) {
      const i = lines.findIndex((l, k) => k > at && step.test(l));
      expect(i, `no ${step} after line ${at}:\n${stdout}`).toBeGreaterThan(at);
      at = i;
    }

    const merge = lines.find((l) => /merged +\[createComponent\]/.test(l))!;
    const sha = /merge commit ([0-9a-f]{10})/.exec(merge)![1]!;
    const repo = join(stateDir, 'app');
    expect(stdout).toContain(`demo repository: ${repo}`);
    const full = await git(repo, 'rev-parse', '--verify', `${sha}^{commit}`);
    await expect(git(repo, 'merge-base', '--is-ancestor', full, 'main')).resolves.toBe('');
    expect(await git(repo, 'log', '-1', '--format=%s', full)).toMatch(/^Merge self-healing\//);
  }, 240_000);
});
