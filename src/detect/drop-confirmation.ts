import type { PatternTest } from './event-patterns.js';

/**
 * Discoveries in a row an event-pattern test needs before it becomes a finding.
 *
 * Confirmation runs exist so that one extreme slice, which stays in every window that covers it,
 * cannot open a finding alone (latency keys: 4 windows of 3 slices; patterns: 2 windows of 6). A
 * surge can rest on one slice (a burst of lines), so it keeps `patternConfirmSlices`. A drop
 * cannot: it is discovered only when the window holds at most `dropRatio` (a third) of its
 * expected lines, so at least two thirds of the window's expectation, four of its six slices'
 * worth, went missing; that is already more slices than the latency keys' run guarantees. The run
 * would add no independent evidence, only ten more seconds, and a line that stops is seen at the
 * end of a fault's data or not at all (Train Ticket's price-service exception of 2023-01-29 11:19:
 * `[Query price]` stops and is discovered first in the last full slice of its data).
 */
export function patternConfirmation(test: PatternTest, patternConfirmSlices: number, dropConfirmSlices: number): number {
  return test.direction === 'drop' && test.effectOk ? dropConfirmSlices : patternConfirmSlices;
}
