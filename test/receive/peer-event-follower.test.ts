import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/emit/logger.js';
import { PeerEventFollower } from '../../src/receive/peer-event-follower.js';
import { anomaly } from '../diagnose/fixtures.js';
import { waitFor } from './harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const frame = (seq: number, kind: string, payload: unknown, timeMs = Date.now()): string =>
  `id: ${seq}\nevent: ${kind}\ndata: ${JSON.stringify({ seq, kind, timeMs, payload })}\n\n`;

describe('PeerEventFollower', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A real HTTP server answering the event-stream route with whatever `handle` writes. */
  async function peer(handle: Handler): Promise<{ url: string; requests: IncomingMessage[] }> {
    const requests: IncomingMessage[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(req);
      handle(req, res, requests.length);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`, requests };
  }

  function follower(url: string, over: Partial<ConstructorParameters<typeof PeerEventFollower>[0]> = {}): { f: PeerEventFollower; registry: Registry; logs: string[] } {
    const registry = new Registry();
    const logs: string[] = [];
    const f = new PeerEventFollower({ peers: [{ name: 'sh-b', url }], token: 'tok', maxQueue: 100, retryMs: 50, registry, log: createLogger('warn', {}, (l) => logs.push(l)), ...over });
    cleanups.push(() => f.stop());
    f.start();
    return { f, registry, logs };
  }

  it('follows anomaly events with the admin token, skips frames that are not anomaly events, and resumes after the last seq', async () => {
    const a = anomaly({ id: 'an_x' });
    const p = await peer((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) res.end(`: hello\n\n${frame(3, 'anomaly.opened', a)}data: {broken\n\n${frame(5, 'anomaly.resolved', a)}`);
      else res.write(frame(9, 'anomaly.opened', { ...a, id: 'an_y' }));
    });
    const { f, registry, logs } = follower(p.url);
    await waitFor(() => f.seenSeq('sh-b') === 9);
    const got = f.drain();
    expect(got.map((g) => `${g.seq}:${g.change.kind}:${g.change.anomaly.id}`)).toEqual(['3:opened:an_x', '5:resolved:an_x', '9:opened:an_y']);
    expect(f.drain()).toEqual([]);
    const first = new URL(p.requests[0]!.url!, 'http://x');
    expect(first.pathname).toBe('/base/api/v1/events');
    expect(first.searchParams.get('kinds')).toBe('anomaly.*');
    expect(first.searchParams.get('after')).toBe('0');
    expect(p.requests[0]!.headers.authorization).toBe('Bearer tok');
    expect(new URL(p.requests[1]!.url!, 'http://x').searchParams.get('after')).toBe('5');
    expect(logs.join('')).toContain('not JSON');
    const metrics = await registry.metrics();
    expect(metrics).toContain('self_healing_peer_anomaly_events_dropped_total{reason="invalid"} 1');
    expect(metrics).toContain('self_healing_peer_anomaly_events_total{peer="sh-b"} 3');
    expect(metrics).toMatch(/self_healing_peer_stream_errors_total\{peer="sh-b"\} [1-9]/);
  });

  it('keeps a bounded queue (oldest dropped and counted) and treats an update of an unseen anomaly as its opening', async () => {
    const p = await peer((_req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) res.write([1, 2, 3].map((i) => frame(i, 'anomaly.updated', anomaly({ id: `an_${i}` }))).join(''));
    });
    const { f, registry } = follower(p.url, { maxQueue: 2 });
    await waitFor(() => f.seenSeq('sh-b') === 3);
    expect(f.pending).toBe(2);
    expect(f.drain().map((g) => `${g.change.kind}:${g.change.anomaly.id}`)).toEqual(['opened:an_2', 'opened:an_3']);
    expect(await registry.metrics()).toContain('self_healing_peer_anomaly_events_dropped_total{reason="queue_full"} 1');
  });

  it('skips events published before sinceMs (a restarted correlator does not rebuild old incidents)', async () => {
    const p = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frame(1, 'anomaly.opened', anomaly({ id: 'old' }), 1_000) + frame(2, 'anomaly.opened', anomaly({ id: 'new' }), 3_000));
    });
    const { f } = follower(p.url, { sinceMs: 2_000 });
    await waitFor(() => f.seenSeq('sh-b') === 2);
    expect(f.drain().map((g) => g.change.anomaly.id)).toEqual(['new']);
  });

  it('says when a peer refuses the token, and keeps retrying with backoff', async () => {
    const p = await peer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized"}');
    });
    const { logs } = follower(p.url, { token: undefined });
    await waitFor(() => p.requests.length >= 2);
    expect(p.requests[0]!.headers.authorization).toBeUndefined();
    expect(logs.join('')).toContain("HTTP 401 (the peer refused this instance's admin token or Host");
  });

  it('stops promptly while waiting to reconnect', async () => {
    const { f } = follower('http://127.0.0.1:9/', { retryMs: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    await f.stop();
    expect(f.pending).toBe(0);
  });
});
