import { z } from 'zod';
import type { Beat } from '../../model/beat.js';
import { STATUS_ERROR } from '../../model/beat.js';
import { bareHandlerName } from './facts.js';

/**
 * Handler inputs are captured in production as beat attributes (see docs/fixes.md):
 *   beat.input             JSON of the first argument (or of the argument array when it is an array)
 *   beat.input.<path>      one leaf of the first argument, e.g. beat.input.position.x = 3
 *   beat.input.<n>.<path>  a leaf of the n-th argument when the handler takes several
 * These functions rebuild the argument list from them.
 */
export const INPUT_ATTR = 'beat.input';

export interface CapturedCall {
  args: unknown[];
  traceId?: string;
  spanId?: string;
  failed: boolean;
}

/** Path segments that would reach an object's prototype instead of an own property. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  // Attribute names come from telemetry: never let one walk into (and pollute) a prototype.
  if (path.some((k) => UNSAFE_KEYS.has(k))) return;
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1]!] = value;
}

/** Argument list from beat.input* attributes; undefined when the beat carries no input. */
export function argsFromAttributes(attributes: Record<string, unknown>): unknown[] | undefined {
  const whole = attributes[INPUT_ATTR];
  if (typeof whole === 'string') {
    try {
      const parsed: unknown = JSON.parse(whole);
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return [whole];
    }
  }
  const root: Record<string, unknown> = {};
  let found = false;
  for (const [key, value] of Object.entries(attributes)) {
    if (!key.startsWith(INPUT_ATTR + '.')) continue;
    setPath(root, key.slice(INPUT_ATTR.length + 1).split('.'), value);
    found = true;
  }
  if (!found) return undefined;
  const keys = Object.keys(root);
  if (keys.every((k) => /^\d+$/.test(k))) {
    const args: unknown[] = [];
    for (const k of keys) args[Number(k)] = root[k];
    return args;
  }
  return [root];
}

const SampleSchema = z.object({
  traceId: z.string().optional(),
  spanId: z.string().optional(),
  failed: z.boolean().optional(),
  attributes: z.record(z.string(), z.unknown()),
});

/**
 * A sample from diagnosis.context.sampleInputs: the diagnosis stage writes
 * `{traceId, spanId, failed, attributes}`; a bare attribute record is accepted too. Samples without
 * beat.input* attributes carry no input and are skipped.
 */
export function callFromSample(sample: Record<string, unknown>): CapturedCall | undefined {
  const parsed = SampleSchema.safeParse(sample);
  if (!parsed.success) {
    const args = argsFromAttributes(sample);
    return args === undefined ? undefined : { args, failed: false };
  }
  const args = argsFromAttributes(parsed.data.attributes);
  if (args === undefined) return undefined;
  return { args, traceId: parsed.data.traceId, spanId: parsed.data.spanId, failed: parsed.data.failed ?? false };
}

/**
 * Inputs of the handler's production calls: its beats, then the diagnosis samples not already
 * among them (same span id), failed calls first.
 */
export function capturedCalls(beats: Beat[], handler: string, samples: Record<string, unknown>[]): CapturedCall[] {
  const name = bareHandlerName(handler);
  const calls: CapturedCall[] = [];
  const spans = new Set<string>();
  for (const beat of beats) {
    if (bareHandlerName(beat.handler) !== name) continue;
    const args = argsFromAttributes(beat.attributes);
    if (args === undefined) continue;
    calls.push({ args, traceId: beat.traceId, spanId: beat.spanId, failed: beat.status === STATUS_ERROR });
    spans.add(beat.spanId);
  }
  for (const sample of samples) {
    const call = callFromSample(sample);
    if (call !== undefined && (call.spanId === undefined || !spans.has(call.spanId))) calls.push(call);
  }
  return calls.sort((a, b) => Number(b.failed) - Number(a.failed));
}

/** JSON with sorted object keys, so equal inputs give equal keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Share of calls whose input was already seen: 0 when all differ, approaching 1 when all repeat. */
export function repeatRatio(calls: CapturedCall[]): number {
  if (calls.length === 0) return 0;
  const distinct = new Set(calls.map((c) => canonicalJson(c.args))).size;
  return 1 - distinct / calls.length;
}
