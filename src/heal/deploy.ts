import type { Anomaly } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import type { DeploymentOutcome, GeneratedFix, MergeResult, Proposal, ValidationResult } from '../model/heal.js';
import type { HealConfig } from '../config/sections/heal.js';
import { commitLine, commitSubject } from './text/commit-message.js';
import { branchName } from './text/ref-name.js';

export interface ProposeInput {
  jobId: string;
  anomaly: Anomaly;
  diagnosis: Diagnosis;
  fix: GeneratedFix;
  validation: ValidationResult;
  baseBranch: string;
}

/**
 * Where fixes go. Every method is idempotent: the pipeline may call it again after a crash, and
 * it must then find and return what the first call did (branch, PR, merge) instead of redoing it.
 */
export interface DeploymentBackend {
  readonly name: 'local' | 'github';
  /** Branch self-healing/<anomaly-id>-<handler> with one descriptive commit, plus a PR record. */
  propose(input: ProposeInput): Promise<Proposal>;
  checks(p: Proposal): Promise<'pending' | 'success' | 'failure'>;
  merge(p: Proposal): Promise<MergeResult>;
  /** Opens a proposal that reverts a merged one. */
  revert(p: Proposal, reason: string): Promise<Proposal>;
}

export type PolicyConfig = HealConfig['policy'];
export type DeployDecision = 'dry-run' | 'propose' | 'merge';

/** Branch names are built from telemetry (handler names): src/heal/text/ref-name.ts makes them safe. */
export { branchName };

/**
 * What to do with a validated fix. Never merges a fix whose validation failed, nor a code fix that
 * is not proven (its regression test failing on the base and passing on the patch); merges only a
 * kind the operator opted in to at this severity (policy.autoMerge). The GitHub backend uses
 * policy.githubMode (dry-run unless the operator opts in) instead of policy.mode.
 */
export function decideDeployment(
  policy: PolicyConfig,
  backend: 'local' | 'github',
  facts: { severity: string; kind: string; validationPassed: boolean; unverified?: boolean },
): { decision: DeployDecision; reason: string } {
  if (!facts.validationPassed) return { decision: 'dry-run', reason: 'validation failed: nothing is deployed' };
  const mode = backend === 'github' ? policy.githubMode : policy.mode;
  if (mode === 'dry-run') return { decision: 'dry-run', reason: `policy mode dry-run (${backend})` };
  if (mode === 'propose') return { decision: 'propose', reason: `policy mode propose (${backend})` };
  if (facts.unverified === true) return { decision: 'propose', reason: 'unverified code fix: no reproduction failed on the base and passed on the patch, so a human decides' };
  const severities: readonly string[] = (policy.autoMerge as Record<string, readonly string[] | undefined>)[facts.kind] ?? [];
  if (!severities.includes(facts.severity)) {
    return { decision: 'propose', reason: `fix kind ${facts.kind} at severity ${facts.severity} is not opted in to auto-merge (heal.policy.autoMerge)` };
  }
  return { decision: 'merge', reason: `auto-merge opted in for ${facts.kind} at severity ${facts.severity}` };
}

/** Thrown when checks are still running: a transient condition the queue retries with backoff. */
export class ChecksPendingError extends Error {
  constructor(branch: string) {
    super(`checks still pending on ${branch}`);
    this.name = 'ChecksPendingError';
  }
}

/** Applies the policy through a backend: propose, wait for checks, merge. Safe to re-run. */
export async function deployFix(
  backend: DeploymentBackend,
  input: ProposeInput,
  policy: PolicyConfig,
  nowMs: () => number = Date.now,
): Promise<DeploymentOutcome> {
  const { decision, reason } = decideDeployment(policy, backend.name, {
    severity: input.diagnosis.impact.severity,
    kind: input.fix.kind,
    validationPassed: input.validation.passed,
    unverified: input.validation.proof?.verdict === 'unverified',
  });
  if (decision === 'dry-run') {
    return { decision, backend: backend.name, reason: `${reason}; would open ${branchName(input.anomaly.id, input.diagnosis.handler ?? input.anomaly.handler)}`, deployedMs: nowMs() };
  }
  const proposal = await backend.propose(input);
  if (decision === 'propose') return { decision, backend: backend.name, reason, proposal, deployedMs: nowMs() };
  const checks = await backend.checks(proposal);
  if (checks === 'pending') throw new ChecksPendingError(proposal.branch);
  if (checks === 'failure') {
    return { decision: 'propose', backend: backend.name, reason: 'checks failed: left open for a human', proposal, checks, deployedMs: nowMs() };
  }
  const merge = await backend.merge(proposal);
  const merged: Proposal = merge.merged ? { ...proposal, state: 'merged', mergeSha: merge.mergeSha } : proposal;
  return { decision, backend: backend.name, reason, proposal: merged, merge, checks, deployedMs: nowMs() };
}

export function pct(n: number): string {
  return `${n.toFixed(1)} %`;
}

/** The validation figures as Markdown list items, shared by commit messages and PR bodies. */
export function validationLines(validation: ValidationResult): string[] {
  const lines: string[] = [];
  if (validation.tests) {
    const t = validation.tests;
    lines.push(`- tests (${t.runner}): ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped of ${t.total}`);
  }
  if (validation.coverage) lines.push(`- line coverage: ${pct(validation.coverage.linePct)} (threshold ${pct(validation.coverage.threshold)})`);
  if (validation.performance) {
    const p = validation.performance;
    lines.push(`- performance of ${p.testFiles.join(', ') || 'claimed tests'}: ${p.beforeMs.toFixed(0)} ms before, ${p.afterMs.toFixed(0)} ms after (${pct(p.improvementPct)} faster)`);
  }
  for (const d of validation.docs) lines.push(`- docs ${d.file}: ${d.passed ? 'ok' : d.problems.join('; ')}`);
  const proof = validation.proof;
  if (proof?.verdict === 'proven') lines.push(`- proof: ${proof.reason} (${proof.testFiles.join(', ')})`);
  if (proof?.verdict === 'unverified') lines.push(`- UNVERIFIED: ${proof.reason}. Not merged automatically; review by hand.`);
  lines.push(`- test run took ${(validation.durationMs / 1000).toFixed(1)} s`);
  return lines;
}

/**
 * The commit subject and body: what was wrong, what was concluded, how the fix was checked. Every
 * telemetry value is one bounded line (commitLine), so none can start a line that reads as a
 * trailer; the subject is a single clean line (commitSubject). Callers pass both through
 * commitMessage, which strips controls from the whole text once more.
 */
export function describeFix(input: ProposeInput): { title: string; body: string } {
  const { anomaly, diagnosis, fix, validation } = input;
  const target = diagnosis.handler ?? anomaly.handler ?? diagnosis.service;
  const unverified = validation.proof?.verdict === 'unverified' ? '[unverified] ' : '';
  const title = commitSubject(`${unverified}fix(${commitLine(target, 40)}): ${fix.title}`);
  const lines: string[] = [
    fix.description,
    '',
    `Anomaly ${commitLine(anomaly.id)} (${anomaly.type}/${commitLine(anomaly.subtype)}, severity ${anomaly.severity}): ${commitLine(anomaly.summary)}`,
    `Diagnosis ${commitLine(diagnosis.id)}: ${commitLine(diagnosis.rootCause.cause)} (score ${diagnosis.rootCause.score.toFixed(2)}) - ${commitLine(diagnosis.rootCause.description)}`,
    '',
    'Validation:',
  ];
  lines.push(...validationLines(validation));
  lines.push('', `Fix kind: ${fix.kind}`, `Files: ${fix.files.map((f) => commitLine(f)).join(', ')}`);
  return { title, body: lines.join('\n') };
}

/** The trailers a re-run uses to recognise its own commit / PR. */
export function fixTrailers(input: ProposeInput): Array<[string, string]> {
  return [
    ['Self-Healing-Job', input.jobId],
    ['Self-Healing-Anomaly', input.anomaly.id],
  ];
}
