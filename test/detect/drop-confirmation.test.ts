import { describe, expect, it } from 'vitest';
import { patternConfirmation } from '../../src/detect/drop-confirmation.js';
import type { PatternTest } from '../../src/detect/event-patterns.js';

const test = (direction: 'surge' | 'drop', effectOk: boolean): PatternTest => ({ service: 'price', pattern: 'log:info:query', observed: 0, expected: 20, direction, p: 1e-9, z: 6, effectOk });

describe('patternConfirmation', () => {
  it('confirms a drop large enough to matter at once and keeps the run for surges', () => {
    expect(patternConfirmation(test('drop', true), 2, 1)).toBe(1);
    expect(patternConfirmation(test('surge', true), 2, 1)).toBe(2);
    // A drop too small to matter is no finding anyway; it keeps the run like any pattern.
    expect(patternConfirmation(test('drop', false), 2, 1)).toBe(2);
  });
});
