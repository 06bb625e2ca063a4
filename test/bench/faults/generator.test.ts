import { describe, expect, it } from 'vitest';
import { STATUS_ERROR } from '../../../src/model/beat.js';
import { SequenceSchema } from '../../../src/model/sequence.js';
import { parseLcov } from '../../../src/detect/coverage-report.js';
import { coverageLcov, declaredSequences, SEQUENCES } from './catalog.js';
import { TrafficGenerator } from './generator.js';
import { Random } from './random.js';
import { activeFaults, defaultScenario } from './scenario.js';

describe('fault scenario generator', () => {
  it('is deterministic for a seed', () => {
    const sc = defaultScenario(5);
    const a = new TrafficGenerator(sc).slice(0);
    const b = new TrafficGenerator(sc).slice(0);
    expect(a.beats.map((x) => x.spanId)).toEqual(b.beats.map((x) => x.spanId));
    expect(new TrafficGenerator(defaultScenario(6)).slice(0).beats.length).not.toBe(a.beats.length);
  });

  it('emits whole runs: children first, root last, beats carrying beat attributes', () => {
    const sc = defaultScenario(5);
    const { beats, runs } = new TrafficGenerator(sc).slice(0);
    const roots = beats.filter((b) => b.parentSpanId === '' && b.sequence !== '');
    expect(roots).toHaveLength(runs);
    const root = roots[0]!;
    const trace = beats.filter((b) => b.traceId === root.traceId);
    expect(trace[trace.length - 1]).toBe(root);
    const beatSpans = trace.filter((b) => b.beatNumber > 0);
    expect(beatSpans.every((b) => b.parentSpanId === root.spanId && b.sequence === root.sequence)).toBe(true);
    expect(beatSpans.every((b) => b.startMs >= root.startMs && b.startMs + b.durationMs <= root.startMs + root.durationMs)).toBe(true);
  });

  it('injects the faults of the active slice', () => {
    const sc = defaultScenario(5);
    const gen = new TrafficGenerator(sc);
    const missing = sc.faults.find((f) => f.kind === 'missing-beat')!;
    const release = sc.faults.find((f) => f.kind === 'version-regression')!;
    const exception = sc.faults.find((f) => f.kind === 'new-exception')!;
    expect(activeFaults(sc.faults, missing.startSlice).map((f) => f.id)).toEqual([missing.id]);
    const count = (slice: number, pred: (b: ReturnType<typeof gen.slice>['beats'][number]) => boolean): number => gen.slice(slice).beats.filter(pred).length;
    const reserveBefore = count(missing.startSlice - 1, (b) => b.handler === 'reserveStock');
    const reserveDuring = count(missing.startSlice, (b) => b.handler === 'reserveStock');
    expect(reserveDuring).toBeLessThan(reserveBefore * 0.8);
    expect(count(release.startSlice - 1, (b) => b.serviceVersion === release.version)).toBe(0);
    expect(count(release.startSlice, (b) => b.serviceVersion === release.version)).toBeGreaterThan(0);
    expect(count(exception.startSlice, (b) => b.status === STATUS_ERROR && b.error!.type === 'TypeError')).toBeGreaterThan(0);
  });

  it('declares valid MusicalConductor sequences and a coverage report missing only the untested handler', () => {
    const declared = declaredSequences();
    expect(declared.map((s) => s.name)).toEqual(SEQUENCES.filter((s) => s.declared).map((s) => s.name));
    for (const s of declared) expect(SequenceSchema.safeParse(s).success).toBe(true);
    const idx = parseLcov(coverageLcov());
    expect([...idx.handlers].filter(([, e]) => !e.covered).map(([n]) => n)).toEqual(['suggestCompletions']);
  });

  it('draws plausible random numbers', () => {
    const r = new Random(1);
    const xs = Array.from({ length: 2000 }, () => r.poisson(4));
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeGreaterThan(3.7);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeLessThan(4.3);
    expect(r.poisson(400)).toBeGreaterThan(300);
    expect(r.hex(32)).toMatch(/^[0-9a-f]{32}$/);
  });
});
