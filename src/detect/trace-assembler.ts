import type { Beat } from '../model/beat.js';

/**
 * Groups spans by trace id into sequence runs. Pure and bounded: the in-flight set holds at most
 * `maxInflightRuns` runs (the least recently active one is evicted and counted), each run keeps at
 * most `maxSpansPerRun` spans, and a ring of recently closed runs answers `traceBeats()` for
 * diagnosis. Time only comes from the data (span end times) and from the `nowMs` of `close()`.
 *
 * Which spans are beats (see docs/detection.md, "Behavioral and coverage"):
 *  1. a non-root span that carries beat identity (beat.number, beat.movement or beat.event), or
 *  2. a direct child of the root span, or, while the root is unknown, a span whose parent is not
 *     in the trace (its parent is presumably the root we have not received);
 *  3. the root span itself only when it carries a beat number (a one-span sequence).
 * Everything else (database calls, HTTP clients, ...) stays in the run for diagnosis only.
 */
export interface SequenceRun {
  traceId: string;
  /** Every span of the trace seen so far, in arrival order, children included (bounded). */
  spans: Beat[];
  root: Beat | undefined;
  /** beat.sequence of the first span carrying one, else the root span name, else ''. */
  sequence: string;
  /** Latest span end seen, data time. */
  lastActivityMs: number;
  firstStartMs: number;
  droppedSpans: number;
  /** runBeats() of the run as of `beatsAt` spans (recomputed only when spans arrived since). */
  beats?: Beat[];
  beatsAt?: number;
}

export type RunOutcome = 'complete' | 'incomplete' | 'evicted';

export interface ClosedRun {
  run: SequenceRun;
  outcome: RunOutcome;
  sequence: string;
  service: string;
  /** Handler beats (see the rule above), ordered by start time. */
  beats: Beat[];
}

export interface TraceAssemblerOptions {
  maxInflightRuns: number;
  /** No new span for this long closes a run. */
  runTimeoutMs: number;
  /** Once the root span arrived, wait this long for stragglers from other services. */
  rootGraceMs: number;
  maxSpansPerRun?: number;
  /** Closed runs kept for traceBeats(). */
  recentRuns?: number;
}

/** Judges a run that has not timed out yet: true when every expected beat is already there. */
export type RunSatisfied = (sequence: string, beats: Beat[]) => boolean;
/** For a run that timed out without its root: true when it nevertheless reached its last beat. */
export type RunReachedEnd = (sequence: string, beats: Beat[]) => boolean;

/** Recomputes the sequence name from the spans (the assembler keeps `run.sequence` current). */
export function runSequenceName(run: SequenceRun): string {
  for (const span of run.spans) if (span.sequence !== '') return span.sequence;
  return run.root ? run.root.spanName : '';
}

export function runService(run: SequenceRun): string {
  if (run.root) return run.root.service;
  const first = run.spans[0];
  return first ? first.service : '';
}

function hasBeatIdentity(span: Beat): boolean {
  return span.beatNumber > 0 || span.movement !== '' || span.event !== '';
}

/** The handler beats of a run, by the rule in the file comment, ordered by start time. */
export function runBeats(run: SequenceRun): Beat[] {
  const out: Beat[] = [];
  const root = run.root;
  let ids: Set<string> | undefined;
  if (!root) {
    ids = new Set<string>();
    for (const span of run.spans) ids.add(span.spanId);
  }
  for (const span of run.spans) {
    if (span === root) {
      if (span.beatNumber > 0) out.push(span);
      continue;
    }
    if (hasBeatIdentity(span)) out.push(span);
    else if (root) {
      if (span.parentSpanId === root.spanId) out.push(span);
    } else if (span.parentSpanId !== '' && !ids!.has(span.parentSpanId)) out.push(span);
  }
  out.sort((a, b) => a.startMs - b.startMs || a.beatNumber - b.beatNumber);
  return out;
}

/** runBeats(), cached on the run until another span arrives. */
function currentBeats(run: SequenceRun): Beat[] {
  if (run.beats === undefined || run.beatsAt !== run.spans.length) {
    run.beats = runBeats(run);
    run.beatsAt = run.spans.length;
  }
  return run.beats;
}

export class TraceAssembler {
  private readonly inflight = new Map<string, SequenceRun>();
  private readonly recent = new Map<string, ClosedRun>();
  // Closing order of `recent`, as a ring (deleting a Map's first entry over and over is slow).
  private readonly recentRing: ClosedRun[] = [];
  private recentPos = 0;
  /** Trace of the latest span: already the most recently active run, no re-insert needed. */
  private lastTrace = '';
  private readonly maxSpans: number;
  private readonly maxRecent: number;
  /** Runs pushed out of the in-flight set before they closed. */
  evicted = 0;
  /** Spans dropped because their run was full. */
  droppedSpans = 0;
  private readonly pendingEvicted: ClosedRun[] = [];

  constructor(private readonly opts: TraceAssemblerOptions) {
    this.maxSpans = opts.maxSpansPerRun ?? 256;
    this.maxRecent = opts.recentRuns ?? 2048;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  observe(span: Beat): void {
    const end = span.startMs + span.durationMs;
    let run = this.inflight.get(span.traceId);
    if (run === undefined) {
      const late = this.recent.get(span.traceId);
      if (late !== undefined) {
        // A straggler after its run closed: keep it for diagnosis, the verdict is already made.
        if (late.run.spans.length < this.maxSpans) late.run.spans.push(span);
        return;
      }
      run = { traceId: span.traceId, spans: [], root: undefined, sequence: '', lastActivityMs: end, firstStartMs: span.startMs, droppedSpans: 0 };
      if (this.inflight.size >= this.opts.maxInflightRuns) this.evictOldest();
      this.inflight.set(span.traceId, run);
    } else if (span.traceId !== this.lastTrace) {
      // Re-insert so Map order is least-recently-active first; eviction takes the front. The
      // spans of one run mostly arrive back to back: only the first of them moves it.
      this.inflight.delete(span.traceId);
      this.inflight.set(span.traceId, run);
    }
    this.lastTrace = span.traceId;
    if (span.parentSpanId === '') run.root = span;
    // An explicit beat.sequence wins over the root span name, whichever arrives first.
    if (span.sequence !== '' && (run.sequence === '' || run.sequence === run.root?.spanName)) run.sequence = span.sequence;
    else if (run.sequence === '' && span.parentSpanId === '') run.sequence = span.spanName;
    if (run.spans.length < this.maxSpans) run.spans.push(span);
    else {
      run.droppedSpans++;
      this.droppedSpans++;
    }
    if (end > run.lastActivityMs) run.lastActivityMs = end;
    if (span.startMs < run.firstStartMs) run.firstStartMs = span.startMs;
  }

  private evictOldest(): void {
    const oldest = this.inflight.keys().next();
    if (oldest.done) return;
    const run = this.inflight.get(oldest.value)!;
    this.inflight.delete(oldest.value);
    this.evicted++;
    this.pendingEvicted.push(this.finish(run, 'evicted'));
  }

  private finish(run: SequenceRun, outcome: RunOutcome): ClosedRun {
    const closed: ClosedRun = { run, outcome, sequence: run.sequence, service: runService(run), beats: currentBeats(run) };
    run.beats = undefined;
    this.recent.set(run.traceId, closed);
    if (this.recentRing.length < this.maxRecent) this.recentRing.push(closed);
    else {
      const old = this.recentRing[this.recentPos]!;
      // The same trace may have closed again since (a run re-opened by late spans).
      if (this.recent.get(old.run.traceId) === old) this.recent.delete(old.run.traceId);
      this.recentRing[this.recentPos] = closed;
      this.recentPos = (this.recentPos + 1) % this.maxRecent;
    }
    return closed;
  }

  /**
   * Closes the runs that are done at `nowMs`: root seen and (all expected beats present or the
   * root grace passed), or no new span for runTimeoutMs. A timed-out run without root is
   * 'incomplete' unless `reachedEnd` says its last expected beat is there. Evicted runs since the
   * previous call are returned too, with outcome 'evicted'.
   */
  close(nowMs: number, satisfied?: RunSatisfied, reachedEnd?: RunReachedEnd): ClosedRun[] {
    const out = this.pendingEvicted.splice(0);
    for (const run of this.inflight.values()) {
      const idle = nowMs - run.lastActivityMs;
      let outcome: RunOutcome | undefined;
      if (run.root !== undefined) {
        if (idle >= this.opts.rootGraceMs || idle >= this.opts.runTimeoutMs) outcome = 'complete';
        else if (satisfied !== undefined && satisfied(run.sequence, currentBeats(run))) outcome = 'complete';
      } else if (idle >= this.opts.runTimeoutMs) {
        outcome = reachedEnd !== undefined && reachedEnd(run.sequence, currentBeats(run)) ? 'complete' : 'incomplete';
      }
      if (outcome !== undefined) {
        this.inflight.delete(run.traceId);
        out.push(this.finish(run, outcome));
      }
    }
    return out;
  }

  /** Spans of an in-flight or recently closed run. */
  traceBeats(traceId: string): Beat[] | undefined {
    const run = this.inflight.get(traceId) ?? this.recent.get(traceId)?.run;
    return run ? run.spans.slice() : undefined;
  }

  resolvedSequence(traceId: string): string | undefined {
    const live = this.inflight.get(traceId);
    if (live) return live.sequence === '' ? undefined : live.sequence;
    const closed = this.recent.get(traceId);
    return closed && closed.sequence !== '' ? closed.sequence : undefined;
  }
}
