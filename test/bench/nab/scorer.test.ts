import { describe, expect, it } from 'vitest';
import {
  indexCorpus,
  normalizeScore,
  nullScore,
  optimizeThreshold,
  perfectScore,
  probationLength,
  scaledSigmoid,
  scoreAtThreshold,
  scoreProfiles,
  sweepFile,
  sweepThresholds,
  type CostMatrix,
  type RowWindow,
} from './scorer.js';

const STANDARD: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const LOW_FP: CostMatrix = { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 };
const LOW_FN: CostMatrix = { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 };

/** 100 rows (probation = 15 rows), one window on rows 40..49 (width 10). */
const WINDOW: RowWindow[] = [{ start: 40, end: 49 }];

function detections(at: Record<number, number>, n = 100): number[] {
  const s = new Array<number>(n).fill(0);
  for (const [i, v] of Object.entries(at)) s[Number(i)] = v;
  return s;
}

/** Raw score of a single file when every row with a score >= 0.5 is a detection. */
function rawScore(at: Record<number, number>, cost: CostMatrix = STANDARD, windows = WINDOW, n = 100): number {
  return scoreAtThreshold(indexCorpus([{ scores: detections(at, n), windows }]), cost, 0.5);
}

const sig = (x: number): number => 1 / (1 + Math.exp(-x));

describe('NAB scaled sigmoid and probation', () => {
  it('matches the NAB reference points', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(2 * sig(5) - 1, 12);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBeCloseTo(0, 12);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
    expect(scaledSigmoid(10)).toBe(-1);
  });

  it('takes min(floor(15 %), 750) rows of probation', () => {
    expect(probationLength(100)).toBe(15);
    expect(probationLength(1001)).toBe(150);
    expect(probationLength(10_000)).toBe(750);
    expect(probationLength(4000)).toBe(600);
  });
});

describe('NAB sweep scoring of one file', () => {
  it('rewards a detection at the window start with the full TP weight', () => {
    expect(rawScore({ 40: 1 })).toBeCloseTo(1, 12);
  });

  it('rewards an early TP more than a late one (scaled sigmoid of the position)', () => {
    const late = rawScore({ 49: 1 });
    // Position of the last row: -(49 - 49 + 1) / 10 = -0.1.
    expect(late).toBeCloseTo((2 * sig(0.5) - 1) / (2 * sig(5) - 1), 12);
    const middle = rawScore({ 45: 1 });
    expect(rawScore({ 40: 1 })).toBeGreaterThan(middle);
    expect(middle).toBeGreaterThan(late);
  });

  it('counts only the earliest detection in a window', () => {
    expect(rawScore({ 40: 1, 45: 1, 49: 1 })).toBeCloseTo(1, 12);
    expect(rawScore({ 45: 1, 49: 1 })).toBeCloseTo(rawScore({ 45: 1 }), 12);
  });

  it('costs a missed window the FN weight, per profile', () => {
    expect(rawScore({})).toBe(-1);
    expect(rawScore({}, LOW_FN)).toBe(-2);
    const idx = indexCorpus([{ scores: detections({}), windows: WINDOW }]);
    expect(nullScore(idx, LOW_FN)).toBe(-2);
  });

  it('weights a false positive before any window by the full FP weight', () => {
    expect(rawScore({ 20: 1 })).toBeCloseTo(-1 - 0.11, 12);
    expect(rawScore({ 20: 1 }, LOW_FP)).toBeCloseTo(-1 - 0.22, 12);
  });

  it('weights a false positive after a window by the sigmoid of its distance past the window', () => {
    // Row 50: |49 - 50| / (10 - 1) = 1/9 past the window.
    const near = rawScore({ 50: 1 });
    expect(near).toBeCloseTo(-1 + 0.11 * (2 * sig(-5 / 9) - 1), 12);
    // Row 90 is more than 3 window widths away: full FP cost.
    expect(rawScore({ 90: 1 })).toBeCloseTo(-1 - 0.11, 12);
    expect(near).toBeGreaterThan(rawScore({ 60: 1 }));
  });

  it('does not score the probationary rows', () => {
    expect(rawScore({ 0: 1, 5: 1, 14: 1 })).toBe(-1);
    expect(rawScore({ 15: 1 })).toBeCloseTo(-1.11, 12);
    const rows = sweepFile(detections({}), WINDOW, 0);
    expect(rows.scores.length).toBe(85);
  });

  it('drops a window that lies wholly in probation from the null score', () => {
    const idx = indexCorpus([{ scores: detections({}), windows: [{ start: 2, end: 8 }, ...WINDOW] }]);
    expect(nullScore(idx, STANDARD)).toBe(-1);
    expect(idx.windowCount).toBe(2);
  });

  it('gives window ids that are unique across files', () => {
    const idx = indexCorpus([
      { scores: detections({ 40: 1 }), windows: WINDOW },
      { scores: detections({ 40: 1 }), windows: WINDOW },
    ]);
    expect(idx.windowCount).toBe(2);
    expect(scoreAtThreshold(idx, STANDARD, 0.5)).toBeCloseTo(2, 12);
  });
});

describe('NAB threshold sweep and normalisation', () => {
  it('sweeps every distinct threshold from no detection down', () => {
    const idx = indexCorpus([{ scores: detections({ 20: 0.9, 40: 0.8 }), windows: WINDOW }]);
    const sweep = sweepThresholds(idx, STANDARD);
    expect(sweep.map((t) => t.threshold)).toEqual([Number.POSITIVE_INFINITY, 0.9, 0.8, 0]);
    expect(sweep[0]!.score).toBe(-1);
    expect(sweep[1]!.score).toBeCloseTo(-1.11, 12);
    expect(sweep[2]!.score).toBeCloseTo(0.89, 12);
    expect(sweep[2]).toMatchObject({ tp: 1, fp: 1, fn: 9, tn: 74 });
    const best = optimizeThreshold(idx, STANDARD);
    expect(best.threshold).toBe(0.8);
    expect(best.score).toBeCloseTo(0.89, 12);
  });

  it('normalises raw scores between the null and perfect detectors', () => {
    expect(normalizeScore(1, -1, 1)).toBe(100);
    expect(normalizeScore(-1, -1, 1)).toBe(0);
    expect(normalizeScore(0, -1, 1)).toBe(50);
    expect(perfectScore(116, STANDARD)).toBe(116);
    const idx = indexCorpus([{ scores: detections({ 40: 1 }), windows: WINDOW }]);
    const [std] = scoreProfiles(idx, { standard: STANDARD });
    expect(std!.normalized).toBeCloseTo(100, 10);
    expect(std!.threshold).toBe(1);
  });
});
