import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs, UsageError } from './args.js';
import { openDatabase } from '../store/database.js';
import { coreMigrations } from '../store/anomaly-store.js';
import { healMigrations } from '../heal/migrations.js';
import { JobQueue } from '../heal/queue.js';
import { formatJobsReport } from './jobs-report.js';

const USAGE = 'usage: self-healing jobs [--state queued|running|succeeded|failed|parked] [--json] [-c file] [--set path=value ...]';
const STATES = ['queued', 'running', 'succeeded', 'failed', 'parked'] as const;

export const jobsCommand: Command = {
  summary: 'list healing jobs and their state',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' }, state: { type: 'string' }, limit: { type: 'string' } }, false);
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
