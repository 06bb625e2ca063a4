import { z } from 'zod';
import type { StoredEvent } from '../emit/event-bus.js';

/**
 * Turns event-bus events into the demo's terminal narration: one or two lines per step of the
 * loop (anomaly detected -> diagnosis -> fix generated -> validation -> merged -> deploy ->
 * learning), each tagged with the anomaly it belongs to. Pure: the caller prints.
 */

/** Step names, in loop order; every narrated line starts with one of them. */
export const STEPS = {
  anomaly: 'anomaly detected',
  diagnosis: 'diagnosis',
  fix: 'fix generated',
  validation: 'validation',
  merged: 'merged',
  deploy: 'deploy',
  learning: 'learning',
  resolved: 'anomaly resolved',
  failed: 'healing stopped',
} as const;
export type Step = (typeof STEPS)[keyof typeof STEPS];

// Lenient views of the payloads: the narration needs a few fields and must never throw.
const AnomalyView = z.object({
  id: z.string(),
  type: z.string(),
  subtype: z.string(),
  severity: z.string(),
  service: z.string(),
  handler: z.string().optional(),
  sequence: z.string().optional(),
  summary: z.string(),
});
const DiagnosisView = z.object({
  anomalyId: z.string(),
  rootCause: z.object({ cause: z.string(), description: z.string(), score: z.number() }),
  recommendedFixes: z.array(z.string()),
});
const FixView = z.object({ kind: z.string(), title: z.string(), files: z.array(z.string()) });
const TestsView = z.object({ runner: z.string(), passed: z.number(), failed: z.number(), skipped: z.number().optional() });
const ValidationResultView = z.object({
  passed: z.boolean(),
  reasons: z.array(z.string()),
  durationMs: z.number().optional(),
  tests: TestsView.optional(),
  performance: z.object({ beforeMs: z.number(), afterMs: z.number(), improvementPct: z.number() }).optional(),
});
const HealBase = z.object({ jobId: z.string(), anomalyId: z.string() });
const FixGenerated = HealBase.extend({ result: z.array(FixView) });
const ValidationCompleted = HealBase.extend({
  passed: z.boolean().optional(),
  reason: z.string().optional(),
  result: z.object({ chosen: z.number().optional(), results: z.array(ValidationResultView) }).optional(),
});
const DeploymentCompleted = HealBase.extend({
  result: z.object({
    decision: z.string(),
    reason: z.string(),
    proposal: z.object({ branch: z.string(), baseBranch: z.string(), headSha: z.string() }).optional(),
    merge: z.object({ merged: z.boolean(), mergeSha: z.string().optional(), reason: z.string().optional() }).optional(),
  }),
});
const LearningCompleted = HealBase.extend({
  result: z.object({
    verdict: z.string(),
    p95BeforeMs: z.number().optional(),
    p95AfterMs: z.number().optional(),
    errorRateBefore: z.number().optional(),
    errorRateAfter: z.number().optional(),
    samplesBefore: z.number(),
    samplesAfter: z.number(),
    revert: z.object({ branch: z.string() }).optional(),
  }),
});
const JobStopped = HealBase.extend({ reason: z.string().optional(), error: z.string().optional(), stage: z.string().optional() });

export type AnomalyInfo = z.infer<typeof AnomalyView>;

export interface NarratedLine {
  step: Step;
  anomalyId: string;
  text: string;
}

/** What a healing event means for the loop it belongs to. */
export interface LoopEvent {
  anomalyId: string;
  kind: 'opened' | 'fixed' | 'validated' | 'merged' | 'learned' | 'stopped' | 'resolved' | 'diagnosed';
  /** Set on 'merged': the merge commit on the base branch. */
  mergeSha?: string;
  branch?: string;
  /** Set on 'learned'. */
  verdict?: string;
}

export interface Narration {
  lines: NarratedLine[];
  loop?: LoopEvent;
}

const ms = (v: number): string => (v >= 100 ? `${Math.round(v)} ms` : v >= 1 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);
const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
const short = (sha: string): string => sha.slice(0, 10);

/** "performance/latency-regression in resolveTemplate" */
export function describeAnomaly(a: AnomalyInfo): string {
  const where = a.handler ?? a.sequence ?? a.service;
  return `${a.type}/${a.subtype} in ${where}`;
}

export class Narrator {
  private readonly anomalies = new Map<string, AnomalyInfo>();
  /** A diagnosis is told once per anomaly (a re-diagnosis of the same anomaly adds nothing new to the story). */
  private readonly diagnosed = new Set<string>();

  anomaly(id: string): AnomalyInfo | undefined {
    return this.anomalies.get(id);
  }

  private label(anomalyId: string): string {
    const a = this.anomalies.get(anomalyId);
    return a ? (a.handler ?? a.sequence ?? a.service) : anomalyId.slice(0, 8);
  }

  private line(step: Step, anomalyId: string, text: string): NarratedLine {
    // One event, one line: multi-line tool output (git, test runners) is folded.
    const flat = text.replace(/\s*\n\s*/g, ' ').trim();
    return { step, anomalyId, text: `${step.padEnd(16)} [${this.label(anomalyId)}] ${flat}` };
  }

  /** The narration of one event; no lines for events the demo does not tell (e.g. anomaly.updated). */
  narrate(event: StoredEvent): Narration {
    switch (event.kind) {
      case 'anomaly.opened': {
        const a = AnomalyView.safeParse(event.payload);
        if (!a.success) return { lines: [] };
        this.anomalies.set(a.data.id, a.data);
        return {
          lines: [this.line(STEPS.anomaly, a.data.id, `${describeAnomaly(a.data)}, severity ${a.data.severity}: ${a.data.summary}`)],
          loop: { anomalyId: a.data.id, kind: 'opened' },
        };
      }
      case 'anomaly.resolved': {
        const a = AnomalyView.safeParse(event.payload);
        if (!a.success) return { lines: [] };
        return { lines: [this.line(STEPS.resolved, a.data.id, describeAnomaly(a.data))], loop: { anomalyId: a.data.id, kind: 'resolved' } };
      }
      case 'diagnosis.created': {
        const d = DiagnosisView.safeParse(event.payload);
        if (!d.success || this.diagnosed.has(d.data.anomalyId)) return { lines: [] };
        this.diagnosed.add(d.data.anomalyId);
        const rc = d.data.rootCause;
        const fixes = d.data.recommendedFixes.length > 0 ? `; recommended fixes: ${d.data.recommendedFixes.join(', ')}` : '';
        return {
          lines: [this.line(STEPS.diagnosis, d.data.anomalyId, `root cause ${rc.cause} (score ${rc.score.toFixed(2)}): ${rc.description}${fixes}`)],
          loop: { anomalyId: d.data.anomalyId, kind: 'diagnosed' },
        };
      }
      case 'fix.generated':
        return this.fixGenerated(event.payload);
      case 'validation.completed':
        return this.validationCompleted(event.payload);
      case 'deployment.completed':
        return this.deploymentCompleted(event.payload);
      case 'learning.completed':
        return this.learningCompleted(event.payload);
      case 'job.failed':
      case 'job.parked': {
        const j = JobStopped.safeParse(event.payload);
        if (!j.success) return { lines: [] };
        const why = j.data.reason ?? j.data.error ?? 'unknown reason';
        return {
          lines: [this.line(STEPS.failed, j.data.anomalyId, `${event.kind === 'job.parked' ? 'parked' : 'failed'}${j.data.stage ? ` at ${j.data.stage}` : ''}: ${why}`)],
          loop: { anomalyId: j.data.anomalyId, kind: 'stopped' },
        };
      }
      default:
        return { lines: [] };
    }
  }

  /** The line for a release the demo app now runs. */
  deployed(anomalyId: string, version: string, mergeSha: string): NarratedLine {
    return this.line(STEPS.deploy, anomalyId, `canvas-app ${version} rolled out: a new process runs merge ${short(mergeSha)}`);
  }

  /** The line for a merge that changes nothing the app runs (a new test, a doc table). */
  notRolledOut(anomalyId: string, mergeSha: string, files: readonly string[]): NarratedLine {
    const what = files.length > 0 ? `changes only ${files.join(', ')}` : 'changes no files (main already had the fix)';
    return this.line(STEPS.deploy, anomalyId, `nothing to roll out: merge ${short(mergeSha)} ${what}`);
  }

  private fixGenerated(payload: unknown): Narration {
    const p = FixGenerated.safeParse(payload);
    if (!p.success) return { lines: [] };
    const [best, ...others] = p.data.result;
    const text = best
      ? `${best.kind}: ${best.title} (files: ${best.files.join(', ')})${others.length > 0 ? `; also ${others.map((f) => f.kind).join(', ')}` : ''}`
      : 'no candidate';
    return { lines: [this.line(STEPS.fix, p.data.anomalyId, text)], loop: { anomalyId: p.data.anomalyId, kind: 'fixed' } };
  }

  private validationCompleted(payload: unknown): Narration {
    const p = ValidationCompleted.safeParse(payload);
    if (!p.success) return { lines: [] };
    const results = p.data.result?.results ?? [];
    const chosen = p.data.result?.chosen;
    const lines: NarratedLine[] = [];
    results.forEach((r, i) => {
      const tests = r.tests ? `tests ${r.tests.passed} passed, ${r.tests.failed} failed (${r.tests.runner})` : 'no test summary';
      const perf = r.performance ? `; claimed tests ${ms(r.performance.beforeMs)} -> ${ms(r.performance.afterMs)}` : '';
      const took = r.durationMs !== undefined ? ` in ${(r.durationMs / 1000).toFixed(1)} s` : '';
      const verdict = r.passed ? 'passed' : `failed (${r.reasons.join('; ')})`;
      lines.push(this.line(STEPS.validation, p.data.anomalyId, `candidate ${i + 1} ${verdict}: ${tests}${perf}${took}${i === chosen ? ' -> chosen' : ''}`));
    });
    if (lines.length === 0) lines.push(this.line(STEPS.validation, p.data.anomalyId, p.data.passed === false ? `failed: ${p.data.reason ?? ''}` : 'passed'));
    return { lines, loop: { anomalyId: p.data.anomalyId, kind: 'validated' } };
  }

  private deploymentCompleted(payload: unknown): Narration {
    const p = DeploymentCompleted.safeParse(payload);
    if (!p.success) return { lines: [] };
    const r = p.data.result;
    const branch = r.proposal?.branch;
    if (r.merge?.merged && r.merge.mergeSha) {
      return {
        lines: [this.line(STEPS.merged, p.data.anomalyId, `${branch ?? 'fix branch'} into ${r.proposal?.baseBranch ?? 'main'}: merge commit ${short(r.merge.mergeSha)}`)],
        loop: { anomalyId: p.data.anomalyId, kind: 'merged', mergeSha: r.merge.mergeSha, ...(branch ? { branch } : {}) },
      };
    }
    const why = r.merge?.reason ?? r.reason;
    return { lines: [this.line(STEPS.merged, p.data.anomalyId, `not merged (${r.decision}): ${why}${branch ? `; branch ${branch}` : ''}`)] };
  }

  private learningCompleted(payload: unknown): Narration {
    const p = LearningCompleted.safeParse(payload);
    if (!p.success) return { lines: [] };
    const r = p.data.result;
    const figures: string[] = [];
    if (r.p95BeforeMs !== undefined && r.p95AfterMs !== undefined) figures.push(`p95 ${ms(r.p95BeforeMs)} -> ${ms(r.p95AfterMs)}`);
    if (r.errorRateBefore !== undefined && r.errorRateAfter !== undefined) figures.push(`errors ${pct(r.errorRateBefore)} -> ${pct(r.errorRateAfter)}`);
    figures.push(`${r.samplesBefore} beats before, ${r.samplesAfter} after`);
    const revert = r.revert ? `; reverted through ${r.revert.branch}` : '';
    return {
      lines: [this.line(STEPS.learning, p.data.anomalyId, `verdict ${r.verdict}: ${figures.join(', ')}${revert}`)],
      loop: { anomalyId: p.data.anomalyId, kind: 'learned', verdict: r.verdict },
    };
  }
}
