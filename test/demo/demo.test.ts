import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';

const run = promisify(execFile);
const git = async (dir: string, ...args: string[]): Promise<string> => (await run('git', args, { cwd: dir })).stdout.trim();

/** Index of the first line after `from` that matches. */
function indexAfter(lines: string[], from: number, re: RegExp): number {
  const i = lines.findIndex((l, k) => k > from && re.test(l));
  if (i < 0) throw new Error(`no line after #${from} matches ${re}:\n${lines.join('\n')}`);
  return i;
}

describe('runDemo', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('runs the whole loop once: the exception is detected, fixed, validated, merged, deployed and learned from', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'demo-run-'));
    dirs.push(stateDir);
    const lines: string[] = [];
    const result = await runDemo({ stateDir, once: true, adminPort: 0, out: (l) => lines.push(l) });
    expect(result.completed, lines.join('\n')).toBe(true);
    expect(result.message).toContain('exception: full loop');
    expect(result.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(lines.some((l) => l.includes(`dashboard: ${result.dashboardUrl}`))).toBe(true);

    // The exception loop, in order, for createComponent.
    const tag = '\\[createComponent\\]';
    const fault = indexAfter(lines, -1, /FAULT injected: every other createComponent payload/);
    const detected = indexAfter(lines, fault, new RegExp(`anomaly detected +${tag} error/`));
    const diagnosed = indexAfter(lines, detected, new RegExp(`diagnosis +${tag} root cause code-defect`));
    const fixed = indexAfter(lines, diagnosed, new RegExp(`fix generated +${tag} guard: .*src/handlers/createComponent\\.ts`));
    const validated = indexAfter(lines, fixed, new RegExp(`validation +${tag} candidate \\d passed: tests \\d+ passed, 0 failed \\(vitest\\)`));
    const merged = indexAfter(lines, validated, new RegExp(`merged +${tag} self-healing/\\S+ into main: merge commit ([0-9a-f]{10})`));
    const deployed = indexAfter(lines, merged, new RegExp(`deploy +${tag} canvas-app 1\\.1\\.\\d+\\+[0-9a-f]{7} rolled out`));
    indexAfter(lines, deployed, new RegExp(`learning +${tag} verdict \\w+`));
    expect(lines.at(-1)).toMatch(/loop complete in \d+\.\d s/);

    // The merge commit is real: on main, a merge whose second parent carries the guard.
    const sha = new RegExp(`merge commit ([0-9a-f]{10})`).exec(lines[merged]!)![1]!;
    expect(result.merges.some((m) => m.startsWith(sha))).toBe(true);
    const full = await git(result.repoDir, 'rev-parse', sha);
    expect(await git(result.repoDir, 'merge-base', '--is-ancestor', full, 'main').then(() => true)).toBe(true);
    expect((await git(result.repoDir, 'rev-list', '--parents', '-n', '1', full)).split(' ')).toHaveLength(3);
    expect(await git(result.repoDir, 'show', `${full}:src/handlers/createComponent.ts`)).toContain('payload?.component?.name');
    // The app ran the merged code from its own checkout.
    expect(existsSync(join(stateDir, 'live', 'src', 'handlers', 'createComponent.ts'))).toBe(true);
  }, 240_000);

  it('fails with the steps reached when the loop misses its deadline; a busy dashboard port falls back to a free one', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'demo-deadline-'));
    dirs.push(stateDir);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const lines: string[] = [];
    const result = await runDemo({ stateDir, once: true, adminPort: port, deadlineMs: 1, latencyAtMs: 60_000, exceptionAtMs: 60_000, out: (l) => lines.push(l) }).finally(
      () => new Promise((r) => busy.close(r)),
    );
    expect(lines).toContain(`dashboard port ${port} is busy; using a free port`);
    expect(result.dashboardUrl).not.toContain(`:${port}/`);
    expect(result.completed).toBe(false);
    expect(result.message).toBe('the loop did not complete within 0 s: latency: not injected yet; exception: not injected yet');
    expect(lines.at(-1)).toContain('demo failed: the loop did not complete');
    expect(result.merges).toEqual([]);
  }, 120_000);

  it('a run without --once ends when its signal aborts', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'demo-abort-'));
    dirs.push(stateDir);
    const lines: string[] = [];
    const abort = new AbortController();
    const done = runDemo({ stateDir, once: false, adminPort: 0, latencyAtMs: 60_000, exceptionAtMs: 60_000, signal: abort.signal, out: (l) => lines.push(l) });
    const deadline = Date.now() + 90_000;
    while (!lines.some((l) => l.includes('learning baselines')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    const result = await done;
    expect(result.completed).toBe(false);
    expect(result.message).toMatch(/^interrupted: /);
  }, 120_000);
});
