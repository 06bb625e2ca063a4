import { pct, validationLines, type ProposeInput } from '../deploy.js';
import { markdownBody, markdownInline as md } from '../text/markdown.js';

export const JOB_TRAILER = 'Self-Healing-Job';
export const ANOMALY_TRAILER = 'Self-Healing-Anomaly';
export const REVERTS_TRAILER = 'Self-Healing-Reverts';

/** Jaeger UI link of a trace, or undefined when no Jaeger URL is configured. */
export function traceLink(jaegerUrl: string | undefined, traceId: string): string | undefined {
  return jaegerUrl ? `${jaegerUrl.replace(/\/+$/, '')}/trace/${encodeURIComponent(traceId)}` : undefined;
}


/** Evidence trace ids: the anomaly's exemplars, then any the diagnosis context lists, deduplicated. */
export function evidenceTraceIds(input: ProposeInput): string[] {
  const ids = input.anomaly.exemplars.map((e) => e.traceId);
  const extra = input.diagnosis.context['traceIds'];
  if (Array.isArray(extra)) for (const t of extra) if (typeof t === 'string') ids.push(t);
  return [...new Set(ids.filter((t) => /^[0-9a-fA-F]{1,64}$/.test(t)))];
}

/**
 * The pull request body (Markdown): why the change exists, what evidence supports it, how it was
 * validated, and trailers that let a re-run recognise its own PR.
 */
export function pullRequestBody(input: ProposeInput, jaegerUrl: string | undefined): string {
  const { anomaly, diagnosis, fix, validation } = input;
  // Every telemetry value goes through md() (a code span); markdownBody is the last pass over all of it.
  const lines: string[] = [fix.description, '', '## Anomaly', ''];
  lines.push(`- id: ${md(anomaly.id)} (${anomaly.type}/${md(anomaly.subtype)}, severity **${anomaly.severity}**, confidence ${anomaly.confidence.toFixed(2)})`);
  lines.push(`- target: ${md(anomaly.service)}${anomaly.handler ? ` / ${md(anomaly.handler)}` : ''}${anomaly.sequence ? ` (sequence ${md(anomaly.sequence)})` : ''}`);
  lines.push(`- summary: ${md(anomaly.summary, 500)}`);
  const observed = Object.entries(anomaly.observed).map(([k, v]) => `${md(k)} ${v} (expected ${anomaly.expected[k] ?? '?'})`);
  if (observed.length > 0) lines.push(`- observed: ${observed.join(', ')}`);

  lines.push('', '## Diagnosis', '');
  lines.push(`- diagnosis ${md(diagnosis.id)}`);
  lines.push(`- root cause: ${md(diagnosis.rootCause.cause)} (score ${diagnosis.rootCause.score.toFixed(2)}): ${md(diagnosis.rootCause.description, 500)}`);
  for (const e of diagnosis.rootCause.evidence.slice(0, 20)) lines.push(`  - evidence: ${md(e, 500)}`);
  lines.push(`- impact: ${pct(diagnosis.impact.trafficShare * 100)} of traffic, ${diagnosis.impact.affectedRuns} affected runs`);

  const traces = evidenceTraceIds(input);
  if (traces.length > 0) {
    lines.push('', '## Evidence traces', '');
    for (const id of traces) {
      const link = traceLink(jaegerUrl, id);
      lines.push(link ? `- [${id}](${link})` : `- \`${id}\``);
    }
  }

  lines.push('', '## Validation', '');
  lines.push(...validationLines(validation));

  lines.push('', `Fix kind: ${md(fix.kind)}; files: ${fix.files.map((f) => md(f)).join(', ')}`);
  lines.push('', `${JOB_TRAILER}: ${input.jobId}`, `${ANOMALY_TRAILER}: ${anomaly.id}`);
  return markdownBody(lines.join('\n'));
}

/**
 * The value of a `Key: value` trailer line in a PR body: the last one, since trailers are written
 * after everything else (telemetry text cannot start a line anyway; this is the second lock).
 */
export function trailer(body: string | null | undefined, key: string): string | undefined {
  const all = [...(body ?? '').matchAll(new RegExp(`^${key}: (.+)$`, 'gm'))];
  return all[all.length - 1]?.[1]?.trim();
}
