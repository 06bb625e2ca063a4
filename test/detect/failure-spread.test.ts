import { describe, expect, it } from 'vitest';
import { failingSlices } from '../../src/detect/failure-spread.js';
import { SampleSet, type GraphSlice } from '../../src/detect/service-graph.js';

function slice(i: number, ownFailed: number, endpointFailed: number): GraphSlice {
  const s: GraphSlice = { startMs: i * 10_000, endMs: (i + 1) * 10_000, services: new Map(), endpoints: new Map(), edges: new Map(), rootLatencyMs: new SampleSet(8) };
  s.services.set('verify', { service: 'verify', requests: 2, failed: ownFailed, ownFailed, latencyMs: new SampleSet(8), selfMs: new SampleSet(8), errorLogs: 0, logs: 0, patterns: new Map() });
  s.endpoints.set('verify\u0000GET /code', { service: 'verify', operation: 'GET /code', requests: 2, failed: endpointFailed, latencyMs: new SampleSet(8) });
  s.endpoints.set('verify\u0000GET /other', { service: 'verify', operation: 'GET /other', requests: 2, failed: 2, latencyMs: new SampleSet(8) });
  return s;
}

describe('failingSlices', () => {
  it('counts the slices of the window with at least one failed request of the key, not the failed requests', () => {
    const window = [slice(0, 3, 0), slice(1, 0, 1), slice(2, 1, 2)];
    expect(failingSlices(window, 'own-failures', 'verify')).toBe(2);
    expect(failingSlices(window, 'endpoint-failures', 'verify', 'GET /code')).toBe(2);
    // A burst inside one slice is one slice, however many requests failed in it.
    expect(failingSlices([slice(0, 0, 0), slice(1, 6, 6), slice(2, 0, 0)], 'own-failures', 'verify')).toBe(1);
    expect(failingSlices(window, 'own-failures', 'other')).toBe(0);
    expect(failingSlices(window, 'endpoint-failures', 'verify', 'GET /missing')).toBe(0);
  });
});
