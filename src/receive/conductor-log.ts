import { MAX_BEAT_KIND_LENGTH, STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../model/beat.js';
import { UNKNOWN_HANDLER, UNKNOWN_SERVICE } from './beat-builder.js';
import { buildBeatError } from './fingerprint.js';
import { StringInterner } from './intern.js';
import type { Sequence } from '../model/sequence.js';
import { declaredBeats, type DeclaredBeat } from './conductor-console.js';

/**
 * Turns MusicalConductor log output into beats, for offline analysis of runs that were not
 * traced. Two forms are understood (docs/beat-conventions.md, "Conductor logs"):
 *
 * - JSON lines with `event` beat-started / beat-completed / beat-failed. A started event is
 *   remembered until the matching completed/failed one (same sequence, run and beat number).
 * - Plain lines such as
 *   `Beat 1: canvas:component:resolve-template - Duration: 8.00ms - Handler: resolveTemplate (CanvasComponentPlugin)`
 *   with optional leading timestamp, and context lines ("🎼 Sequence: X started",
 *   "Movement: Y") that set the sequence and movement of the beat lines that follow.
 *
 * Anything else is ignored: conductor logs are interleaved with application output.
 */

export interface ConductorLogOptions {
  /** Service name for the beats (logs do not say); default unknown_service. */
  service?: string;
  /** Time for plain lines before any timestamp was seen (e.g. the file's mtime), ms since epoch. */
  defaultTimeMs?: number;
  /** Started-but-not-finished beats remembered at most; the oldest are forgotten beyond this. */
  maxPending?: number;
  /** Declared sequences: the handler of a beat payload, which names only its event. */
  declared?: readonly Sequence[];
}

export type ConductorLineResult =
  | { kind: 'beat'; beat: Beat }
  /** A line that updated the parser's context or started a beat, but produced no beat yet. */
  | { kind: 'context' }
  /** Not a conductor line. */
  | { kind: 'ignored' }
  /** A conductor line that could not be turned into a beat. */
  | { kind: 'error'; message: string };

const BEAT_EVENTS = new Set(['beat-started', 'beat-completed', 'beat-failed']);

type JsonRecord = Record<string, unknown>;

interface Pending {
  startMs: number;
}

const IGNORED: ConductorLineResult = { kind: 'ignored' };
const CONTEXT: ConductorLineResult = { kind: 'context' };

// "Beat 3: some:event - Duration: 8.00ms - Handler: fn (Plugin)"
const BEAT_LINE_RE = /\bBeat\s+(\d+)\s*[:-]\s*(.*)$/;
const SEQUENCE_LINE_RE = /\bSequence(?:\s*:)?\s+["'“]?(.+?)["'”]?\s*(?:\((?:requestId|request|id)\s*[:=]\s*([^)\s]+)\))?\s+(started|starting|completed|finished|failed)\b/i;
const MOVEMENT_LINE_RE = /\bMovement(?:\s+\d+)?\s*:\s*["'“]?(.+?)["'”]?\s*(?:started|starting)?\s*$/i;
const LEADING_TIME_RE = /^\s*\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?/;
const DURATION_RE = /^Duration:\s*([\d.]+)\s*(ms|s|µs|us)?$/i;
const HANDLER_RE = /^Handler:\s*([^\s(]+)(?:\s*\(([^)]*)\))?/i;
const ERROR_RE = /^(?:Error|Failed)(?::\s*(.*))?$/i;

function normaliseEventName(s: string): string {
  return s.trim().toLowerCase().replace(/[:_ ]/g, '-');
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function pick(o: JsonRecord, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = str(o[n]);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

function num(o: JsonRecord, names: readonly string[]): number | undefined {
  for (const n of names) {
    const v = o[n];
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number.parseFloat(v) : NaN;
    if (Number.isFinite(x)) return x;
  }
  return undefined;
}

/** A timestamp as ms since epoch: ISO string, epoch ms, or epoch seconds (numbers below 1e11). */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
  if (typeof v === 'string' && v.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(v.trim())) return parseTimestamp(Number(v));
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const SEQUENCE_FIELDS = ['sequenceName', 'sequence', 'sequenceId'] as const;
const RUN_FIELDS = ['requestId', 'correlationId', 'runId', 'executionId'] as const;
const BEAT_FIELDS = ['beat', 'beatNumber', 'number'] as const;
const MOVEMENT_FIELDS = ['movement', 'movementName'] as const;
const HANDLER_FIELDS = ['handler', 'handlerName'] as const;
const PLUGIN_FIELDS = ['pluginId', 'plugin'] as const;
const BEAT_EVENT_FIELDS = ['beatEvent', 'eventType', 'eventName'] as const;
const DURATION_FIELDS = ['duration', 'durationMs'] as const;
const TIME_FIELDS = ['timestamp', 'time', 'ts'] as const;

export class ConductorLogParser {
  private readonly service: string;
  private readonly maxPending: number;
  private readonly interner = new StringInterner(10_000);
  private readonly pending = new Map<string, Pending>();
  /** Context from plain lines. */
  private sequence = '';
  private runId = '';
  private movement = '';
  private lastTimeMs: number;
  private readonly declared: Map<string, DeclaredBeat>;

  constructor(opts: ConductorLogOptions = {}) {
    this.service = opts.service ?? UNKNOWN_SERVICE;
    this.declared = declaredBeats(opts.declared);
    this.lastTimeMs = opts.defaultTimeMs ?? 0;
    this.maxPending = opts.maxPending ?? 10_000;
  }

  /** Beats started but not (yet) completed. */
  get pendingCount(): number {
    return this.pending.size;
  }

  parseLine(line: string): ConductorLineResult {
    const trimmed = line.trim();
    if (trimmed === '') return IGNORED;
    if (trimmed.startsWith('{')) {
      let doc: unknown;
      try {
        doc = JSON.parse(trimmed);
      } catch {
        return IGNORED;
      }
      return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? this.parseRecord(doc as JsonRecord) : IGNORED;
    }
    return this.parsePlain(line);
  }

  /** Whether a parsed JSON object is a conductor beat event. */
  static isBeatEvent(doc: JsonRecord): boolean {
    const ev = str(doc['event']) ?? str(doc['type']);
    return ev !== undefined && BEAT_EVENTS.has(normaliseEventName(ev));
  }

  /**
   * Whether a parsed JSON object is one of the library's own beat event payloads, as an app that
   * subscribes and logs JSON.stringify(payload) writes them: `{sequenceName, movementName, beat,
   * event, requestId}` plus `executionTime` (beat-completed), `error` (beat-failed) or
   * `title`/`dynamics`/`timing` (beat-started). `event` is the beat's event name here.
   */
  static isBeatPayload(doc: JsonRecord): boolean {
    return typeof doc['sequenceName'] === 'string' && typeof doc['beat'] === 'number' && typeof doc['event'] === 'string' && !BEAT_EVENTS.has(normaliseEventName(doc['event']));
  }

  /** One beat event payload of the library (see isBeatPayload). */
  parsePayload(doc: JsonRecord): ConductorLineResult {
    const executionTime = num(doc, ['executionTime']);
    const failed = doc['error'] !== undefined && doc['error'] !== null && doc['error'] !== false;
    // beat-started: the completed payload carries all we need.
    if (executionTime === undefined && !failed) return CONTEXT;
    const sequence = str(doc['sequenceName']) ?? '';
    const event = str(doc['event']) ?? '';
    const declared = this.declared.get(`${sequence}\u0000${event}`);
    const durationMs = executionTime !== undefined && executionTime >= 0 ? executionTime : 0;
    // Payloads carry no time: beats follow one another from the file's time.
    const startMs = this.lastTimeMs;
    this.lastTimeMs += durationMs;
    const kind = declared?.kind ?? '';
    return {
      kind: 'beat',
      beat: this.beat({
        sequence,
        movement: str(doc['movementName']) ?? '',
        beatNumber: Number.isSafeInteger(doc['beat']) && (doc['beat'] as number) >= 0 ? (doc['beat'] as number) : 0,
        event,
        handler: declared?.handler ?? (event !== '' ? event : UNKNOWN_HANDLER),
        plugin: '',
        kind: kind.length <= MAX_BEAT_KIND_LENGTH ? kind : '',
        correlationId: str(doc['requestId']) ?? '',
        startMs,
        durationMs,
        error: failed ? errorFrom(doc['error']) : undefined,
        service: undefined,
      }),
    };
  }

  /** One JSON log record (already parsed). */
  parseRecord(doc: JsonRecord): ConductorLineResult {
    const raw = str(doc['event']) ?? str(doc['type']);
    if (raw === undefined) return IGNORED;
    const ev = normaliseEventName(raw);
    if (!BEAT_EVENTS.has(ev)) return IGNORED;

    const sequence = pick(doc, SEQUENCE_FIELDS) ?? '';
    const run = pick(doc, RUN_FIELDS) ?? '';
    const beatNumber = num(doc, BEAT_FIELDS);
    if (beatNumber === undefined || !Number.isSafeInteger(beatNumber) || beatNumber < 0) {
      return { kind: 'error', message: `${raw}: missing or invalid beat number` };
    }
    const key = `${sequence}\u0000${run}\u0000${beatNumber}`;
    const time = parseTimestamp(pickRaw(doc, TIME_FIELDS));
    if (time !== undefined) this.lastTimeMs = time;

    if (ev === 'beat-started') {
      if (this.pending.size >= this.maxPending) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
      }
      this.pending.set(key, { startMs: time ?? this.lastTimeMs });
      return CONTEXT;
    }

    const started = this.pending.get(key);
    this.pending.delete(key);
    const duration = num(doc, DURATION_FIELDS);
    let startMs: number;
    let durationMs: number;
    if (duration !== undefined && duration >= 0) {
      durationMs = duration;
      startMs = started?.startMs ?? (time !== undefined ? time - duration : this.lastTimeMs);
    } else if (started !== undefined && time !== undefined && time >= started.startMs) {
      startMs = started.startMs;
      durationMs = time - started.startMs;
    } else {
      return { kind: 'error', message: `${raw}: no duration and no matching beat-started` };
    }

    const failed = ev === 'beat-failed' || (doc['error'] !== undefined && doc['error'] !== null && doc['error'] !== false);
    const error = failed ? errorFrom(doc['error']) : undefined;
    const handler = pick(doc, HANDLER_FIELDS);
    const event = pick(doc, BEAT_EVENT_FIELDS) ?? '';
    const kindRaw = str(doc['kind']);
    return {
      kind: 'beat',
      beat: this.beat({
        sequence,
        movement: pick(doc, MOVEMENT_FIELDS) ?? '',
        beatNumber,
        event,
        handler: handler ?? (event !== '' ? event : UNKNOWN_HANDLER),
        plugin: pick(doc, PLUGIN_FIELDS) ?? '',
        kind: kindRaw !== undefined && kindRaw.length <= MAX_BEAT_KIND_LENGTH ? kindRaw : '',
        correlationId: run,
        startMs,
        durationMs,
        error,
        service: pick(doc, ['service', 'serviceName']),
      }),
    };
  }

  private parsePlain(line: string): ConductorLineResult {
    const t = LEADING_TIME_RE.exec(line);
    let time: number | undefined;
    if (t !== null) {
      time = Date.parse(t[1]!.replace(' ', 'T').replace(',', '.'));
      if (Number.isNaN(time)) time = undefined;
      else this.lastTimeMs = time;
    }
    const beat = BEAT_LINE_RE.exec(line);
    if (beat !== null) return this.parseBeatLine(Number(beat[1]), beat[2]!, time, line);
    const seq = SEQUENCE_LINE_RE.exec(line);
    if (seq !== null) {
      const state = seq[3]!.toLowerCase();
      if (state === 'started' || state === 'starting') {
        this.sequence = seq[1]!.trim();
        this.runId = seq[2] ?? '';
        this.movement = '';
      } else {
        this.sequence = '';
        this.runId = '';
        this.movement = '';
      }
      return CONTEXT;
    }
    const mov = MOVEMENT_LINE_RE.exec(line);
    if (mov !== null) {
      this.movement = mov[1]!.trim();
      return CONTEXT;
    }
    return IGNORED;
  }

  private parseBeatLine(beatNumber: number, rest: string, time: number | undefined, line: string): ConductorLineResult {
    const parts = rest.split(/\s+-\s+/);
    const event = parts[0]!.trim();
    let durationMs: number | undefined;
    let handler = '';
    let plugin = '';
    let failed = line.includes('❌');
    let message = '';
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!.trim();
      const d = DURATION_RE.exec(p);
      if (d !== null) {
        const v = Number.parseFloat(d[1]!);
        const unit = (d[2] ?? 'ms').toLowerCase();
        durationMs = unit === 's' ? v * 1000 : unit === 'ms' ? v : v / 1000;
        continue;
      }
      const h = HANDLER_RE.exec(p);
      if (h !== null) {
        handler = h[1]!;
        plugin = h[2]?.trim() ?? '';
        continue;
      }
      const e = ERROR_RE.exec(p);
      if (e !== null) {
        failed = true;
        message = e[1]?.trim() ?? '';
      }
    }
    if (durationMs === undefined || !Number.isFinite(durationMs)) {
      // "Beat 1: x started" style progress lines carry no duration: context only.
      return /\bstart(ed|ing)?\b/i.test(rest) ? CONTEXT : { kind: 'error', message: `Beat ${beatNumber}: no Duration` };
    }
    const endMs = time ?? this.lastTimeMs;
    return {
      kind: 'beat',
      beat: this.beat({
        sequence: this.sequence,
        movement: this.movement,
        beatNumber,
        event,
        handler: handler !== '' ? handler : event !== '' ? event : UNKNOWN_HANDLER,
        plugin,
        kind: '',
        correlationId: this.runId,
        // Plain lines are printed when the beat ends.
        startMs: endMs - durationMs,
        durationMs,
        error: failed ? buildBeatError('Error', message, '') : undefined,
        service: undefined,
      }),
    };
  }

  /** A beat from what a log line says; `service` undefined means the reader's default service. */
  private beat(
    b: Pick<Beat, 'sequence' | 'movement' | 'beatNumber' | 'event' | 'handler' | 'plugin' | 'kind' | 'correlationId' | 'startMs' | 'durationMs' | 'error'> & {
      service: string | undefined;
    },
  ): Beat {
    const i = this.interner;
    return {
      service: i.intern(b.service ?? this.service),
      serviceVersion: '',
      sequence: i.intern(b.sequence),
      movement: i.intern(b.movement),
      beatNumber: b.beatNumber,
      event: i.intern(b.event),
      handler: i.intern(b.handler),
      plugin: i.intern(b.plugin),
      kind: b.kind,
      correlationId: b.correlationId,
      startMs: b.startMs,
      durationMs: b.durationMs,
      status: b.error === undefined ? STATUS_OK : STATUS_ERROR,
      error: b.error,
      traceId: '',
      spanId: '',
      parentSpanId: '',
      spanName: i.intern(b.event !== '' ? b.event : b.handler),
      attributes: {},
    };
  }
}

function pickRaw(o: JsonRecord, names: readonly string[]): unknown {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n];
  return undefined;
}

/** `error` as a string, an Error-like object, or just `true`. */
function errorFrom(v: unknown): BeatError {
  if (typeof v === 'string') return buildBeatError('Error', v, '');
  if (typeof v === 'object' && v !== null) {
    const o = v as JsonRecord;
    return buildBeatError(str(o['type']) ?? str(o['name']) ?? 'Error', str(o['message']) ?? '', str(o['stack']) ?? str(o['stacktrace']) ?? '');
  }
  return buildBeatError('Error', '', '');
}
