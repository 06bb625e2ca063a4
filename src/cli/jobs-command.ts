import type { ParseArgsConfig } from 'node:util';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs, UsageError } from './args.js';
import { commandHelp } from './help.js';
import { openDatabase } from '../store/database.js';
import { coreMigrations } from '../store/anomaly-store.js';
import { healMigrations } from '../heal/migrations.js';
import { JobQueue } from '../heal/queue.js';
import { formatJobsReport } from './jobs-report.js';

const OPTIONS = { json: { type: 'boolean' }, state: { type: 'string' }, limit: { type: 'string' } } as const satisfies NonNullable<ParseArgsConfig['options']>;

const STATES = ['queued', 'running', 'succeeded', 'failed', 'parked'] as const;
const USAGE = commandHelp({
  synopsis: 'self-healing jobs [--state <state>] [--limit <n>] [--json] [options]',
  description: 'Lists healing jobs, newest first, with their stage and attempts, from the database at store.path.',
  options: [
    ['--state <state>', `only jobs in this state: ${STATES.join(', ')}`],
    ['--limit <n>', 'at most this many jobs (default 100)'],
    ['--json', 'print JSON instead of a table'],
  ],
  examples: ['self-healing jobs --state parked', 'self-healing jobs --json --limit 10 -c sidecar.yaml'],
});

export const jobsCommand: Command = {
  summary: 'list healing jobs and their state',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const state = values.state as (typeof STATES)[number] | undefined;
    if (state !== undefined && !STATES.includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError('--limit must be a positive integer');
    const config = configFromArgs(values);
    const db = openDatabase(config.store.path, [...coreMigrations, ...healMigrations]);
    try {
      const queue = new JobQueue(db);
      const jobs = queue.list({ ...(state ? { state } : {}), limit }).map((j) => queue.summarize(j));
      io.out(values.json ? `${JSON.stringify(jobs, null, 2)}\n` : formatJobsReport(jobs));
    } finally {
      db.close();
    }
    return 0;
  },
};
