import { describe, expect, it } from 'vitest';
import { attributeSuspects, suspectHypotheses } from '../../src/diagnose/drilldown.js';
import { beat } from './fixtures.js';

describe('attributeSuspects', () => {
  it('ranks over-represented values among anomalous beats', () => {
    const anomalous = [
      ...Array.from({ length: 18 }, () => beat({ attributes: { region: 'eu', 'beat.correlation_id': 'x', tier: 'gold' }, serviceVersion: '2' })),
      ...Array.from({ length: 2 }, () => beat({ attributes: { region: 'us', tier: 'gold' }, serviceVersion: '2' })),
    ];
    const normal = Array.from({ length: 40 }, (_, i) =>
      beat({ attributes: { region: i % 10 === 0 ? 'eu' : 'us', tier: 'gold' }, serviceVersion: i < 20 ? '2' : '1' }),
    );
    const s = attributeSuspects(anomalous, normal);
    expect(s[0]).toEqual({ key: 'region', value: 'eu', anomalousShare: 0.9, baselineShare: 0.1 });
    expect(s.map((x) => `${x.key}=${x.value}`)).toEqual(['region=eu', 'service.version=2']);
    const h = suspectHypotheses(s);
    expect(h[0]!.cause).toBe('attribute:region=eu');
    expect(h[0]!.score).toBeCloseTo(0.68, 2);
    expect(h[0]!.evidence[0]).toContain('90% of anomalous beats');
  });

  it('filters differences that are not significant and handles empty sides', () => {
    const anomalous = [beat({ attributes: { region: 'eu' } }), beat({ attributes: { region: 'eu' } }), beat({ attributes: { region: 'us' } })];
    const normal = [beat({ attributes: { region: 'us' } }), beat({ attributes: { region: 'eu' } })];
    expect(attributeSuspects(anomalous, normal)).toEqual([]);
    expect(attributeSuspects([], normal)).toEqual([]);
    expect(attributeSuspects(anomalous, [])).toEqual([]);
    // A value present in every beat on both sides has zero variance and no difference.
    expect(attributeSuspects(anomalous, normal, { minDifference: 0, minZ: 0, minCount: 1 }).map((s) => s.value)).toContain('eu');
  });
});
