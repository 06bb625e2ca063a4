import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { DEMO_USAGE, demoCommand } from '../../src/cli/demo-command.js';

function capture(): { io: { out: (t: string) => void; err: (t: string) => void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

describe('demo command', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('prints its usage with --help', async () => {
    const c = capture();
    expect(await demoCommand.run(['--help'], c.io)).toBe(0);
    expect(c.out.join('')).toBe(`${DEMO_USAGE}\n`);
    expect(demoCommand.usage).toBe(DEMO_USAGE);
  });

  it('rejects bad options as usage errors', async () => {
    const c = capture();
    await expect(demoCommand.run(['--port', 'x'], c.io)).rejects.toThrow(new UsageError('--port must be a non-negative number, got "x"'));
    await expect(demoCommand.run(['--deadline', '-3'], c.io)).rejects.toThrow(UsageError);
    await expect(demoCommand.run(['--nope'], c.io)).rejects.toThrow(UsageError);
  });

  it('with --once, exits 1 and says what was not reached when the deadline passes', async () => {
    const c = capture();
    const listeners = process.listenerCount('SIGINT');
    const code = await demoCommand.run(['--once', '--deadline', '0', '--port', '0'], c.io);
    const out = c.out.join('');
    const repo = /demo repository: (\S+)/.exec(out)?.[1];
    if (repo) dirs.push(dirname(repo));
    expect(code).toBe(1);
    expect(repo).toMatch(/self-healing-demo-[^/]+\/app$/);
    expect(out).toContain('dashboard: http://127.0.0.1:');
    expect(c.err.join('')).toMatch(/^self-healing demo: the loop did not complete within 0 s: /);
    expect(process.listenerCount('SIGINT')).toBe(listeners);
  }, 120_000);
});
