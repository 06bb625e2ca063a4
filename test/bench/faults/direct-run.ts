import { ConfigSchema } from '../../../src/config/schema.js';
import { SequenceDetector } from '../../../src/detect/sequence-detector.js';
import { CoverageDetector, type TrafficView } from '../../../src/detect/coverage-detector.js';
import { parseLcov } from '../../../src/detect/coverage-report.js';
import type { Beat } from '../../../src/model/beat.js';
import { coverageLcov, declaredSequences } from './catalog.js';
import { TrafficGenerator } from './generator.js';
import type { Report } from './scoring.js';
import type { Scenario } from './scenario.js';

/** Per-slice handler call counts over a sliding window: the traffic view the coverage detector needs. */
export class WindowTraffic implements TrafficView {
  private readonly slices: Array<Map<string, { service: string; handler: string; count: number }>> = [];

  constructor(private readonly windowSlices: number) {}

  add(beats: Beat[]): void {
    const m = new Map<string, { service: string; handler: string; count: number }>();
    for (const b of beats) {
      const k = `${b.service}\u0001${b.handler}`;
      const e = m.get(k);
      if (e) e.count++;
      else m.set(k, { service: b.service, handler: b.handler, count: 1 });
    }
    this.slices.push(m);
    if (this.slices.length > this.windowSlices) this.slices.shift();
  }

  handlers(): Array<{ service: string; handler: string; count: number; share: number }> {
    const sum = new Map<string, { service: string; handler: string; count: number }>();
    const perService = new Map<string, number>();
    for (const m of this.slices) {
      for (const [k, e] of m) {
        const s = sum.get(k);
        if (s) s.count += e.count;
        else sum.set(k, { ...e });
        perService.set(e.service, (perService.get(e.service) ?? 0) + e.count);
      }
    }
    return [...sum.values()].map((e) => ({ ...e, share: e.count / perService.get(e.service)! }));
  }
}

/**
 * Runs the scenario through the behavioral and coverage detectors alone (no engine): what the
 * detect tests use to check those detectors against the injected faults.
 */
export function runDirect(scenario: Scenario, slices = scenario.slices): Report[] {
  const config = ConfigSchema.parse({ detect: { sliceMs: scenario.sliceMs } });
  const sequences = declaredSequences();
  const seqDet = new SequenceDetector(config.detect, sequences);
  const covDet = new CoverageDetector(parseLcov(coverageLcov()), sequences, { minCalls: 20 });
  const traffic = new WindowTraffic(6);
  const gen = new TrafficGenerator(scenario);
  const reports: Report[] = [];
  for (let s = 0; s < slices; s++) {
    const t = gen.slice(s);
    for (const b of t.beats) {
      seqDet.observe(b);
      covDet.observe(b);
    }
    traffic.add(t.beats);
    for (const f of seqDet.evaluate(t.endMs)) reports.push({ slice: s, finding: f });
    for (const f of covDet.evaluate(t.endMs, traffic)) reports.push({ slice: s, finding: f });
  }
  return reports;
}
