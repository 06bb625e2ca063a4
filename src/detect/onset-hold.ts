import { normalUpperTail } from './stats.js';

/**
 * Whether a pattern's newest slice is too surprising, on its own, to teach the pattern's baseline.
 *
 * Event patterns learn every slice whose 60 s window looks normal. But a window test dilutes an
 * onset: the first slices of a fault that starts writing an error line sit in a window that is
 * still mostly normal, score below the hold bar, and are learned, so the baseline takes in the
 * fault's own first lines (its rate and, worse, its dispersion grow) and the window test a few
 * slices later compares the fault with itself. On Nezha's Train Ticket (2023-01-29) that is what
 * kept four `return` faults below the false-discovery step: the first 2-4 error lines of a
 * service with a few requests a minute moved its expectation from 0.1 to 0.3-0.7 lines a minute.
 *
 * The slice is judged by itself as well: the upper tail of its count under the pattern's null
 * (the same quasi-Poisson the window uses, at one slice's expectation). A slice beyond `holdZ`
 * is held like a slice of an abnormal window: it is learned later if the pattern's hold turns out
 * to be a short burst of a line that may learn bursts, and never for error lines. Under the null a
 * slice is held with probability at most the level of `holdZ` (0.13 % at z 3), so the learned rate
 * loses only that extreme tail.
 */
export function onsetHeld(sliceCount: number, sliceExpected: number, dispersion: number, holdZ: number, upperTail: (k: number, lambda: number) => number): boolean {
  if (sliceCount <= sliceExpected) return false;
  const d = Math.max(1, dispersion);
  return upperTail(sliceCount / d, sliceExpected / d) <= normalUpperTail(holdZ);
}
