import type { DecodeResult, DecodeOptions } from './beat-builder.js';
import { decodeUtf8 } from './intern.js';
import { checkJsonBounds, type JsonBounds } from './json-bounds.js';
import { decodeTraceRequestObject } from './otlp-json.js';
import { OtlpDecodeError } from './protowire.js';

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A repeated field under its lowerCamelCase or original name; null/absent is empty; undefined when not an array. */
function list(o: JsonObject, camel: string, snake: string): unknown[] | undefined {
  const v = o[camel] ?? o[snake];
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : undefined;
}

/**
 * Cuts a parsed OTLP/JSON trace request with more than `maxSpans` spans into requests of at most
 * that many, each span under its own resource and scope, so they decode one per event-loop turn.
 * Undefined when the request is small, or shaped so that only the decoder can say what is wrong
 * with it (it then decodes whole and reports the error).
 */
export function sliceJsonTraceRequest(doc: unknown, maxSpans: number): { slices: JsonObject[]; records: number[] } | undefined {
  if (!isObject(doc)) return undefined;
  const resources = list(doc, 'resourceSpans', 'resource_spans');
  if (resources === undefined) return undefined;
  let total = 0;
  for (const rs of resources) {
    if (!isObject(rs)) return undefined;
    const scopes = list(rs, 'scopeSpans', 'scope_spans');
    if (scopes === undefined) return undefined;
    for (const ss of scopes) {
      if (!isObject(ss)) return undefined;
      const spans = list(ss, 'spans', 'spans');
      if (spans === undefined) return undefined;
      total += spans.length;
    }
  }
  if (total <= maxSpans) return undefined;
  const slices: JsonObject[] = [];
  const records: number[] = [];
  for (const rs of resources as JsonObject[]) {
    const resource = rs['resource'];
    for (const ss of list(rs, 'scopeSpans', 'scope_spans') as JsonObject[]) {
      const spans = list(ss, 'spans', 'spans')!;
      for (let i = 0; i < spans.length; i += maxSpans) {
        const part = spans.slice(i, i + maxSpans);
        slices.push({ resourceSpans: [{ resource, scopeSpans: [{ scope: ss['scope'], spans: part }] }] });
        records.push(part.length);
      }
    }
  }
  return { slices, records };
}

/** Checks the bounds, then parses an OTLP/JSON body (errors as the decoder words them). */
export function parseJsonBody(body: Uint8Array, bounds: JsonBounds): unknown {
  checkJsonBounds(body, bounds);
  const text = decodeUtf8(body, 0, body.length, 'request body');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OtlpDecodeError(`request body is not JSON: ${(err as Error).message}`);
  }
}

/** decodeTraceRequestObject with fixed options, for one slice. */
export function jsonSliceDecoder(opts: DecodeOptions): (slice: unknown) => DecodeResult {
  return (slice) => decodeTraceRequestObject(slice, opts);
}
