import { describe, expect, it } from 'vitest';
import type { SignalKind, SignalScore } from '../../src/detect/service-signals.js';
import { logChangeExplainedByCallee, strongestCallee } from '../../src/diagnose/callee-explained.js';
import { rankRootCauses } from '../../src/diagnose/root-causes.js';

const strength = (m: Record<string, Partial<Record<SignalKind, number>>>): Map<string, Map<SignalKind, number>> =>
  new Map(Object.entries(m).map(([svc, kinds]) => [svc, new Map(Object.entries(kinds) as Array<[SignalKind, number]>)]));

describe('logChangeExplainedByCallee', () => {
  it('explains a caller whose only evidence is its log mix by a callee with stronger evidence of its own', () => {
    const s = strength({ a: { pattern: 9, latency: 20 }, x: { self: 9.5 } });
    expect(logChangeExplainedByCallee('a', s, ['x'], 3)).toBe(true);
  });

  it('does not when the callee is weaker, is not a callee, or the caller has evidence beyond its logs', () => {
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 9 }, x: { self: 8 } }), ['x'], 3)).toBe(false);
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 9 }, x: { self: 12 } }), ['y'], 3)).toBe(false);
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 9, 'error-logs': 4 }, x: { self: 12 } }), ['x'], 3)).toBe(false);
    // A callee's latency or failing requests are what it inherits from further down: no origin.
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 9 }, x: { latency: 30, 'endpoint-failures': 30 } }), ['x'], 3)).toBe(false);
    // Below the ranking's floor a log change is noise anyway.
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 2 }, x: { self: 12 } }), ['x'], 3)).toBe(false);
    expect(logChangeExplainedByCallee('a', strength({ a: { pattern: 9 }, x: { self: 12 } }), ['a'], 3)).toBe(false);
  });
});

describe('rankRootCauses with a caller whose lines changed because its callee failed', () => {
  const graph: Record<string, string[]> = { gw: ['a'], a: ['x'], x: [] };
  const score = (kind: SignalKind, service: string, z: number, extra: Partial<SignalScore> = {}): SignalScore => ({ key: `${kind}|${service}`, kind, service, z, observed: 0, expected: 20, discovered: true, ...extra });

  it('ranks the callee with its own evidence first', () => {
    const scores = [
      // The caller stops writing the line after a call that now fails, and waits longer.
      score('pattern', 'a', 9, { label: 'info log "after the call" per info log "before the call"', direction: 'drop' }),
      score('latency', 'a', 20),
      // The callee's own time grew.
      score('self', 'x', 9.5, { observed: 80, expected: 10 }),
    ];
    const r = rankRootCauses({ scores: new Map(scores.map((s) => [s.key, s])), callees: (s) => graph[s] ?? [], firstSeenMs: new Map() });
    expect(r.map((c) => c.service).slice(0, 2)).toEqual(['x', 'a']);
  });
});

describe('strongestCallee', () => {
  it('is the strongest evidence of the given kinds (or any kind) among direct callees, skipping the service itself and NaN', () => {
    const s = strength({ a: { self: 50 }, x: { self: 4, 'error-logs': 7 }, y: { pattern: 9, latency: Number.NaN } });
    expect(strongestCallee('a', s, ['a', 'x', 'y'])).toBe(9);
    expect(strongestCallee('a', s, ['a', 'x', 'y'], ['self'])).toBe(4);
    expect(strongestCallee('a', s, ['x'], ['self', 'error-logs'])).toBe(7);
    expect(strongestCallee('a', s, ['y'], ['latency'])).toBe(0);
    expect(strongestCallee('a', s, ['a', 'z'])).toBe(0);
  });
});
