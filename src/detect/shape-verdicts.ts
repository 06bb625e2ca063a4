import type { Violation, ViolationKind } from './expected-order.js';

/**
 * What judging a run of one shape counts, as `SequenceDetector.record` counts it: each distinct
 * (violation kind, handler) once, at its first occurrence, with the index of the offending beat
 * (-1 for a missing one) and its count key `${kind}\u0001${handler}`.
 */
export interface ShapeVerdict {
  readonly kinds: readonly ViolationKind[];
  readonly handlers: readonly string[];
  /** Count keys, built once per shape instead of once per run (and hashed once by the maps they key). */
  readonly ids: readonly string[];
  /** Index into the run's beats of the offending beat, -1 when there is none. */
  readonly beatIndex: readonly number[];
}

export const NO_VIOLATION: ShapeVerdict = Object.freeze({ kinds: [], handlers: [], ids: [], beatIndex: [] });

/** The verdict for a list of violations, duplicates of a (kind, handler) left out. */
export function verdictOf(violations: readonly Violation[]): ShapeVerdict {
  if (violations.length === 0) return NO_VIOLATION;
  const kinds: ViolationKind[] = [];
  const handlers: string[] = [];
  const ids: string[] = [];
  const beatIndex: number[] = [];
  for (const v of violations) {
    const id = `${v.kind}\u0001${v.handler}`;
    // A run counts once per (violation, handler), however many times it repeats it.
    if (ids.includes(id)) continue;
    kinds.push(v.kind);
    handlers.push(v.handler);
    ids.push(id);
    beatIndex.push(v.index);
  }
  return { kinds, handlers, ids, beatIndex };
}

/**
 * Verdicts of one sequence's run shapes against its learned expectation, by shape key. A verdict
 * depends only on the shape and on the expectation, which changes only when the learner is
 * refreshed (once per evaluation): the owner clears this then. Runs of a sequence mostly take a
 * few shapes, so at full speed most runs are judged by one lookup instead of a comparison, a
 * violation list and a key string per run. Bounded: at `max` shapes it starts over.
 */
export class ShapeVerdicts {
  private readonly byKey = new Map<string, { shape: readonly string[]; verdict: ShapeVerdict }>();

  constructor(private readonly max = 16) {}

  get size(): number {
    return this.byKey.size;
  }

  /**
   * The verdict remembered for the run shape `handlers` (whose key is `key`), undefined when
   * there is none. Handler names are telemetry: two shapes whose joined keys collide are told
   * apart by their handlers.
   */
  get(key: string, handlers: readonly string[]): ShapeVerdict | undefined {
    const known = this.byKey.get(key);
    return known !== undefined && sameHandlers(known.shape, handlers) ? known.verdict : undefined;
  }

  /** Remembers the verdict of `violations` for the shape (until the next clear()) and returns it. */
  remember(key: string, handlers: readonly string[], violations: readonly Violation[]): ShapeVerdict {
    const verdict = verdictOf(violations);
    if (this.byKey.size >= this.max && !this.byKey.has(key)) this.byKey.clear();
    this.byKey.set(key, { shape: handlers.slice(), verdict });
    return verdict;
  }

  clear(): void {
    this.byKey.clear();
  }
}

function sameHandlers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
