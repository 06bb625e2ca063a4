import { OtlpDecodeError, WIRE_LEN, WireReader } from './protowire.js';

/**
 * Cuts a large OTLP export request into smaller requests that decode on their own, so a receiver
 * can process one slice per event-loop turn instead of holding the loop for the whole request.
 *
 * Traces, logs and metrics requests share one shape (field numbers from opentelemetry-proto):
 *   Export*ServiceRequest { repeated Resource* resource_* = 1; }
 *   Resource*             { Resource resource = 1; repeated Scope* scope_* = 2; string schema_url = 3; }
 *   Scope*                { InstrumentationScope scope = 1; repeated <record> records = 2; string schema_url = 3; }
 * A slice is a request holding runs of whole records, each under a copy of its resource's and
 * scope's other fields, so every record decodes exactly as it would have in the original. Only
 * framing is read (tags and lengths, not the records), and malformed framing is reported as the
 * decoder would report it, before any slice is processed.
 */
export interface RequestSlices {
  slices: Uint8Array[];
  /** Records (spans, log records, ...) in each slice. */
  records: number[];
}

interface Range {
  start: number;
  end: number;
}

interface ScopePart {
  header: Range[];
  runs: Range[];
}

interface ResourcePart {
  header: Range[];
  scopes: ScopePart[];
}

/** Undefined when the request is small enough to be one slice (nothing is read then). */
export function sliceExportRequest(body: Uint8Array, maxSliceBytes: number): RequestSlices | undefined {
  if (body.length <= maxSliceBytes) return undefined;
  const out: RequestSlices = { slices: [], records: [] };
  const r = new WireReader(body);
  const end = body.length;
  let parts: ResourcePart[] = [];
  let bytes = 0;
  let records = 0;
  const flush = (): void => {
    if (records === 0) return;
    out.slices.push(encodeSlice(body, parts));
    out.records.push(records);
    parts = [];
    bytes = 0;
    records = 0;
  };
  for (let field = r.tag(end); field !== 0; field = r.tag(end)) {
    if (field !== 1) {
      r.skip(end);
      continue;
    }
    r.expect(WIRE_LEN, 'resource');
    const rsEnd = r.delimited(end);
    const rsStart = r.pos;
    const header = otherFields(r, rsStart, rsEnd);
    let resource: ResourcePart | undefined;
    r.pos = rsStart;
    for (let f = r.tag(rsEnd); f !== 0; f = r.tag(rsEnd)) {
      if (f !== 2) {
        r.skip(rsEnd);
        continue;
      }
      r.expect(WIRE_LEN, 'scope');
      const ssEnd = r.delimited(rsEnd);
      const ssStart = r.pos;
      const scopeHeader = otherFields(r, ssStart, ssEnd);
      let scope: ScopePart | undefined;
      r.pos = ssStart;
      for (;;) {
        const at = r.pos;
        const g = r.tag(ssEnd);
        if (g === 0) break;
        if (g !== 2) {
          r.skip(ssEnd);
          continue;
        }
        r.expect(WIRE_LEN, 'record');
        const recEnd = r.delimited(ssEnd);
        r.pos = recEnd;
        if (resource === undefined || parts[parts.length - 1] !== resource) {
          resource = { header, scopes: [] };
          parts.push(resource);
          scope = undefined;
        }
        if (scope === undefined || resource.scopes[resource.scopes.length - 1] !== scope) {
          scope = { header: scopeHeader, runs: [] };
          resource.scopes.push(scope);
        }
        const last = scope.runs[scope.runs.length - 1];
        if (last !== undefined && last.end === at) last.end = recEnd;
        else scope.runs.push({ start: at, end: recEnd });
        bytes += recEnd - at;
        records++;
        if (bytes >= maxSliceBytes) {
          flush();
          resource = undefined;
          scope = undefined;
        }
      }
    }
  }
  flush();
  return out;
}

/** The ranges (tag included) of every field but field 2 in [start, end). */
function otherFields(r: WireReader, start: number, end: number): Range[] {
  const ranges: Range[] = [];
  r.pos = start;
  for (;;) {
    const at = r.pos;
    const f = r.tag(end);
    if (f === 0) break;
    r.skip(end);
    if (f !== 2) ranges.push({ start: at, end: r.pos });
  }
  return ranges;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

const sumRanges = (ranges: Range[]): number => ranges.reduce((s, x) => s + x.end - x.start, 0);

function encodeSlice(body: Uint8Array, parts: ResourcePart[]): Uint8Array {
  const scopeLengths = parts.map((p) => p.scopes.map((s) => sumRanges(s.header) + sumRanges(s.runs)));
  const resourceLengths = parts.map((p, i) => sumRanges(p.header) + scopeLengths[i]!.reduce((s, n) => s + 1 + varintLength(n) + n, 0));
  const total = resourceLengths.reduce((s, n) => s + 1 + varintLength(n) + n, 0);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const copy = (ranges: Range[]): void => {
    for (const x of ranges) {
      out.set(body.subarray(x.start, x.end), at);
      at += x.end - x.start;
    }
  };
  parts.forEach((p, i) => {
    out[at++] = 0x0a;
    at = writeVarint(out, at, resourceLengths[i]!);
    copy(p.header);
    p.scopes.forEach((s, j) => {
      out[at++] = 0x12;
      at = writeVarint(out, at, scopeLengths[i]![j]!);
      copy(s.header);
      copy(s.runs);
    });
  });
  if (at !== total) throw new OtlpDecodeError('internal error while slicing the request');
  return out;
}
