import { describe, expect, it } from 'vitest';
import type { SignalScore } from '../../src/detect/service-signals.js';
import { rankRootCauses } from '../../src/diagnose/root-causes.js';

function score(kind: SignalScore['kind'], service: string, z: number, extra: Partial<SignalScore> = {}): SignalScore {
  return { key: `${kind}|${extra.caller ?? ''}|${service}|${extra.operation ?? ''}`, kind, service, z, observed: 100, expected: 10, discovered: true, ...extra };
}

const graph: Record<string, string[]> = { gw: ['a'], a: ['x'], x: ['y'], y: [] };

function rank(scores: SignalScore[]) {
  return rankRootCauses({ scores: new Map(scores.map((s) => [s.key, s])), callees: (s) => graph[s] ?? [], firstSeenMs: new Map() });
}

describe('rankRootCauses', () => {
  it('blames the service common to every grown edge gap (a slow network interface)', () => {
    const r = rank([score('edge-gap', 'x', 10, { caller: 'a' }), score('edge-gap', 'y', 10, { caller: 'x' }), score('latency', 'gw', 30), score('latency', 'a', 30)]);
    expect(r[0]!.service).toBe('x');
    expect(r[0]!.reason).toContain('a -> x');
  });

  it('blames the callee of a single grown gap, not the caller whose client span grew', () => {
    const r = rank([score('edge-gap', 'x', 12, { caller: 'a' }), score('latency', 'a', 20)]);
    expect(r.map((c) => c.service).slice(0, 2)).toEqual(['x', 'a']);
  });

  it('prefers own time over inherited latency and errors where they start over where they arrive', () => {
    expect(rank([score('self', 'y', 8), score('latency', 'x', 40), score('latency', 'a', 40)])[0]!.service).toBe('y');
    const r = rank([score('error-logs', 'x', 10), score('error-logs', 'y', 9), score('endpoint-failures', 'y', 9, { operation: 'GET /y', observed: 1 })]);
    expect(r[0]!.service).toBe('y');
    expect(r[0]!.operation).toBe('GET /y');
  });

  it('lets keys that never passed the false-discovery control only corroborate', () => {
    // Many small undiscovered gap scores around one service do not outrank one discovered change.
    const noise = ['a', 'x', 'gw'].map((caller) => score('edge-gap', 'y', 9, { caller, discovered: false }));
    const r = rank([...noise, score('pattern', 'x', 7, { label: 'info log "Query price"', direction: 'drop', observed: 0, expected: 22 })]);
    expect(r[0]!.service).toBe('x');
    expect(r[0]!.reason).toContain('fewer info log "Query price"');
    expect(r.find((c) => c.service === 'y')!.score).toBeLessThan(r[0]!.score);
  });

  it('counts a caller\'s own time as inherited when a grown gap of its own calls accounts for it', () => {
    // A delayed network to y: x waits 2 s per call, part of which lands in x's own spans.
    const delayed = [score('self', 'x', 32, { observed: 513, expected: 6 }), score('edge-gap', 'y', 24, { caller: 'x', observed: 2003, expected: 2 })];
    expect(rank(delayed).map((c) => c.service).slice(0, 2)).toEqual(['y', 'x']);
    // The same own time with a gap that grew far less than it did (CPU contention in x): x.
    const busy = [score('self', 'x', 32, { observed: 513, expected: 6 }), score('edge-gap', 'y', 24, { caller: 'x', observed: 62, expected: 2 })];
    expect(rank(busy)[0]!.service).toBe('x');
  });

  it('counts request latency as the service\'s own when nothing it calls moved', () => {
    // CPU contention in a: its requests slow down (z 8) while its own-time figure stays under the
    // floor and nothing below it moved; a tiny undiscovered gap elsewhere must not outrank it.
    const contention = [score('latency', 'a', 8, { observed: 376, expected: 150 }), score('edge-gap', 'y', 7, { caller: 'x', discovered: false })];
    expect(rank(contention)[0]!.service).toBe('a');
    expect(rank(contention)[0]!.reason).toContain('request latency grew');
    // The same latency with a callee whose own time grew is inherited: it counts a little.
    const inherited = [score('latency', 'a', 8), score('self', 'x', 4)];
    expect(rank(inherited).map((c) => c.service)).toEqual(['x', 'a']);
    expect(rank(inherited)[1]!.score).toBeLessThan(2);
  });

  it('lets an own-time shift seen only in the tail corroborate, not lead', () => {
    // y's p90 own time jumps (a few slow requests) while its median and latency hold; x writes a
    // new error line on every call: x's change comes first.
    const p90 = (service: string, z: number): SignalScore => score('self', service, z, { key: `self.p90|${service}`, observed: 167, expected: 14 });
    const errorLine = score('pattern', 'x', 5.7, { label: 'error log "Code not found"', direction: 'surge', observed: 5, expected: 0.1 });
    expect(rank([p90('y', 14.5), errorLine]).map((c) => c.service)).toEqual(['x', 'y']);
    // When most of y's requests slowed too (its median own time moved), the shift is y's.
    const median = score('self', 'y', 6, { key: 'self.p50|y' });
    expect(rank([p90('y', 14.5), median, errorLine])[0]!.service).toBe('y');
  });

  it('treats a caller\'s failures as inherited when its callee logs errors or changed its lines', () => {
    // x returns a wrong answer and logs it; a, which cannot use the answer, fails its requests.
    const r = rank([
      score('own-failures', 'a', 6.2, { observed: 0.92, expected: 0 }),
      score('pattern', 'x', 4.4, { label: 'error log "BasicServiceImpl"', direction: 'surge', observed: 18, expected: 1.5 }),
    ]);
    expect(r.map((c) => c.service)).toEqual(['x', 'a']);
  });

  it('counts a new error line that names one of the service\'s callees as that callee\'s failure', () => {
    const line = (text: string): SignalScore => score('pattern', 'a', 6.6, { label: `error log "${text}"`, direction: 'surge', observed: 13, expected: 0.1 });
    const own = score('pattern', 'y', 5, { label: 'error log "Get the food request failed"', direction: 'surge', observed: 4, expected: 0 });
    // a reports that its callee x is gone: its own change is y's line.
    expect(rank([line('No instances available for x'), own]).map((c) => c.service)).toEqual(['y', 'a']);
    // A name inside a longer word is not the callee, and a name that is no callee of a says nothing.
    expect(rank([line('No instances available for xy'), own])[0]!.service).toBe('a');
    expect(rank([line('No instances available for gw'), own])[0]!.service).toBe('a');
  });

  it('does not let one failure, counted as failures, endpoint failures and its error line, outrank one signal as strong', () => {
    // a's requests fail because its callee x is gone (its new line says so): one event, seen as a
    // failure rate, an endpoint's failure rate and a line. y's own new error line is the fault.
    const r = rank([
      score('pattern', 'a', 10.4, { label: 'error log "No instances available for x"', direction: 'surge', observed: 13, expected: 0 }),
      score('own-failures', 'a', 5, { observed: 0.73, expected: 0 }),
      score('endpoint-failures', 'a', 5.2, { operation: '/api/a', observed: 0.8, expected: 0 }),
      score('pattern', 'y', 5.75, { label: 'error log "Get the food request failed"', direction: 'surge', observed: 7, expected: 0.1 }),
    ]);
    expect(r.map((c) => c.service)).toEqual(['y', 'a']);
    expect(r[1]!.score).toBeCloseTo(5.2);
  });

  it('ignores weak evidence and returns nothing without any', () => {
    expect(rank([score('self', 'x', 2)])).toEqual([]);
    expect(rank([])).toEqual([]);
  });
});
