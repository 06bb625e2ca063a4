import { describe, expect, it } from 'vitest';
import { analysisJson, formatAnalysisTable, observedVsExpected } from '../../src/cli/analyze-report.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import { anomaly } from '../diagnose/fixtures.js';

function diag(anomalyId: string, cause: string, createdMs: number): Diagnosis {
  const root = { cause, description: cause, score: 0.756, evidence: [] };
  return {
    id: `d-${anomalyId}-${createdMs}`,
    anomalyId,
    createdMs,
    service: 'shop',
    rootCause: root,
    hypotheses: [root],
    affected: { handlers: [], sequences: [], services: [] },
    impact: { trafficShare: 0, affectedRuns: 0, affectedCorrelationIds: 0, severity: 'low' },
    recommendedFixes: [],
    suspects: [],
    context: {},
  };
}

describe('analyze report', () => {
  const anomalies = [
    anomaly({ id: 'low1', severity: 'low', type: 'behavioral', subtype: 'missing-beat', handler: undefined, observed: {}, expected: {} }),
    anomaly({ id: 'crit1', severity: 'critical', type: 'error', subtype: 'error-rate-spike', observed: { errorRate: 0.25 }, expected: { errorRate: 0.01 } }),
    anomaly({ id: 'high1', handler: 'aVeryLongHandlerNameThatKeepsGoingAndGoingForeverAndEver', sequence: undefined }),
  ];
  const diagnoses = [diag('crit1', 'old-cause', 1), diag('crit1', 'code-defect', 2), diag('high1', 'self-time-regression', 1)];

  it('prints an aligned table, worst first, with the latest root cause', () => {
    const text = formatAnalysisTable(anomalies, diagnoses);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^SEVERITY\s+FIRST SEEN \(UTC\)\s+TYPE\/SUBTYPE\s+SERVICE\s+HANDLER\/SEQUENCE\s+OBSERVED VS EXPECTED\s+ROOT CAUSE$/);
    expect(lines[2]).toContain('critical');
    expect(lines[2]).toContain('errorRate 0.250 vs 0.010');
    expect(lines[2]).toContain('code-defect (0.76)');
    expect(lines[2]).toContain('chargeCard (checkout)');
    expect(lines[3]).toContain('aVeryLongHandlerNameThatKeepsGoingAndGoingForev…');
    expect(lines[4]).toMatch(/^low\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+behavioral\/missing-beat\s+shop\s+checkout\s+-\s+-$/);
    // Columns line up: the TYPE column starts at the same offset on every row.
    const offset = lines[0]!.indexOf('TYPE/SUBTYPE');
    for (const l of lines.slice(2, 5)) expect(l.slice(offset)).toMatch(/^(error|performance|behavioral)\//);
    expect(text).toContain('3 anomalies (1 critical, 1 high, 1 low)');
    expect(formatAnalysisTable([], [])).toBe('No anomalies found.\n');
    expect(formatAnalysisTable([anomalies[0]!], [])).toContain('1 anomaly (1 low)');
  });

  it('formats observed vs expected figures', () => {
    expect(observedVsExpected(anomaly({ observed: { p95Ms: 412, count: 3 }, expected: { p95Ms: 40, p50Ms: 12.5 } }))).toBe(
      'p95Ms 412 vs 40, count 3, p50Ms expected 12.5',
    );
  });

  it('builds a JSON report with summaries and diagnoses', () => {
    const r = analysisJson(anomalies, diagnoses);
    expect(r.summary).toEqual({ anomalies: 3, bySeverity: { low: 1, critical: 1, high: 1 }, byType: { behavioral: 1, error: 1, performance: 1 } });
    expect(r.anomalies.map((a) => a.id)).toEqual(['crit1', 'high1', 'low1']);
    expect(r.anomalies[0]!.diagnosis?.rootCause.cause).toBe('code-defect');
    expect(r.anomalies[2]!.diagnosis).toBeUndefined();
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});
