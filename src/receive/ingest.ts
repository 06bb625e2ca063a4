import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Beat, BeatSink } from '../model/beat.js';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { LogEventSink } from '../model/log-event.js';
import type { Sequence } from '../model/sequence.js';
import { decodeLogsRequestObject } from './otlp-logs-json.js';
import { ConductorConsoleReader } from './conductor-console.js';
import { ConductorLogParser } from './conductor-log.js';
import { decodeTraceRequestObject } from './otlp-json.js';
import { OtlpDecodeError } from './protowire.js';

/**
 * Offline ingest: replays trace and log files through the same beat mapping as the live
 * receivers. Each file may hold
 * - one OTLP/JSON ExportTraceServiceRequest or ExportLogsServiceRequest (pretty-printed or not),
 * - JSON lines of them (the OpenTelemetry Collector file exporter format),
 * - MusicalConductor's console output in any of its exported shapes (conductor-console.ts),
 * - MusicalConductor event payloads and beat records as JSON lines (conductor-log.ts),
 * mixed freely line by line, in UTF-8 or (with a byte order mark) UTF-16LE, each file plain or
 * gzip-compressed (recognised by its magic bytes, so `.gz` names are not required). Files are streamed,
 * so their size is not limited by memory, except a pretty-printed single document, which is read
 * whole. A file from which no beat could be read is an error naming its first lines not
 * understood.
 */

export interface IngestError {
  file: string;
  /** 1-based line number; 0 when the error concerns the whole file. */
  line: number;
  message: string;
}

export interface IngestSummary {
  files: number;
  lines: number;
  beats: number;
  /** Non-empty lines that were neither OTLP, nor a conductor line, nor a beat record. */
  ignored: number;
  /** Files from which no beat could be read. */
  unreadFiles: string[];
  /** OTLP log records turned into log events. */
  logs: number;
  /** Spans (and log records) in OTLP requests that could not be used (invalid ids, end before start). */
  rejected: number;
  errors: IngestError[];
}

export interface IngestOptions {
  onBeats: BeatSink;
  /** Called as bytes are read: bytes done and total over all files. */
  progress?: (done: number, total: number) => void;
  /** As receive.maxAttributesPerSpan; default 1024. */
  maxAttributesPerSpan?: number;
  /** Service name for conductor log beats; default unknown_service. */
  service?: string;
  /** Errors kept in the summary at most (the rest are counted in a final entry); default 1000. */
  maxErrors?: number;
  /** Where OTLP log records go; without it they are counted and dropped. */
  onLogs?: LogEventSink;
  /** Declared sequences: handler names for conductor log beats that name only their event. */
  declared?: readonly Sequence[];
}

/** Conductor beats are handed to onBeats in batches of this size. */
const BATCH = 512;
/** A pretty-printed single document larger than this is refused rather than read whole. */
const MAX_WHOLE_FILE_BYTES = 512 * 1024 * 1024;
const SNIFF_BYTES = 64 * 1024;

export async function ingestFiles(paths: string[], opts: IngestOptions): Promise<IngestSummary> {
  const summary: IngestSummary = { files: 0, lines: 0, beats: 0, logs: 0, ignored: 0, unreadFiles: [], rejected: 0, errors: [] };
  const maxErrors = opts.maxErrors ?? 1000;
  let droppedErrors = 0;
  const addError = (file: string, line: number, message: string): void => {
    if (summary.errors.length < maxErrors) summary.errors.push({ file, line, message });
    else droppedErrors++;
  };

  const sizes: number[] = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (!st.isFile()) throw new Error('not a regular file');
      sizes.push(st.size);
    } catch (err) {
      sizes.push(-1);
      summary.unreadFiles.push(p);
      addError(p, 0, `cannot read: ${(err as Error).message}`);
    }
  }
  const total = sizes.reduce((a, b) => a + Math.max(b, 0), 0);
  let doneBefore = 0;

  for (let f = 0; f < paths.length; f++) {
    const file = paths[f]!;
    const size = sizes[f]!;
    if (size < 0) continue;
    summary.files++;
    const ctx: FileContext = {
      file,
      summary,
      opts,
      addError,
      decodeOpts: { maxAttributesPerSpan: opts.maxAttributesPerSpan ?? 1024 },
      parser: undefined,
      console: undefined,
      pending: [],
      mtimeMs: 0,
      encoding: 'utf8',
      notUnderstood: [],
      gzip: false,
    };
    ctx.mtimeMs = (await stat(file)).mtimeMs;
    ctx.gzip = await isGzip(file);
    ctx.encoding = ctx.gzip ? 'utf8' : await encodingOf(file);
    const beatsBefore = summary.beats;
    const logsBefore = summary.logs;
    try {
      if (await isWholeDocument(ctx)) {
        if (!ctx.gzip && size > MAX_WHOLE_FILE_BYTES) addError(file, 0, `multi-line JSON document larger than ${MAX_WHOLE_FILE_BYTES} bytes`);
        else await ingestWholeDocument(ctx);
      } else {
        await ingestLines(ctx, (bytes) => opts.progress?.(doneBefore + bytes, total));
      }
    } catch (err) {
      if (!ctx.gzip) throw err;
      // zlib errors (truncated or corrupt archives) name the file; what was read stays ingested.
      addError(file, 0, `invalid gzip data: ${(err as Error).message}`);
    }
    if (ctx.console !== undefined) for (const b of ctx.console.finish()) push(ctx, b);
    flush(ctx);
    if (summary.beats === beatsBefore && summary.logs === logsBefore) {
      summary.unreadFiles.push(file);
      const first = ctx.notUnderstood.map((l) => `${l.line}: ${JSON.stringify(l.text)}`).join('; ');
      addError(file, 0, `nothing could be read from this file${first === '' ? '' : `; first lines not understood: ${first}`}`);
    }
    doneBefore += size;
    opts.progress?.(doneBefore, total);
  }
  if (droppedErrors > 0) summary.errors.push({ file: '', line: 0, message: `${droppedErrors} more errors not shown` });
  return summary;
}

interface FileContext {
  file: string;
  summary: IngestSummary;
  opts: IngestOptions;
  addError: (file: string, line: number, message: string) => void;
  decodeOpts: { maxAttributesPerSpan: number };
  parser: ConductorLogParser | undefined;
  console: ConductorConsoleReader | undefined;
  pending: Beat[];
  mtimeMs: number;
  encoding: BufferEncoding;
  /** The first few lines that were not understood, for the error of a file that gave nothing. */
  notUnderstood: Array<{ line: number; text: string }>;
  gzip: boolean;
}

const NOT_UNDERSTOOD_SHOWN = 3;
const NOT_UNDERSTOOD_CHARS = 120;

/** UTF-16LE when the file starts with its byte order mark (Windows PowerShell redirection), else UTF-8. */
async function encodingOf(file: string): Promise<BufferEncoding> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0xff && buf[1] === 0xfe ? 'utf16le' : 'utf8';
  } finally {
    await fh.close();
  }
}

/** True when the file starts with the gzip magic bytes. */
async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** The file's (decompressed) bytes as a stream; `raw` is the file stream, for progress in file bytes. */
function openContent(ctx: FileContext): { content: Readable; raw: ReturnType<typeof createReadStream> } {
  const raw = createReadStream(ctx.file);
  if (!ctx.gzip) return { content: raw, raw };
  const gunzip = createGunzip();
  raw.on('error', (err) => gunzip.destroy(err));
  return { content: raw.pipe(gunzip), raw };
}

/** The first `max` bytes of the file's content (decompressed), as text in the file's encoding. */
async function head(ctx: FileContext, max: number): Promise<string> {
  const { content, raw } = openContent(ctx);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of content as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) break;
    }
  } finally {
    content.destroy();
    raw.destroy();
  }
  return Buffer.concat(chunks).toString(ctx.encoding, 0, Math.min(size, max));
}

/** True when the file starts with a JSON document spread over several lines. */
async function isWholeDocument(ctx: FileContext): Promise<boolean> {
  {
    const text = (await head(ctx, SNIFF_BYTES)).replace(/^\uFEFF/, '');
    const first = text.trimStart();
    if (!first.startsWith('{') && !first.startsWith('[')) return false;
    const nl = first.indexOf('\n');
    // No newline in the sniffed part: one long line, which line mode handles.
    if (nl < 0) return false;
    const line = first.slice(0, nl).trim();
    try {
      JSON.parse(line);
      return false;
    } catch {
      // A first line that leaves an object or array open ("{", "{ \"resourceSpans\": [") starts
      // a pretty-printed document; anything else is a broken line in a JSON-lines file.
      return /[{[,]$/.test(line);
    }
  }
}

async function ingestWholeDocument(ctx: FileContext): Promise<void> {
  const text = (await head(ctx, MAX_WHOLE_FILE_BYTES + 1)).replace(/^\uFEFF/, '');
  if (text.length > MAX_WHOLE_FILE_BYTES) {
    ctx.addError(ctx.file, 0, `multi-line JSON document larger than ${MAX_WHOLE_FILE_BYTES} bytes`);
    return;
  }
  ctx.summary.lines += countLines(text);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    ctx.addError(ctx.file, 0, `invalid JSON: ${(err as Error).message}`);
    return;
  }
  const docs = Array.isArray(doc) ? doc : [doc];
  for (const d of docs) handleJson(ctx, d, 0);
}

function countLines(text: string): number {
  let n = text.length > 0 && !text.endsWith('\n') ? 1 : 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

async function ingestLines(ctx: FileContext, progress: (bytes: number) => void): Promise<void> {
  const { content, raw: stream } = openContent(ctx);
  content.setEncoding(ctx.encoding);
  const rl = createInterface({ input: content, crlfDelay: Infinity });
  let lineNo = 0;
  let reported = 0;
  for await (const line of rl) {
    lineNo++;
    ctx.summary.lines++;
    handleLine(ctx, line, lineNo);
    if (stream.bytesRead !== reported) {
      reported = stream.bytesRead;
      progress(reported);
    }
  }
}

function handleLine(ctx: FileContext, line: string, lineNo: number): void {
  // String.prototype.trim removes a byte-order mark too (it is whitespace to JS).
  const trimmed = line.trim();
  if (trimmed === '') return;
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      // Node prints objects over several lines ("{", "  sequence: '...',", "}"): console output.
      if (!readConsoleLine(ctx, line)) ctx.addError(ctx.file, lineNo, `invalid JSON: ${(err as Error).message}`);
      return;
    }
    handleJson(ctx, doc, lineNo);
    return;
  }
  if (readConsoleLine(ctx, line)) return;
  const r = parser(ctx).parseLine(line);
  if (r.kind === 'beat') push(ctx, r.beat);
  else if (r.kind === 'error') ctx.addError(ctx.file, lineNo, r.message);
  else if (r.kind === 'ignored') notUnderstood(ctx, lineNo, trimmed);
}

function readConsoleLine(ctx: FileContext, line: string): boolean {
  ctx.console ??= new ConductorConsoleReader({ service: ctx.opts.service, defaultTimeMs: ctx.mtimeMs, declared: ctx.opts.declared ?? [] });
  if (!ctx.console.readLine(line)) return false;
  for (const b of ctx.console.take()) push(ctx, b);
  return true;
}

function notUnderstood(ctx: FileContext, lineNo: number, text: string): void {
  ctx.summary.ignored++;
  if (ctx.notUnderstood.length < NOT_UNDERSTOOD_SHOWN) ctx.notUnderstood.push({ line: lineNo, text: text.slice(0, NOT_UNDERSTOOD_CHARS) });
}

function handleJson(ctx: FileContext, doc: unknown, lineNo: number): void {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    ctx.addError(ctx.file, lineNo, 'JSON value is neither an OTLP request nor a conductor log record');
    return;
  }
  const o = doc as Record<string, unknown>;
  if ('resourceLogs' in o || 'resource_logs' in o) {
    handleLogs(ctx, o, lineNo);
    return;
  }
  if ('resourceSpans' in o || 'resource_spans' in o) {
    try {
      const result = decodeTraceRequestObject(o, ctx.decodeOpts);
      ctx.summary.rejected += result.rejected;
      if (result.rejected > 0) ctx.addError(ctx.file, lineNo, `${result.rejected} spans rejected: ${result.rejectMessage}`);
      if (result.beats.length > 0) {
        flush(ctx);
        ctx.summary.beats += result.beats.length;
        ctx.opts.onBeats(result.beats);
      }
    } catch (err) {
      if (!(err instanceof OtlpDecodeError)) throw err;
      ctx.addError(ctx.file, lineNo, `malformed OTLP request: ${err.message}`);
    }
    return;
  }
  if (ConductorLogParser.isBeatEvent(o)) {
    const r = parser(ctx).parseRecord(o);
    if (r.kind === 'beat') push(ctx, r.beat);
    else if (r.kind === 'error') ctx.addError(ctx.file, lineNo, r.message);
    return;
  }
  if (ConductorLogParser.isBeatPayload(o)) {
    const r = parser(ctx).parsePayload(o);
    if (r.kind === 'beat') push(ctx, r.beat);
    return;
  }
  // Other JSON records (application logs, the conductor's sequence events) carry no beat.
  notUnderstood(ctx, lineNo, JSON.stringify(o));
}

function parser(ctx: FileContext): ConductorLogParser {
  ctx.parser ??= new ConductorLogParser({ service: ctx.opts.service, defaultTimeMs: ctx.mtimeMs, declared: ctx.opts.declared ?? [] });
  return ctx.parser;
}

function push(ctx: FileContext, beat: Beat): void {
  ctx.pending.push(beat);
  if (ctx.pending.length >= BATCH) flush(ctx);
}

function flush(ctx: FileContext): void {
  if (ctx.pending.length === 0) return;
  const beats = ctx.pending;
  ctx.pending = [];
  ctx.summary.beats += beats.length;
  ctx.opts.onBeats(beats);
}

/** Where a progress bar is drawn: process.stderr, or anything shaped like it. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): boolean;
}

/**
 * A progress callback drawing `label [#####.....] 42% 12.0/28.5 MB` on one terminal line.
 * Draws nothing when the stream is not a terminal (logs and pipes stay clean); redraws at most
 * ten times a second, and ends the line when done reaches total.
 */
/** 75 -> "1m15s", 4.2 -> "4s". */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function terminalProgress(
  stream: ProgressStream = process.stderr,
  label = 'ingest',
  now: () => number = Date.now,
): (done: number, total: number) => void {
  let last = -Infinity;
  let finished = false;
  let started: number | undefined;
  return (done, total) => {
    if (stream.isTTY !== true || finished) return;
    const complete = total > 0 && done >= total;
    const t = now();
    started ??= t;
    if (!complete && t - last < 100) return;
    last = t;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 50));
    const filled = Math.round(ratio * width);
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    const elapsedS = (t - started) / 1000;
    // Rate and time left once there is something to measure; "--" before that.
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    const eta = complete ? `in ${formatSeconds(elapsedS)}` : rate > 0 ? `ETA ${formatSeconds((total - done) / rate)}` : 'ETA --';
    const speed = rate > 0 ? `${mb(rate)} MB/s` : '-- MB/s';
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${mb(done)}/${mb(total)} MB ${speed} ${eta}`);
    if (complete) {
      finished = true;
      stream.write('\n');
    }
  };
}

function handleLogs(ctx: FileContext, o: Record<string, unknown>, lineNo: number): void {
  try {
    // Records without any time are dated by the file, as conductor log lines are.
    const result = decodeLogsRequestObject(o, { ...ctx.decodeOpts, nowMs: ctx.mtimeMs });
    ctx.summary.rejected += result.rejected;
    if (result.rejected > 0) ctx.addError(ctx.file, lineNo, `${result.rejected} log records rejected: ${result.rejectMessage}`);
    ctx.summary.logs += result.events.length;
    if (result.events.length > 0) ctx.opts.onLogs?.(result.events);
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
    ctx.addError(ctx.file, lineNo, `malformed OTLP logs request: ${err.message}`);
  }
}
