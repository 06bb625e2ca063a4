import { dirname, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { DetectionEngine } from './engine.js';
import { loadSequenceFiles } from './sequence-files.js';
import { loadCoverageReport } from './coverage-report.js';

/**
 * The detection engine as the configuration describes it: declared sequences, the application's
 * coverage report and repository root, paths relative to `cwd`. Shared by the live sidecar and
 * offline analysis so both detect exactly the same way.
 */
export async function engineFromConfig(config: Config, cwd: string): Promise<{ engine: DetectionEngine; sequences: number; coverage: boolean }> {
  const sequences = await loadSequenceFiles(config.detect.sequenceFiles, cwd);
  const repoRoot = config.heal.repository.path ? resolve(cwd, config.heal.repository.path) : undefined;
  let coverage;
  if (config.detect.coverageReport) {
    const report = resolve(cwd, config.detect.coverageReport);
    // Without a configured repository, the report is assumed to sit in <repo>/coverage/.
    coverage = loadCoverageReport(report, repoRoot ?? dirname(dirname(report)));
  }
  const engine = new DetectionEngine({ config: config.detect, sequences, ...(coverage ? { coverage } : {}), ...(repoRoot ? { repoRoot } : {}) });
  return { engine, sequences: sequences.length, coverage: coverage !== undefined };
}
