import type { JobSummary } from '../heal/queue.js';

function cell(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + '…' : text.padEnd(width);
}

function age(fromMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function tests(j: JobSummary): string {
  const v = j.validation;
  if (!v) return '-';
  const t = v.tests ? `${v.tests.passed}/${v.tests.total}` : '?';
  return `${v.passed ? 'ok' : 'FAIL'} ${t}${v.linePct !== undefined ? ` ${v.linePct.toFixed(0)}%` : ''}`;
}

function where(j: JobSummary): string {
  const d = j.deployment;
  if (!d) return '-';
  if (d.mergeSha) return `merged ${d.mergeSha.slice(0, 8)}`;
  return d.branch ? `${d.decision} ${d.branch}` : d.decision;
}

/** The `self-healing jobs` table: one line per job, then the error of jobs that stopped. */
export function formatJobsReport(jobs: JobSummary[], nowMs = Date.now()): string {
  if (jobs.length === 0) return 'No healing jobs.\n';
  const header = [cell('JOB', 8), cell('STATE', 9), cell('STAGE', 17), cell('HANDLER', 18), cell('FIX', 16), cell('TESTS', 14), cell('DEPLOY', 24), cell('VERDICT', 11), 'AGE'];
  const lines = [header.join(' ').trimEnd()];
  for (const j of jobs) {
    const stage = j.stage ? `${j.stage}#${j.attempt}` : '-';
    lines.push(
      [
        cell(j.id.slice(0, 8), 8),
        cell(j.state, 9),
        cell(stage, 17),
        cell(j.handler ?? j.service, 18),
        cell(j.fix?.kind ?? '-', 16),
        cell(tests(j), 14),
        cell(where(j), 24),
        cell(j.verdict ?? '-', 11),
        age(j.createdMs, nowMs),
      ].join(' '),
    );
  }
  const stopped = jobs.filter((j) => (j.state === 'failed' || j.state === 'parked') && j.error);
  if (stopped.length > 0) {
    lines.push('');
    for (const j of stopped) lines.push(`${j.id.slice(0, 8)} ${j.state}: ${j.error!.split('\n')[0]}`);
  }
  return lines.join('\n') + '\n';
}
