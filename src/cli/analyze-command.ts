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
    const { beats, summary, config } = input;
    const result = await analyzeBeats(beats, config);
    if (input.json) {
      io.out(`${JSON.stringify({ input: { ...summary, errors: summary.errors.length }, ...analysisJson(result.anomalies, result.diagnoses), incidents: result.incidents }, null, 2)}\n`);
    } else {
      io.out(`${result.beats} beats from ${new Date(result.fromMs || 0).toISOString()} to ${new Date(result.toMs || 0).toISOString()}\n`);
      io.out(result.anomalies.length === 0 ? 'no anomalies\n' : `${formatAnalysisTable(result.anomalies, result.diagnoses)}\n`);
      for (const inc of result.incidents) {
        const top = inc.rootCauses[0];
        io.out(`incident ${inc.id} (${inc.severity}): ${inc.anomalyIds.length} anomalies${top ? `, most likely ${top.service}: ${top.reason}` : ''}\n`);
      }
    }
    return 0;
  },
};
