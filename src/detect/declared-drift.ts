import type { Finding } from '../model/anomaly.js';
import type { Beat } from '../model/beat.js';
import type { Sequence } from '../model/sequence.js';

/**
 * Declared-vs-played drift: the sequence files and production disagree about which handlers a
 * sequence runs. Two findings per declared sequence, both low severity (the code may be right and
 * the file stale, or the reverse; nothing is failing):
 *  - played, not declared: a beat of the sequence ran a handler its file does not declare, within
 *    the current window;
 *  - declared, never played: after `minRuns` runs, a declared handler did not run during the last
 *    `minRuns` of them.
 * Beats are matched to a declared sequence by `beat.sequence` = its name or id; beats without a
 * sequence are not judged. Memory: per declared sequence, its handlers plus at most
 * `maxUndeclared` others, and a ring of `minRuns` run start times.
 */
export interface DeclaredDriftOptions {
  /** Runs of a sequence before "declared, never played" is judged. */
  minRuns: number;
  /** "Played, not declared" looks this far back (the detection window). */
  horizonMs: number;
  /** Undeclared handlers remembered per sequence. */
  maxUndeclared: number;
}

interface DriftState {
  name: string;
  declared: Set<string>;
  /** Handler -> start of its newest beat. */
  lastPlayed: Map<string, number>;
  undeclared: number;
  /** Start times of the newest runs (ring of minRuns). */
  runStarts: number[];
  runPos: number;
  runs: number;
  lastTrace: string;
  service: string;
}

const MAX_LISTED = 10;

function listed(handlers: string[]): string {
  const shown = handlers.slice(0, MAX_LISTED).join(', ');
  return handlers.length > MAX_LISTED ? `${shown} and ${String(handlers.length - MAX_LISTED)} more` : shown;
}

export class DeclaredDriftDetector {
  private readonly opts: DeclaredDriftOptions;
  private readonly byName = new Map<string, DriftState>();
  private readonly states: DriftState[] = [];

  constructor(declared: readonly Sequence[], opts: Partial<DeclaredDriftOptions> = {}) {
    this.opts = { minRuns: 20, horizonMs: 300_000, maxUndeclared: 32, ...opts };
    for (const seq of declared) {
      if (this.byName.has(seq.name)) continue;
      const state: DriftState = {
        name: seq.name,
        declared: new Set(seq.movements.flatMap((m) => m.beats.map((b) => b.handler))),
        lastPlayed: new Map(),
        undeclared: 0,
        runStarts: [],
        runPos: 0,
        runs: 0,
        lastTrace: '',
        service: '',
      };
      this.states.push(state);
      this.byName.set(seq.name, state);
      if (!this.byName.has(seq.id)) this.byName.set(seq.id, state);
    }
  }

  /** One handler beat (not the span of the run itself). */
  observe(beat: Beat): void {
    if (beat.sequence === '') return;
    const s = this.byName.get(beat.sequence);
    if (s === undefined) return;
    s.service = beat.service;
    // The beats of one run arrive together: a new trace id is a new run.
    if (beat.traceId !== s.lastTrace) {
      s.lastTrace = beat.traceId;
      s.runs++;
      if (s.runStarts.length < this.opts.minRuns) s.runStarts.push(beat.startMs);
      else {
        s.runStarts[s.runPos] = beat.startMs;
        s.runPos = (s.runPos + 1) % this.opts.minRuns;
      }
    }
    const seen = s.lastPlayed.get(beat.handler);
    if (seen === undefined) {
      if (!s.declared.has(beat.handler)) {
        if (s.undeclared >= this.opts.maxUndeclared) return;
        s.undeclared++;
      }
      s.lastPlayed.set(beat.handler, beat.startMs);
    } else if (beat.startMs > seen) s.lastPlayed.set(beat.handler, beat.startMs);
  }

  evaluate(nowMs: number): Finding[] {
    const out: Finding[] = [];
    for (const s of this.states) {
      if (s.runs === 0) continue;
      const since = nowMs - this.opts.horizonMs;
      const extra = [...s.lastPlayed].filter(([h, at]) => !s.declared.has(h) && at >= since).map(([h]) => h).sort();
      if (extra.length > 0) out.push(this.finding(s, nowMs, since, 'played-not-declared', extra));
      if (s.runs < this.opts.minRuns) continue;
      const oldest = Math.min(...s.runStarts);
      const unplayed = [...s.declared].filter((h) => (s.lastPlayed.get(h) ?? -Infinity) < oldest).sort();
      if (unplayed.length > 0) out.push(this.finding(s, nowMs, oldest, 'declared-not-played', unplayed));
    }
    return out;
  }

  private finding(s: DriftState, nowMs: number, fromMs: number, direction: 'played-not-declared' | 'declared-not-played', handlers: string[]): Finding {
    const played = direction === 'played-not-declared';
    return {
      key: `behavioral:${s.service}:${s.name}:declared-drift:${direction}`,
      type: 'behavioral',
      subtype: 'declared-drift',
      severity: 'low',
      confidence: played ? 0.9 : Math.min(1, s.runs / (4 * this.opts.minRuns)),
      service: s.service,
      sequence: s.name,
      windowStartMs: fromMs,
      windowEndMs: nowMs,
      summary: played
        ? `${s.name}: played but not declared in its sequence file: ${listed(handlers)}`
        : `${s.name}: declared in its sequence file but not played in the last ${String(Math.min(s.runs, this.opts.minRuns))} runs: ${listed(handlers)}`,
      observed: { handlers: handlers.length, runs: s.runs },
      expected: { handlers: played ? 0 : s.declared.size },
      details: { direction, handlers: handlers.join(', '), declaredHandlers: s.declared.size },
      exemplars: [],
    };
  }
}
