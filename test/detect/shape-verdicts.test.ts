import { describe, expect, it } from 'vitest';
import { compareToExpected, shapeKey } from '../../src/detect/expected-order.js';
import { NO_VIOLATION, ShapeVerdicts, verdictOf } from '../../src/detect/shape-verdicts.js';

describe('verdictOf', () => {
  it('counts each (kind, handler) once, at its first occurrence, with its beat index and count key', () => {
    const v = verdictOf([
      { kind: 'duplicate-beat', handler: 'b', index: 2 },
      { kind: 'missing-beat', handler: 'c', index: -1 },
      { kind: 'duplicate-beat', handler: 'b', index: 3 },
      { kind: 'out-of-order', handler: 'b', index: 1 },
    ]);
    expect(v.kinds).toEqual(['duplicate-beat', 'missing-beat', 'out-of-order']);
    expect(v.handlers).toEqual(['b', 'c', 'b']);
    expect(v.ids).toEqual(['duplicate-beat\u0001b', 'missing-beat\u0001c', 'out-of-order\u0001b']);
    expect(v.beatIndex).toEqual([2, -1, 1]);
  });

  it('is the shared empty verdict for a conforming run', () => {
    expect(verdictOf(compareToExpected(['a', 'b'], ['a', 'b']))).toBe(NO_VIOLATION);
    expect(NO_VIOLATION.ids).toHaveLength(0);
  });
});

describe('ShapeVerdicts', () => {
  it('remembers a verdict per shape until cleared', () => {
    const verdicts = new ShapeVerdicts();
    const shape = ['a', 'c'];
    expect(verdicts.get(shapeKey(shape), shape)).toBeUndefined();
    const v = verdicts.remember(shapeKey(shape), shape, compareToExpected(['a', 'b', 'c'], shape));
    expect(v.ids).toEqual(['missing-beat\u0001b']);
    expect(verdicts.get(shapeKey(shape), ['a', 'c'])).toBe(v);
    verdicts.clear();
    expect(verdicts.get(shapeKey(shape), shape)).toBeUndefined();
  });

  it('tells apart shapes whose joined keys collide (handler names are telemetry)', () => {
    const verdicts = new ShapeVerdicts();
    const two = ['a', 'b'];
    const one = ['a\u0001b'];
    expect(shapeKey(one)).toBe(shapeKey(two));
    verdicts.remember(shapeKey(two), two, []);
    expect(verdicts.get(shapeKey(one), one)).toBeUndefined();
    const v = verdicts.remember(shapeKey(one), one, compareToExpected(['a', 'b'], one));
    expect(v.ids).toContain('unexpected-beat\u0001a\u0001b');
    expect(verdicts.get(shapeKey(one), one)).toBe(v);
    expect(verdicts.get(shapeKey(two), two)).toBeUndefined();
  });

  it('keeps at most `max` shapes, starting over when full', () => {
    const verdicts = new ShapeVerdicts(3);
    for (let i = 0; i < 3; i++) verdicts.remember(`k${i}`, [`h${i}`], []);
    expect(verdicts.size).toBe(3);
    // Re-remembering a known shape does not start over.
    verdicts.remember('k1', ['h1'], []);
    expect(verdicts.size).toBe(3);
    verdicts.remember('k3', ['h3'], []);
    expect(verdicts.size).toBe(1);
    expect(verdicts.get('k3', ['h3'])).toBe(NO_VIOLATION);
    expect(verdicts.get('k0', ['h0'])).toBeUndefined();
  });
});
