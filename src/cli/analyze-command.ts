import type { Command } from './commands.js';
import { INPUT_OPTIONS, INPUT_OPTION_HELP, exitCodeOf, readInputCommand } from './ingest-command.js';
import { commandHelp } from './help.js';
import { skippedLine } from '../detect/sequence-files.js';
import { analyzeBeats } from './offline-analysis.js';
import { analysisJson, formatAnalysisTable } from './analyze-report.js';

const USAGE = commandHelp({
  synopsis: 'self-healing analyze <files...> [--json] [--service <name>] [options]',
  description:
    'Runs the detectors and diagnosis offline over OTLP/JSON trace files and MusicalConductor logs, as the\n' +
    'live sidecar would over the same spans, and prints the anomalies worst first (or JSON).',
  options: INPUT_OPTION_HELP,
  examples: ['self-healing analyze traces.json', 'self-healing analyze --json traces/*.json > report.json'],
});

export const analyzeCommand: Command = {
  summary: 'run the detectors offline over OTLP/JSON files and conductor logs; table or --json',
  usage: USAGE,
  options: INPUT_OPTIONS,
  async run(argv, io) {
    const input = await readInputCommand(argv, USAGE, io);
    if (!input) return 0;
    const { beats, summary, config } = input;
    const result = await analyzeBeats(beats, config);
    for (const s of result.skippedSequenceFiles) io.err(`${skippedLine(process.cwd(), s)}\n`);
    if (input.json) {
      const inputSummary = { ...summary, errors: summary.errors.length, sequenceFilesSkipped: result.skippedSequenceFiles.length };
      io.out(`${JSON.stringify({ input: inputSummary, ...analysisJson(result.anomalies, result.diagnoses) }, null, 2)}\n`);
    } else {
      io.out(`${result.beats} beats from ${new Date(result.fromMs || 0).toISOString()} to ${new Date(result.toMs || 0).toISOString()}\n`);
      if (result.skippedSequenceFiles.length > 0) io.out(`${result.skippedSequenceFiles.length} sequence file(s) skipped\n`);
      io.out(result.anomalies.length === 0 ? 'no anomalies\n' : `${formatAnalysisTable(result.anomalies, result.diagnoses)}\n`);
    }
    return exitCodeOf(summary);
  },
};
