import { describe, expect, it } from 'vitest';
import type { SignalScore, SignalSlice } from '../../src/detect/service-signals.js';
import { EvidenceLedger } from '../../src/diagnose/evidence-ledger.js';
import { IncidentTracker, type GraphView } from '../../src/diagnose/incidents.js';
import { rankRootCauses } from '../../src/diagnose/root-causes.js';
import { anomaly } from './fixtures.js';

function score(key: string, service: string, z: number, discovered = true, observed = 100): SignalScore {
  return { key, kind: 'self', service, z, observed, expected: 10, discovered };
}

describe('EvidenceLedger', () => {
  it('with sustain 1 keeps each key\'s strongest slice, discovered if any slice was', () => {
    const l = new EvidenceLedger({ sustain: 1 });
    l.note(score('k', 'a', 5, true, 50));
    l.note(score('k', 'a', 9, false, 90));
    l.note(score('k', 'a', 2, false, 20));
    const s = l.scores().get('k')!;
    expect(s.z).toBe(9);
    expect(s.observed).toBe(90);
    expect(s.discovered).toBe(true);
    expect(l.size).toBe(1);
  });

  it('averages the strongest `sustain` slices, counting slices a key did not score in as 0', () => {
    const l = new EvidenceLedger({ sustain: 4 });
    for (const z of [3, 20, 1, 7, 5, 2]) l.note(score('steady', 'a', z));
    expect(l.scores().get('steady')!.z).toBeCloseTo((20 + 7 + 5 + 3) / 4);
    // A spike repeated by three sliding windows counts three quarters.
    const spike = new EvidenceLedger({ sustain: 4 });
    for (const z of [12, 12, 12]) spike.note(score('spike', 'b', z));
    expect(spike.scores().get('spike')!.z).toBeCloseTo(9);
  });

  it('ignores scores that moved the wrong way and refuses a sustain below 1', () => {
    const l = new EvidenceLedger();
    l.note(score('k', 'a', -4));
    l.note(score('k', 'a', 0));
    l.note(score('k', 'a', Number.NaN));
    expect(l.scores().size).toBe(0);
    expect(() => new EvidenceLedger({ sustain: 0 })).toThrow(/sustain/);
    expect(() => new EvidenceLedger({ sustain: 1.5 })).toThrow(/sustain/);
  });

  it('lets a shift that holds outrank a stronger one-slice spike in the ranking', () => {
    const l = new EvidenceLedger();
    // The spike's slice sits in three windows; the fault's own time stays up for six slices.
    for (let i = 0; i < 6; i++) {
      l.note(score('self|spiky', 'spiky', i < 3 ? 14 : 1));
      l.note(score('self|faulty', 'faulty', 11));
    }
    const ranked = rankRootCauses({ scores: l.scores(), callees: () => [], firstSeenMs: new Map() });
    expect(ranked.map((c) => c.service)).toEqual(['faulty', 'spiky']);
    const strongest = new EvidenceLedger({ sustain: 1 });
    for (let i = 0; i < 6; i++) {
      strongest.note(score('self|spiky', 'spiky', i < 3 ? 14 : 1));
      strongest.note(score('self|faulty', 'faulty', 11));
    }
    expect(rankRootCauses({ scores: strongest.scores(), callees: () => [], firstSeenMs: new Map() })[0]!.service).toBe('spiky');
  });
});

describe('IncidentTracker evidence', () => {
  const SLICE = 10_000;
  const T0 = 1_700_000_000_000;
  const calls: Record<string, string[]> = { frontend: ['cart', 'batch'], cart: ['pricing'], pricing: [], batch: [] };
  const graph: GraphView = {
    callees: (s) => calls[s] ?? [],
    neighbours: (s) => new Set([...(calls[s] ?? []), ...Object.keys(calls).filter((c) => calls[c]!.includes(s))]),
    isEntryService: (s) => s === 'frontend',
  };
  const slice = (n: number, scores: SignalScore[]): SignalSlice => ({ startMs: T0 + (n - 1) * SLICE, endMs: T0 + n * SLICE, scores, findings: [] });

  function replay(opts: ConstructorParameters<typeof IncidentTracker>[1]): string[] {
    const tracker = new IncidentTracker(graph, { instanceTag: 'e', ...opts });
    // Unrelated noise (batch's own time, one extreme slice repeated by 3 windows) founds the
    // incident; pricing's own time, the fault, rises a slice later and holds.
    const founder = anomaly({ id: 'an_batch', service: 'batch', key: 'svc|self|batch', firstSeenMs: T0, lastSeenMs: T0 });
    for (let n = 1; n <= 7; n++) {
      const scores = [score('self|batch', 'batch', n <= 3 ? 15 : 1), ...(n >= 2 ? [score('self|pricing', 'pricing', 12)] : [])];
      tracker.apply(slice(n, scores), n === 1 ? [{ kind: 'opened', anomaly: founder }] : [], [], T0 + n * SLICE);
    }
    return tracker.incidents()[0]!.rootCauses.map((c) => c.service);
  }

  it('judges a fault that joins after the evidence window over a window of its own, no longer', () => {
    const tracker = new IncidentTracker(graph, { instanceTag: 'l' });
    // batch's own time (noise that holds) founds the incident; pricing's fault starts at slice 9,
    // after the incident's evidence window (the slice before and 6 from the start), and its
    // anomaly joins at slice 12, once its discoveries are confirmed.
    const founder = anomaly({ id: 'an_batch', service: 'batch', key: 'svc|self|batch', firstSeenMs: T0 + SLICE, lastSeenMs: T0 + SLICE });
    const fault = anomaly({ id: 'an_pricing', service: 'pricing', key: 'svc|self|pricing', firstSeenMs: T0 + 12 * SLICE, lastSeenMs: T0 + 12 * SLICE });
    for (let n = 1; n <= 30; n++) {
      // After its own window (slices 11-18) pricing's figures grow further: they must not count.
      const pricing = n >= 9 ? [score('self|pricing', 'pricing', n <= 18 ? 20 : 60)] : [];
      const changes = [n === 1 ? { kind: 'opened' as const, anomaly: founder } : { kind: 'updated' as const, anomaly: { ...founder, lastSeenMs: T0 + n * SLICE } }];
      if (n === 12) changes.push({ kind: 'opened', anomaly: fault });
      tracker.apply(slice(n, [score('self|batch', 'batch', 8), ...pricing]), changes, [], T0 + n * SLICE);
    }
    const incidents = tracker.incidents();
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.anomalyIds).toEqual(['an_batch', 'an_pricing']);
    expect(incidents[0]!.rootCauses.map((c) => c.service)).toEqual(['pricing', 'batch']);
    expect(incidents[0]!.rootCauses[0]!.score).toBe(20);
  });

  it('ranks the shift that holds above the noise that opened the incident', () => {
    expect(replay({})).toEqual(['pricing', 'batch']);
    // The evidence before (each key's strongest slice) put the noise first.
    expect(replay({ evidence: { sustain: 1, burstSlices: 0 } })).toEqual(['batch', 'pricing']);
  });

  it('counts a burst once, not once per window: a stronger one-slice burst no longer outranks a weaker shift that holds', () => {
    const ranked = (evidence: { burstSlices?: number }): string[] => {
      const tracker = new IncidentTracker(graph, { instanceTag: 'e', evidence });
      // batch: one slice of slow requests, z 20 in the 3 windows that hold it (the mean of the 4
      // strongest is 15); pricing: z 9 from the second slice on, for as long as the fault lasts.
      const founder = anomaly({ id: 'an_batch', service: 'batch', key: 'svc|self|batch', firstSeenMs: T0, lastSeenMs: T0 });
      for (let n = 1; n <= 7; n++) {
        const scores = [score('self|batch', 'batch', n <= 3 ? 20 : 1), ...(n >= 2 ? [score('self|pricing', 'pricing', 9)] : [])];
        tracker.apply(slice(n, scores), n === 1 ? [{ kind: 'opened', anomaly: founder }] : [], [], T0 + n * SLICE);
      }
      return tracker.incidents()[0]!.rootCauses.map((c) => c.service);
    };
    expect(ranked({})).toEqual(['pricing', 'batch']);
    expect(ranked({ burstSlices: 0 })).toEqual(['batch', 'pricing']);
  });
});

describe('EvidenceLedger bursts', () => {
  const at = (n: number): number => 1_000 + n * 10_000;
  function ledgerOf(series: Record<string, number[]>, opts: ConstructorParameters<typeof EvidenceLedger>[0] = {}): Map<string, SignalScore> {
    const l = new EvidenceLedger(opts);
    const n = Math.max(...Object.values(series).map((v) => v.length));
    for (let i = 0; i < n; i++) l.noteSlice(Object.entries(series).map(([key, zs]) => score(key, key, zs[i] ?? 0)), at(i));
    return l.scores();
  }

  it('divides a run of at most burstSlices strong slices, over before the evidence ends, by burstSlices', () => {
    const s = ledgerOf({ burst: [12, 12, 12, 1, 0, 0, 0], shift: [9, 9, 9, 9, 9, 9, 9] });
    expect(s.get('burst')!.z).toBeCloseTo((12 * 3 + 1) / 4 / 3);
    expect(s.get('shift')!.z).toBeCloseTo(9);
  });

  it('does not call a run a burst when it lasts longer, recurs, or may still be going on', () => {
    const s = ledgerOf({ long: [12, 12, 12, 12, 0, 0, 0], recurring: [12, 0, 0, 12, 0, 0, 0], recent: [0, 0, 0, 0, 12, 12, 0], weak: [2.5, 2.5, 2.5, 0, 0, 0, 0] });
    expect(s.get('long')!.z).toBeCloseTo(12);
    expect(s.get('recurring')!.z).toBeCloseTo(6);
    expect(s.get('recent')!.z).toBeCloseTo(6);
    expect(s.get('weak')!.z).toBeCloseTo(7.5 / 4);
    expect(ledgerOf({ burst: [12, 12, 12, 0, 0] }, { burstSlices: 0 }).get('burst')!.z).toBeCloseTo(9);
  });

  it('never calls a key tested request by request a burst: its test looks back further than one window', () => {
    const l = new EvidenceLedger();
    for (let i = 0; i < 7; i++) l.noteSlice([{ ...score('gap|sparse', 'security', i < 2 ? 7 : 0), sparse: true }, score('gap|dense', 'other', i < 2 ? 7 : 0)], at(i));
    expect(l.scores().get('gap|sparse')!.z).toBeCloseTo(14 / 4);
    expect(l.scores().get('gap|dense')!.z).toBeCloseTo(14 / 4 / 3);
  });

  it('orders slices noted out of order and refuses a negative or fractional burstSlices', () => {
    const l = new EvidenceLedger();
    for (const i of [2, 0, 1, 3, 4]) l.noteSlice([score('k', 'a', i < 3 ? 12 : 0)], at(i));
    expect(l.scores().get('k')!.z).toBeCloseTo(3);
    expect(() => new EvidenceLedger({ burstSlices: -1 })).toThrow(/burstSlices/);
    expect(() => new EvidenceLedger({ burstSlices: 2.5 })).toThrow(/burstSlices/);
  });
});
