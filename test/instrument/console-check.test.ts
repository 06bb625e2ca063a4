import { describe, expect, it } from 'vitest';
import { originalOf, trackOriginal, unwrapForConsoleCheck } from '../../src/instrument/console-check.js';

class Validator {
  detectDirectConsoleUsage(fn: unknown): boolean {
    return typeof fn === 'function' && /console\.log/.test(Function.prototype.toString.call(fn));
  }
}

describe('console-usage check on wrapped handlers', () => {
  const original = () => console.log('x');
  const wrapper = () => undefined;
  trackOriginal(wrapper, original);
  const twice = () => undefined;
  trackOriginal(twice, wrapper);

  it('maps wrappers, and wrappers of wrappers, to the original', () => {
    expect(originalOf(wrapper)).toBe(original);
    expect(originalOf(twice)).toBe(original);
    expect(originalOf(original)).toBe(original);
  });

  it('patches a shared validator once and restores it when the last user undoes', () => {
    const v = new Validator();
    expect(v.detectDirectConsoleUsage(wrapper)).toBe(false);
    const undoA = unwrapForConsoleCheck(v);
    const undoB = unwrapForConsoleCheck(v);
    expect(v.detectDirectConsoleUsage(wrapper)).toBe(true);
    expect(v.detectDirectConsoleUsage('not a function')).toBe(false);
    undoA();
    undoA();
    expect(v.detectDirectConsoleUsage(wrapper)).toBe(true);
    undoB();
    expect(Object.prototype.hasOwnProperty.call(v, 'detectDirectConsoleUsage')).toBe(false);
    expect(v.detectDirectConsoleUsage(wrapper)).toBe(false);
  });

  it('restores an own property as it was, and ignores validators without the check', () => {
    const check = (fn: unknown) => fn === 1;
    const v = { detectDirectConsoleUsage: check };
    unwrapForConsoleCheck(v)();
    expect(v.detectDirectConsoleUsage).toBe(check);
    expect(() => unwrapForConsoleCheck(undefined)()).not.toThrow();
    expect(() => unwrapForConsoleCheck({})()).not.toThrow();
  });
});
