import { describe, expect, it } from 'vitest';
import { formatJobsReport } from '../../src/cli/jobs-report.js';
import type { JobSummary } from '../../src/heal/queue.js';

function job(over: Partial<JobSummary>): JobSummary {
  return {
    id: '0123456789abcdef',
    state: 'succeeded',
    stage: undefined,
    attempt: 0,
    anomalyId: 'an-1',
    diagnosisId: 'dg-1',
    service: 'canvas-app',
    handler: 'createComponent',
    severity: 'high',
    createdMs: 0,
    updatedMs: 0,
    nextRunMs: 0,
    error: undefined,
    traceId: undefined,
    fix: { kind: 'guard', title: 'Guard' },
    validation: { passed: true, tests: { passed: 4, failed: 0, skipped: 0, total: 4 }, linePct: 92.4 },
    deployment: { decision: 'merge', branch: 'self-healing/an-1-createcomponent', mergeSha: 'abcdef0123456789', state: 'merged' },
    verdict: 'improved',
    ...over,
  };
}

describe('formatJobsReport', () => {
  it('says when there are no jobs', () => {
    expect(formatJobsReport([])).toBe('No healing jobs.\n');
  });

  it('prints one aligned line per job and the errors of stopped jobs', () => {
    const out = formatJobsReport(
      [
        job({ createdMs: 0 }),
        job({ id: 'ffffeeee', state: 'running', stage: 'validation.run', attempt: 2, fix: undefined, validation: undefined, deployment: undefined, verdict: undefined, createdMs: 3_000_000, handler: undefined }),
        job({ id: 'aaaabbbb', state: 'failed', error: 'validation failed: 2 test(s) failed\nmore', validation: { passed: false, tests: { passed: 2, failed: 2, skipped: 0, total: 4 } }, deployment: { decision: 'propose', branch: 'self-healing/x' }, createdMs: 3_590_000 }),
        job({ id: 'ccccdddd', state: 'parked', error: 'boom', validation: { passed: true }, deployment: { decision: 'dry-run' }, createdMs: 3_600_000 - 10 * 86_400_000 }),
      ],
      3_600_000,
    );
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^JOB +STATE +STAGE +HANDLER +FIX +TESTS +DEPLOY +VERDICT +AGE$/);
    expect(lines[1]).toBe('01234567 succeeded -                 createComponent    guard            ok 4/4 92%     merged abcdef01          improved    1h');
    expect(lines[2]).toContain('validation.run#2');
    expect(lines[2]).toContain('canvas-app');
    expect(lines[2]).toMatch(/10m$/);
    expect(lines[3]).toContain('FAIL 2/4');
    expect(lines[3]).toContain('propose self-healing/x');
    expect(lines[3]).toMatch(/10s$/);
    expect(lines[4]).toContain('ok ?');
    expect(lines[4]).toMatch(/dry-run .* 10d$/);
    expect(lines.slice(-2)).toEqual(['aaaabbbb failed: validation failed: 2 test(s) failed', 'ccccdddd parked: boom']);
  });

  it('shortens long cells', () => {
    const out = formatJobsReport([job({ handler: 'aVeryLongHandlerNameIndeed' })], 0);
    expect(out).toContain('aVeryLongHandlerN… ');
  });
});
