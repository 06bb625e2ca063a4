import { describe, expect, it } from 'vitest';
import { LEAD_IN_ORDERS, orderLeadIn, placeLeadIn, type Stretch } from './lead-in.js';

const MIN = 60_000;
/** A stretch of `seconds` starting at minute `m` of the day. */
const at = (m: number, seconds = 30): Stretch => ({ fromMs: m * MIN, toMs: m * MIN + seconds * 1000 });
const minutes = (ss: readonly Stretch[]): number[] => ss.map((s) => s.fromMs / MIN);

// Minutes of a day like 2023-01-29: a morning of injections, a gap, an afternoon.
const day = [at(523), at(532), at(538), at(544), at(601), at(604), at(620), at(696), at(811), at(889)];

describe('bench:rca lead-in order', () => {
  it('wrap (default): the stretches after the case, then those before it, each part in time order', () => {
    expect(minutes(orderLeadIn(day, 600 * MIN))).toEqual([601, 604, 620, 696, 811, 889, 523, 532, 538, 544]);
  });

  it('wrap: the real history ends the lead-in, and every stretch follows its real predecessor but at one seam', () => {
    const lead = orderLeadIn(day, 560 * MIN, 'wrap');
    // Next to the case: the traffic that really came before it, in its real order, nearest last.
    expect(minutes(lead.slice(-4))).toEqual([523, 532, 538, 544]);
    // The afternoon is at the far end, not right before a morning case.
    expect(minutes(lead).indexOf(889)).toBe(5);
    // One step back in the clock (the day's last stretch to its first), where the real part begins.
    const back = lead.map((s, i) => (i > 0 && s.fromMs < lead[i - 1]!.fromMs ? i : -1)).filter((i) => i >= 0);
    expect(back).toEqual([6]);
  });

  it('wrap: a case after every stretch gets them in time order, a case before them all too', () => {
    expect(minutes(orderLeadIn(day, 900 * MIN, 'wrap'))).toEqual(minutes(orderLeadIn(day, 0, 'time')));
    expect(minutes(orderLeadIn(day, 500 * MIN, 'wrap'))).toEqual(minutes(orderLeadIn(day, 0, 'time')));
  });

  it('fold: the stretches after the case, farthest first, then those before it in time order', () => {
    expect(minutes(orderLeadIn(day, 600 * MIN, 'fold'))).toEqual([889, 811, 696, 620, 604, 601, 523, 532, 538, 544]);
  });

  it('fold: the stretch just before the case ends the lead-in, and the afternoon lies far from a morning case', () => {
    const lead = orderLeadIn(day, 560 * MIN, 'fold');
    expect(minutes(lead).at(-1)).toBe(544);
    // The last stretches are the morning's, in their real order; nothing later than the case follows them.
    expect(minutes(lead.slice(-4))).toEqual([523, 532, 538, 544]);
    // Reverse clock order up to the one jump (to the day's first stretch), clock order after it.
    expect(minutes(lead).slice(0, 6)).toEqual([889, 811, 696, 620, 604, 601]);
    for (let i = 1; i < lead.length; i++) expect(lead[i]!.fromMs < lead[i - 1]!.fromMs).toBe(i <= 6);
  });

  it('fold: a case after every stretch gets them in time order; a case before all of them in reverse', () => {
    expect(minutes(orderLeadIn(day, 900 * MIN, 'fold'))).toEqual([523, 532, 538, 544, 601, 604, 620, 696, 811, 889]);
    expect(minutes(orderLeadIn(day, 500 * MIN, 'fold'))).toEqual([889, 811, 696, 620, 604, 601, 544, 538, 532, 523]);
  });

  it('time: the order before 2026-12-07, whatever the case', () => {
    expect(minutes(orderLeadIn([...day].reverse(), 560 * MIN, 'time'))).toEqual([523, 532, 538, 544, 601, 604, 620, 696, 811, 889]);
  });

  it('distance: the farthest first, a stretch before the case last among equals', () => {
    expect(minutes(orderLeadIn(day, 600 * MIN, 'distance'))).toEqual([889, 811, 696, 523, 532, 538, 544, 620, 604, 601]);
    expect(minutes(orderLeadIn([at(590), at(610)], 600 * MIN, 'distance'))).toEqual([610, 590]);
  });

  it('keeps every stretch exactly once and does not change the input', () => {
    const input = [...day];
    for (const order of LEAD_IN_ORDERS) {
      const lead = orderLeadIn(input, 600 * MIN, order);
      expect(new Set(lead)).toEqual(new Set(day));
      expect(lead).toHaveLength(day.length);
    }
    expect(input).toEqual(day);
  });

  it('places the stretches back to back, the last ending where the case begins', () => {
    const ordered = orderLeadIn([at(620, 17), at(523, 4), at(544, 51), at(700, 9)], 600 * MIN);
    const placed = placeLeadIn(ordered, 600 * MIN);
    expect(minutes(placed.map((p) => p.stretch))).toEqual([620, 700, 523, 544]);
    const shifted = placed.map((p) => ({ from: p.stretch.fromMs + p.shiftMs, to: p.stretch.toMs + p.shiftMs }));
    expect(shifted.at(-1)!.to).toBe(600 * MIN);
    expect(shifted[0]!.from).toBe(600 * MIN - (4 + 51 + 17 + 9) * 1000);
    for (let i = 1; i < shifted.length; i++) expect(shifted[i]!.from).toBe(shifted[i - 1]!.to);
    expect(placeLeadIn([], 600 * MIN)).toEqual([]);
  });
});
