/**
 * Real sequence files: `npx tsx test/bench/sequence-files-bench.ts [dir]`.
 * Loads every JSON file of the RenderX repository's `json-sequences/` folders from
 * <repo>/../shared/renderx/json-sequences (or RENDERX_DIR/json-sequences, or the directory given),
 * the way `serve` and `analyze` do (detect.sequenceFiles = ["**\/*.json"]), and prints how many
 * files loaded, how many were skipped and why, and the declared SLOs found. Quality bar: every
 * file loaded or skipped with a reason, none aborting (exit 1 otherwise).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadSequenceFiles } from '../../src/detect/sequence-files.js';
import { declaredSlos } from '../../src/detect/declared-slo.js';
import { repoRoot } from './nab/corpus.js';

async function main(): Promise<number> {
  const base = process.env.RENDERX_DIR ? resolve(process.env.RENDERX_DIR) : resolve(repoRoot(), '..', 'shared', 'renderx');
  const dir = process.argv[2] !== undefined ? resolve(process.argv[2]) : resolve(base, 'json-sequences');
  if (!existsSync(dir)) {
    console.error(`RenderX sequence files not found at ${dir}: this benchmark reads <repo>/../shared/renderx/json-sequences, RENDERX_DIR, or the directory given.`);
    return 1;
  }
  const load = await loadSequenceFiles(['**/*.json'], dir);
  const byStatus = new Map<string, number>();
  const byReason = new Map<string, number>();
  for (const f of load.files) {
    byStatus.set(f.status, (byStatus.get(f.status) ?? 0) + 1);
    // Field paths differ from file to file; the reason's kind is what it says after them.
    if (f.reason !== undefined) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
  }
  const files = load.files.length;
  const withoutReason = load.files.filter((f) => f.status === 'skipped' && !f.reason).length;
  const loaded = (byStatus.get('loaded') ?? 0) + (byStatus.get('manifest') ?? 0);
  const dups = load.files.reduce((a, f) => a + f.duplicates, 0);
  const slos = declaredSlos(load.sequences);
  console.log(`sequence files: ${dir}`);
  console.log(`files: ${files}; loaded: ${loaded} (${byStatus.get('loaded') ?? 0} with sequences, ${byStatus.get('manifest') ?? 0} manifests); skipped with a reason: ${load.skipped.length}; skipped without a reason: ${withoutReason}`);
  console.log(`sequences: ${load.sequences.length} distinct (${dups} duplicates of an earlier file's sequence name)`);
  console.log(`declared SLOs: ${slos.handlers.size} handlers, ${slos.sequences.size} sequences`);
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) console.log(`  skipped ${String(n).padStart(3)}: ${reason}`);
  const accounted = loaded + load.skipped.length;
  console.log(`loaded or skipped with a reason: ${accounted}/${files} (${((100 * accounted) / Math.max(1, files)).toFixed(1)} %)`);
  return accounted === files && withoutReason === 0 ? 0 : 1;
}

process.exitCode = await main();
