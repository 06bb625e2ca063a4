import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnomalyRecorder } from '../../src/diagnose/anomaly-recorder.js';
import { EventBus } from '../../src/emit/event-bus.js';
import type { AnomalyChange } from '../../src/model/anomaly.js';
import type { Diagnosis } from '../../src/model/diagnosis.js';
import type { AnomalyStore } from '../../src/store/anomaly-store.js';
import { tempStore } from '../emit/store-fixture.js';
import { anomaly, failing, FakeEvidence } from './fixtures.js';

describe('AnomalyRecorder', () => {
  let store: AnomalyStore;
  let cleanup: () => void;
  beforeEach(() => {
    ({ store, cleanup } = tempStore());
  });
  afterEach(() => cleanup());

  it('stores, publishes, diagnoses on open and on escalation, and emits spans', () => {
    const bus = new EventBus(store, { clock: () => 5 });
    const ev = new FakeEvidence();
    ev.recent = [failing({}), failing({})];
    const spans: Array<[string, string | undefined]> = [];
    const rec = new AnomalyRecorder({
      store,
      events: bus,
      evidence: ev,
      openAnomalies: () => [],
      clock: () => 1000,
      spans: { emit: (c, d) => spans.push([c.kind, d?.id]) },
    });
    const a = anomaly({ type: 'error', subtype: 'new-error-fingerprint', severity: 'medium' });
    const d1 = rec.handle({ kind: 'opened', anomaly: a });
    expect(d1?.rootCause.cause).toBe('code-defect');
    expect(rec.handle({ kind: 'updated', anomaly: { ...a, severity: 'low' } })).toBeUndefined();
    const d2 = rec.handle({ kind: 'updated', anomaly: { ...a, severity: 'critical' } });
    expect(d2).toBeDefined();
    expect(rec.handle({ kind: 'resolved', anomaly: { ...a, state: 'resolved', resolvedMs: 2000 } })).toBeUndefined();
    expect(store.getAnomaly('a1')?.state).toBe('resolved');
    expect(store.diagnosesForAnomaly('a1')).toHaveLength(1); // same id: same nowMs, upserted
    expect(store.eventsSince(0, 100).map((e) => e.kind)).toEqual([
      'anomaly.opened',
      'diagnosis.created',
      'anomaly.updated',
      'anomaly.updated',
      'diagnosis.created',
      'anomaly.resolved',
    ]);
    expect(spans).toEqual([
      ['opened', d1!.id],
      ['updated', undefined],
      ['updated', d2!.id],
      ['resolved', undefined],
    ]);
  });

  it('reports diagnosis and span failures without throwing', () => {
    const errors: string[] = [];
    const saved: Diagnosis[] = [];
    const changes: AnomalyChange[] = [];
    const ev = new FakeEvidence();
    ev.recentBeats = () => {
      throw new Error('evidence gone');
    };
    const rec = new AnomalyRecorder({
      store: { saveAnomaly: () => undefined, saveDiagnosis: (d) => saved.push(d) },
      events: { publishAnomalyChange: (c) => changes.push(c), publishDiagnosis: () => undefined },
      evidence: ev,
      openAnomalies: () => [],
      spans: {
        emit: () => {
          throw new Error('exporter down');
        },
      },
      onError: (e) => errors.push((e as Error).message),
    });
    expect(rec.handle({ kind: 'opened', anomaly: anomaly() })).toBeUndefined();
    expect(errors).toEqual(['evidence gone', 'exporter down']);
    expect(changes).toHaveLength(1);
    expect(saved).toHaveLength(0);
    // Still undiagnosed, so the next update tries again.
    ev.recentBeats = () => [];
    expect(rec.handle({ kind: 'updated', anomaly: anomaly() })).toBeDefined();
  });
});
