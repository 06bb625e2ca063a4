/**
 * The order of a case's lead-in: the fault-free stretches of the day (the seconds before the other
 * injections) put back to back so that they end where the case's own files begin.
 *
 * A sidecar watching the system before a fault has seen the day up to that moment, nearest last.
 * The data holds only seconds before each injection, so a case's lead-in has to borrow stretches
 * from after it as well. Orders:
 *
 * - `wrap` (default): the day's clock cut at the case, the part after the case first: the stretches
 *   after the case in time order, then those before it in time order. The part next to the case is
 *   the traffic that really came before it, in its real order, nearest last: what a sidecar watching
 *   the system had just seen. And every other stretch, too, follows the stretches that really
 *   preceded it, except at one seam, from the day's last stretch to its first (as a day follows the
 *   one before), where the real part begins. The detectors judge each window against what came
 *   before it, so this keeps each judged window's past its own as far as the data allows.
 * - `time`: every stretch in time order (the bench until 2026-12-07). For a morning case the
 *   afternoon's stretches come last, right before the case: a level the system reaches over hours
 *   (Train Ticket's request latency doubles between morning and afternoon) becomes a step a few
 *   seconds before the case, judged against a baseline learned on the morning.
 * - `fold`: the stretches after the case in reverse time order (the farthest first), then those
 *   before it in time order: nearest last on both sides, one jump (from the stretch just after the
 *   case to the day's first), but every borrowed stretch follows its real successors, so the day's
 *   drift runs backwards there and a stretch is judged against its own future.
 * - `distance`: by distance from the case, the farthest first, a stretch before the case first among
 *   equals. Nearest last on both sides, but the two sides alternate, so the level swings from one
 *   side's to the other's stretch by stretch (an afternoon stretch lands among morning ones when
 *   it is as far from the case as they are).
 */

export interface Stretch {
  fromMs: number;
  toMs: number;
}

export const LEAD_IN_ORDERS = ['wrap', 'time', 'fold', 'distance'] as const;
export type LeadInOrder = (typeof LEAD_IN_ORDERS)[number];

/** The stretches of a case that begins at `caseStartMs`, in lead-in order (the last one ends next to the case). */
export function orderLeadIn<T extends Stretch>(stretches: readonly T[], caseStartMs: number, order: LeadInOrder = 'wrap'): T[] {
  const byTime = [...stretches].sort((a, b) => a.fromMs - b.fromMs);
  if (order === 'time') return byTime;
  const before = byTime.filter((s) => s.fromMs < caseStartMs);
  const after = byTime.filter((s) => s.fromMs >= caseStartMs);
  if (order === 'wrap') return [...after, ...before];
  if (order === 'fold') return [...after.reverse(), ...before];
  const distance = (s: T): number => Math.abs(s.fromMs - caseStartMs);
  // Stable sort: among equals, the earlier (before the case) stays first of the pair; reversed below.
  return [...byTime].sort((a, b) => distance(a) - distance(b) || (a.fromMs < caseStartMs ? -1 : 1)).reverse();
}

export interface PlacedStretch<T extends Stretch> {
  stretch: T;
  /** Added to the stretch's times to place it in the lead-in. */
  shiftMs: number;
}

/** The ordered stretches back to back, the last one ending at `endMs`. */
export function placeLeadIn<T extends Stretch>(ordered: readonly T[], endMs: number): Array<PlacedStretch<T>> {
  let cursor = endMs - ordered.reduce((sum, s) => sum + (s.toMs - s.fromMs), 0);
  return ordered.map((stretch) => {
    const shiftMs = cursor - stretch.fromMs;
    cursor += stretch.toMs - stretch.fromMs;
    return { stretch, shiftMs };
  });
}
