import type { ParseArgsConfig } from 'node:util';
import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs, UsageError } from './args.js';
import { commandHelp } from './help.js';
import { openDatabase } from '../store/database.js';
import { AnomalyStore, coreMigrations } from '../store/anomaly-store.js';
import { healMigrations } from '../heal/migrations.js';
import { buildHealingPipeline } from '../sidecar.js';

const OPTIONS = {} as const satisfies NonNullable<ParseArgsConfig['options']>;

const USAGE = commandHelp({
  synopsis: 'self-healing heal <diagnosis-id> [options]',
  description:
    'Runs the healing stages (fix.generate, validation.run, deployment.deploy, learning.track) for one\n' +
    'stored diagnosis in the foreground, as the same durable job the sidecar would run. Needs\n' +
    'heal.repository.path; store.path must be the sidecar\'s database.',
  options: [],
  examples: ['self-healing heal diag-1f2e3d -c sidecar.yaml'],
});

/**
 * Runs the healing stages for one stored diagnosis in the foreground, for debugging or for a
 * person who wants to drive healing by hand. The job is the same durable job the sidecar would
 * run (enqueue is idempotent per diagnosis), so a job started here can be resumed by the sidecar.
 */
export const healCommand: Command = {
  summary: 'run the healing stages for one diagnosis',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, OPTIONS, true);
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('expected one diagnosis id');
    const config = configFromArgs(values);
    const db = openDatabase(config.store.path, [...coreMigrations, ...healMigrations]);
    try {
      const store = new AnomalyStore(db);
      const diagnosis = store.getDiagnosis(positionals[0]!);
      if (!diagnosis) {
        io.err(`self-healing heal: no diagnosis ${positionals[0]} in ${config.store.path}\n`);
        return 1;
      }
      const anomaly = store.getAnomaly(diagnosis.anomalyId);
      if (!anomaly) {
        io.err(`self-healing heal: anomaly ${diagnosis.anomalyId} of the diagnosis is missing\n`);
        return 1;
      }
      const pipeline = buildHealingPipeline(config, db, {
        cwd: process.cwd(),
        env: process.env,
        onEvent: (kind, payload) => io.out(`${kind} ${JSON.stringify(payload)}\n`),
      });
      if (!pipeline) {
        io.err('self-healing heal: healing needs heal.repository.path (and heal.enabled)\n');
        return 1;
      }
      const jobId = pipeline.enqueue(diagnosis, anomaly);
      io.out(`job ${jobId} for diagnosis ${diagnosis.id}\n`);
      // Stages that back off are retried here too, until the job ends one way or the other.
      for (;;) {
        const job = await pipeline.runJobNow(jobId);
        if (!job || job.state === 'succeeded' || job.state === 'failed' || job.state === 'parked') {
          const final = pipeline.queue.get(jobId);
          io.out(`job ${jobId}: ${final?.state ?? 'unknown'}${final?.error ? ` (${final.error})` : ''}\n`);
          return final?.state === 'succeeded' ? 0 : 1;
        }
        const wait = Math.max(0, (job.nextRunMs ?? Date.now()) - Date.now());
        await new Promise((r) => setTimeout(r, Math.min(wait, 5_000)));
      }
    } finally {
      db.close();
    }
  },
};
