import { describe, expect, it } from 'vitest';
import { captureInput } from '../../src/instrument/input-capture.js';

describe('captureInput', () => {
  it('keeps the app input and drops what the conductor added', () => {
    const data = {
      position: { x: 3, y: 4 },
      tags: ['a', 'b'],
      _musicalContext: { execution: { requestId: 'r' } },
      _eventBus: {},
      _baton: {},
      _timestamp: 1,
      __mc_correlation_id__: 'mc-1',
      instanceId: 'inst_1',
      symphonyName: 'Default Symphony',
      resourceId: 'symphony_default',
      conflictResult: { hasConflict: false },
      sequenceHash: 'abc',
    };
    expect(captureInput(data, {})).toBe('{"position":{"x":3,"y":4},"tags":["a","b"]}');
  });

  it('lets redact replace or drop leaves by dotted path', () => {
    const seen: string[] = [];
    const json = captureInput(
      { user: { email: 'a@b.c', name: 'Ann' }, cards: [{ number: '4242' }], ok: true, none: null },
      {
        redact: (path, value) => {
          seen.push(path);
          if (path === 'user.email') return undefined;
          return path.endsWith('.number') ? '****' : value;
        },
      },
    );
    expect(JSON.parse(json!)).toEqual({ user: { name: 'Ann' }, cards: [{ number: '****' }], ok: true, none: null });
    expect(seen.sort()).toEqual(['cards.0.number', 'none', 'ok', 'user.email', 'user.name']);
  });

  it('captures what select picks from the call, redacted the same way', () => {
    const json = captureInput(
      { payload: { name: 'B', secret: 'x' }, _musicalContext: {} },
      { select: (handler, data, context) => ({ handler, ...(data as { payload: object }).payload, ...(context as object) }), redact: (path, v) => (path === 'secret' ? undefined : v) },
      { handler: 'create', context: { css: '.a' } },
    );
    expect(JSON.parse(json!)).toEqual({ handler: 'create', name: 'B', css: '.a' });
    expect(captureInput({ a: 1 }, { select: () => ({ b: 2 }) })).toBe('{"a":1}');
  });

  it('is bounded: too long gives nothing rather than a cut JSON; the sidecar limit caps maxLength', () => {
    expect(captureInput({ s: 'x'.repeat(50) }, { maxLength: 20 })).toBeUndefined();
    expect(captureInput({ s: 'x'.repeat(600) }, { maxLength: 10_000 })).toBeUndefined();
    expect(captureInput({ s: 'x'.repeat(400) }, {})).toHaveLength(408);
  });

  it('survives cycles, depth, functions, non-finite numbers and throwing redactors', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(captureInput(cyclic, {})).toBe('{"a":1}');
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 12; i++) deep = { d: deep };
    expect(captureInput(deep, {})).not.toContain('leaf');
    expect(captureInput({ f: () => 1, n: Number.NaN, sym: Symbol('s') }, {})).toBe('{"n":null}');
    expect(
      captureInput(
        { a: 1 },
        {
          redact: () => {
            throw new Error('bad redactor');
          },
        },
      ),
    ).toBeUndefined();
    expect(captureInput({ a: 1 }, { redact: () => 10n })).toBeUndefined();
    expect(captureInput('plain', {})).toBe('"plain"');
    expect(captureInput(undefined, {})).toBeUndefined();
  });
});
