import { describe, expect, it } from 'vitest';
import { classifyError, errorHypothesis, pickError } from '../../src/diagnose/error-analysis.js';
import { anomaly, beat, failing } from './fixtures.js';

describe('classifyError', () => {
  it.each([
    ["Cannot read properties of undefined (reading 'amount')", 'amount'],
    ["Cannot set properties of null (setting 'x')", 'x'],
    ['Cannot read properties of undefined', undefined],
    ["Cannot read property 'id' of undefined", 'id'],
    ["Cannot destructure property 'user' of 'req.body' as it is undefined.", 'user'],
    ["undefined is not an object (evaluating 'a.b')", 'a.b'],
    ['cart.items is undefined', 'cart.items'],
    ['this.repo.find is not a function', 'this.repo.find'],
  ])('detects null access in %s', (message, property) => {
    const c = classifyError('TypeError', message);
    expect(c.kind).toBe('null-access');
    expect(c.property).toBe(property);
  });

  it('leaves other errors alone', () => {
    expect(classifyError('RangeError', 'Invalid array length')).toEqual({ kind: 'other' });
    expect(classifyError('ValidationError', 'x is not a function')).toEqual({ kind: 'other' });
  });
});

describe('errorHypothesis', () => {
  it('describes the anomaly fingerprint with its top frame', () => {
    const beats = [failing({ fingerprint: 'fp1' }), failing({ fingerprint: 'fp2', message: 'boom', type: 'Error' }), failing({ fingerprint: 'fp2', message: 'boom', type: 'Error' })];
    const r = errorHypothesis(anomaly({ type: 'error', details: { fingerprint: 'fp1' } }), beats)!;
    expect(r.hypothesis.cause).toBe('code-defect');
    expect(r.errorClass).toEqual({ kind: 'null-access', property: 'amount' });
    expect(r.hypothesis.evidence).toContain('thrown at src/pay.ts:42');
    expect(r.hypothesis.description).toContain('null/undefined access at src/pay.ts:42');
    expect(r.failing).toHaveLength(1);
  });

  it('falls back to the most common error and handles missing frames', () => {
    const beats = [failing({ fingerprint: 'fp1' }), failing({ fingerprint: 'fp2', message: 'boom', type: 'Error', topFrame: '' }), failing({ fingerprint: 'fp2', message: 'boom', type: 'Error', topFrame: '' })];
    const r = errorHypothesis(anomaly({ type: 'error' }), beats)!;
    expect(r.error.fingerprint).toBe('fp2');
    expect(r.hypothesis.description).toBe('the handler throws Error: boom');
    expect(r.hypothesis.evidence.some((e) => e.startsWith('thrown at'))).toBe(false);
    expect(errorHypothesis(anomaly(), [beat()])).toBeUndefined();
    expect(pickError(anomaly(), [])).toBeUndefined();
  });
});
