import { describe, expect, it } from 'vitest';
import { exemplarTrace, EXEMPLARS_PER_INCIDENT, keepIncidentExemplars, MAX_EXEMPLAR_SPANS, pickExemplarTraces } from '../../src/diagnose/incident-exemplars.js';
import type { Beat } from '../../src/model/beat.js';
import { beat, failing } from './fixtures.js';

describe('incident exemplars', () => {
  it('turns a trace into a waterfall, oldest span first, failing spans marked', () => {
    const root = beat({ traceId: 'T', spanId: 'root', parentSpanId: '', startMs: 100, durationMs: 50, service: 'front', spanName: 'GET /checkout' });
    const child = failing({}, { traceId: 'T', spanId: 'child', parentSpanId: 'root', startMs: 110, durationMs: 20, service: 'pay', spanName: 'charge' });
    expect(exemplarTrace('T', [child, root])).toEqual({
      traceId: 'T',
      spans: [
        { spanId: 'root', parentSpanId: '', service: 'front', name: 'GET /checkout', startMs: 100, durationMs: 50, error: false },
        { spanId: 'child', parentSpanId: 'root', service: 'pay', name: 'charge', startMs: 110, durationMs: 20, error: true },
      ],
    });
    const many = Array.from({ length: MAX_EXEMPLAR_SPANS + 5 }, (_, i) => beat({ traceId: 'B', spanId: `s${i}`, startMs: i }));
    expect(exemplarTrace('B', many).spans).toHaveLength(MAX_EXEMPLAR_SPANS);
  });

  it('keeps the first anomalies exemplars that are still in memory, skipping kept ones, up to the cap', () => {
    const held: Record<string, Beat[]> = { t1: [beat({ traceId: 't1' })], t3: [beat({ traceId: 't3' })], t4: [beat({ traceId: 't4' })], t5: [beat({ traceId: 't5' })] };
    const anomalies = [
      { exemplars: [{ traceId: 't1', spanId: 'a' }, { traceId: 't2', spanId: 'b' }] },
      { exemplars: [{ traceId: 't3', spanId: 'c' }, { traceId: 't1', spanId: 'd' }, { traceId: 't4', spanId: 'e' }, { traceId: 't5', spanId: 'f' }] },
    ];
    const picked = pickExemplarTraces(anomalies, (id) => held[id], new Set(['t3']), 3);
    expect(picked.map((t) => t.traceId)).toEqual(['t1', 't4']);
    expect(pickExemplarTraces(anomalies, () => [], new Set(), 3)).toEqual([]);
  });

  it('keeps an incident\'s exemplar traces once, up to the cap per incident', () => {
    const saved: string[] = [];
    const keeper = { exemplarTraceIds: () => saved, saveExemplar: (_id: string, t: { traceId: string }) => void saved.push(t.traceId) };
    const byId: Record<string, { exemplars: Array<{ traceId: string; spanId: string }> }> = {
      a: { exemplars: [{ traceId: 't1', spanId: 's' }, { traceId: 't2', spanId: 's' }] },
      b: { exemplars: [{ traceId: 't3', spanId: 's' }, { traceId: 't4', spanId: 's' }] },
    };
    const held = (id: string): Beat[] => [beat({ traceId: id })];
    expect(keepIncidentExemplars({ id: 'i', anomalyIds: ['missing', 'a'] }, keeper, (id) => byId[id], held)).toBe(2);
    expect(keepIncidentExemplars({ id: 'i', anomalyIds: ['a', 'b'] }, keeper, (id) => byId[id], held)).toBe(EXEMPLARS_PER_INCIDENT - 2);
    expect(keepIncidentExemplars({ id: 'i', anomalyIds: ['a', 'b'] }, keeper, (id) => byId[id], held)).toBe(0);
    expect(saved).toEqual(['t1', 't2', 't3']);
  });
});
