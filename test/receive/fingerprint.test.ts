import { describe, expect, it } from 'vitest';
import { buildBeatError, errorFingerprint, normaliseMessage, shortHash, topFrame } from '../../src/receive/fingerprint.js';

describe('normaliseMessage', () => {
  it('replaces numbers, ids, uuids, quoted strings, urls and emails', () => {
    expect(normaliseMessage('User 123 not found')).toBe(normaliseMessage('User 456 not found'));
    expect(normaliseMessage('User 123 not found')).toBe('User <n> not found');
    expect(normaliseMessage('order 3f2a9c1e-0b4d-4e8a-9f1a-1234567890ab failed')).toBe('order <uuid> failed');
    expect(normaliseMessage("Cannot read properties of undefined (reading 'id')")).toBe('Cannot read properties of undefined (reading <str>)');
    expect(normaliseMessage('GET https://api.example.com/users/42?x=1 returned 503')).toBe('GET <url> returned <n>');
    expect(normaliseMessage('mail to bob.smith@example.com bounced')).toBe('mail to <email> bounced');
    expect(normaliseMessage('trace 4bf92f3577b34da6a3ce929d0e0e4736 at 0xDEADBEEF')).toBe('trace <hex> at <hex>');
    expect(normaliseMessage('timeout after 1.5s on /api/items/77/edit')).toBe('timeout after <n>s on /api/items/<n>/edit');
    expect(normaliseMessage('  spaced \n\t out  ')).toBe('spaced out');
    // Words made only of hex letters stay words.
    expect(normaliseMessage('deadbeef cafe facade')).toBe('deadbeef cafe facade');
  });
});

describe('topFrame', () => {
  it('returns the first application frame, skipping node_modules and node internals', () => {
    const stack = [
      'TypeError: boom',
      '    at Object.run (node:internal/modules/run_main:123:12)',
      '    at next (/app/node_modules/express/lib/router.js:10:5)',
      '    at resolveTemplate (/app/src/plugins/canvas.ts:42:11)',
      '    at main (/app/src/main.ts:1:1)',
    ].join('\n');
    expect(topFrame(stack)).toBe('resolveTemplate (/app/src/plugins/canvas.ts:42)');
  });

  it('handles anonymous frames, @-style frames and stacks without app frames', () => {
    expect(topFrame('Error\n    at /app/src/x.js:10:2')).toBe('/app/src/x.js:10');
    expect(topFrame('render@http://localhost/app.js:5:9')).toBe('render (http://localhost/app.js:5)');
    expect(topFrame('Error\n    at foo (node:events:1:1)\n    at <anonymous>')).toBe('');
    expect(topFrame('')).toBe('');
    expect(topFrame('just a message')).toBe('');
  });
});

describe('fingerprints', () => {
  it('are stable, short and equal for the same normalised error', () => {
    const a = errorFingerprint('NotFoundError', 'User 123 not found', 'find (/app/src/users.ts:9)');
    const b = errorFingerprint('NotFoundError', 'User 456 not found', 'find (/app/src/users.ts:9)');
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(errorFingerprint('TypeError', 'User 123 not found', 'find (/app/src/users.ts:9)')).not.toBe(a);
    expect(errorFingerprint('NotFoundError', 'User 123 not found', 'find (/app/src/users.ts:10)')).not.toBe(a);
    expect(shortHash('abc')).toBe(shortHash('abc'));
    expect(shortHash('abc')).not.toBe(shortHash('abd'));
  });

  it('buildBeatError derives top frame and fingerprint and returns independent objects', () => {
    const stack = 'Error: x\n    at save (/app/src/db.ts:5:1)';
    const e1 = buildBeatError('DbError', 'row 5 locked', stack);
    const e2 = buildBeatError('DbError', 'row 5 locked', stack);
    expect(e1).toEqual({ type: 'DbError', message: 'row 5 locked', topFrame: 'save (/app/src/db.ts:5)', stacktrace: stack, fingerprint: e1.fingerprint });
    expect(e2).toEqual(e1);
    expect(e2).not.toBe(e1);
    expect(buildBeatError('DbError', 'row 9 locked', stack).fingerprint).toBe(e1.fingerprint);
  });

  it('keeps working when the memo fills up', () => {
    let last = '';
    for (let i = 0; i < 2100; i++) last = buildBeatError('E', `unique ${'x'.repeat(i % 7)} message ${i}`, '').fingerprint;
    // 2099 % 7 = 6; the number is normalised away.
    expect(last).toBe(errorFingerprint('E', 'unique xxxxxx message 1', ''));
  });
});
