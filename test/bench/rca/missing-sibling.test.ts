import { describe, expect, it } from 'vitest';
import { missingEvent, patternEvents, siblingPairs, type PatternEvent } from './missing-sibling.js';

const SLICE = 10_000;

/** A service whose `open` line is always followed by a `done` line, and an `other` line of its own rhythm. */
function day(slices: number, perSlice: (k: number) => { open: number; done: number; other: number }): PatternEvent[] {
  const out: PatternEvent[] = [];
  for (let k = 0; k < slices; k++) {
    const c = perSlice(k);
    for (const [pattern, n] of Object.entries(c)) for (let i = 0; i < n; i++) out.push({ service: 'svc', pattern, timeMs: k * SLICE + i * 100 });
  }
  return out;
}

describe('missing sibling events (bench:rca lead-in rule)', () => {
  const normal = (k: number): { open: number; done: number; other: number } => ({ open: 2 + (k % 4), done: 2 + (k % 4), other: k % 7 === 0 ? 6 : k % 3 });

  it('pairs lines written in step, and not lines of their own rhythm', () => {
    const pairs = siblingPairs(day(120, normal), { sliceMs: SLICE });
    expect(pairs.some((p) => p.pattern === 'done' && p.sibling === 'open')).toBe(true);
    expect(pairs.some((p) => p.pattern === 'other' || p.sibling === 'other')).toBe(false);
  });

  it('keeps a pair whose line went missing for part of the day (robust to the faults the day holds)', () => {
    const events = day(120, (k) => (k >= 40 && k < 55 ? { ...normal(k), done: 0 } : normal(k)));
    const pairs = siblingPairs(events, { sliceMs: SLICE });
    expect(pairs.some((p) => p.pattern === 'done' && p.sibling === 'open')).toBe(true);
    // The stretch where `done` stopped while `open` went on holds a missing event ...
    const m = missingEvent(pairs, events, 40 * SLICE, 52 * SLICE, { sliceMs: SLICE });
    expect(m?.pattern).toBe('done');
    expect(m?.sibling).toBe('open');
    expect(m?.p).toBeLessThan(1e-4);
    // ... and a stretch of normal traffic does not.
    expect(missingEvent(pairs, events, 60 * SLICE, 72 * SLICE, { sliceMs: SLICE })).toBeUndefined();
  });

  it('does not call a short absence missing: the chance of it must be below alpha', () => {
    const events = day(120, (k) => (k === 70 ? { ...normal(k), done: 0 } : normal(k)));
    const pairs = siblingPairs(events, { sliceMs: SLICE });
    expect(missingEvent(pairs, events, 69 * SLICE, 72 * SLICE, { sliceMs: SLICE })).toBeUndefined();
  });

  it('mines log templates per service and takes span operations as patterns', () => {
    const ev = patternEvents(
      [
        { service: 'a', serviceVersion: '', timeMs: 1, severityNumber: 9, severityText: 'INFO', body: 'query route 17 done', traceId: '', spanId: '', attributes: {} },
        { service: 'a', serviceVersion: '', timeMs: 2, severityNumber: 9, severityText: 'INFO', body: 'query route 23 done', traceId: '', spanId: '', attributes: {} },
      ],
      [{ service: 'a', name: 'GET /route', startMs: 3 }],
    );
    expect(ev.map((e) => e.pattern.split(':')[0])).toEqual(['log', 'log', 'op']);
    expect(ev[0]!.pattern).toBe(ev[1]!.pattern);
  });
});
