import { z } from 'zod';
import { SeveritySchema } from './anomaly.js';

export const FixKindSchema = z.enum([
  'regression-test',
  'guard',
  'rollback',
  'memoize',
  'documentation',
  'llm',
]);
export type FixKind = z.infer<typeof FixKindSchema>;

export const HypothesisSchema = z.object({
  /** Machine-readable cause, e.g. 'self-time-regression', 'slow-dependency', 'new-release'. */
  cause: z.string(),
  description: z.string(),
  /** 0..1, hypotheses are sorted by this, best first. */
  score: z.number().min(0).max(1),
  evidence: z.array(z.string()),
});
export type Hypothesis = z.infer<typeof HypothesisSchema>;

export const AttributeSuspectSchema = z.object({
  key: z.string(),
  value: z.string(),
  /** Share among anomalous beats vs among normal beats. */
  anomalousShare: z.number(),
  baselineShare: z.number(),
});

export const DiagnosisSchema = z.object({
  id: z.string(),
  anomalyId: z.string(),
  createdMs: z.number(),
  service: z.string(),
  handler: z.string().optional(),
  sequence: z.string().optional(),
  rootCause: HypothesisSchema,
  hypotheses: z.array(HypothesisSchema),
  affected: z.object({
    handlers: z.array(z.string()),
    sequences: z.array(z.string()),
    services: z.array(z.string()),
  }),
  impact: z.object({
    trafficShare: z.number().min(0).max(1),
    affectedRuns: z.number().int().nonnegative(),
    affectedCorrelationIds: z.number().int().nonnegative(),
    severity: SeveritySchema,
  }),
  recommendedFixes: z.array(FixKindSchema),
  suspects: z.array(AttributeSuspectSchema),
  /** Facts the healing stages need: error location, versions, baseline figures, sample inputs. */
  context: z.record(z.string(), z.unknown()),
});
export type Diagnosis = z.infer<typeof DiagnosisSchema>;
