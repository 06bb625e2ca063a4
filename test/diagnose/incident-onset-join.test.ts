import { describe, expect, it } from 'vitest';
import type { SignalScore, SignalSlice } from '../../src/detect/service-signals.js';
import { IncidentTracker, type GraphView } from '../../src/diagnose/incidents.js';
import type { Anomaly, AnomalyChange } from '../../src/model/anomaly.js';
import { anomaly } from './fixtures.js';

const SLICE = 10_000;
const T0 = 1_700_000_000_000;

/** frontend -> cart -> pricing: every service connected to every other. */
function graph(): GraphView {
  const calls: Record<string, string[]> = { frontend: ['cart'], cart: ['pricing'], pricing: [] };
  return {
    callees: (s) => calls[s] ?? [],
    neighbours: (s) => new Set([...(calls[s] ?? []), ...Object.keys(calls).filter((c) => calls[c]!.includes(s))]),
    isEntryService: (s) => s === 'frontend',
  };
}

function slice(n: number, scores: SignalScore[] = []): SignalSlice {
  return { startMs: T0 + (n - 1) * SLICE, endMs: T0 + n * SLICE, scores, findings: [] };
}

const score = (service: string, kind: SignalScore['kind'], z: number): SignalScore => ({ key: `${kind}:${service}`, kind, service, z, observed: 90, expected: 30, discovered: true });

function signal(id: string, service: string, kind: string, atMs: number): Anomaly {
  return anomaly({ id, service, key: `svc|${kind}:${service}`, firstSeenMs: atMs, lastSeenMs: atMs, summary: `${kind} of ${service}` });
}

const opened = (a: Anomaly): AnomalyChange => ({ kind: 'opened', anomaly: a });
const updated = (a: Anomaly, atMs: number): AnomalyChange => ({ kind: 'updated', anomaly: { ...a, state: 'ongoing', lastSeenMs: atMs } });

/**
 * An anomaly of `first` opens in slice 1 and stays open; one of `service` opens in slice `n`.
 * Returns the incidents' anomaly ids, oldest incident first.
 */
function run(service: string, n: number, first = 'pricing'): string[][] {
  const tracker = new IncidentTracker(graph(), { instanceTag: 'o' });
  const held = signal('an_held', first, 'latency', T0 + SLICE);
  tracker.apply(slice(1, [score(first, 'latency', 6)]), [opened(held)], [], T0 + SLICE);
  for (let i = 2; i < n; i++) tracker.apply(slice(i, [score(first, 'latency', 4)]), [updated(held, T0 + i * SLICE)], [], T0 + i * SLICE);
  const later = signal('an_later', service, 'edge-gap', T0 + n * SLICE);
  tracker.apply(slice(n, [score(service, 'edge-gap', 20)]), [updated(held, T0 + n * SLICE), opened(later)], [], T0 + n * SLICE);
  return tracker
    .incidents()
    .sort((a, b) => a.startMs - b.startMs)
    .map((i) => i.anomalyIds);
}

describe('incidents group anomalies that start close in time', () => {
  it('an anomaly of a connected service that starts joinMs after the open one founds its own incident', () => {
    // 150 s after the held anomaly's onset (joinMs is 120 s), while it is still open: without the
    // onset rule its last activity (this very slice) would pull the new fault in.
    expect(run('cart', 16)).toEqual([['an_held'], ['an_later']]);
  });

  it('one that starts within joinMs of it joins it', () => {
    expect(run('cart', 7)).toEqual([['an_held', 'an_later']]);
  });

  it('a later anomaly of a service already in the incident still joins it while the incident is active', () => {
    expect(run('pricing', 16)).toEqual([['an_held', 'an_later']]);
  });

  it('each onset renews the reach: anomalies starting in a chain within joinMs of each other stay one incident', () => {
    const tracker = new IncidentTracker(graph(), { instanceTag: 'c' });
    const a = signal('an_a', 'pricing', 'latency', T0 + SLICE);
    tracker.apply(slice(1, [score('pricing', 'latency', 6)]), [opened(a)], [], T0 + SLICE);
    const b = signal('an_b', 'cart', 'latency', T0 + 10 * SLICE);
    const c = signal('an_c', 'frontend', 'latency', T0 + 19 * SLICE);
    for (let i = 2; i <= 19; i++) {
      const changes: AnomalyChange[] = [updated(a, T0 + i * SLICE)];
      if (i === 10) changes.push(opened(b));
      if (i > 10) changes.push(updated(b, T0 + i * SLICE));
      if (i === 19) changes.push(opened(c));
      tracker.apply(slice(i), changes, [], T0 + i * SLICE);
    }
    expect(tracker.incidents().map((i) => i.anomalyIds)).toEqual([['an_a', 'an_b', 'an_c']]);
  });
});
