import type { Command } from './commands.js';
import { readInputCommand } from './ingest-command.js';
import { analyzeBeats } from './offline-analysis.js';
import { analysisJson, formatAnalysisTable } from './analyze-report.js';

const USAGE = 'usage: self-healing analyze <files...> [--json] [--service name] [-c file] [--set path=value ...]';

export const analyzeCommand: Command = {
  summary: 'run the detectors offline over OTLP/JSON files and conductor logs; table or --json',
  usage: USAGE,
  async run(argv, io) {
    const input = await readInputCommand(argv, USAGE, io);
    if (!input) return 0;
    const { beats, logs, summary, config } = input;
    const result = await analyzeBeats(beats, config, process.cwd(), logs);
    if (input.json) {
      io.out(`${JSON.stringify({ input: { ...summary, errors: summary.errors.length }, ...analysisJson(result.anomalies, result.diagnoses) }, null, 2)}\n`);
    } else {
      io.out(`${result.beats} beats${result.logs > 0 ? `, ${result.logs} log records` : ''} from ${new Date(result.fromMs || 0).toISOString()} to ${new Date(result.toMs || 0).toISOString()}\n`);
      io.out(result.anomalies.length === 0 ? 'no anomalies\n' : `${formatAnalysisTable(result.anomalies, result.diagnoses)}\n`);
    }
    return 0;
  },
};
