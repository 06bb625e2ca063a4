import { describe, expect, it } from 'vitest';
import { CORROBORATION_SHARE, corroboratedScore } from '../../src/diagnose/corroboration.js';

describe('corroboratedScore', () => {
  it('counts the strongest reason in full and each other line of evidence a quarter', () => {
    expect(corroboratedScore([{ kind: 'self', w: 8 }, { kind: 'edge-gap', w: 4 }, { kind: 'latency', w: 2 }])).toBeCloseTo(8 + CORROBORATION_SHARE * 6);
    expect(corroboratedScore([{ kind: 'latency', w: 2 }, { kind: 'self', w: 8 }])).toBeCloseTo(8 + CORROBORATION_SHARE * 2);
  });

  it('counts the failure signals of the same requests once, by the strongest of them', () => {
    const failing = [
      { kind: 'pattern' as const, w: 5.2 },
      { kind: 'own-failures' as const, w: 5 },
      { kind: 'endpoint-failures' as const, w: 1.6 },
      { kind: 'error-logs' as const, w: 3 },
    ];
    expect(corroboratedScore(failing)).toBeCloseTo(5.2);
    // One independent line of evidence still corroborates them.
    expect(corroboratedScore([...failing, { kind: 'self', w: 2 }])).toBeCloseTo(5.2 + CORROBORATION_SHARE * 2);
    expect(corroboratedScore([{ kind: 'self', w: 2 }, ...failing])).toBeCloseTo(5.2 + CORROBORATION_SHARE * 2);
  });

  it('ignores reasons without weight and scores nothing as 0', () => {
    expect(corroboratedScore([])).toBe(0);
    expect(corroboratedScore([{ kind: 'self', w: 0 }, { kind: 'pattern', w: Number.NaN }, { kind: 'latency', w: 1 }])).toBe(1);
  });
});
