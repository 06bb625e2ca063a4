import { describe, expect, it } from 'vitest';
import { argsFromAttributes, callFromSample, canonicalJson, capturedCalls, repeatRatio } from '../../../src/heal/fix/captured-inputs.js';
import { beat } from './fix-context.js';

describe('argsFromAttributes', () => {
  it('rebuilds nested objects from beat.input.<path> leaves', () => {
    expect(argsFromAttributes({ 'beat.input.position.x': 1, 'beat.input.position.y': 2, 'beat.input.name': 'a', other: 'x' })).toEqual([
      { position: { x: 1, y: 2 }, name: 'a' },
    ]);
  });

  it('ignores attribute paths that would reach a prototype', () => {
    const args = argsFromAttributes({ 'beat.input.__proto__.latencyBudgetMs': 1, 'beat.input.constructor.prototype.x': 2, 'beat.input.a': 3 });
    expect(args).toEqual([{ a: 3 }]);
    expect(({} as Record<string, unknown>).latencyBudgetMs).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('reads positional arguments and whole JSON inputs', () => {
    expect(argsFromAttributes({ 'beat.input.0.id': 'a', 'beat.input.1': 3 })).toEqual([{ id: 'a' }, 3]);
    expect(argsFromAttributes({ 'beat.input': '{"a":1}' })).toEqual([{ a: 1 }]);
    expect(argsFromAttributes({ 'beat.input': '[1,2]' })).toEqual([1, 2]);
    expect(argsFromAttributes({ 'beat.input': 'plain text' })).toEqual(['plain text']);
    expect(argsFromAttributes({ 'beat.input.a': 1, 'beat.input.a.b': 2 })).toEqual([{ a: { b: 2 } }]);
    expect(argsFromAttributes({ unrelated: 1 })).toBeUndefined();
  });

  it('reads diagnosis samples ({traceId, spanId, failed, attributes}) and bare attribute records', () => {
    expect(callFromSample({ traceId: 't', spanId: 's', failed: true, durationMs: 3, attributes: { 'beat.input.a': 1 } })).toEqual({
      args: [{ a: 1 }],
      traceId: 't',
      spanId: 's',
      failed: true,
    });
    expect(callFromSample({ attributes: { other: 1 } })).toBeUndefined();
    expect(callFromSample({ 'beat.input.a': 1 })).toEqual({ args: [{ a: 1 }], failed: false });
    expect(callFromSample({ a: 1 })).toBeUndefined();
  });
});

describe('capturedCalls / repeatRatio', () => {
  it('collects the handler calls, failed first, then samples', () => {
    const beats = [
      beat('P.h', { 'beat.input.a': 1 }),
      beat('h', { 'beat.input.a': 2 }, { status: 2, traceId: 'tf' }),
      beat('h', {}),
      beat('other', { 'beat.input.a': 3 }),
    ];
    const samples = [
      { traceId: 'ts', spanId: 'x1', failed: true, attributes: { 'beat.input.a': 9 } },
      { traceId: beats[0]!.traceId, spanId: beats[0]!.spanId, failed: false, attributes: { 'beat.input.a': 1 } },
      { 'beat.input.a': 8 },
    ];
    const calls = capturedCalls(beats, 'Plugin.h', samples);
    expect(calls.map((c) => [c.args, c.failed, c.traceId])).toEqual([
      [[{ a: 2 }], true, 'tf'],
      [[{ a: 9 }], true, 'ts'],
      [[{ a: 1 }], false, beats[0]!.traceId],
      [[{ a: 8 }], false, undefined],
    ]);
  });

  it('measures how often inputs repeat, independent of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
    const call = (args: unknown[]) => ({ args, failed: false });
    expect(repeatRatio([])).toBe(0);
    expect(repeatRatio([call([{ a: 1, b: 2 }]), call([{ b: 2, a: 1 }]), call([{ a: 1, b: 2 }]), call([2])])).toBe(0.5);
  });
});
