import { z } from 'zod';

export const AnomalyTypeSchema = z.enum(['performance', 'error', 'behavioral', 'coverage']);
export type AnomalyType = z.infer<typeof AnomalyTypeSchema>;

/** Finer-grained reason within a type, e.g. performance/p95-regression or behavioral/missing-beat. */
export const AnomalySubtypeSchema = z.enum([
  'latency-regression',
  'slo-breach',
  'error-rate-spike',
  'new-error-fingerprint',
  'missing-beat',
  'unexpected-beat',
  'out-of-order',
  'duplicate-beat',
  'incomplete-run',
  'count-surge',
  'untested-handler',
  'unexecuted-beat',
  /** Logs: an error/warn template never seen in the baseline. */
  'new-log-template',
  /** Logs: a template's rate rose well above its baseline (error-weighted). */
  'log-rate-surge',
  /** Logs: an expected template stopped appearing. */
  'log-rate-drop',
  /** Sequence files: beats declared but never played, or played but not declared. */
  'declared-drift',
]);
export type AnomalySubtype = z.infer<typeof AnomalySubtypeSchema>;

export const SeveritySchema = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof SeveritySchema>;

export const AnomalyStateSchema = z.enum(['open', 'ongoing', 'resolved']);
export type AnomalyState = z.infer<typeof AnomalyStateSchema>;

export const ExemplarSchema = z.object({
  traceId: z.string(),
  spanId: z.string(),
  durationMs: z.number().optional(),
  errorFingerprint: z.string().optional(),
});
export type Exemplar = z.infer<typeof ExemplarSchema>;

export const AnomalySchema = z.object({
  id: z.string(),
  /** Deduplication key: the same problem on the same target maps to one anomaly. */
  key: z.string(),
  type: AnomalyTypeSchema,
  subtype: AnomalySubtypeSchema,
  severity: SeveritySchema,
  /** 0..1: how sure the detector is (grows with samples, shrinks near the threshold). */
  confidence: z.number().min(0).max(1),
  state: AnomalyStateSchema,
  service: z.string(),
  handler: z.string().optional(),
  sequence: z.string().optional(),
  /** Time range of the evidence window, ms since epoch. */
  windowStartMs: z.number(),
  windowEndMs: z.number(),
  firstSeenMs: z.number(),
  lastSeenMs: z.number(),
  resolvedMs: z.number().optional(),
  /** Human-readable one-liner. */
  summary: z.string(),
  /** Observed vs expected figures, e.g. { p95Ms: 412 } vs { p95Ms: 40 }. */
  observed: z.record(z.string(), z.number()),
  expected: z.record(z.string(), z.number()),
  /** Extra detector-specific facts (fingerprint, missing beat name, ...). */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  exemplars: z.array(ExemplarSchema).max(10),
});
export type Anomaly = z.infer<typeof AnomalySchema>;

/**
 * What a detector reports for one evaluation: "this key is abnormal right now". The anomaly
 * lifecycle (src/detect) turns repeated findings for the same key into one Anomaly that is
 * opened, kept ongoing, and resolved once findings stop.
 */
export const FindingSchema = AnomalySchema.omit({
  id: true,
  state: true,
  firstSeenMs: true,
  lastSeenMs: true,
  resolvedMs: true,
});
export type Finding = z.infer<typeof FindingSchema>;

export type AnomalyChangeKind = 'opened' | 'updated' | 'resolved';
export interface AnomalyChange {
  kind: AnomalyChangeKind;
  anomaly: Anomaly;
}
