import type { Anomaly, Severity } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
const MAX_CELL = 48;

/** Latest diagnosis per anomaly. */
function latestDiagnoses(diagnoses: readonly Diagnosis[]): Map<string, Diagnosis> {
  const m = new Map<string, Diagnosis>();
  for (const d of diagnoses) {
    const prev = m.get(d.anomalyId);
    if (prev === undefined || d.createdMs >= prev.createdMs) m.set(d.anomalyId, d);
  }
  return m;
}

function sorted(anomalies: readonly Anomaly[]): Anomaly[] {
  return [...anomalies].sort(
    (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.lastSeenMs - a.lastSeenMs || a.id.localeCompare(b.id),
  );
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) < 1 ? 3 : 1);
}

/** "p95Ms 412 vs 40, errorRate 0.2 vs 0.01": shared keys first, then one-sided ones. */
export function observedVsExpected(a: Anomaly): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(a.observed)) {
    const e = a.expected[k];
    parts.push(e === undefined ? `${k} ${num(v)}` : `${k} ${num(v)} vs ${num(e)}`);
  }
  for (const [k, e] of Object.entries(a.expected)) if (!(k in a.observed)) parts.push(`${k} expected ${num(e)}`);
  return parts.join(', ');
}

/** "2026-12-07 04:12:33": UTC to the second, what a person compares with their logs. */
export function humanTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** True when any anomaly is at least `threshold` severe (analyze --fail-on). */
export function anyAtLeast(anomalies: readonly Anomaly[], threshold: Severity): boolean {
  return anomalies.some((a) => SEVERITY_RANK[a.severity] <= SEVERITY_RANK[threshold]);
}

function cell(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > MAX_CELL ? `${flat.slice(0, MAX_CELL - 1)}…` : flat;
}

/** Aligned plain-text table for the terminal, worst first. */
export function formatAnalysisTable(anomalies: Anomaly[], diagnoses: Diagnosis[]): string {
  if (anomalies.length === 0) return 'No anomalies found.\n';
  const byAnomaly = latestDiagnoses(diagnoses);
  const header = ['SEVERITY', 'FIRST SEEN (UTC)', 'TYPE/SUBTYPE', 'SERVICE', 'HANDLER/SEQUENCE', 'OBSERVED VS EXPECTED', 'ROOT CAUSE'];
  const rows = sorted(anomalies).map((a) => {
    const d = byAnomaly.get(a.id);
    const target = a.handler !== undefined && a.sequence !== undefined ? `${a.handler} (${a.sequence})` : (a.handler ?? a.sequence ?? '-');
    return [
      a.severity,
      humanTime(a.firstSeenMs),
      `${a.type}/${a.subtype}`,
      a.service,
      target,
      observedVsExpected(a) || '-',
      d === undefined ? '-' : `${d.rootCause.cause} (${d.rootCause.score.toFixed(2)})`,
    ].map(cell);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]): string =>
    cols
      .map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const counts = new Map<Severity, number>();
  for (const a of anomalies) counts.set(a.severity, (counts.get(a.severity) ?? 0) + 1);
  const summary = (['critical', 'high', 'medium', 'low'] as const)
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${anomalies.length} anomal${anomalies.length === 1 ? 'y' : 'ies'} (${summary})`,
    '',
  ].join('\n');
}

export interface AnalysisReport {
  summary: {
    anomalies: number;
    bySeverity: Partial<Record<Severity, number>>;
    byType: Record<string, number>;
  };
  anomalies: Array<Anomaly & { diagnosis?: Diagnosis }>;
}

/** The same analysis as a JSON-ready object (for --json): each anomaly with its latest diagnosis. */
export function analysisJson(anomalies: Anomaly[], diagnoses: Diagnosis[]): AnalysisReport {
  const byAnomaly = latestDiagnoses(diagnoses);
  const bySeverity: Partial<Record<Severity, number>> = {};
  const byType: Record<string, number> = {};
  for (const a of anomalies) {
    bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
    byType[a.type] = (byType[a.type] ?? 0) + 1;
  }
  return {
    summary: { anomalies: anomalies.length, bySeverity, byType },
    anomalies: sorted(anomalies).map((a) => {
      const d = byAnomaly.get(a.id);
      return d === undefined ? { ...a } : { ...a, diagnosis: d };
    }),
  };
}
