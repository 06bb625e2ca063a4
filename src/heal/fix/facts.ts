import { z } from 'zod';
import type { Anomaly } from '../../model/anomaly.js';
import type { Diagnosis } from '../../model/diagnosis.js';
import { codeIdentifier } from '../text/code-literal.js';

/**
 * The facts a fix strategy needs, read from `diagnosis.context` (an open record written by the
 * diagnosis stage) with the anomaly as fallback. Every field is optional: a strategy whose facts
 * are missing is simply not applicable.
 */
const FiguresSchema = z
  .object({
    p50Ms: z.number().optional(),
    p95Ms: z.number().optional(),
    p99Ms: z.number().optional(),
    errorRate: z.number().optional(),
  })
  .catch({});

const ErrorSchema = z
  .object({
    type: z.string().optional(),
    message: z.string().optional(),
    topFrame: z.string().optional(),
    stacktrace: z.string().optional(),
    fingerprint: z.string().optional(),
  })
  .optional()
  .catch(undefined);

const optionalString = z.string().optional().catch(undefined);
const InputsSchema = z.array(z.record(z.string(), z.unknown())).optional().catch(undefined);

const ContextSchema = z.object({
  handler: optionalString,
  service: optionalString,
  plugin: optionalString,
  kind: optionalString,
  sequence: optionalString,
  error: ErrorSchema,
  errorKind: optionalString,
  baseline: FiguresSchema.optional(),
  observed: FiguresSchema.optional(),
  sampleInputs: InputsSchema,
  inputs: InputsSchema,
  exemplarTraceIds: z.array(z.string()).optional().catch(undefined),
  previousVersion: optionalString,
  newVersion: optionalString,
  inputRepetition: z.number().min(0).max(1).optional().catch(undefined),
});

export type Figures = z.infer<typeof FiguresSchema>;

export interface FixFacts {
  handler: string | undefined;
  service: string;
  plugin: string | undefined;
  kind: string | undefined;
  sequence: string | undefined;
  error: z.infer<typeof ErrorSchema>;
  errorKind: string | undefined;
  baseline: Figures;
  observed: Figures;
  /** Captured handler inputs: each record is one call's input attributes (see docs/fixes.md). */
  sampleInputs: Record<string, unknown>[];
  exemplarTraceIds: string[];
  previousVersion: string | undefined;
  newVersion: string | undefined;
  /** Share of repeated inputs the diagnosis measured (0..1), when it had the beats to measure it. */
  inputRepetition: number | undefined;
}

function figuresFrom(record: Record<string, number>): Figures {
  return { p50Ms: record['p50Ms'], p95Ms: record['p95Ms'], p99Ms: record['p99Ms'], errorRate: record['errorRate'] };
}

function merge(primary: Figures | undefined, fallback: Figures): Figures {
  return {
    p50Ms: primary?.p50Ms ?? fallback.p50Ms,
    p95Ms: primary?.p95Ms ?? fallback.p95Ms,
    p99Ms: primary?.p99Ms ?? fallback.p99Ms,
    errorRate: primary?.errorRate ?? fallback.errorRate,
  };
}

/** Reads the strategy facts; malformed fields are dropped instead of failing the whole fix stage. */
export function readFixFacts(diagnosis: Diagnosis, anomaly: Anomaly): FixFacts {
  const ctx = ContextSchema.parse(diagnosis.context);
  const traceIds = ctx.exemplarTraceIds ?? anomaly.exemplars.map((e) => e.traceId);
  return {
    handler: ctx.handler ?? diagnosis.handler ?? anomaly.handler,
    service: ctx.service ?? diagnosis.service,
    plugin: ctx.plugin,
    kind: ctx.kind,
    sequence: ctx.sequence ?? diagnosis.sequence ?? anomaly.sequence,
    error: ctx.error,
    errorKind: ctx.errorKind,
    baseline: merge(ctx.baseline, figuresFrom(anomaly.expected)),
    observed: merge(ctx.observed, figuresFrom(anomaly.observed)),
    sampleInputs: ctx.sampleInputs ?? ctx.inputs ?? [],
    exemplarTraceIds: traceIds,
    previousVersion: ctx.previousVersion,
    newVersion: ctx.newVersion,
    inputRepetition: ctx.inputRepetition,
  };
}

/**
 * Handler names arrive qualified ("Plugin.handler", "module#handler"); code uses the last part.
 * The result is still telemetry text: it is only compared with, never written anywhere without
 * going through src/heal/text (handlerIdentifier for code, markdownInline for Markdown).
 */
export function bareHandlerName(handler: string): string {
  const parts = handler.split(/[.#:/]/).filter((p) => p.length > 0);
  return parts[parts.length - 1] ?? handler;
}

/** The bare handler name when it is a plain JavaScript identifier, the only form generated code uses. */
export function handlerIdentifier(handler: string): string | undefined {
  return codeIdentifier(bareHandlerName(handler));
}
