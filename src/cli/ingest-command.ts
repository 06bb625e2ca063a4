import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs, UsageError } from './args.js';
import { commandHelp } from './help.js';
import { ingestFiles, terminalProgress, type IngestSummary } from '../receive/ingest.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import type { Config } from '../config/index.js';
import type { LogEvent } from '../model/log-event.js';
import type { Io } from '../main.js';
import type { Sequence } from '../model/sequence.js';
import { loadSequenceFiles } from '../detect/sequence-files.js';

/** Options of the commands that read input files (ingest, analyze). */
export const INPUT_OPTIONS = { json: { type: 'boolean' }, service: { type: 'string' } } as const;

/** Help lines for INPUT_OPTIONS. */
export const INPUT_OPTION_HELP: Array<[string, string]> = [
  ['--json', 'print JSON instead of a table (no progress on stderr)'],
  ['--service <name>', 'service name for conductor log lines, which carry none'],
];

const USAGE = commandHelp({
  synopsis: 'self-healing ingest <files...> [--json] [--service <name>] [options]',
  description:
    'Reads OTLP/JSON trace files and MusicalConductor logs into beats and prints per-handler counts,\n' +
    'errors and mean durations; every line that cannot be read is reported with its file and line.',
  options: INPUT_OPTION_HELP,
  examples: ['self-healing ingest traces.json', 'self-healing ingest --service renderx console.log --json'],
});

/** Reads OTLP/JSON and MusicalConductor log files into beats; every error names file and line. */
export async function readBeats(
  files: string[],
  opts: { service?: string; maxAttributesPerSpan: number; progress: boolean; declared?: readonly Sequence[] },
): Promise<{ beats: Beat[]; logs: LogEvent[]; summary: IngestSummary }> {
  const beats: Beat[] = [];
  const logs: LogEvent[] = [];
  const summary = await ingestFiles(files, {
    onBeats: (b) => {
      for (const x of b) beats.push(x);
    },
    onLogs: (e) => {
      for (const x of e) logs.push(x);
    },
    maxAttributesPerSpan: opts.maxAttributesPerSpan,
    ...(opts.declared ? { declared: opts.declared } : {}),
    ...(opts.service ? { service: opts.service } : {}),
    ...(opts.progress ? { progress: terminalProgress(process.stderr, 'ingest') } : {}),
  });
  return { beats, logs, summary };
}

export interface InputRun {
  json: boolean;
  config: Config;
  beats: Beat[];
  logs: LogEvent[];
  summary: IngestSummary;
}

/** Shared front half of `ingest` and `analyze`: flags, configuration, and the files read into beats. */
export async function readInputCommand(argv: string[], usage: string, io: Io): Promise<InputRun | undefined> {
  const { values, positionals } = parseCommandArgs(argv, INPUT_OPTIONS, true);
  if (values.help) {
    io.out(`${usage}\n`);
    return undefined;
  }
  if (positionals.length === 0) throw new UsageError('no input files');
  const config = configFromArgs(values);
  // Conductor logs often name only a beat's event: the declared sequences give its handler.
  const declared = (await loadSequenceFiles(config.detect.sequenceFiles, process.cwd())).sequences;
  const { beats, logs, summary } = await readBeats(positionals, {
    declared,
    ...(values.service ? { service: values.service } : {}),
    maxAttributesPerSpan: config.receive.maxAttributesPerSpan,
    progress: !values.json,
  });
  for (const e of summary.errors.slice(0, 20)) io.err(`${e.file}:${e.line}: ${e.message}\n`);
  return { json: values.json === true, config, beats, logs, summary };
}

export const ingestCommand: Command = {
  summary: 'turn OTLP/JSON files and conductor logs into beats; prints per-handler counts',
  usage: USAGE,
  options: INPUT_OPTIONS,
  async run(argv, io) {
    const input = await readInputCommand(argv, USAGE, io);
    if (!input) return 0;
    const { beats, summary } = input;
    const byHandler = new Map<string, { service: string; sequence: string; handler: string; beats: number; errors: number; totalMs: number }>();
    for (const b of beats) {
      const key = `${b.service}\u0000${b.handler}`;
      let row = byHandler.get(key);
      if (!row) byHandler.set(key, (row = { service: b.service, sequence: b.sequence, handler: b.handler, beats: 0, errors: 0, totalMs: 0 }));
      row.beats++;
      row.totalMs += b.durationMs;
      if (b.status === STATUS_ERROR) row.errors++;
    }
    const rows = [...byHandler.values()].sort((a, b) => b.beats - a.beats);
    if (input.json) {
      io.out(`${JSON.stringify({ summary, handlers: rows.map((r) => ({ ...r, meanMs: r.totalMs / r.beats })) }, null, 2)}\n`);
    } else {
      io.out(
        `${summary.files} file(s), ${summary.lines} line(s) read: ${summary.beats} beats, ${summary.logs} log records, ${summary.ignored} line(s) ignored, ${summary.rejected} rejected, ${summary.errors.length} error(s)\n`,
      );
      const w = Math.max(7, ...rows.map((r) => r.handler.length));
      io.out(`${'service'.padEnd(16)} ${'handler'.padEnd(w)} ${'beats'.padStart(7)} ${'errors'.padStart(6)} ${'mean ms'.padStart(9)}\n`);
      for (const r of rows) {
        io.out(`${r.service.padEnd(16)} ${r.handler.padEnd(w)} ${String(r.beats).padStart(7)} ${String(r.errors).padStart(6)} ${(r.totalMs / r.beats).toFixed(2).padStart(9)}\n`);
      }
    }
    return exitCodeOf(summary);
  },
};

/** Non-zero when a file gave nothing (its error names it and its first lines), or nothing was read at all. */
export function exitCodeOf(summary: IngestSummary): number {
  return summary.unreadFiles.length > 0 || (summary.errors.length > 0 && summary.beats === 0 && summary.logs === 0) ? 1 : 0;
}
