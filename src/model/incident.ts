import { z } from 'zod';
import { SeveritySchema } from './anomaly.js';

/**
 * One root-cause candidate of an incident: a service (and the operation where the evidence can
 * tell), its score (higher is more likely; comparable within one incident only) and the evidence
 * in words.
 */
export const RootCauseSchema = z.object({
  service: z.string(),
  operation: z.string().optional(),
  score: z.number(),
  reason: z.string(),
});
export type RootCause = z.infer<typeof RootCauseSchema>;

/** What the front-door services' requests felt while the incident was open. */
export const IncidentImpactSchema = z.object({
  requests: z.number().int().min(0),
  errors: z.number().int().min(0),
});
export type IncidentImpact = z.infer<typeof IncidentImpactSchema>;

export const IncidentStateSchema = z.enum(['open', 'resolved']);
export type IncidentState = z.infer<typeof IncidentStateSchema>;

/**
 * One fault = one incident: the anomalies that started close in time and are connected through
 * the service graph or shared traces, with root causes ranked best first. The first six fields
 * are a contract other tools read (`analyze --json` top-level `incidents`, `GET /api/v1/incidents`).
 */
export const IncidentSchema = z.object({
  id: z.string(),
  startMs: z.number(),
  endMs: z.number(),
  anomalyIds: z.array(z.string()),
  rootCauses: z.array(RootCauseSchema),
  state: IncidentStateSchema,
  severity: SeveritySchema,
  /** Services whose anomalies belong to the incident. */
  services: z.array(z.string()),
  /** Human-readable one-liner (built from telemetry text: escape it for its sink). */
  summary: z.string(),
  /** Requests and failed requests of the entry services that reach the incident's services (null in the API when not counted). */
  impact: IncidentImpactSchema.nullable().optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

/**
 * An incident as the API serves it: the incident plus what operators did about it. A silence
 * that has run out reads as null.
 */
export const IncidentViewSchema = IncidentSchema.extend({
  acknowledged: z.object({ by: z.string(), atMs: z.number() }).nullable(),
  silencedUntilMs: z.number().nullable(),
  silenceReason: z.string().nullable(),
  impact: IncidentImpactSchema.nullable(),
});
export type IncidentView = z.infer<typeof IncidentViewSchema>;

/** One span of a stored exemplar trace, enough for a waterfall. */
export const ExemplarSpanSchema = z.object({
  spanId: z.string(),
  parentSpanId: z.string(),
  service: z.string(),
  name: z.string(),
  startMs: z.number(),
  durationMs: z.number(),
  error: z.boolean(),
});
export const ExemplarTraceSchema = z.object({ traceId: z.string(), spans: z.array(ExemplarSpanSchema) });
export type ExemplarTrace = z.infer<typeof ExemplarTraceSchema>;

/** One line of an incident's history (`kind` is a closed word, `text` may hold telemetry text). */
export interface IncidentTimelineEntry {
  t: number;
  kind: string;
  text: string;
}
