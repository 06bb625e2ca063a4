import { describe, expect, it } from 'vitest';
import { declaredSlos, parseLatencyBounds, statedSlo } from '../../src/detect/declared-slo.js';
import type { Sequence } from '../../src/model/sequence.js';

describe('parseLatencyBounds', () => {
  it('reads the phrases RenderX sequence files use', () => {
    expect(parseLatencyBounds('the event is routed to the central EventRouter within 5ms')).toEqual([{ figure: 'p95', ms: 5 }]);
    expect(parseLatencyBounds('execute reliably with latency < 20ms')).toEqual([{ figure: 'p95', ms: 20 }]);
    expect(parseLatencyBounds('published as events with <20ms delivery latency')).toEqual([{ figure: 'p95', ms: 20 }]);
    expect(parseLatencyBounds('refresh and publish indices in ≤1s P95, with audit trails')).toEqual([{ figure: 'p95', ms: 1000 }]);
    expect(parseLatencyBounds('it completes successfully within < 30 seconds')).toEqual([{ figure: 'p95', ms: 30_000 }]);
    expect(parseLatencyBounds('performance SLA of < 1 minute')).toEqual([{ figure: 'p95', ms: 60_000 }]);
    expect(parseLatencyBounds('render in <= 1.5 sec (p99)')).toEqual([{ figure: 'p99', ms: 1500 }]);
    expect(parseLatencyBounds('P99 < 200 milliseconds')).toEqual([{ figure: 'p99', ms: 200 }]);
    expect(parseLatencyBounds('with <200ms P95 render and ≤20ms event handling')).toEqual([
      { figure: 'p95', ms: 200 },
      { figure: 'p95', ms: 20 },
    ]);
  });

  it('ignores numbers that are not durations', () => {
    expect(parseLatencyBounds('coverage < 80% in 3 sessions, retry under 5 times, 99.9% success')).toEqual([]);
    expect(parseLatencyBounds('within 0ms')).toEqual([]);
  });
});

describe('statedSlo', () => {
  it('reads userStory.goal, a userStory string, businessValue, acceptanceCriteria and a timing bound; the loosest wins', () => {
    expect(statedSlo({ userStory: { goal: 'complete in <200ms', benefit: 'under 1 minute is ignored here' } })).toEqual({ p95Ms: 200 });
    expect(statedSlo({ userStory: 'As an operator, I need ≤1s P95' })).toEqual({ p95Ms: 1000 });
    expect(statedSlo({ businessValue: 'answers within 50ms' })).toEqual({ p95Ms: 50 });
    expect(statedSlo({ acceptanceCriteria: [{ given: ['x'], then: ['it completes successfully within < 1 second'], and: ['UI within <20ms'] }] })).toEqual({ p95Ms: 1000 });
    expect(statedSlo({ timing: '< 100ms' })).toEqual({ p95Ms: 100 });
    expect(statedSlo({ timing: 'immediate', title: 'within 5ms (titles are not read)' })).toBeUndefined();
    expect(statedSlo({ acceptanceCriteria: ['p99 < 300ms', 'within 40ms'] })).toEqual({ p95Ms: 40, p99Ms: 300 });
  });
});

describe('declaredSlos', () => {
  const seq = (name: string, extra: Record<string, unknown>, beats: Array<Record<string, unknown>>): Sequence =>
    ({ id: name, name, ...extra, movements: [{ name: 'm', beats: beats.map((b, i) => ({ beat: i + 1, event: `e${String(i)}`, ...b })) }] }) as Sequence;

  it("gives each handler its beat's SLO, else its sequence's; a handler in several beats keeps the loosest", () => {
    const slos = declaredSlos([
      seq('route', { userStory: { goal: 'route every event in < 30 seconds' } }, [
        { handler: 'publish', acceptanceCriteria: [{ then: ['within 5ms'] }] },
        { handler: 'notify' },
      ]),
      seq('other', {}, [{ handler: 'publish', userStory: { goal: '<20ms' } }, { handler: 'quiet' }]),
    ]);
    expect(Object.fromEntries(slos.handlers)).toEqual({ publish: { p95Ms: 20 }, notify: { p95Ms: 30_000 } });
    expect(Object.fromEntries(slos.sequences)).toEqual({ route: { p95Ms: 30_000 } });
  });
});
