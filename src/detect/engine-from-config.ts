import { dirname, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { DetectionEngine } from './engine.js';
import { loadSequenceFiles, type SequenceFileOutcome } from './sequence-files.js';
import { loadCoverageReport } from './coverage-report.js';

/**
 * The detection engine as the configuration describes it: declared sequences, the application's
 * coverage report and repository root, paths relative to `cwd`. Shared by the live sidecar and
 * offline analysis so both detect exactly the same way. Sequence files that are skipped are
 * returned (`sequenceFiles`) for the caller to log and count; they never stop the start.
 */
export async function engineFromConfig(
  config: Config,
  cwd: string,
): Promise<{ engine: DetectionEngine; sequences: number; coverage: boolean; sequenceFiles: SequenceFileOutcome[] }> {
  const repoRoot = config.heal.repository.path ? resolve(cwd, config.heal.repository.path) : undefined;
  const load = await loadSequenceFiles(config.detect.sequenceFiles, cwd, repoRoot ? { repoRoot } : {});
  const sequences = load.sequences;
  let coverage;
  if (config.detect.coverageReport) {
    const report = resolve(cwd, config.detect.coverageReport);
    // Without a configured repository, the report is assumed to sit in <repo>/coverage/.
    coverage = loadCoverageReport(report, repoRoot ?? dirname(dirname(report)));
  }
  const engine = new DetectionEngine({ config: config.detect, sequences, ...(coverage ? { coverage } : {}), ...(repoRoot ? { repoRoot } : {}) });
  return { engine, sequences: sequences.length, coverage: coverage !== undefined, sequenceFiles: load.files };
}
