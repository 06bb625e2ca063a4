/**
 * Fault-scenario benchmark: simulated sequence traffic with injected faults, fed in data time
 * through the DetectionEngine (and diagnose()), scored for precision, recall, time to detect and
 * root-cause accuracy.
 *
 *   npx tsx test/bench/fault-bench.ts [--seeds 42,7,1234] [--intensity strong|subtle] [--verbose]
 */
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { parseLcov } from '../../src/detect/coverage-report.js';
import { diagnose } from '../../src/diagnose/diagnose.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import { coverageLcov, declaredSequences } from './faults/catalog.js';
import { TrafficGenerator } from './faults/generator.js';
import { defaultScenario, type Fault, type Intensity, type Scenario } from './faults/scenario.js';
import { matches, median, score, type Report, type ScoreResult } from './faults/scoring.js';

interface RunResult {
  seed: number;
  result: ScoreResult;
  beats: number;
  evalMs: number;
  /** Per fault: the cause diagnose() ranked first for the detecting anomaly. */
  causes: Array<{ fault: Fault; cause: string | undefined; correct: boolean }>;
}

function runScenario(sc: Scenario): RunResult {
  const config = ConfigSchema.parse({ detect: { sliceMs: sc.sliceMs } });
  const sequences = declaredSequences();
  const engine = new DetectionEngine({ config: config.detect, sequences, coverage: parseLcov(coverageLcov()) });
  const gen = new TrafficGenerator(sc);
  const reports: Report[] = [];
  const diagnosed = new Map<string, string | undefined>();
  let beats = 0;
  let evalMs = 0;
  for (let s = 0; s < sc.slices; s++) {
    const t = gen.slice(s);
    beats += t.beats.length;
    const t0 = performance.now();
    engine.observe(t.beats);
    const changes = engine.evaluate(t.endMs);
    evalMs += performance.now() - t0;
    for (const c of changes) {
      if (c.kind !== 'opened') continue;
      reports.push({ slice: s, finding: c.anomaly });
      // Diagnose the first anomaly that detects each fault, with the evidence held right then.
      for (const f of sc.faults) {
        if (diagnosed.has(f.id) || s < f.startSlice || s >= f.endSlice + sc.graceSlices) continue;
        if (!f.expect.some((m) => matches(m, c.anomaly))) continue;
        const open: Anomaly[] = engine.openAnomalies();
        diagnosed.set(f.id, diagnose(c.anomaly, engine, { openAnomalies: open, nowMs: t.endMs }).rootCause.cause);
      }
    }
  }
  const causes = sc.faults
    .filter((f) => f.rootCause !== undefined && diagnosed.has(f.id))
    .map((f) => {
      const cause = diagnosed.get(f.id);
      return { fault: f, cause, correct: cause !== undefined && f.rootCause!.includes(cause) };
    });
  return { seed: sc.seed, result: score(sc, reports), beats, evalMs, causes };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function main(): void {
  const args = process.argv.slice(2);
  const seedArg = args[args.indexOf('--seeds') + 1];
  const seeds = args.includes('--seeds') && seedArg !== undefined ? seedArg.split(',').map(Number) : [42, 7, 1234];
  const verbose = args.includes('--verbose');
  const intensity: Intensity = args[args.indexOf('--intensity') + 1] === 'subtle' ? 'subtle' : 'strong';
  const runs = seeds.map((seed) => runScenario(defaultScenario(seed, intensity)));
  const sc = defaultScenario(seeds[0], intensity);
  console.log(`fault scenarios (${intensity}): ${sc.faults.length} faults x ${seeds.length} seeds, ${sc.slices} slices of ${sc.sliceMs / 1000} s, warm-up ${sc.warmupSlices} slices`);
  console.log('seed  precision  recall  median-ttd  tp (related)  fp  root-cause-top1  beats   engine-ms');
  for (const r of runs) {
    const rc = r.causes.filter((c) => c.correct).length;
    console.log(
      `${String(r.seed).padEnd(5)} ${pct(r.result.precision).padStart(9)} ${pct(r.result.recall).padStart(7)} ${String(r.result.medianTtdSlices).padStart(11)} ${String(r.result.truePositives).padStart(3)} ${`(${r.result.relatedPositives})`.padStart(9)} ${String(r.result.falsePositives.length).padStart(3)}  ${`${rc}/${r.causes.length}`.padStart(15)} ${String(r.beats).padStart(7)} ${r.evalMs.toFixed(0).padStart(10)}`,
    );
  }
  const tp = runs.reduce((s, r) => s + r.result.truePositives, 0);
  const fp = runs.reduce((s, r) => s + r.result.falsePositives.length, 0);
  const faults = runs.flatMap((r) => r.result.faults);
  const ttds = faults.filter((f) => f.detected).map((f) => f.ttdSlices!);
  const causes = runs.flatMap((r) => r.causes);
  console.log(
    `all   precision ${pct(tp + fp === 0 ? 1 : tp / (tp + fp))}  recall ${pct(faults.filter((f) => f.detected).length / faults.length)}  median time to detect ${median(ttds)} slices  root-cause top-1 ${causes.filter((c) => c.correct).length}/${causes.length}`,
  );
  console.log('\nper fault (detected seeds, median ttd, diagnosed causes):');
  for (const f of sc.faults) {
    const mine = faults.filter((x) => x.id === f.id);
    const det = mine.filter((x) => x.detected);
    const tally = new Map<string, number>();
    for (const c of causes.filter((x) => x.fault.id === f.id)) {
      const name = `${c.cause ?? '-'}${c.correct ? '' : ' (wrong)'}`;
      tally.set(name, (tally.get(name) ?? 0) + 1);
    }
    const cs = [...tally].map(([name, n]) => `${name} x${n}`).join(', ');
    console.log(`  ${f.id.padEnd(28)} ${f.kind.padEnd(21)} ${det.length}/${mine.length}  ttd ${String(median(det.map((x) => x.ttdSlices!))).padEnd(3)}  ${cs}`);
  }
  const fps = runs.flatMap((r) => r.result.falsePositives.map((e) => `seed ${r.seed} slice ${e.firstSlice}-${e.lastSlice}: ${e.key}`));
  if (fps.length > 0) console.log(`\nfalse positives:\n  ${fps.join('\n  ')}`);
  if (verbose) for (const r of runs) console.log(JSON.stringify(r.result.faults));
}

main();
