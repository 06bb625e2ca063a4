import type { Command } from './commands.js';
import { INPUT_OPTIONS, INPUT_OPTION_HELP, exitCodeOf, readInputCommand } from './ingest-command.js';
import { commandHelp } from './help.js';
import { skippedLine } from '../detect/sequence-files.js';
import { analyzeBeats } from './offline-analysis.js';
import { analysisJson, anyAtLeast, formatAnalysisTable, humanTime } from './analyze-report.js';
import { UsageError } from './args.js';
import { SeveritySchema, type Severity } from '../model/anomaly.js';

const FINDINGS_EXIT = 3;

const USAGE = commandHelp({
  synopsis: 'self-healing analyze <files...> [--json] [--service <name>] [options]',
  description:
    'Runs the detectors and diagnosis offline over OTLP/JSON trace files and MusicalConductor logs, as the\n' +
    'live sidecar would over the same spans, and prints the anomalies worst first (or JSON).',
  options: [
    ...INPUT_OPTION_HELP,
    ['--fail-on <severity>', `exit ${FINDINGS_EXIT} when an anomaly at least this severe is found (low, medium, high, critical): for CI`],
  ],
  examples: [
    'self-healing analyze traces.json',
    'self-healing analyze --json traces/*.json > report.json',
    'self-healing analyze --fail-on high -c sidecar.yaml traces.json.gz',
  ],
});

const OPTIONS = { ...INPUT_OPTIONS, 'fail-on': { type: 'string' } } as const;

/** Exit codes: 0 fine, 1 unreadable input, 2 usage, 3 findings at or above --fail-on, 78 bad config. */

export const analyzeCommand: Command = {
  summary: 'run the detectors offline over OTLP/JSON files and conductor logs; table or --json',
  usage: USAGE,
  options: OPTIONS,
  async run(argv, io) {
    const { failOn, rest } = takeFailOn(argv);
    const input = await readInputCommand(rest, USAGE, io);
    if (!input) return 0;
    const { beats, logs, summary, config } = input;
    const result = await analyzeBeats(beats, config, process.cwd(), logs);
    for (const s of result.skippedSequenceFiles) io.err(`${skippedLine(process.cwd(), s)}\n`);
    if (input.json) {
      const inputSummary = { ...summary, errors: summary.errors.length, sequenceFilesSkipped: result.skippedSequenceFiles.length };
      io.out(`${JSON.stringify({ input: inputSummary, ...analysisJson(result.anomalies, result.diagnoses), incidents: result.incidents }, null, 2)}\n`);
    } else {
      io.out(`${result.beats} beats${result.logs > 0 ? `, ${result.logs} log records` : ''} from ${humanTime(result.fromMs || 0)} to ${humanTime(result.toMs || 0)} UTC\n`);
      if (result.skippedSequenceFiles.length > 0) io.out(`${result.skippedSequenceFiles.length} sequence file(s) skipped\n`);
      io.out(result.anomalies.length === 0 ? 'no anomalies\n' : `${formatAnalysisTable(result.anomalies, result.diagnoses)}\n`);
      for (const inc of result.incidents) {
        const top = inc.rootCauses[0];
        io.out(`incident ${inc.id} (${inc.severity}): ${inc.anomalyIds.length} anomalies${top ? `, most likely ${top.service}: ${top.reason}` : ''}\n`);
      }
    }
    const code = exitCodeOf(summary);
    if (code === 0 && failOn !== undefined && anyAtLeast(result.anomalies, failOn)) {
      io.err(`self-healing analyze: anomalies at or above ${failOn} found (--fail-on ${failOn})\n`);
      return FINDINGS_EXIT;
    }
    return code;
  },
};

/** Takes `--fail-on <severity>` (or `--fail-on=<severity>`) out of argv; the rest is the input command's. */
function takeFailOn(argv: string[]): { failOn: Severity | undefined; rest: string[] } {
  const rest: string[] = [];
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--fail-on') {
      if (i + 1 >= argv.length) throw new UsageError("option '--fail-on <value>' argument missing");
      raw = argv[++i];
    } else if (a.startsWith('--fail-on=')) raw = a.slice('--fail-on='.length);
    else rest.push(a);
  }
  if (raw === undefined) return { failOn: undefined, rest };
  const parsed = SeveritySchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--fail-on must be one of ${SeveritySchema.options.join(', ')}, got "${raw}"`);
  return { failOn: parsed.data, rest };
}
