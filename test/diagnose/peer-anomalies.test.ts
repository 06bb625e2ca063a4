import { describe, expect, it } from 'vitest';
import { parsePeerEvent, signalScoreOf, SseParser } from '../../src/diagnose/peer-anomalies.js';
import { anomaly } from './fixtures.js';

const signal = anomaly({ id: 'an_1', key: 'svc|self.p50|pricing', service: 'pricing', handler: undefined, details: { signal: 'self', z: 12.5 }, observed: { valueMs: 90 }, expected: { valueMs: 8 } });

describe('parsePeerEvent', () => {
  it('turns an anomaly event of a peer into a change with its sequence number and time', () => {
    const got = parsePeerEvent('sh-b', JSON.stringify({ seq: 7, kind: 'anomaly.updated', timeMs: 123, payload: signal }));
    expect(got).toEqual({ peer: 'sh-b', seq: 7, timeMs: 123, change: { kind: 'updated', anomaly: signal } });
  });

  it.each([
    ['not JSON', '{oops', 'not JSON'],
    ['another kind', JSON.stringify({ seq: 1, kind: 'incident.opened', timeMs: 1, payload: signal }), 'kind'],
    ['a payload that is no anomaly', JSON.stringify({ seq: 1, kind: 'anomaly.opened', timeMs: 1, payload: { id: 'x' } }), 'payload.'],
    ['a negative seq', JSON.stringify({ seq: -1, kind: 'anomaly.opened', timeMs: 1, payload: signal }), 'seq'],
  ])('refuses %s with a reason naming the peer', (_what, data, reason) => {
    const got = parsePeerEvent('sh-b', data);
    expect('error' in got && got.error).toContain('peer sh-b');
    expect('error' in got && got.error).toContain(reason);
  });
});

describe('signalScoreOf', () => {
  it('rebuilds the service-level score a signal anomaly stands for', () => {
    expect(signalScoreOf(signal)).toEqual({ key: 'self.p50|pricing', kind: 'self', service: 'pricing', z: 12.5, observed: 90, expected: 8, discovered: true });
    const edge = signalScoreOf({ ...signal, key: 'svc|gap|cart|pricing', handler: 'GET /price', details: { signal: 'edge-gap', z: 6, caller: 'cart' } });
    expect(edge).toMatchObject({ kind: 'edge-gap', caller: 'cart', operation: 'GET /price' });
  });

  it('is undefined for handler and sequence anomalies and for malformed signal details', () => {
    expect(signalScoreOf(anomaly())).toBeUndefined();
    expect(signalScoreOf({ ...signal, details: { signal: 'made-up', z: 3 } })).toBeUndefined();
    expect(signalScoreOf({ ...signal, details: { signal: 'self', z: 'high' } })).toBeUndefined();
  });
});

describe('SseParser', () => {
  it('assembles events across chunks, joins data lines, keeps the id and skips comments', () => {
    const p = new SseParser();
    expect(p.push('retry: 2000\n: stream after 0\n\nid: 4\nevent: anomaly.opened\nda')).toEqual([]);
    expect(p.push('ta: {"a":\ndata: 1}\n\n')).toEqual([{ id: '4', data: '{"a":\n1}' }]);
    expect(p.push('id: 5\r\ndata:x\r')).toEqual([]);
    // The CR that ended the last chunk was half of a CRLF: no empty line, no early event.
    expect(p.push('\n\r\n')).toEqual([{ id: '5', data: 'x' }]);
  });

  it('refuses a line longer than its limit', () => {
    const p = new SseParser(10);
    expect(() => p.push('data: 0123456789')).toThrow(/longer than 10/);
  });
});
