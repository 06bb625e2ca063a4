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
});
export type Incident = z.infer<typeof IncidentSchema>;
