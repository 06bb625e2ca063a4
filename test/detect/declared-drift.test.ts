import { describe, expect, it } from 'vitest';
import { DeclaredDriftDetector } from '../../src/detect/declared-drift.js';
import type { Sequence } from '../../src/model/sequence.js';
import { makeBeat } from './beat-factory.js';

const declared = [
  { id: 'seq-id', name: 'Checkout', movements: [{ name: 'm', beats: ['validate', 'charge', 'notify'].map((handler, i) => ({ beat: i + 1, event: handler, handler })) }] },
  { id: 'other', name: 'Checkout', movements: [{ name: 'm', beats: [{ beat: 1, event: 'x', handler: 'x' }] }] },
] as Sequence[];

/** One run: its beats share a trace id. */
function run(d: DeclaredDriftDetector, n: number, startMs: number, handlers: string[], sequence = 'Checkout'): void {
  for (const [i, handler] of handlers.entries()) d.observe(makeBeat({ traceId: `run-${String(n)}`, sequence, handler, startMs: startMs + i, durationMs: 1 }));
}

describe('DeclaredDriftDetector', () => {
  it('says nothing while production plays what is declared', () => {
    const d = new DeclaredDriftDetector(declared, { minRuns: 5, horizonMs: 60_000 });
    for (let n = 0; n < 10; n++) run(d, n, n * 1000, ['validate', 'charge', 'notify']);
    expect(d.evaluate(10_000)).toEqual([]);
  });

  it('reports handlers played but not declared, until they leave the horizon', () => {
    const d = new DeclaredDriftDetector(declared, { minRuns: 5, horizonMs: 60_000 });
    run(d, 1, 1000, ['validate', 'charge', 'audit', 'notify'], 'seq-id');
    const [f] = d.evaluate(2000);
    expect(f).toMatchObject({
      type: 'behavioral',
      subtype: 'declared-drift',
      severity: 'low',
      sequence: 'Checkout',
      service: 'shop',
      details: { direction: 'played-not-declared', handlers: 'audit' },
      summary: 'Checkout: played but not declared in its sequence file: audit',
    });
    // audit ran at 1002.
    expect(d.evaluate(1002 + 60_000)).toHaveLength(1);
    expect(d.evaluate(1002 + 60_001)).toEqual([]);
  });

  it('reports declared handlers not played in the last minRuns runs, once there were that many', () => {
    const d = new DeclaredDriftDetector(declared, { minRuns: 5, horizonMs: 60_000 });
    run(d, 0, 0, ['validate', 'charge', 'notify']);
    for (let n = 1; n < 5; n++) run(d, n, n * 1000, ['validate', 'charge']);
    // Five runs, and notify ran in the oldest of them.
    expect(d.evaluate(6000)).toEqual([]);
    run(d, 5, 5000, ['validate']);
    const [f] = d.evaluate(7000);
    expect(f?.details).toEqual({ direction: 'declared-not-played', handlers: 'notify', declaredHandlers: 3 });
    expect(f?.summary).toBe('Checkout: declared in its sequence file but not played in the last 5 runs: notify');
    expect(f?.windowStartMs).toBe(1000);
  });

  it('ignores beats of undeclared or unnamed sequences, and bounds undeclared handlers', () => {
    const d = new DeclaredDriftDetector(declared, { minRuns: 5, horizonMs: 60_000, maxUndeclared: 12 });
    run(d, 1, 0, ['a'], 'unknown');
    run(d, 2, 0, ['b'], '');
    expect(d.evaluate(1000)).toEqual([]);
    run(d, 3, 0, Array.from({ length: 40 }, (_, i) => `extra${String(i).padStart(2, '0')}`));
    const [f] = d.evaluate(1000);
    expect(f?.observed.handlers).toBe(12);
    expect(f?.summary).toMatch(/extra09 and 2 more$/);
  });
});
