import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTORY_BAND, historyBand } from '../../src/web/history-band.js';

describe('historyBand', () => {
  it('is undefined until enough earlier points have requests', () => {
    expect(historyBand([])).toBeUndefined();
    expect(historyBand([10, 11, null, null, 12, 10, 11, null, 12])).toBeUndefined();
    expect(historyBand([10, 11, 12, 10, 11, 12, 10, 11])).toBeDefined();
  });

  it('centres on the median and widens with the spread of the history', () => {
    const calm = historyBand([10, 10.5, 9.5, 10, 10.2, 9.8, 10.1, 9.9, 10]);
    const noisy = historyBand([10, 14, 6, 10, 13, 7, 12, 8, 10]);
    expect(calm!.lowMs).toBeLessThan(10);
    expect(calm!.highMs).toBeGreaterThan(10);
    expect(noisy!.highMs - noisy!.lowMs).toBeGreaterThan(calm!.highMs - calm!.lowMs);
  });

  it('is hardly moved by one outlier, and a flat history still gets a band', () => {
    const base = [20, 20, 20, 20, 20, 20, 20, 20, 20];
    const flat = historyBand(base)!;
    expect(flat.lowMs).toBeCloseTo(19, 5);
    expect(flat.highMs).toBeCloseTo(21, 5);
    const spiked = historyBand([...base, 500])!;
    expect(spiked.highMs).toBeLessThan(25);
  });

  it('learns only from the last `window` points, never below zero', () => {
    const old = Array.from({ length: 40 }, () => 100);
    const recent = Array.from({ length: DEFAULT_HISTORY_BAND.window }, (_, i) => (i % 2 === 0 ? 1 : 9));
    const band = historyBand([...old, ...recent])!;
    expect(band.highMs).toBeLessThan(100);
    expect(band.lowMs).toBeGreaterThanOrEqual(0);
  });
});
