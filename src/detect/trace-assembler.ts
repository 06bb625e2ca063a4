import type { Beat } from '../model/beat.js';
import { TraceSlots } from './trace-slots.js';

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
  /** Stamp of the run's newest entry in the activity queue; -1 once it left the in-flight set. */
  stamp?: number;
  /** Batch in which the run was last queued for closeSatisfied() (so it is queued once per batch). */
  queuedIn?: number;
  /** Set when the run closed (or was evicted): it is then one of the recently closed runs. */
  closed?: ClosedRun;
  /** The trace id's slot in the assembler's TraceSlots while the run is in flight or recently closed. */
  slot?: number;
  /** Creation order among runs (close() visits in-flight runs in it). */
  created?: number;
}

export type RunOutcome = 'complete' | 'incomplete' | 'evicted';

export interface ClosedRun {
  run: SequenceRun;
  outcome: RunOutcome;
  sequence: string;
  service: string;
  /** Handler beats (see the rule above), ordered by start time; empty for an evicted run. */
  beats: Beat[];
}

export interface TraceAssemblerOptions {
  maxInflightRuns: number;
  /** Spans held by all in-flight runs together; the least recently active runs are evicted to stay under it. */
  maxInflightSpans?: number;
  /** Evicted runs kept for the next close(); more are counted in droppedEvictions. */
  maxPendingEvicted?: number;
  /** Spans held by the recently closed runs together (stragglers included). */
  maxRecentSpans?: number;
  /** No new span for this long closes a run. */
  runTimeoutMs: number;
  /** Once the root span arrived, wait this long for stragglers from other services. */
  rootGraceMs: number;
  maxSpansPerRun?: number;
  /** Closed runs kept for traceBeats(). */
  recentRuns?: number;
  /** Called with each run as it is evicted (before it waits, or not, for the next close()). */
  onEvict?: (run: ClosedRun) => void;
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
  sortByStart(out);
  return out;
}

const byCreation = (a: SequenceRun, b: SequenceRun): number => a.created! - b.created!;

const byStart = (a: Beat, b: Beat): number => a.startMs - b.startMs || a.beatNumber - b.beatNumber;

/**
 * Sorts beats by start time, then beat number, keeping the order of equals (as Array.sort does):
 * by insertion for the few beats of a typical run, which costs less than a sort call per run.
 */
function sortByStart(out: Beat[]): void {
  if (out.length > 16) {
    out.sort(byStart);
    return;
  }
  for (let i = 1; i < out.length; i++) {
    const x = out[i]!;
    let j = i - 1;
    while (j >= 0 && byStart(out[j]!, x) > 0) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = x;
  }
}

/** runBeats(), cached on the run until another span arrives. */
function currentBeats(run: SequenceRun): Beat[] {
  if (run.beats === undefined || run.beatsAt !== run.spans.length) {
    run.beats = runBeats(run);
    run.beatsAt = run.spans.length;
  }
  return run.beats;
}

/**
 * A FIFO over an array with a moving head: O(1) push and shift, compacted when the consumed
 * front outgrows the rest (amortised O(1)). Array.shift() is O(n), and so is taking the first
 * key of a Map whose front entries were deleted (V8 walks the holes), which is what this replaces.
 */
class Fifo<T> {
  items: T[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * In-flight runs in order of activity: each entry is a run and its stamp at the time; older entries
 * of a run (its stamp has moved on) are dead. A FIFO like Fifo, with runs and stamps in two
 * parallel arrays instead of an object per entry (one was allocated per run touched).
 */
class ActivityQueue {
  private runs: (SequenceRun | undefined)[] = [];
  private stamps: number[] = [];
  private head = 0;
  /** Stamp of the entry shift() returned last. */
  shiftedStamp = 0;

  get size(): number {
    return this.runs.length - this.head;
  }

  push(run: SequenceRun, stamp: number): void {
    this.runs.push(run);
    this.stamps.push(stamp);
  }

  /** The oldest entry's run (its stamp in shiftedStamp), removed; undefined when empty. */
  shift(): SequenceRun | undefined {
    if (this.head >= this.runs.length) return undefined;
    const run = this.runs[this.head]!;
    this.shiftedStamp = this.stamps[this.head]!;
    this.runs[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.runs.length) {
      this.runs = this.runs.slice(this.head);
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
    return run;
  }

  /** Keeps the live entries only, in place (amortised: call when at least half are dead). */
  retainLive(): void {
    const runs = this.runs;
    const stamps = this.stamps;
    let k = 0;
    for (let i = this.head; i < runs.length; i++) {
      const run = runs[i]!;
      if (run.stamp !== stamps[i]) continue;
      runs[k] = run;
      stamps[k] = stamps[i]!;
      k++;
    }
    runs.length = k;
    stamps.length = k;
    this.head = 0;
  }
}

export class TraceAssembler {
  /**
   * In-flight runs and recently closed ones (run.closed set) by trace id: one table, so a new
   * trace costs one lookup and closing a run none (a trace is never both: a span of a recently
   * closed run joins it as a straggler instead of opening a run). The ids are numbered by
   * TraceSlots (32-hex-digit ids kept as four words in an open-addressing table) and the runs sit
   * in an array by slot: a Map keyed by the id strings hashed every new id string and, with ten
   * thousand and more entries, missed the cache on each lookup and delete.
   */
  private readonly ids = new TraceSlots();
  private bySlot: (SequenceRun | undefined)[] = [];
  private created = 0;
  private inflightRuns = 0;
  /** Closing order of the recently closed runs. */
  private readonly recentQueue = new Fifo<ClosedRun>();
  private recentSpans = 0;
  /**
   * In-flight runs, least recently active first. A run that becomes active again is pushed anew
   * with a higher stamp; its older entries are skipped (and compacted away) later.
   */
  private readonly activity = new ActivityQueue();
  private stampClock = 0;
  /** Trace of the latest span: already the most recently active run, no re-insert needed. */
  private lastTrace = '';
  private lastRun: SequenceRun | undefined;
  private readonly maxSpans: number;
  private readonly maxRecent: number;
  private readonly maxInflightSpans: number;
  private readonly maxPendingEvicted: number;
  private readonly maxRecentSpans: number;
  /** Spans held by in-flight runs. */
  inflightSpans = 0;
  /** Runs pushed out of the in-flight set before they closed (over maxInflightRuns or maxInflightSpans). */
  evicted = 0;
  /** Spans dropped because their run was full. */
  droppedSpans = 0;
  /** Evicted runs not kept for close() because maxPendingEvicted were already waiting. */
  droppedEvictions = 0;
  /** Late spans of closed runs not kept because the recent runs held maxRecentSpans. */
  droppedLateSpans = 0;
  /** Activity entries looked at to find the run to evict (stays ~1 per eviction). */
  evictionVisits = 0;
  private pendingEvicted: ClosedRun[] = [];
  /** Runs with their root that got spans since the last closeSatisfied() or close(). */
  private touchedRooted: SequenceRun[] = [];
  /** Counts the batches closeSatisfied() and close() ended (see SequenceRun.queuedIn). */
  private batch = 0;

  constructor(private readonly opts: TraceAssemblerOptions) {
    this.maxSpans = opts.maxSpansPerRun ?? 256;
    this.maxRecent = opts.recentRuns ?? 2048;
    this.maxInflightSpans = opts.maxInflightSpans ?? Infinity;
    this.maxPendingEvicted = opts.maxPendingEvicted ?? 1024;
    this.maxRecentSpans = opts.maxRecentSpans ?? Infinity;
  }

  get pendingEvictedCount(): number {
    return this.pendingEvicted.length;
  }

  get recentSpanCount(): number {
    return this.recentSpans;
  }

  /** Entries in the activity queue, dead ones included (bounded by 2 x in-flight runs + 1024). */
  get activityEntries(): number {
    return this.activity.size;
  }

  get inflightCount(): number {
    return this.inflightRuns;
  }

  observe(span: Beat): void {
    const end = span.startMs + span.durationMs;
    // The spans of one run mostly arrive back to back: only the first of them looks it up.
    let run = span.traceId === this.lastTrace ? this.lastRun : this.lookup(span.traceId);
    const late = run?.closed;
    if (run === undefined || late !== undefined) {
      if (late !== undefined) {
        // A straggler after its run closed: keep it for diagnosis, the verdict is already made.
        if (late.run.spans.length < this.maxSpans && this.recentSpans < this.maxRecentSpans) {
          late.run.spans.push(span);
          this.recentSpans++;
        } else this.droppedLateSpans++;
        return;
      }
      // Every field set here, so all runs share one object shape.
      run = {
        traceId: span.traceId,
        spans: [],
        root: undefined,
        sequence: '',
        lastActivityMs: end,
        firstStartMs: span.startMs,
        droppedSpans: 0,
        beats: undefined,
        beatsAt: -1,
        stamp: 0,
        queuedIn: -1,
        closed: undefined,
        slot: -1,
        created: this.created++,
      };
      if (this.inflightRuns >= this.opts.maxInflightRuns) this.evictOldest();
      const slot = this.ids.add(span.traceId);
      run.slot = slot;
      this.bySlot[slot] = run;
      this.inflightRuns++;
      this.touch(run);
    } else if (span.traceId !== this.lastTrace) this.touch(run);
    this.lastTrace = span.traceId;
    this.lastRun = run;
    if (span.parentSpanId === '') run.root = span;
    // An explicit beat.sequence wins over the root span name, whichever arrives first.
    if (span.sequence !== '' && (run.sequence === '' || run.sequence === run.root?.spanName)) run.sequence = span.sequence;
    else if (run.sequence === '' && span.parentSpanId === '') run.sequence = span.spanName;
    if (run.spans.length < this.maxSpans) {
      run.spans.push(span);
      if (++this.inflightSpans > this.maxInflightSpans) this.evictOldest();
    } else {
      run.droppedSpans++;
      this.droppedSpans++;
    }
    if (end > run.lastActivityMs) run.lastActivityMs = end;
    if (span.startMs < run.firstStartMs) run.firstStartMs = span.startMs;
    if (run.root !== undefined && run.queuedIn !== this.batch) {
      run.queuedIn = this.batch;
      this.touchedRooted.push(run);
    }
  }

  /**
   * Closes, as 'complete', the runs that got spans since the previous call, have their root and
   * are `satisfied` (every expected beat there): the rule close() applies, applied as soon as the
   * batch that completed the run is in. It needs no clock. Without it every run stayed in flight
   * until the next close() (one per slice), so at full speed the in-flight budget evicted all of
   * them before they were judged. Call it after each batch of spans.
   */
  closeSatisfied(satisfied: RunSatisfied): ClosedRun[] {
    const out: ClosedRun[] = [];
    const runs = this.touchedRooted;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i]!;
      // Evicted (or closed) since it was queued: stamp -1.
      if (run.stamp === -1 || !satisfied(run.sequence, currentBeats(run))) continue;
      out.push(this.finish(run, 'complete'));
    }
    this.endBatch();
    return out;
  }

  private endBatch(): void {
    this.touchedRooted.length = 0;
    this.batch++;
  }

  /** Marks the run most recently active: a new activity entry, older ones become dead. */
  private touch(run: SequenceRun): void {
    const stamp = ++this.stampClock;
    run.stamp = stamp;
    this.activity.push(run, stamp);
    // Dead entries pile up when runs are touched again and again with no eviction to consume
    // them: compact once they are more than half of the queue (amortised O(1) per touch).
    if (this.activity.size > 2 * this.inflightRuns + 1024) this.activity.retainLive();
  }

  private evictOldest(): void {
    for (let run = this.activity.shift(); run !== undefined; run = this.activity.shift()) {
      this.evictionVisits++;
      if (run.stamp !== this.activity.shiftedStamp) continue;
      this.evicted++;
      const closed = this.finish(run, 'evicted');
      this.opts.onEvict?.(closed);
      if (this.pendingEvicted.length < this.maxPendingEvicted) this.pendingEvicted.push(closed);
      else this.droppedEvictions++;
      return;
    }
  }

  private finish(run: SequenceRun, outcome: RunOutcome): ClosedRun {
    run.stamp = -1;
    this.inflightRuns--;
    if (run === this.lastRun) {
      this.lastRun = undefined;
      this.lastTrace = '';
    }
    this.inflightSpans -= run.spans.length;
    // An evicted run is counted, never judged: its beats are not worth sorting out.
    const closed: ClosedRun = { run, outcome, sequence: run.sequence, service: runService(run), beats: outcome === 'evicted' ? [] : currentBeats(run) };
    run.beats = undefined;
    run.closed = closed;
    this.recentQueue.push(closed);
    this.recentSpans += run.spans.length;
    while (this.recentQueue.size > this.maxRecent || (this.recentSpans > this.maxRecentSpans && this.recentQueue.size > 1)) {
      const old = this.recentQueue.shift()!;
      // The same trace may have closed again since (a run re-opened by late spans).
      const slot = old.run.slot!;
      if (old.run.closed === old && this.bySlot[slot] === old.run) {
        this.ids.remove(slot);
        this.bySlot[slot] = undefined;
      }
      this.recentSpans -= old.run.spans.length;
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
    const out = this.pendingEvicted;
    this.pendingEvicted = [];
    this.endBatch();
    // In-flight runs in the order they were opened (the order the map by trace id kept).
    const inflight: SequenceRun[] = [];
    const bySlot = this.bySlot;
    for (let s = 0; s < bySlot.length; s++) {
      const run = bySlot[s];
      if (run !== undefined && run.closed === undefined) inflight.push(run);
    }
    inflight.sort(byCreation);
    for (const run of inflight) {
      const idle = nowMs - run.lastActivityMs;
      let outcome: RunOutcome | undefined;
      if (run.root !== undefined) {
        if (idle >= this.opts.rootGraceMs || idle >= this.opts.runTimeoutMs) outcome = 'complete';
        else if (satisfied !== undefined && satisfied(run.sequence, currentBeats(run))) outcome = 'complete';
      } else if (idle >= this.opts.runTimeoutMs) {
        outcome = reachedEnd !== undefined && reachedEnd(run.sequence, currentBeats(run)) ? 'complete' : 'incomplete';
      }
      if (outcome !== undefined) {
        out.push(this.finish(run, outcome));
      }
    }
    return out;
  }

  /** The in-flight or recently closed run of a trace. */
  private lookup(traceId: string): SequenceRun | undefined {
    const slot = this.ids.find(traceId);
    return slot === -1 ? undefined : this.bySlot[slot];
  }

  /** Spans of an in-flight or recently closed run. */
  traceBeats(traceId: string): Beat[] | undefined {
    const run = this.lookup(traceId);
    return run ? run.spans.slice() : undefined;
  }

  resolvedSequence(traceId: string): string | undefined {
    const run = this.lookup(traceId);
    if (run === undefined) return undefined;
    const sequence = run.closed !== undefined ? run.closed.sequence : run.sequence;
    return sequence === '' ? undefined : sequence;
  }
}
