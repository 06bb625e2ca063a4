import { tmpdir } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/emit/event-bus.js';
import {
  createEventsClient,
  findEventsProto,
  startEventsServer,
  toEventMessage,
  type EventMessage,
  type EventsServerHandle,
} from '../../src/emit/events-grpc.js';
import type { AnomalyStore } from '../../src/store/anomaly-store.js';
import { anomaly } from '../diagnose/fixtures.js';
import { tempStore, waitFor } from './store-fixture.js';

describe('Events gRPC service', () => {
  let store: AnomalyStore;
  let cleanup: () => void;
  let bus: EventBus;
  let handle: EventsServerHandle;
  const clients: Array<{ close(): void }> = [];

  beforeEach(async () => {
    ({ store, cleanup } = tempStore());
    bus = new EventBus(store);
    handle = await startEventsServer(bus);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    bus.close();
    await handle.close();
    cleanup();
  });

  it('replays after after_seq, filters kinds, then streams live events', async () => {
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly() });
    bus.publish('fix.generated', { branch: 'heal/a1' }, { anomalyId: 'a1' });
    bus.publishAnomalyChange({ kind: 'updated', anomaly: anomaly({ severity: 'critical' }) });
    const client = createEventsClient(`127.0.0.1:${handle.port}`);
    clients.push(client);
    const got: EventMessage[] = [];
    const stream = client.Subscribe({ afterSeq: 1, kinds: ['anomaly.*', 'diagnosis.created'] });
    stream.on('data', (m: EventMessage) => got.push(m));
    stream.on('error', () => undefined);
    await waitFor(() => got.length === 1, 20_000, 'replayed event');
    expect(got[0]).toMatchObject({ seq: 3, kind: 'anomaly.updated', anomalyId: 'a1', diagnosisId: '' });
    expect(JSON.parse(got[0]!.json)).toMatchObject({ id: 'a1', severity: 'critical' });
    bus.publish('fix.validated', {});
    bus.publishDiagnosis({ id: 'd9', anomalyId: 'a1' } as never);
    await waitFor(() => got.length === 2, 20_000, 'live event');
    expect(got[1]).toMatchObject({ seq: 5, kind: 'diagnosis.created', diagnosisId: 'd9' });
    expect(got[1]!.timeUnixMs).toBeGreaterThan(1_600_000_000_000);
    stream.cancel();
    await waitFor(() => bus.subscriberCount === 0, 20_000, 'server-side unsubscribe');
  });

  it('ends the stream when the bus closes', async () => {
    const client = createEventsClient(`127.0.0.1:${handle.port}`);
    clients.push(client);
    let ended = false;
    const stream = client.Subscribe({ afterSeq: 0, kinds: [] });
    stream.on('data', () => undefined);
    stream.on('end', () => {
      ended = true;
    });
    stream.on('error', () => undefined);
    await waitFor(() => bus.subscriberCount === 1, 20_000, 'subscription');
    bus.close();
    await waitFor(() => ended, 20_000, 'stream end');
  });

  it('reports overflow to the client as RESOURCE_EXHAUSTED', async () => {
    const tiny = new EventBus(store, { maxBuffer: 1 });
    const other = await startEventsServer(tiny);
    try {
      const client = createEventsClient(`127.0.0.1:${other.port}`);
      clients.push(client);
      const stream = client.Subscribe({ afterSeq: 0, kinds: [] });
      let code: number | undefined;
      stream.on('data', () => undefined);
      stream.on('error', (e: { code: number }) => {
        code = e.code;
      });
      await waitFor(() => tiny.subscriberCount === 1, 20_000, 'subscription');
      await new Promise((r) => setImmediate(r));
      // A synchronous burst larger than the buffer: the subscriber cannot drain in between.
      for (let i = 0; i < 5; i++) tiny.publish('k', i);
      await waitFor(() => code !== undefined, 20_000, 'stream error');
      expect(code).toBe(8);
    } finally {
      tiny.close();
      await other.close();
    }
  });

  it('maps events to wire messages and finds the proto file', () => {
    expect(toEventMessage({ seq: 1, kind: 'k', timeMs: 5, payload: undefined })).toEqual({
      seq: 1,
      kind: 'k',
      timeUnixMs: 5,
      anomalyId: '',
      diagnosisId: '',
      json: 'null',
    });
    expect(findEventsProto()).toMatch(/proto\/selfhealing\/v1\/events\.proto$/);
    expect(() => findEventsProto(tmpdir())).toThrow(/cannot find/);
  });
});

describe('Events gRPC service with a bearer token', () => {
  it('refuses subscribers without the token and streams to those with it', async () => {
    const { Server, ServerCredentials, Metadata, status } = await import('@grpc/grpc-js');
    const { registerEventsService } = await import('../../src/emit/events-grpc.js');
    const { createBearerCheck } = await import('../../src/receive/auth.js');
    const { store, cleanup } = tempStore();
    const bus = new EventBus(store);
    const server = new Server();
    registerEventsService(server, bus, createBearerCheck('s3cret'));
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const client = createEventsClient(`127.0.0.1:${port}`);
    try {
      bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly() });
      const denied = await new Promise<number>((resolve) => {
        const call = client.Subscribe({ afterSeq: 0, kinds: [] });
        call.on('data', () => undefined);
        call.on('error', (err: { code: number }) => resolve(err.code));
      });
      expect(denied).toBe(status.UNAUTHENTICATED);
      const md = new Metadata();
      md.set('authorization', 'Bearer s3cret');
      const got: EventMessage[] = [];
      const call = client.Subscribe({ afterSeq: 0, kinds: [] }, md);
      call.on('data', (e: EventMessage) => got.push(e));
      call.on('error', () => undefined);
      await waitFor(() => got.length === 1);
      expect(got[0]!.kind).toBe('anomaly.opened');
      call.cancel();
    } finally {
      client.close();
      bus.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      cleanup();
    }
  });
});
