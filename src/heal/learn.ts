import type { LearningOutcome, TelemetrySnapshot, Verdict } from '../model/heal.js';
import type { SqliteDatabase } from '../store/database.js';
import { quantile } from '../detect/stats.js';
import { mannWhitneyU, twoProportionTest } from './stats.js';

/** Live figures of one handler; the lead wires this to the detection engine's reservoirs. */
export interface HandlerTelemetry {
  snapshot(service: string, handler: string): { durationsMs: number[]; errors: number; count: number; version: string };
}

export function takeSnapshot(telemetry: HandlerTelemetry, service: string, handler: string, nowMs: number): TelemetrySnapshot {
  const s = telemetry.snapshot(service, handler);
  return { takenMs: nowMs, durationsMs: [...s.durationsMs], errors: s.errors, count: s.count, version: s.version };
}

function improvement(before: number, after: number): number {
  return before > 0 ? ((before - after) / before) * 100 : 0;
}

/**
 * Before/after verdict: one-sided Mann-Whitney U on durations and a two-proportion test on error
 * rates, each in both directions. Any significant worsening wins over an improvement.
 */
export interface CompareOptions {
  alpha: number;
  minSamples: number;
  /** Practical significance: a statistically clear but tiny shift (microseconds on thousands of samples) is no change. */
  minRelativeChange?: number;
  minAbsoluteMs?: number;
  minErrorRateChange?: number;
}

export function compareSnapshots(before: TelemetrySnapshot, after: TelemetrySnapshot, opts: CompareOptions): LearningOutcome {
  const samplesBefore = before.durationsMs.length;
  const samplesAfter = after.durationsMs.length;
  const base: LearningOutcome = { verdict: 'insufficient-data', samplesBefore, samplesAfter };
  if (samplesBefore < opts.minSamples || samplesAfter < opts.minSamples || before.count === 0 || after.count === 0) return base;

  const p50BeforeMs = quantile(before.durationsMs, 0.5);
  const p50AfterMs = quantile(after.durationsMs, 0.5);
  const p95BeforeMs = quantile(before.durationsMs, 0.95);
  const p95AfterMs = quantile(after.durationsMs, 0.95);
  const errorRateBefore = before.errors / before.count;
  const errorRateAfter = after.errors / after.count;

  const latencyPImproved = mannWhitneyU(before.durationsMs, after.durationsMs, 'greater').p;
  const latencyPWorse = mannWhitneyU(before.durationsMs, after.durationsMs, 'less').p;
  const errorPImproved = twoProportionTest(before.errors, before.count, after.errors, after.count, 'greater').p;
  const errorPWorse = twoProportionTest(before.errors, before.count, after.errors, after.count, 'less').p;

  const minRel = opts.minRelativeChange ?? 0;
  const minAbs = opts.minAbsoluteMs ?? 0;
  const minErr = opts.minErrorRateChange ?? 0;
  // Did the latency move by a margin a person would care about, in either direction?
  const latencyMoved = (from: number, to: number): boolean => Math.abs(to - from) >= minAbs && Math.abs(to - from) >= minRel * Math.max(from, to, Number.EPSILON);
  const latencyShift = latencyMoved(p50BeforeMs, p50AfterMs) || latencyMoved(p95BeforeMs, p95AfterMs);
  const errorShift = Math.abs(errorRateAfter - errorRateBefore) >= minErr;
  const latencyWorse = latencyPWorse < opts.alpha && latencyShift && (p50AfterMs > p50BeforeMs || p95AfterMs > p95BeforeMs);
  const latencyBetter = latencyPImproved < opts.alpha && latencyShift && (p50AfterMs < p50BeforeMs || p95AfterMs < p95BeforeMs);
  const errorsWorse = errorPWorse < opts.alpha && errorShift;
  const errorsBetter = errorPImproved < opts.alpha && errorShift;

  let verdict: Verdict = 'no-change';
  if (latencyWorse || errorsWorse) verdict = 'worse';
  else if (latencyBetter || errorsBetter) verdict = 'improved';

  return {
    verdict,
    p50BeforeMs,
    p50AfterMs,
    p95BeforeMs,
    p95AfterMs,
    p50ImprovementPct: improvement(p50BeforeMs, p50AfterMs),
    p95ImprovementPct: improvement(p95BeforeMs, p95AfterMs),
    errorRateBefore,
    errorRateAfter,
    errorRateImprovementPct: improvement(errorRateBefore, errorRateAfter),
    latencyPImproved,
    latencyPWorse,
    errorPImproved,
    errorPWorse,
    samplesBefore,
    samplesAfter,
  };
}

export interface LearningSubject {
  jobId: string;
  fixKind: string;
  anomalyType: string;
  service: string;
  handler: string | undefined;
}

export interface StrategyStat {
  fixKind: string;
  anomalyType: string;
  attempts: number;
  successes: number;
  /** Laplace-smoothed success rate, (successes + 1) / (attempts + 2). */
  score: number;
}

/** Bounds of the per-handler detector sensitivity factor (threshold multiplier). */
export const SENSITIVITY_MIN = 0.5;
export const SENSITIVITY_MAX = 3;

/**
 * What the pipeline learns from outcomes: success rate per fix kind x anomaly type (ranking for
 * fix generation) and a per-handler sensitivity factor. A fix that changed nothing suggests the
 * anomaly was noise, so that handler's thresholds are loosened (factor x1.1); a real improvement
 * moves the factor back towards 1.
 */
export class LearningStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Records an outcome once per job (idempotent: a re-run of learning.track changes nothing). */
  record(subject: LearningSubject, outcome: LearningOutcome): boolean {
    const now = this.nowMs();
    return this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO learning_outcomes (job_id, fix_kind, anomaly_type, service, handler, verdict, outcome_json, recorded_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING`,
        )
        .run(subject.jobId, subject.fixKind, subject.anomalyType, subject.service, subject.handler ?? null, outcome.verdict, JSON.stringify(outcome), now);
      if (info.changes === 0) return false;
      const counted = outcome.verdict === 'improved' || outcome.verdict === 'no-change' || outcome.verdict === 'worse';
      if (counted) {
        this.db
          .prepare(
            `INSERT INTO learning_kind_stats (fix_kind, anomaly_type, attempts, successes) VALUES (?, ?, 1, ?)
             ON CONFLICT (fix_kind, anomaly_type) DO UPDATE SET attempts = attempts + 1, successes = successes + excluded.successes`,
          )
          .run(subject.fixKind, subject.anomalyType, outcome.verdict === 'improved' ? 1 : 0);
      }
      if (subject.handler && (outcome.verdict === 'no-change' || outcome.verdict === 'improved')) {
        const current = this.sensitivity(subject.service, subject.handler);
        const next =
          outcome.verdict === 'no-change'
            ? Math.min(SENSITIVITY_MAX, current * 1.1)
            : Math.max(SENSITIVITY_MIN, current + (1 - current) * 0.5);
        this.db
          .prepare(
            `INSERT INTO handler_sensitivity (service, handler, factor, updated_ms) VALUES (?, ?, ?, ?)
             ON CONFLICT (service, handler) DO UPDATE SET factor = excluded.factor, updated_ms = excluded.updated_ms`,
          )
          .run(subject.service, subject.handler, next, now);
      }
      return true;
    })();
  }

  stats(): StrategyStat[] {
    const rows = this.db
      .prepare('SELECT fix_kind, anomaly_type, attempts, successes FROM learning_kind_stats ORDER BY fix_kind, anomaly_type')
      .all() as Array<{ fix_kind: string; anomaly_type: string; attempts: number; successes: number }>;
    return rows.map((r) => ({
      fixKind: r.fix_kind,
      anomalyType: r.anomaly_type,
      attempts: r.attempts,
      successes: r.successes,
      score: (r.successes + 1) / (r.attempts + 2),
    }));
  }

  /** Fix kind -> smoothed success rate (for one anomaly type, or pooled over all). Unseen kinds are absent. */
  strategyRanking(anomalyType?: string): Record<string, number> {
    const pooled = new Map<string, { attempts: number; successes: number }>();
    for (const s of this.stats()) {
      if (anomalyType !== undefined && s.anomalyType !== anomalyType) continue;
      const acc = pooled.get(s.fixKind) ?? { attempts: 0, successes: 0 };
      acc.attempts += s.attempts;
      acc.successes += s.successes;
      pooled.set(s.fixKind, acc);
    }
    const out: Record<string, number> = {};
    for (const [kind, acc] of pooled) out[kind] = (acc.successes + 1) / (acc.attempts + 2);
    return out;
  }

  /** Threshold multiplier for a handler's detectors (1 = unchanged). */
  sensitivity(service: string, handler: string): number {
    const row = this.db.prepare('SELECT factor FROM handler_sensitivity WHERE service = ? AND handler = ?').get(service, handler) as
      | { factor: number }
      | undefined;
    return row?.factor ?? 1;
  }

  sensitivityAdjustments(): Array<{ service: string; handler: string; factor: number }> {
    return this.db.prepare('SELECT service, handler, factor FROM handler_sensitivity ORDER BY service, handler').all() as Array<{
      service: string;
      handler: string;
      factor: number;
    }>;
  }

  outcomes(limit = 50): Array<LearningSubject & { verdict: Verdict; outcome: LearningOutcome; recordedMs: number }> {
    const rows = this.db.prepare('SELECT * FROM learning_outcomes ORDER BY recorded_ms DESC, job_id LIMIT ?').all(limit) as Array<{
      job_id: string;
      fix_kind: string;
      anomaly_type: string;
      service: string;
      handler: string | null;
      verdict: Verdict;
      outcome_json: string;
      recorded_ms: number;
    }>;
    return rows.map((r) => ({
      jobId: r.job_id,
      fixKind: r.fix_kind,
      anomalyType: r.anomaly_type,
      service: r.service,
      handler: r.handler ?? undefined,
      verdict: r.verdict,
      outcome: JSON.parse(r.outcome_json) as LearningOutcome,
      recordedMs: r.recorded_ms,
    }));
  }

  /** What has been learned so far, as JSON (for the API) and Markdown (for humans). */
  learningInsights(): { json: LearningInsights; markdown: string } {
    const outcomes = this.outcomes(20);
    const verdicts: Record<string, number> = {};
    for (const r of this.db.prepare('SELECT verdict, COUNT(*) AS n FROM learning_outcomes GROUP BY verdict').all() as Array<{ verdict: string; n: number }>) {
      verdicts[r.verdict] = r.n;
    }
    const json: LearningInsights = {
      verdicts,
      strategies: this.stats(),
      sensitivity: this.sensitivityAdjustments(),
      recent: outcomes.map((o) => ({
        jobId: o.jobId,
        fixKind: o.fixKind,
        anomalyType: o.anomalyType,
        service: o.service,
        handler: o.handler,
        verdict: o.verdict,
        p95ImprovementPct: o.outcome.p95ImprovementPct,
        errorRateImprovementPct: o.outcome.errorRateImprovementPct,
      })),
    };
    return { json, markdown: insightsMarkdown(json) };
  }
}

export interface LearningInsights {
  verdicts: Record<string, number>;
  strategies: StrategyStat[];
  sensitivity: Array<{ service: string; handler: string; factor: number }>;
  recent: Array<{
    jobId: string;
    fixKind: string;
    anomalyType: string;
    service: string;
    handler: string | undefined;
    verdict: Verdict;
    p95ImprovementPct: number | undefined;
    errorRateImprovementPct: number | undefined;
  }>;
}

function fmtPct(n: number | undefined): string {
  return n === undefined ? '-' : `${n >= 0 ? '+' : ''}${n.toFixed(1)} %`;
}

export function insightsMarkdown(i: LearningInsights): string {
  const out: string[] = ['# Healing insights', ''];
  const verdictList = Object.entries(i.verdicts);
  out.push(verdictList.length === 0 ? 'No outcomes recorded yet.' : `Outcomes: ${verdictList.map(([v, n]) => `${v} ${n}`).join(', ')}.`, '');
  out.push('## Fix strategies', '');
  if (i.strategies.length === 0) out.push('No deployed fixes measured yet.', '');
  else {
    out.push('| Fix kind | Anomaly type | Attempts | Improved | Score |', '| --- | --- | --- | --- | --- |');
    for (const s of i.strategies) out.push(`| ${s.fixKind} | ${s.anomalyType} | ${s.attempts} | ${s.successes} | ${s.score.toFixed(2)} |`);
    out.push('');
  }
  out.push('## Handler sensitivity', '');
  if (i.sensitivity.length === 0) out.push('No adjustments.', '');
  else {
    out.push('| Service | Handler | Threshold factor |', '| --- | --- | --- |');
    for (const s of i.sensitivity) out.push(`| ${s.service} | ${s.handler} | ${s.factor.toFixed(2)} |`);
    out.push('');
  }
  out.push('## Recent outcomes', '');
  if (i.recent.length === 0) out.push('None.', '');
  else {
    out.push('| Job | Handler | Fix kind | Verdict | p95 | Error rate |', '| --- | --- | --- | --- | --- | --- |');
    for (const r of i.recent) {
      out.push(`| ${r.jobId.slice(0, 8)} | ${r.handler ?? r.service} | ${r.fixKind} | ${r.verdict} | ${fmtPct(r.p95ImprovementPct)} | ${fmtPct(r.errorRateImprovementPct)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
