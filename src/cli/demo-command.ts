import type { ParseArgsConfig } from 'node:util';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from './commands.js';
import { parseCommandArgs, UsageError } from './args.js';
import { commandHelp } from './help.js';
import { runDemo } from '../demo/demo.js';

const OPTIONS = { once: { type: 'boolean' }, 'state-dir': { type: 'string' }, port: { type: 'string' }, deadline: { type: 'string' } } as const satisfies NonNullable<ParseArgsConfig['options']>;

export const DEMO_USAGE = commandHelp({
  synopsis: 'self-healing demo [--once] [--state-dir <dir>] [--port <n>] [--deadline <s>]',
  description:
    'Runs the whole loop on this machine, no network: a demo app sends traces to the sidecar, faults are\n' +
    'injected (a latency regression, then an exception), and the sidecar detects, diagnoses, fixes,\n' +
    'validates (real tests), merges on a local git repository, deploys and learns. The terminal\n' +
    'narrates each step; the dashboard shows it live.',
  options: [
    ['--once', 'exit after one full loop (0) or when it does not complete in time (1)'],
    ['--state-dir <dir>', 'where the demo repository and database go (default: a new temp dir)'],
    ['--port <n>', 'dashboard port (default 8787; a busy port falls back to a free one)'],
    ['--deadline <s>', 'with --once, fail when the loop takes longer (default 170)'],
  ],
  examples: ['npm run demo', 'self-healing demo --once --state-dir /tmp/demo'],
});

function positiveNumber(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number, got "${text}"`);
  return n;
}

export const demoCommand: Command = {
  summary: 'run the whole detect -> heal -> learn loop locally on a demo app (under 2 minutes)',
  usage: DEMO_USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
    if (values.help) {
      io.out(`${DEMO_USAGE}\n`);
      return 0;
    }
    const stateDir = values['state-dir'] ? resolve(values['state-dir']) : await mkdtemp(join(tmpdir(), 'self-healing-demo-'));
    const adminPort = positiveNumber(values.port, 'port', 8787);
    const deadlineMs = positiveNumber(values.deadline, 'deadline', 170) * 1000;
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await runDemo({
        stateDir,
        once: values.once === true,
        adminPort,
        deadlineMs,
        out: (line) => io.out(`${line}\n`),
        signal: abort.signal,
      });
      io.out(`demo repository: ${result.repoDir} (git log --oneline --graph main)\n`);
      if (!result.completed && values.once === true) {
        io.err(`self-healing demo: ${result.message}\n`);
        return 1;
      }
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
