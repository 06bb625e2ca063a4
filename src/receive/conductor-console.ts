import { MAX_BEAT_KIND_LENGTH, STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../model/beat.js';
import type { Sequence } from '../model/sequence.js';
import { UNKNOWN_SERVICE } from './beat-builder.js';
import { buildBeatError } from './fingerprint.js';
import { StringInterner } from './intern.js';

/**
 * Reads the console output of the real musical-conductor library (1.4.x) into beats. Every line
 * form comes from the library's own console calls (test/fixtures/conductor-logs/capture.mjs
 * records them by running it; docs/beat-conventions.md, "Conductor logs", lists them):
 *
 *   ExecutionQueue: Now executing "<sequence>"                  a run starts
 *   MovementExecutor: Starting movement "<movement>" with N beats
 *   🆔 Request ID: <request id>                                 (EventLogger, inside the movement group)
 *   PerformanceTracker: Started timing beat N for <sequence>
 *   🎵 Beat N Started: <title> (<event>)   🎯 Event: <event>    (EventLogger)
 *   { sequence: '<sequence>', movement: '...', beat: N, ... }  (EventLogger; Node prints it over
 *                                                                 several lines, Chrome on one)
 *   PerformanceTracker: Beat N completed in X.XXms              a duration, used when the next is missing
 *   BeatExecutor: Beat N (<event>) completed in Xms             the beat is done, its duration (whole ms,
 *                                                                 = beat-completed's executionTime)
 *   BeatExecutor: Beat N (<event>) failed: ...
 *   DataBaton: <diff> | seq=<sequence> beat=N|? event=<event> handler=<handler>[ plugin=<plugin> req=<id>]
 *                                                              a handler finished (often after its beat,
 *                                                              even after its run, for async handlers)
 *   PluginManager: Handler execution failed for <Plugin>.<handler>: Error: <message>  (+ stack lines)
 *   EventBus: Subscribed to "<event>" (...) (plugin: <Plugin>:<sequence id>)   mount: event -> plugin
 *   SequenceExecutor: Sequence "<sequence>" completed in Xms | failed: ...      a run ends
 *
 * in the shapes they are exported in: Node stdout (group indentation), Chrome console exports
 * (`File.js:NN ` prefix, `chunk.js?v=hash:NN` under Vite, optionally after `HH:MM:SS.mmm `), an
 * ISO timestamp prefix, or the
 * RenderX desktop host's `[YYYY-MM-DD HH:mm:ss.fff zzz] [LEVEL] Source: ` prefix.
 *
 * The conductor runs one sequence at a time, so beat lines belong to the run being executed;
 * handler lines are matched to runs by request id when they carry one, else by sequence and event
 * (oldest run still waiting for that handler first), and handler failures by plugin. A beat's
 * handler is the one its handler line names, else the one the declared sequences give for its
 * sequence and event, else its event. Runs are handed out once 64 later runs have ended (late
 * handler lines arrive within a few runs) or at the end of the input (`finish()`).
 */
export interface DeclaredBeat {
  handler: string;
  kind: string;
}

/** `<sequence name or id>\u0000<event>` -> the handler and kind the sequence files declare. */
export function declaredBeats(sequences: readonly Sequence[] = []): Map<string, DeclaredBeat> {
  const out = new Map<string, DeclaredBeat>();
  for (const seq of sequences) {
    for (const m of seq.movements) {
      for (const b of m.beats) {
        const entry = { handler: b.handler, kind: b.kind ?? '' };
        for (const name of [seq.name, seq.id]) {
          const key = `${name}\u0000${b.event}`;
          if (!out.has(key)) out.set(key, entry);
        }
      }
    }
  }
  return out;
}

export interface ConductorConsoleOptions {
  service?: string;
  /** File time: the date for time-of-day prefixes, the start for logs without any time. */
  defaultTimeMs?: number;
  /** Declared sequences: handler names for beats whose handler line is missing. */
  declared?: readonly Sequence[];
}

interface ConsoleBeat {
  beat: number;
  event: string;
  title: string;
  startMs: number | undefined;
  durationMs: number | undefined;
  done: boolean;
  handler: string;
  plugin: string;
  error: BeatError | undefined;
}

interface Run {
  sequence: string;
  requestId: string;
  movement: string;
  beats: ConsoleBeat[];
  ended: boolean;
}

/** Prefixes of exported console lines, and the time they carry. */
const DESKTOP_RE = /^\[(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}:?\d{2})?\]\s*\[\w+\]\s*(?:[\w.-]+:\s)?/;
const ISO_RE = /^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?\s+/;
const CLOCK_RE = /^(\d{2}):(\d{2}):(\d{2})\.(\d{3})\s+/;
const SOURCE_RE = /^(?:[\w.-]+\.(?:[cm]?[jt]sx?)(?:\?[\w=&.-]*)?|VM\d+):\d+\s+/;
/** Indentation, emoji and their modifiers that lead the library's messages. */
const DECORATION_RE = /^(?:\s|\p{Extended_Pictographic}|\uFE0F|\u200D)*/u;

const NOW_EXECUTING_RE = /^ExecutionQueue: Now executing "(.*)"$/;
const MOVEMENT_RE = /^MovementExecutor: Starting movement "(.*)" with \d+ beats$/;
const REQUEST_RE = /^Request ID: (\S+)$/;
const STARTED_TIMING_RE = /^PerformanceTracker: Started timing beat (\d+) for (.+)$/;
const BEAT_STARTED_RE = /^Beat (\d+) Started: (.*) \(([^()]+)\)$/;
const EVENT_RE = /^Event: (\S+)$/;
const TRACKER_DONE_RE = /^PerformanceTracker: Beat (\d+) completed in ([\d.]+)ms$/;
const COMPLETED_IN_RE = /^Completed in ([\d.]+)ms$/;
const BEAT_DONE_RE = /^BeatExecutor: Beat (\d+) \((.*)\) completed in (\d+(?:\.\d+)?)ms$/;
const BEAT_FAILED_RE = /^BeatExecutor: Beat (\d+) \((.*)\) failed:\s*(.*)$/;
const BATON_RE = /^DataBaton: .*? \| seq=(.*?) beat=(\S+) event=(\S+) handler=(\S+)(?: plugin=(\S+) req=(\S+))?/;
const HANDLER_FAILED_RE = /^PluginManager: Handler execution failed for ([^.\s]+)\.([^:\s]+): (?:([\w$.]*(?:Error|Exception)): )?(.*)$/;
const SUBSCRIBED_RE = /^EventBus: Subscribed to "(.+)" \(\d+ total subscribers?\) \(plugin: ([^:)]+):([^)]+)\)$/;
const SEQUENCE_END_RE = /^SequenceExecutor: Sequence "(.*)" (completed in \d+(?:\.\d+)?ms|failed:.*)$/;
const OBJECT_SEQUENCE_RE = /\bsequence: '([^']*)'/;
const OBJECT_BEAT_RE = /\bbeat: (\d+)/;
const STACK_RE = /^\s+at\s/;

const MAX_ENDED_RUNS = 64;
const MAX_OBJECT_LINES = 32;

export class ConductorConsoleReader {
  private readonly service: string;
  private readonly interner = new StringInterner(10_000);
  private readonly declared: Map<string, DeclaredBeat>;
  /** Event -> plugin, from the mount lines. */
  private readonly eventPlugin = new Map<string, string>();
  private readonly runs: Run[] = [];
  private current: Run | undefined;
  private lastBeat: ConsoleBeat | undefined;
  private readonly out: Beat[] = [];
  private baseDayMs: number;
  private timeMs: number | undefined;
  private sawTime = false;
  /** Clock for logs without any time: advanced by each beat's duration. */
  private cursorMs: number;
  private objectLines: string[] | undefined;
  private failure: { beat: ConsoleBeat; lines: string[] } | undefined;
  /** Lines understood so far. */
  understood = 0;

  constructor(opts: ConductorConsoleOptions = {}) {
    this.service = opts.service ?? UNKNOWN_SERVICE;
    const t = opts.defaultTimeMs ?? 0;
    this.cursorMs = t;
    this.baseDayMs = t - (t % 86_400_000);
    this.declared = declaredBeats(opts.declared);
  }

  /** Reads one line; true when it was a conductor line (or part of one). */
  readLine(raw: string): boolean {
    const text = this.strip(raw);
    const ok = this.readMessage(text, raw);
    if (ok) this.understood++;
    return ok;
  }

  /** Beats of runs that are complete for sure (their late lines are past). */
  take(): Beat[] {
    const beats = this.out.splice(0);
    return beats;
  }

  /** Ends the input: every run still held becomes beats. */
  finish(): Beat[] {
    this.endFailure();
    for (const run of this.runs.splice(0)) this.emit(run);
    this.current = undefined;
    return this.take();
  }

  private strip(raw: string): string {
    let line = raw.replace(/^\uFEFF/, '');
    let m = DESKTOP_RE.exec(line);
    if (m !== null) {
      this.setTime(Date.parse(`${m[1]}T${m[2]}${normaliseZone(m[3])}`));
      line = line.slice(m[0].length);
    } else if ((m = ISO_RE.exec(line)) !== null) {
      this.setTime(Date.parse(m[1]!.replace(' ', 'T').replace(',', '.')));
      line = line.slice(m[0].length);
    } else if ((m = CLOCK_RE.exec(line)) !== null) {
      this.setTime(this.baseDayMs + ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]));
      line = line.slice(m[0].length);
    }
    const s = SOURCE_RE.exec(line);
    if (s !== null) line = line.slice(s[0].length);
    return line;
  }

  private setTime(ms: number): void {
    if (Number.isNaN(ms)) return;
    this.timeMs = ms;
    this.sawTime = true;
  }

  private readMessage(text: string, raw: string): boolean {
    if (this.objectLines !== undefined) {
      this.objectLines.push(text);
      if (text.trim() === '}' || this.objectLines.length > MAX_OBJECT_LINES) this.endObject();
      return true;
    }
    if (this.failure !== undefined) {
      if (STACK_RE.test(text) || STACK_RE.test(raw)) {
        this.failure.lines.push(text.trim());
        return true;
      }
      this.endFailure();
    }
    const trimmed = text.trim();
    if (trimmed === '{') {
      this.objectLines = [trimmed];
      return true;
    }
    if (trimmed.startsWith('{') && trimmed.endsWith('}') && OBJECT_SEQUENCE_RE.test(trimmed)) return this.readObject(trimmed);
    if (trimmed.startsWith('{') && OBJECT_SEQUENCE_RE.test(trimmed)) return this.readObject(trimmed);
    const msg = trimmed.replace(DECORATION_RE, '');
    return this.readStatement(msg);
  }

  private endObject(): void {
    const text = this.objectLines!.join(' ');
    this.objectLines = undefined;
    this.readObject(text);
  }

  /** EventLogger's `{ sequence: '...', movement: '...', beat: N, ... }`: which beat is being played. */
  private readObject(text: string): boolean {
    const seq = OBJECT_SEQUENCE_RE.exec(text);
    const beat = OBJECT_BEAT_RE.exec(text);
    if (seq === null || beat === null) return false;
    this.beatOf(seq[1]!, Number(beat[1]));
    return true;
  }

  private readStatement(msg: string): boolean {
    let m: RegExpExecArray | null;
    if ((m = BEAT_DONE_RE.exec(msg)) !== null) {
      const b = this.beatOf(this.current?.sequence ?? '', Number(m[1]));
      if (b.event === '') b.event = m[2]!;
      // The conductor's own figure (its beat-completed executionTime); PerformanceTracker's
      // finer one is keyed by sequence and beat only and drifts when runs of a sequence queue up.
      b.durationMs = Number(m[3]);
      this.complete(b);
      return true;
    }
    if ((m = TRACKER_DONE_RE.exec(msg)) !== null) {
      const b = this.beatOf(this.current?.sequence ?? '', Number(m[1]));
      b.durationMs ??= Number(m[2]);
      return true;
    }
    if ((m = COMPLETED_IN_RE.exec(msg)) !== null) {
      if (this.lastBeat !== undefined) this.lastBeat.durationMs ??= Number(m[1]);
      return true;
    }
    if ((m = BATON_RE.exec(msg)) !== null) return this.readBaton(m);
    if ((m = STARTED_TIMING_RE.exec(msg)) !== null) {
      const b = this.beatOf(m[2]!, Number(m[1]));
      b.startMs ??= this.timeMs;
      return true;
    }
    if ((m = BEAT_STARTED_RE.exec(msg)) !== null) {
      const b = this.beatOf(this.current?.sequence ?? '', Number(m[1]));
      b.title = m[2]!;
      b.event = m[3]!;
      b.startMs ??= this.timeMs;
      return true;
    }
    if ((m = EVENT_RE.exec(msg)) !== null) {
      if (this.lastBeat !== undefined && this.lastBeat.event === '') this.lastBeat.event = m[1]!;
      return true;
    }
    if ((m = HANDLER_FAILED_RE.exec(msg)) !== null) return this.readHandlerFailure(m);
    if ((m = BEAT_FAILED_RE.exec(msg)) !== null) {
      const b = this.beatOf(this.current?.sequence ?? '', Number(m[1]));
      if (b.event === '') b.event = m[2]!;
      b.error ??= buildBeatError('Error', m[3]!, '');
      // No duration on this line: from the timestamps when the log has them.
      if (b.durationMs === undefined && b.startMs !== undefined && this.timeMs !== undefined) b.durationMs = this.timeMs - b.startMs;
      this.complete(b);
      return true;
    }
    if ((m = NOW_EXECUTING_RE.exec(msg)) !== null) {
      this.startRun(m[1]!);
      return true;
    }
    if ((m = MOVEMENT_RE.exec(msg)) !== null) {
      if (this.current !== undefined) this.current.movement = m[1]!;
      return true;
    }
    if ((m = REQUEST_RE.exec(msg)) !== null) {
      if (this.current !== undefined && this.current.requestId === '') this.current.requestId = m[1]!;
      return true;
    }
    if ((m = SEQUENCE_END_RE.exec(msg)) !== null) {
      if (this.current !== undefined && this.current.sequence === m[1]) {
        this.current.ended = true;
        this.current = undefined;
        this.release();
      }
      return true;
    }
    if ((m = SUBSCRIBED_RE.exec(msg)) !== null) {
      this.eventPlugin.set(m[1]!, m[2]!);
      return true;
    }
    return false;
  }

  private startRun(sequence: string): Run {
    if (this.current !== undefined) this.current.ended = true;
    const run: Run = { sequence, requestId: '', movement: '', beats: [], ended: false };
    this.runs.push(run);
    this.current = run;
    this.release();
    return run;
  }

  /** The beat numbered `n` of the run being played (a new run when this one already finished it). */
  private beatOf(sequence: string, n: number): ConsoleBeat {
    let run = this.current;
    if (run === undefined || (sequence !== '' && run.sequence !== '' && run.sequence !== sequence)) run = this.startRun(sequence);
    else if (run.sequence === '') run.sequence = sequence;
    let b = run.beats.find((x) => x.beat === n);
    if (b !== undefined && b.done) {
      // The same beat again without a run boundary in between: a new run of the sequence.
      run = this.startRun(run.sequence);
      b = undefined;
    }
    if (b === undefined) {
      b = { beat: n, event: '', title: '', startMs: undefined, durationMs: undefined, done: false, handler: '', plugin: '', error: undefined };
      run.beats.push(b);
    }
    this.lastBeat = b;
    return b;
  }

  private complete(b: ConsoleBeat): void {
    b.done = true;
  }

  private readBaton(m: RegExpExecArray): boolean {
    const [, seq, beatNo, event, handler, plugin, req] = m;
    if (handler === '?') {
      // BeatExecutor's own baton line: beat and event, no handler.
      if (/^\d+$/.test(beatNo!)) {
        const b = this.beatOf(seq === '?' ? '' : seq!, Number(beatNo));
        if (b.event === '') b.event = event!;
      }
      return true;
    }
    const b = this.waitingBeat((r) => (req !== undefined && req !== '?' && r.requestId !== '' ? r.requestId === req : r.sequence === seq), (x) => x.event === event);
    if (b !== undefined) {
      b.handler = handler!;
      if (plugin !== undefined && plugin !== '?') b.plugin = plugin;
    }
    return true;
  }

  private readHandlerFailure(m: RegExpExecArray): boolean {
    const [, plugin, handler, type, message] = m;
    const declaredEvent = (r: Run, x: ConsoleBeat): boolean => this.declared.get(`${r.sequence}\u0000${x.event}`)?.handler === handler;
    const pluginOf = (x: ConsoleBeat): string => (x.plugin !== '' ? x.plugin : (this.eventPlugin.get(x.event) ?? ''));
    // Handlers of one run finish in beat order, so the one that threw is the first beat of its
    // run still waiting for a handler line: the oldest such run of the plugin.
    const b = this.waitingBeat(() => true, (x, r) => declaredEvent(r, x)) ?? this.firstWaitingBeat((x) => pluginOf(x) === plugin);
    if (b === undefined) return true;
    b.handler = handler!;
    b.plugin = plugin!;
    this.failure = { beat: b, lines: [`${type ?? 'Error'}: ${message!}`] };
    b.error = buildBeatError(type ?? 'Error', message!, '');
    return true;
  }

  private endFailure(): void {
    const f = this.failure;
    if (f === undefined) return;
    this.failure = undefined;
    const e = f.beat.error!;
    f.beat.error = buildBeatError(e.type, e.message, f.lines.join('\n    '));
  }

  /** The oldest beat without a handler line that matches (handlers finish in order per run). */
  private waitingBeat(runMatches: (r: Run) => boolean, beatMatches: (b: ConsoleBeat, r: Run) => boolean): ConsoleBeat | undefined {
    for (const r of this.runs) {
      if (!runMatches(r)) continue;
      for (const b of r.beats) if (b.handler === '' && beatMatches(b, r)) return b;
    }
    return undefined;
  }

  /** Per run (oldest first), the first beat still without a handler line: the one running. */
  private firstWaitingBeat(matches: (b: ConsoleBeat) => boolean): ConsoleBeat | undefined {
    for (const r of this.runs) {
      const b = r.beats.find((x) => x.handler === '');
      if (b !== undefined && matches(b)) return b;
    }
    return undefined;
  }

  /** Ended runs beyond the newest MAX_ENDED_RUNS become beats. */
  private release(): void {
    let ended = 0;
    for (const r of this.runs) if (r.ended) ended++;
    while (ended > MAX_ENDED_RUNS) {
      const i = this.runs.findIndex((r) => r.ended);
      this.emit(this.runs.splice(i, 1)[0]!);
      ended--;
    }
  }

  private emit(run: Run): void {
    const i = this.interner;
    for (const b of run.beats) {
      if (b.durationMs === undefined || b.event === '') continue;
      const declared = this.declared.get(`${run.sequence}\u0000${b.event}`);
      const handler = b.handler !== '' ? b.handler : (declared?.handler ?? b.event);
      let startMs = b.startMs;
      if (!this.sawTime) {
        startMs = this.cursorMs;
        this.cursorMs += b.durationMs;
      }
      const kind = declared?.kind ?? '';
      this.out.push({
        service: i.intern(this.service),
        serviceVersion: '',
        sequence: i.intern(run.sequence),
        movement: i.intern(run.movement),
        beatNumber: b.beat,
        event: i.intern(b.event),
        handler: i.intern(handler),
        plugin: i.intern(b.plugin !== '' ? b.plugin : (this.eventPlugin.get(b.event) ?? '')),
        kind: kind.length <= MAX_BEAT_KIND_LENGTH ? kind : '',
        correlationId: run.requestId,
        startMs: startMs ?? this.cursorMs,
        durationMs: b.durationMs,
        status: b.error === undefined ? STATUS_OK : STATUS_ERROR,
        error: b.error,
        traceId: '',
        spanId: '',
        parentSpanId: '',
        spanName: i.intern(b.event),
        attributes: {},
      });
    }
  }
}

function normaliseZone(zone: string | undefined): string {
  if (zone === undefined) return 'Z';
  return zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
}
