import { describe, expect, it } from 'vitest';
import { bareHandlerName, readFixFacts } from '../../../src/heal/fix/facts.js';
import { anomaly, diagnosis } from './fix-context.js';

describe('readFixFacts', () => {
  it('reads the diagnosis context, falling back to the anomaly figures', () => {
    const facts = readFixFacts(
      diagnosis({
        handler: 'Plugin.h',
        kind: 'pure',
        error: { type: 'TypeError', message: 'm', topFrame: 'a.ts:1' },
        baseline: { p95Ms: 6 },
        sampleInputs: [{ a: 1 }],
        previousVersion: '1.0.0',
        newVersion: '1.1.0',
      }),
      anomaly({ observed: { p95Ms: 40, p50Ms: 10 }, expected: { p95Ms: 5, p50Ms: 2 } }),
    );
    expect(facts.handler).toBe('Plugin.h');
    expect(facts.kind).toBe('pure');
    expect(facts.error?.message).toBe('m');
    expect(facts.baseline).toEqual({ p50Ms: 2, p95Ms: 6, p99Ms: undefined, errorRate: undefined });
    expect(facts.observed.p95Ms).toBe(40);
    expect(facts.sampleInputs).toEqual([{ a: 1 }]);
    expect(facts.exemplarTraceIds).toEqual(['trace-ex']);
    expect([facts.previousVersion, facts.newVersion]).toEqual(['1.0.0', '1.1.0']);
  });

  it('drops malformed fields instead of failing and accepts the inputs alias', () => {
    const facts = readFixFacts(
      diagnosis({ handler: 42, error: 'boom', baseline: 'fast', inputs: [{ b: 2 }], exemplarTraceIds: ['t9'], previousVersion: 3 }, { handler: undefined }),
      anomaly({ handler: 'fromAnomaly' }),
    );
    expect(facts.handler).toBe('fromAnomaly');
    expect(facts.error).toBeUndefined();
    expect(facts.baseline.p95Ms).toBeUndefined();
    expect(facts.sampleInputs).toEqual([{ b: 2 }]);
    expect(facts.exemplarTraceIds).toEqual(['t9']);
    expect(facts.previousVersion).toBeUndefined();
  });
});

describe('bareHandlerName', () => {
  it('keeps the last segment of qualified names', () => {
    expect(bareHandlerName('CanvasPlugin.createComponent')).toBe('createComponent');
    expect(bareHandlerName('mod#h')).toBe('h');
    expect(bareHandlerName('plain')).toBe('plain');
    expect(bareHandlerName('...')).toBe('...');
  });
});
