import { z } from 'zod';
import { FixKindSchema } from './diagnosis.js';

/** The four durable stages of a healing job, in order. */
export const STAGES = ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track'] as const;
export const StageNameSchema = z.enum(STAGES);
export type StageName = z.infer<typeof StageNameSchema>;

export const JobStateSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'parked']);
export type JobState = z.infer<typeof JobStateSchema>;

/** succeeded: done; rejected: the stage ran fine but said "stop" (e.g. validation failed); failed: it crashed. */
export const StageStatusSchema = z.enum(['running', 'succeeded', 'rejected', 'failed']);
export type StageStatus = z.infer<typeof StageStatusSchema>;

/** A candidate fix, as the fix strategies produce it (same shape as src/heal/fix/strategy.ts). */
export const GeneratedFixSchema = z.object({
  kind: FixKindSchema,
  title: z.string(),
  description: z.string(),
  diff: z.string(),
  files: z.array(z.string()),
  claims: z.object({
    latencyBudgetMs: z.number().optional(),
    testFiles: z.array(z.string()).optional(),
  }),
});
export type GeneratedFix = z.infer<typeof GeneratedFixSchema>;

export const TestCountsSchema = z.object({
  /** Which runner's summary was recognised ('unknown' when none was). */
  runner: z.enum(['vitest', 'jest', 'node-test', 'mocha', 'unknown']),
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
});
export type TestCounts = z.infer<typeof TestCountsSchema>;

export const CoverageCheckSchema = z.object({
  /** 'istanbul-final' | 'istanbul-summary' | 'lcov' */
  format: z.string(),
  linePct: z.number(),
  threshold: z.number(),
  passed: z.boolean(),
});
export type CoverageCheck = z.infer<typeof CoverageCheckSchema>;

export const PerformanceCheckSchema = z.object({
  testFiles: z.array(z.string()),
  beforeMs: z.number(),
  afterMs: z.number(),
  budgetMs: z.number().optional(),
  /** Positive = faster after the fix. */
  improvementPct: z.number(),
  passed: z.boolean(),
});
export type PerformanceCheck = z.infer<typeof PerformanceCheckSchema>;

export const DocCheckSchema = z.object({
  file: z.string(),
  problems: z.array(z.string()),
  passed: z.boolean(),
});
export type DocCheck = z.infer<typeof DocCheckSchema>;

/**
 * Whether a code change is proven: its regression test, run in a worktree, fails on the base and
 * passes on the patch. 'unverified': no reproduction could be built or it did not behave so; such
 * a fix is proposed, labelled, and never merged automatically. 'not-needed': the change is not code
 * (tests, docs, manifests).
 */
export const ProofSchema = z.object({
  verdict: z.enum(['proven', 'unverified', 'not-needed']),
  reason: z.string(),
  testFiles: z.array(z.string()),
  /** The regression test alone on the base: it must fail there. */
  base: TestCountsSchema.extend({ exitCode: z.number().nullable() }).optional(),
  /** The same test with the whole patch: it must pass. */
  patch: TestCountsSchema.extend({ exitCode: z.number().nullable() }).optional(),
});
export type Proof = z.infer<typeof ProofSchema>;

export const ValidationResultSchema = z.object({
  passed: z.boolean(),
  /** Why it did not pass; empty when it did. */
  reasons: z.array(z.string()),
  patchApplied: z.boolean(),
  /** The base commit the patch was applied to and tested on. */
  baseSha: z.string().optional(),
  exitCode: z.number().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number(),
  tests: TestCountsSchema.optional(),
  coverage: CoverageCheckSchema.optional(),
  performance: PerformanceCheckSchema.optional(),
  docs: z.array(DocCheckSchema),
  /** Last part of the test output (bounded). */
  outputTail: z.string(),
  /** The base/patch proof of a code change (see ProofSchema); absent on records from before it existed. */
  proof: ProofSchema.optional(),
});
export type ValidationResult = z.infer<typeof ValidationResultSchema>;

export const ProposalSchema = z.object({
  id: z.string(),
  backend: z.enum(['local', 'github']),
  jobId: z.string(),
  branch: z.string(),
  baseBranch: z.string(),
  title: z.string(),
  body: z.string(),
  /** Commit sha of the branch tip. */
  headSha: z.string(),
  state: z.enum(['open', 'merged', 'closed', 'reverted']),
  /** PR number on GitHub; local records use their row number. */
  number: z.number().int().optional(),
  url: z.string().optional(),
  mergeSha: z.string().optional(),
  /** For a revert proposal: the proposal it reverts. */
  revertOf: z.string().optional(),
});
export type Proposal = z.infer<typeof ProposalSchema>;

export const MergeResultSchema = z.object({
  merged: z.boolean(),
  mergeSha: z.string().optional(),
  /** True when the merge had already happened (idempotent re-run). */
  alreadyMerged: z.boolean(),
  reason: z.string().optional(),
});
export type MergeResult = z.infer<typeof MergeResultSchema>;

export const DeploymentOutcomeSchema = z.object({
  decision: z.enum(['dry-run', 'propose', 'merge']),
  backend: z.enum(['local', 'github']),
  reason: z.string(),
  proposal: ProposalSchema.optional(),
  merge: MergeResultSchema.optional(),
  checks: z.enum(['pending', 'success', 'failure']).optional(),
  deployedMs: z.number(),
});
export type DeploymentOutcome = z.infer<typeof DeploymentOutcomeSchema>;

export const TelemetrySnapshotSchema = z.object({
  takenMs: z.number(),
  durationsMs: z.array(z.number()),
  errors: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
  version: z.string(),
});
export type TelemetrySnapshot = z.infer<typeof TelemetrySnapshotSchema>;

export const VerdictSchema = z.enum(['improved', 'no-change', 'worse', 'insufficient-data', 'not-deployed']);
export type Verdict = z.infer<typeof VerdictSchema>;

export const LearningOutcomeSchema = z.object({
  verdict: VerdictSchema,
  p50BeforeMs: z.number().optional(),
  p50AfterMs: z.number().optional(),
  p95BeforeMs: z.number().optional(),
  p95AfterMs: z.number().optional(),
  /** Positive = better (lower latency / fewer errors). */
  p50ImprovementPct: z.number().optional(),
  p95ImprovementPct: z.number().optional(),
  errorRateBefore: z.number().optional(),
  errorRateAfter: z.number().optional(),
  errorRateImprovementPct: z.number().optional(),
  /** One-sided p-values: latency lower after / error rate lower after (and the "worse" directions). */
  latencyPImproved: z.number().optional(),
  latencyPWorse: z.number().optional(),
  errorPImproved: z.number().optional(),
  errorPWorse: z.number().optional(),
  samplesBefore: z.number().int().nonnegative(),
  samplesAfter: z.number().int().nonnegative(),
  /** Set when a worse verdict led to a revert proposal. */
  revert: ProposalSchema.optional(),
});
export type LearningOutcome = z.infer<typeof LearningOutcomeSchema>;
