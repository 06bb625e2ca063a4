import { describe, expect, it } from 'vitest';
import { SharedParams } from '../../src/detect/shared-params.js';

describe('SharedParams', () => {
  it('hands out one frozen copy per parameter set, whatever the order of its fields', () => {
    const sets = new SharedParams<{ memory: number; sqrt: boolean }>();
    const a = sets.of({ memory: 10, sqrt: true });
    const b = sets.of({ sqrt: true, memory: 10 });
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(a).toEqual({ memory: 10, sqrt: true });
  });

  it('keeps sets apart that differ in any field, including one a caller adds', () => {
    const sets = new SharedParams<Record<string, number>>();
    const a = sets.of({ memory: 10 });
    expect(sets.of({ memory: 11 })).not.toBe(a);
    expect(sets.of({ memory: 10, floor: 1 })).not.toBe(a);
    expect(sets.of({ memory: 10, floor: 1 })).toEqual({ memory: 10, floor: 1 });
  });

  it('does not mutate or keep the object it is given', () => {
    const sets = new SharedParams<{ memory: number }>();
    const given = { memory: 5 };
    const shared = sets.of(given);
    given.memory = 6;
    expect(shared.memory).toBe(5);
    expect(Object.isFrozen(given)).toBe(false);
  });

  it('keeps at most `max` sets and gives the rest a frozen copy of their own', () => {
    const sets = new SharedParams<{ memory: number }>(2);
    sets.of({ memory: 1 });
    sets.of({ memory: 2 });
    const third = sets.of({ memory: 3 });
    expect(Object.isFrozen(third)).toBe(true);
    expect(sets.of({ memory: 3 })).not.toBe(third);
    expect(sets.of({ memory: 1 })).toBe(sets.of({ memory: 1 }));
  });
});
