import type { Command } from './commands.js';
import { configFromArgs, parseCommandArgs, UsageError } from './args.js';
import { readBeats } from './ingest-command.js';
import { analyzeBeats } from './offline-analysis.js';
import { analysisJson, formatAnalysisTable } from './analyze-report.js';

const USAGE = 'usage: self-healing analyze <files...> [--json] [--service name] [-c file] [--set path=value ...]';

export const analyzeCommand: Command = {
  summary: 'run the detectors offline over OTLP/JSON files and conductor logs; table or --json',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, service: { type: 'string' } }, true);
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('no input files');
    const config = configFromArgs(values);
    const { beats, summary } = await readBeats(positionals, {
      ...(values.service ? { service: values.service } : {}),
      maxAttributesPerSpan: config.receive.maxAttributesPerSpan,
      progress: !values.json,
    });
    for (const e of summary.errors.slice(0, 20)) io.err(`${e.file}:${e.line}: ${e.message}\n`);
    const result = await analyzeBeats(beats, config);
    if (values.json) {
      io.out(`${JSON.stringify({ input: { ...summary, errors: summary.errors.length }, ...analysisJson(result.anomalies, result.diagnoses) }, null, 2)}\n`);
    } else {
      io.out(`${result.beats} beats from ${new Date(result.fromMs || 0).toISOString()} to ${new Date(result.toMs || 0).toISOString()}\n`);
      io.out(result.anomalies.length === 0 ? 'no anomalies\n' : `${formatAnalysisTable(result.anomalies, result.diagnoses)}\n`);
    }
    return 0;
  },
};
