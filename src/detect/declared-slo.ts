import type { Sequence } from '../model/sequence.js';
import type { SloTarget } from './latency-detector.js';

/**
 * SLOs that sequence files already state in words ("completes within < 1 second", "<20ms",
 * "≤1s P95") in `userStory` (its `goal`, or the story as one string), `businessValue`,
 * `acceptanceCriteria` (every string in it: given/when/then/and) and a `timing` that holds a
 * bound ("< 100ms"). Parse rules (docs/detection.md, "Declared SLOs"):
 *  - a bound is `<`, `<=`, `≤`, `within`, `under`, `below` or `in`, optionally followed by `<`/`≤`,
 *    then a number and a unit: ms / millisecond(s), s / sec(s) / second(s), min / minute(s);
 *  - `P95` / `P99` right after the bound (or right before it: "P95 < 200ms") says which figure;
 *    a bound without one is a p95 target: prose states a typical budget, not a ceiling that one
 *    garbage-collection pause may break;
 *  - when one beat (or sequence) states several bounds for a figure, the loosest wins: prose often
 *    names several operations in one sentence ("UI within <20ms and persisting within ≤1s P95"),
 *    and an SLO must not alert on the wrong one;
 *  - a beat's own bounds apply to its handler; a sequence's bounds apply to those of its beats
 *    that state none; a handler declared in several beats keeps the loosest.
 * Configured SLOs (detect.slo.handlers) override declared ones; detect.slo.global applies only
 * where nothing is declared.
 */
export interface LatencyBound {
  figure: 'p95' | 'p99';
  ms: number;
}

export interface DeclaredSlos {
  /** Per handler name. */
  handlers: Map<string, SloTarget>;
  /** Per sequence name: its own statement (also applied to its beats without one). */
  sequences: Map<string, SloTarget>;
}

const UNIT_MS: Record<string, number> = { ms: 1, millisecond: 1, milliseconds: 1, s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000, min: 60_000, minute: 60_000, minutes: 60_000 };
const BOUND =
  /(?:\b(p9[59])\s*(?:latency\s*)?)?(?:<=|≤|<|\bwithin\b|\bunder\b|\bbelow\b|\bin\b)\s*(?:<=|≤|<)?\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|secs?|seconds?|s|minutes?|min)\b(?:\s*\(?\s*(p9[59])\b)?/gi;

/** Every latency bound stated in one text. */
export function parseLatencyBounds(text: string): LatencyBound[] {
  const out: LatencyBound[] = [];
  for (const m of text.matchAll(BOUND)) {
    const value = Number(m[2]);
    const unit = UNIT_MS[m[3]!.toLowerCase()];
    if (unit === undefined || !(value > 0)) continue;
    const pct = (m[4] ?? m[1] ?? 'p95').toLowerCase();
    out.push({ figure: pct === 'p99' ? 'p99' : 'p95', ms: value * unit });
  }
  return out;
}

/** Strings inside a value (arrays and objects walked; depth-limited against odd files). */
function strings(value: unknown, out: string[], depth = 0): void {
  if (typeof value === 'string') out.push(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) strings(v, out, depth + 1);
  else if (depth < 4 && value !== null && typeof value === 'object') for (const v of Object.values(value)) strings(v, out, depth + 1);
}

function statedTexts(holder: Record<string, unknown>): string[] {
  const texts: string[] = [];
  const story = holder['userStory'];
  if (typeof story === 'string') texts.push(story);
  else if (story !== null && typeof story === 'object' && typeof (story as Record<string, unknown>)['goal'] === 'string') texts.push((story as Record<string, string>)['goal']!);
  strings(holder['businessValue'], texts);
  strings(holder['acceptanceCriteria'], texts);
  if (typeof holder['timing'] === 'string') texts.push(holder['timing']);
  return texts;
}

/** The SLO one beat or sequence states, or undefined when it states none. */
export function statedSlo(holder: Record<string, unknown>): SloTarget | undefined {
  let slo: SloTarget | undefined;
  for (const text of statedTexts(holder)) {
    for (const b of parseLatencyBounds(text)) {
      slo ??= {};
      const key = b.figure === 'p99' ? 'p99Ms' : 'p95Ms';
      slo[key] = Math.max(slo[key] ?? 0, b.ms);
    }
  }
  return slo;
}

function loosest(a: SloTarget | undefined, b: SloTarget): SloTarget {
  if (a === undefined) return b;
  const out: SloTarget = {};
  for (const key of ['p95Ms', 'p99Ms', 'maxMs'] as const) {
    const v = Math.max(a[key] ?? 0, b[key] ?? 0);
    if (v > 0) out[key] = v;
  }
  return out;
}

export function declaredSlos(sequences: readonly Sequence[]): DeclaredSlos {
  const handlers = new Map<string, SloTarget>();
  const sequenceSlos = new Map<string, SloTarget>();
  for (const seq of sequences) {
    const own = statedSlo(seq);
    if (own !== undefined) sequenceSlos.set(seq.name, own);
    for (const movement of seq.movements) {
      for (const beat of movement.beats) {
        const slo = statedSlo(beat) ?? own;
        if (slo !== undefined) handlers.set(beat.handler, loosest(handlers.get(beat.handler), slo));
      }
    }
  }
  return { handlers, sequences: sequenceSlos };
}
