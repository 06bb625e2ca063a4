import { describe, expect, it } from 'vitest';
import { shapeHypotheses } from '../../src/diagnose/shape-hypotheses.js';
import type { AnomalySubtype } from '../../src/model/anomaly.js';
import { anomaly } from './fixtures.js';

describe('shapeHypotheses', () => {
  it.each<[AnomalySubtype, string[]]>([
    ['missing-beat', ['missing-handler-registration', 'sequence-change']],
    ['unexpected-beat', ['sequence-change']],
    ['out-of-order', ['sequence-change']],
    ['duplicate-beat', ['sequence-change']],
    ['incomplete-run', ['aborted-run', 'sequence-change']],
    ['count-surge', ['traffic-surge']],
    ['untested-handler', ['untested-hot-path']],
    ['unexecuted-beat', ['missing-handler-registration', 'dead-code']],
    ['latency-regression', []],
  ])('%s -> %j', (subtype, causes) => {
    const hs = shapeHypotheses(anomaly({ type: 'behavioral', subtype, details: { beat: 'pay.2' } }));
    expect(hs.map((h) => h.cause)).toEqual(causes);
    for (const h of hs) expect(h.evidence).toContain('beat: pay.2');
  });

  it('scales scores with detector confidence', () => {
    const hi = shapeHypotheses(anomaly({ subtype: 'count-surge', confidence: 1 }))[0]!.score;
    const lo = shapeHypotheses(anomaly({ subtype: 'count-surge', confidence: 0 }))[0]!.score;
    expect(hi).toBe(0.6);
    expect(lo).toBe(0.3);
    expect(shapeHypotheses(anomaly({ subtype: 'missing-beat', handler: undefined, details: {} }))[0]!.description).toContain('beat ?');
  });
});
