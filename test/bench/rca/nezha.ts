/**
 * Reads the Train Ticket part of the Nezha dataset (../shared/nezha/rca_data) and converts it to
 * what the sidecar receives: OTLP/JSON trace requests (resourceSpans) and log records.
 *
 * Data facts this converter relies on (see shared/nezha/README.md):
 * - one trace CSV per minute; consecutive files repeat their boundary spans (deduplicated by span id);
 * - ParentID `root` marks the root; Duration is in microseconds, start/end in ns;
 * - no status codes and no span kinds: the kind is derived. A span whose parent lives in another
 *   service is the callee's SERVER span and that parent is the caller's CLIENT span (in this data
 *   always an `HTTP GET`/`HTTP POST` span); roots are SERVER spans; an `HTTP <method>` span
 *   without a child in another service is a CLIENT span too (a call whose server span never came:
 *   a timeout or a refused connection, as an HTTP client instrumentation would still report it);
 *   everything else is INTERNAL;
 * - the service is the pod name without its two trailing hash parts;
 * - logs: gzip CSV, the `Log` column is the container runtime's JSON line whose `log` text starts
 *   with "HH:MM:SS.mmm LEVEL"; lines without a level (stack frames) are continuation lines and are
 *   kept with severity 0.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { LogEvent } from '../../../src/model/log-event.js';

export interface SpanRow {
  traceId: string;
  spanId: string;
  parentId: string;
  service: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  startMs: number;
  endMs: number;
}

export interface Fault {
  day: string;
  /** inject_time read as UTC (the time the data shows the fault at; see trustInjectTime). */
  injectMs: number;
  /** inject_timestamp as given (unix seconds * 1000). */
  injectTimestampMs: number;
  service: string;
  pod: string;
  type: string;
  /** Start of the first of the three one-minute files of this fault. */
  filesStartMs: number;
  filesEndMs: number;
}

export interface Day {
  name: string;
  spans: SpanRow[];
  logs: LogEvent[];
  faults: Fault[];
}

export function serviceOfPod(pod: string): string {
  return pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
}

const LEVELS: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

/**
 * One log CSV line: seven plain columns, then the quoted runtime JSON (doubled quotes inside).
 * Falls back to the full CSV parser for anything else.
 */
function splitLogLine(line: string): string[] | undefined {
  if (line.trim() === '') return undefined;
  const cols: string[] = [];
  let at = 0;
  for (let k = 0; k < 7; k++) {
    const j = line.indexOf(',', at);
    if (j < 0) return parseCsv(line)[0];
    cols.push(line.slice(at, j));
    at = j + 1;
  }
  let rest = line.slice(at).replace(/\r$/, '');
  if (rest.startsWith('"') && rest.endsWith('"')) rest = rest.slice(1, -1).replace(/""/g, '"');
  cols.push(rest);
  return cols;
}

/** Minimal RFC 4180 parser (quoted fields, doubled quotes, CRLF or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function readTraces(dir: string, spans: SpanRow[], seen: Set<string>): void {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('_trace.csv')).sort()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      const c = line.split(',');
      if (c.length < 8) throw new Error(`${join(dir, f)}:${i + 1}: expected 8 columns`);
      // The operation name may contain commas: the last three columns are fixed.
      const [traceId, spanId, parentId, pod] = c as [string, string, string, string];
      const name = c.slice(4, c.length - 3).join(',');
      const startNs = BigInt(c[c.length - 3]!);
      const endNs = BigInt(c[c.length - 2]!);
      if (seen.has(spanId)) continue;
      seen.add(spanId);
      spans.push({ traceId, spanId, parentId: parentId === 'root' ? '' : parentId, service: serviceOfPod(pod), name, startNs, endNs, startMs: Number(startNs / 1000n) / 1000, endMs: Number(endNs / 1000n) / 1000 });
    }
  }
}

function readLogs(dir: string): LogEvent[] {
  const out: LogEvent[] = [];
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('_log.csv.gz')).sort()) {
    const lines = gunzipSync(readFileSync(join(dir, f))).toString('utf8').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const r = splitLogLine(lines[i]!);
      if (r === undefined) continue;
      let text = r[7]!;
      try {
        const doc = JSON.parse(text) as { log?: unknown };
        if (typeof doc.log === 'string') text = doc.log;
      } catch {
        // not the runtime's JSON wrapper: keep the raw text
      }
      text = text.replace(/\n$/, '');
      const m = /^\S+\s+(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\b/.exec(text);
      const level = m?.[1] ?? '';
      out.push({
        service: serviceOfPod(r[3]!),
        serviceVersion: '',
        timeMs: Number(BigInt(r[1]!) / 1000n) / 1000,
        severityNumber: LEVELS[level] ?? 0,
        severityText: level,
        body: text,
        traceId: r[5] ?? '',
        spanId: r[6] ?? '',
        attributes: {},
      });
    }
  }
  // Consecutive files repeat boundary records like the traces do.
  const seen = new Set<string>();
  return out.filter((e) => {
    const k = `${e.timeMs}|${e.service}|${e.body}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface RawFault {
  inject_time: string;
  inject_timestamp: string;
  inject_pod: string;
  inject_type: string;
}

export function loadDay(root: string, name: string): Day {
  const dayDir = join(root, name);
  const spans: SpanRow[] = [];
  readTraces(join(dayDir, 'trace'), spans, new Set());
  spans.sort((a, b) => a.startMs - b.startMs);
  const logs = readLogs(join(dayDir, 'log'));
  const raw = JSON.parse(readFileSync(join(dayDir, `${name}-fault_list.json`), 'utf8')) as Record<string, RawFault[]>;
  const files = new Set(readdirSync(join(dayDir, 'trace')));
  const faults: Fault[] = [];
  for (const list of Object.values(raw)) {
    for (const f of list) {
      const injectMs = Date.parse(`${f.inject_time.replace(' ', 'T')}Z`);
      const d = new Date(injectMs);
      const hhmm = `${String(d.getUTCHours()).padStart(2, '0')}_${String(d.getUTCMinutes()).padStart(2, '0')}`;
      // Faults without their files (the dataset lists a few) cannot be scored.
      if (!files.has(`${hhmm}_trace.csv`)) continue;
      const filesStartMs = Math.floor(injectMs / 60_000) * 60_000;
      faults.push({
        day: name,
        injectMs,
        injectTimestampMs: Number(f.inject_timestamp) * 1000,
        service: serviceOfPod(f.inject_pod),
        pod: f.inject_pod,
        type: f.inject_type,
        filesStartMs,
        filesEndMs: filesStartMs + 3 * 60_000,
      });
    }
  }
  faults.sort((a, b) => a.injectMs - b.injectMs);
  return { name, spans, logs, faults };
}

/** Traces whose root (earliest span) starts in [fromMs, toMs) and whose spans all end before toMs. */
export function tracesIn(day: Day, fromMs: number, toMs: number): SpanRow[][] {
  const byTrace = new Map<string, SpanRow[]>();
  for (const s of day.spans) {
    if (s.startMs < fromMs - 60_000 || s.startMs >= toMs + 60_000) continue;
    let t = byTrace.get(s.traceId);
    if (t === undefined) byTrace.set(s.traceId, (t = []));
    t.push(s);
  }
  const out: SpanRow[][] = [];
  for (const t of byTrace.values()) {
    let first = Infinity;
    let last = -Infinity;
    for (const s of t) {
      first = Math.min(first, s.startMs);
      last = Math.max(last, s.endMs);
    }
    if (first >= fromMs && first < toMs && last < toMs) out.push(t);
  }
  return out;
}

const KIND_SERVER = 2;
const KIND_CLIENT = 3;
const HTTP_CLIENT_NAME = /^HTTP [A-Z]+$/;
const KIND_INTERNAL = 1;

/**
 * One OTLP/JSON ExportTraceServiceRequest for these traces, every timestamp shifted by shiftMs
 * (to splice stretches into one timeline).
 */
export function toOtlpTraces(traces: SpanRow[][], shiftMs: number): unknown {
  const shiftNs = BigInt(Math.round(shiftMs)) * 1_000_000n;
  const byService = new Map<string, unknown[]>();
  for (const t of traces) {
    const byId = new Map(t.map((s) => [s.spanId, s]));
    const clients = new Set<string>();
    const servers = new Set<string>();
    for (const s of t) {
      const p = s.parentId === '' ? undefined : byId.get(s.parentId);
      if (s.parentId === '') servers.add(s.spanId);
      else if (p !== undefined && p.service !== s.service) {
        servers.add(s.spanId);
        clients.add(p.spanId);
      }
    }
    for (const s of t) {
      let list = byService.get(s.service);
      if (list === undefined) byService.set(s.service, (list = []));
      list.push({
        traceId: s.traceId,
        spanId: s.spanId,
        ...(s.parentId !== '' ? { parentSpanId: s.parentId } : {}),
        name: s.name,
        kind: clients.has(s.spanId) || (!servers.has(s.spanId) && HTTP_CLIENT_NAME.test(s.name)) ? KIND_CLIENT : servers.has(s.spanId) ? KIND_SERVER : KIND_INTERNAL,
        startTimeUnixNano: String(s.startNs + shiftNs),
        endTimeUnixNano: String(s.endNs + shiftNs),
      });
    }
  }
  return {
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'nezha-train-ticket' }, spans }],
    })),
  };
}

/** Log records in [fromMs, toMs), shifted by shiftMs. */
export function logsIn(day: Day, fromMs: number, toMs: number, shiftMs: number): LogEvent[] {
  const out: LogEvent[] = [];
  for (const e of day.logs) if (e.timeMs >= fromMs && e.timeMs < toMs) out.push({ ...e, timeMs: e.timeMs + shiftMs });
  return out;
}

/** The same records as an OTLP/JSON ExportLogsServiceRequest (for `--write`). */
export function toOtlpLogs(events: LogEvent[]): unknown {
  const byService = new Map<string, unknown[]>();
  for (const e of events) {
    let list = byService.get(e.service);
    if (list === undefined) byService.set(e.service, (list = []));
    list.push({
      timeUnixNano: String(BigInt(Math.round(e.timeMs * 1000)) * 1000n),
      severityNumber: e.severityNumber,
      severityText: e.severityText,
      body: { stringValue: e.body },
      ...(e.traceId !== '' ? { traceId: e.traceId } : {}),
      ...(e.spanId !== '' ? { spanId: e.spanId } : {}),
    });
  }
  return {
    resourceLogs: [...byService].map(([service, logRecords]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{ scope: { name: 'nezha-train-ticket' }, logRecords }],
    })),
  };
}
