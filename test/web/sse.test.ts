import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/emit/event-bus.js';
import { AdminServer } from '../../src/web/admin-server.js';
import { eventStreamRoute, formatSseEvent, parseStreamRequest } from '../../src/web/sse.js';
import type { AnomalyStore } from '../../src/store/anomaly-store.js';
import { tempStore, waitFor } from '../emit/store-fixture.js';
import { SseClient } from './sse-client.js';

describe('parseStreamRequest', () => {
  const u = (q: string): URL => new URL(`http://x/api/v1/events${q}`);
  it('takes the later of after and Last-Event-ID and splits kinds', () => {
    expect(parseStreamRequest(u('?after=3&kinds=anomaly.opened, fix.*'), '7')).toEqual({ afterSeq: 7, kinds: ['anomaly.opened', 'fix.*'] });
    expect(parseStreamRequest(u('?after=9'), '7')).toEqual({ afterSeq: 9, kinds: [] });
    expect(parseStreamRequest(u(''), undefined)).toEqual({ afterSeq: 0, kinds: [] });
  });
  it('names the bad parameter', () => {
    expect(parseStreamRequest(u('?after=-1'), undefined)).toEqual({ error: expect.stringContaining("'after'") });
    expect(parseStreamRequest(u('?after=abc'), undefined)).toEqual({ error: expect.stringContaining("'after'") });
    expect(parseStreamRequest(u(''), 'zz')).toEqual({ error: expect.stringContaining("'Last-Event-ID'") });
    expect(parseStreamRequest(u('?kinds=a,<script>'), undefined)).toEqual({ error: expect.stringContaining("'kinds'") });
  });
  it('formats a frame', () => {
    expect(formatSseEvent({ seq: 4, kind: 'k', timeMs: 1, payload: { a: 'x\ny' } })).toBe(
      'id: 4\nevent: k\ndata: {"seq":4,"kind":"k","timeMs":1,"payload":{"a":"x\\ny"}}\n\n',
    );
  });
});

describe('GET /api/v1/events (SSE)', () => {
  let store: AnomalyStore;
  let cleanup: () => void;
  let bus: EventBus;
  let admin: AdminServer;
  const clients: SseClient[] = [];

  beforeEach(async () => {
    ({ store, cleanup } = tempStore());
    bus = new EventBus(store, { maxBuffer: 2 });
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    admin.addRoute('GET', '/api/v1/events', eventStreamRoute(bus, { heartbeatMs: 50 }));
    await admin.listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    bus.close();
    await admin.close();
    cleanup();
  });

  async function open(query: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    clients.push(c);
    await c.open(`${admin.url}/api/v1/events${query}`, headers);
    return c;
  }

  it('replays after Last-Event-ID, filters kinds, streams live and sends heartbeats', async () => {
    bus.publish('anomaly.opened', { n: 1 }, { anomalyId: 'a1' });
    bus.publish('fix.generated', { n: 2 });
    bus.publish('anomaly.updated', { n: 3 }, { anomalyId: 'a1' });
    const c = await open('?after=0&kinds=anomaly.opened,anomaly.updated', { 'Last-Event-ID': '1' });
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toContain('text/event-stream');
    await waitFor(() => c.events.length === 1, 20_000, 'replay');
    expect(c.events[0]).toMatchObject({ id: '3', event: 'anomaly.updated' });
    expect(JSON.parse(c.events[0]!.data!)).toMatchObject({ seq: 3, anomalyId: 'a1', payload: { n: 3 } });
    bus.publish('anomaly.opened', { n: 4 });
    await waitFor(() => c.events.length === 2, 20_000, 'live');
    expect(c.events[1]!.id).toBe('4');
    await waitFor(() => c.frames.some((f) => f.comment === 'heartbeat'), 20_000, 'heartbeat');
    c.close();
    await waitFor(() => bus.subscriberCount === 0, 20_000, 'unsubscribe on disconnect');
  });

  it('rejects a bad query with 400 and ends the stream when the bus closes', async () => {
    const bad = await open('?after=x');
    await waitFor(() => bad.ended, 20_000, 'response end');
    expect(bad.status).toBe(400);
    const c = await open('');
    await waitFor(() => bus.subscriberCount === 1, 20_000, 'subscribed');
    bus.close();
    await waitFor(() => c.ended, 20_000, 'stream end');
  });
});
