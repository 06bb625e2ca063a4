import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { makeBeat } from './beat-factory.js';

describe('DetectionEngine memory budgets', () => {
  const beat = (handler: string, i: number) =>
    makeBeat({ service: 'svc', handler, sequence: '', traceId: `t-${handler}-${i}`, spanId: `s${i}`, parentSpanId: 'p', startMs: 1_000 + i, durationMs: 2 });

  it('keeps all handler reservoirs within detect.maxRetainedBeats and counts what it capped', () => {
    const config = ConfigSchema.parse({ detect: { maxRetainedBeats: 100 } }).detect;
    const engine = new DetectionEngine({ config });
    for (let i = 0; i < 50; i++) engine.observe(['a', 'b', 'c', 'd'].map((h) => beat(h, i)));
    const s = engine.stats();
    expect(s.retainedBeats).toBeLessThanOrEqual(100);
    expect(s.retentionCapped).toBeGreaterThan(0);
    // The newest beat of every handler is still there as evidence.
    for (const h of ['a', 'b', 'c', 'd']) expect(engine.recentBeats('svc', h).at(-1)?.traceId).toBe(`t-${h}-49`);
  });

  it('gives an evicted key its reservoir room back', () => {
    const config = ConfigSchema.parse({ detect: { maxRetainedBeats: 30, maxKeys: 2, keyActiveMs: 0 } }).detect;
    const engine = new DetectionEngine({ config });
    for (let i = 0; i < 40; i++) engine.observe([beat('a', i)]);
    const held = engine.stats().retainedBeats;
    expect(held).toBe(30);
    // Two new keys push 'a' out of a table of 2: its beats leave the budget with it.
    engine.observe([beat('b', 100), beat('c', 101)]);
    expect(engine.stats().evicted).toBeGreaterThan(0);
    expect(engine.recentBeats('svc', 'a')).toEqual([]);
    expect(engine.stats().retainedBeats).toBeLessThan(held);
    for (let i = 0; i < 10; i++) engine.observe([beat('c', 200 + i)]);
    expect(engine.recentBeats('svc', 'c').length).toBeGreaterThan(1);
  });
  it('keeps no beats for a key that arrives after the budget is spent, counts them, and takes them once room comes back', () => {
    const config = ConfigSchema.parse({ detect: { maxRetainedBeats: 20, maxKeys: 2, keyActiveMs: 0 } }).detect;
    const engine = new DetectionEngine({ config });
    for (let i = 0; i < 30; i++) engine.observe([beat('a', i)]);
    expect(engine.stats().retainedBeats).toBe(20);
    const capped = engine.stats().retentionCapped;
    for (let i = 0; i < 5; i++) engine.observe([beat('z', 100 + i)]);
    expect(engine.recentBeats('svc', 'z')).toEqual([]);
    expect(engine.stats().retainedBeats).toBe(20);
    expect(engine.stats().retentionCapped).toBe(capped + 5);
    // 'a' leaves the table (a third key): its room goes back and 'z' keeps its next beats.
    engine.observe([beat('y', 200)]);
    engine.observe([beat('z', 201), beat('z', 202)]);
    expect(engine.recentBeats('svc', 'z').map((b) => b.traceId)).toEqual(['t-z-201', 't-z-202']);
  });
});
