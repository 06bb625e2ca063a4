import { describe, expect, it } from 'vitest';
import { sequenceTimingHypothesis } from '../../src/diagnose/sequence-timing.js';
import { diagnose } from '../../src/diagnose/diagnose.js';
import type { Beat } from '../../src/model/beat.js';
import { anomaly, beat, FakeEvidence } from './fixtures.js';

/** Evidence whose baseline beats depend on the handler asked for. */
class PerHandlerEvidence extends FakeEvidence {
  byHandler = new Map<string, Beat[]>();
  override baselineBeats(_service?: string, handler?: string): Beat[] {
    return this.byHandler.get(handler ?? '') ?? [];
  }
}

function run(i: number, slowTemplate: boolean): Beat[] {
  const traceId = `t${i}`.padEnd(32, '0');
  const root = beat({ handler: 'canvas-component-create', sequence: 'canvas-component-create', parentSpanId: '', traceId, spanId: `r${i}`.padEnd(16, '0'), durationMs: 30 });
  return [
    root,
    beat({ handler: 'resolveTemplate', traceId, parentSpanId: root.spanId, durationMs: slowTemplate ? 25 : 2 }),
    beat({ handler: 'createComponent', traceId, parentSpanId: root.spanId, durationMs: 1.2 }),
  ];
}

describe('sequenceTimingHypothesis', () => {
  const ev = new PerHandlerEvidence();
  for (let i = 0; i < 5; i++) ev.addTrace(run(i, true));
  ev.byHandler.set('resolveTemplate', Array.from({ length: 20 }, () => beat({ handler: 'resolveTemplate', durationMs: 2 })));
  ev.byHandler.set('createComponent', Array.from({ length: 20 }, () => beat({ handler: 'createComponent', durationMs: 1 })));
  const seqAnomaly = anomaly({
    handler: undefined,
    sequence: 'canvas-component-create',
    exemplars: Array.from({ length: 5 }, (_, i) => ({ traceId: `t${i}`.padEnd(32, '0'), spanId: `r${i}`.padEnd(16, '0') })),
  });

  it('names the beat that took the extra time in slow runs of a sequence', () => {
    const r = sequenceTimingHypothesis(seqAnomaly, ev);
    expect(r.slowest).toEqual({ handler: 'resolveTemplate', medianMs: 25, baselineMedianMs: 2, growthMs: 23 });
    expect(r.hypothesis!.cause).toBe('slow-beat:resolveTemplate');
    expect(r.hypothesis!.score).toBeGreaterThan(0.85);
    expect(r.hypothesis!.evidence[0]).toBe('resolveTemplate: median 25 ms vs baseline 2 ms (+23 ms)');
  });

  it('feeds the diagnosis: root cause and affected handlers', () => {
    const d = diagnose(seqAnomaly, ev, { openAnomalies: [], nowMs: 1 });
    expect(d.rootCause.cause).toBe('slow-beat:resolveTemplate');
    expect(d.affected.handlers).toContain('resolveTemplate');
  });

  it('says nothing for handler anomalies, other types, or runs it no longer holds', () => {
    expect(sequenceTimingHypothesis(anomaly({ handler: 'resolveTemplate' }), ev)).toEqual({});
    expect(sequenceTimingHypothesis({ ...seqAnomaly, type: 'error' }, ev)).toEqual({});
    expect(sequenceTimingHypothesis({ ...seqAnomaly, exemplars: [{ traceId: 'gone', spanId: 'x' }] }, ev)).toEqual({});
    const steady = new PerHandlerEvidence();
    steady.addTrace(run(0, false));
    steady.byHandler = ev.byHandler;
    expect(sequenceTimingHypothesis({ ...seqAnomaly, exemplars: [seqAnomaly.exemplars[0]!] }, steady)).toEqual({});
  });
});
