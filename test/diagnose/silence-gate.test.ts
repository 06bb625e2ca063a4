import { describe, expect, it } from 'vitest';
import { SilenceGate } from '../../src/diagnose/silence-gate.js';

const NOW = 1_700_000_000_000;

describe('SilenceGate', () => {
  const until = new Map([['inc-silenced', NOW + 60_000], ['inc-lapsed', NOW - 1]]);
  const members = new Map([['an-stored', ['inc-open', 'inc-silenced']]]);
  const store = {
    silencedUntil: (id: string, now: number) => {
      const u = until.get(id);
      return u !== undefined && u > now ? u : undefined;
    },
    incidentIdsOfAnomaly: (id: string) => members.get(id) ?? [],
  };
  const live = { incidentFor: (a: { service: string }) => (a.service === 'pricing' ? { id: 'inc-silenced' } : a.service === 'cart' ? { id: 'inc-open' } : undefined) };
  const gate = new SilenceGate(store, live, () => NOW);

  it('silences incidents until their silence runs out', () => {
    expect(gate.incident('inc-silenced')).toEqual({ incidentId: 'inc-silenced', untilMs: NOW + 60_000 });
    expect(gate.incident('inc-lapsed')).toBeUndefined();
    expect(gate.incident('inc-open')).toBeUndefined();
  });

  it('silences an anomaly by its stored incidents or by the open incident it would join', () => {
    expect(gate.anomaly({ id: 'an-stored', service: 'x', firstSeenMs: NOW })?.incidentId).toBe('inc-silenced');
    expect(gate.anomaly({ id: 'an-new', service: 'pricing', firstSeenMs: NOW })?.incidentId).toBe('inc-silenced');
    expect(gate.anomaly({ id: 'an-new', service: 'cart', firstSeenMs: NOW })).toBeUndefined();
    expect(gate.anomaly({ id: 'an-new', service: 'elsewhere', firstSeenMs: NOW })).toBeUndefined();
    expect(new SilenceGate(store, undefined, () => NOW).anomaly({ id: 'an-new', service: 'pricing', firstSeenMs: NOW })).toBeUndefined();
  });

  it('reads the subject of events and alerts', () => {
    expect(gate.event({ kind: 'incident.updated', payload: { id: 'inc-silenced' } })?.incidentId).toBe('inc-silenced');
    expect(gate.event({ kind: 'incident.updated', payload: null })).toBeUndefined();
    expect(gate.event({ kind: 'anomaly.opened', payload: { id: 'an-new', service: 'pricing', firstSeenMs: NOW } })?.incidentId).toBe('inc-silenced');
    expect(gate.event({ kind: 'anomaly.opened', payload: { id: 'an-new' } })).toBeUndefined();
    expect(gate.event({ kind: 'fix.generated', anomalyId: 'an-stored', payload: {} })?.incidentId).toBe('inc-silenced');
    expect(gate.event({ kind: 'fix.generated', payload: {} })).toBeUndefined();
    expect(gate.subject('incident', 'inc-silenced')).toBeDefined();
    expect(gate.subject('anomaly', 'an-stored')).toBeDefined();
    expect(gate.subject('other', 'x')).toBeUndefined();
  });
});
