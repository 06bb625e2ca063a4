import { connect, type ClientHttp2Session, type Http2Session, type Settings } from 'node:http2';
import { Server } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { flowControlSettings, tuneGrpcServerSessions, tuneSession } from '../../src/receive/grpc-flow-control.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { RawTraceClient, receiveConfig } from './harness.js';

describe('flowControlSettings', () => {
  it('derives the frame size and the connection window from the stream window', () => {
    expect(flowControlSettings(1024 * 1024)).toEqual({
      initialWindowSize: 1_048_576,
      maxFrameSize: 1_048_576,
      connectionWindowSize: 4_194_304,
    });
  });

  it('clamps to what HTTP/2 allows', () => {
    const small = flowControlSettings(100);
    expect(small.initialWindowSize).toBe(65_535);
    expect(small.maxFrameSize).toBe(65_535);
    const huge = flowControlSettings(2 ** 40);
    expect(huge.initialWindowSize).toBe(2 ** 31 - 1);
    expect(huge.maxFrameSize).toBe(16_777_215);
    expect(huge.connectionWindowSize).toBe(2 ** 31 - 1);
  });
});

describe('tuning sessions', () => {
  it('reports false when the server does not expose its HTTP/2 servers', () => {
    expect(tuneGrpcServerSessions({} as unknown as Server, flowControlSettings(1 << 20))).toBe(false);
    // A grpc-js server that is not bound yet has no HTTP/2 server to tune.
    expect(tuneGrpcServerSessions(new Server(), flowControlSettings(1 << 20))).toBe(false);
  });

  it('leaves a closed session alone and survives a session that fails to take settings', () => {
    const calls: string[] = [];
    const closed = { destroyed: false, closed: true, settings: () => calls.push('settings') } as unknown as Http2Session;
    tuneSession(closed, flowControlSettings(1 << 20));
    expect(calls).toEqual([]);
    const failing = {
      destroyed: false,
      closed: false,
      settings: () => {
        calls.push('settings');
        throw new Error('ERR_HTTP2_INVALID_SESSION');
      },
    } as unknown as Http2Session;
    expect(() => tuneSession(failing, flowControlSettings(1 << 20))).not.toThrow();
    expect(calls).toEqual(['settings']);
  });
});

describe('GrpcReceiver flow control', () => {
  let receiver: GrpcReceiver | undefined;
  let metrics: SidecarMetrics | undefined;
  let session: ClientHttp2Session | undefined;
  let client: RawTraceClient | undefined;

  afterEach(async () => {
    session?.close();
    client?.close();
    await receiver?.stop();
    metrics?.stop();
    session = client = receiver = metrics = undefined;
  });

  async function start(flowControlWindow: number, sink: (b: Beat[]) => void = () => {}): Promise<GrpcReceiver> {
    metrics = createMetrics({ defaultMetrics: false });
    receiver = new GrpcReceiver(receiveConfig({ grpc: { port: 0, flowControlWindow } }), sink, metrics, { auth: null, tls: null });
    await receiver.start();
    return receiver;
  }

  /**
   * The SETTINGS a plain HTTP/2 client has from the receiver once a PING has made the round trip:
   * the server's SETTINGS frames were queued before its PING ACK, so all of them are in.
   */
  function serverSettings(port: number): Promise<Settings> {
    session = connect(`http://127.0.0.1:${port}`);
    const s = session;
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.once('connect', () => {
        s.ping((err) => (err ? reject(err) : resolve(s.remoteSettings)));
      });
    });
  }

  it('advertises the configured stream window and frame size to every new connection', async () => {
    const r = await start(1024 * 1024);
    expect(r.flowControlApplied).toBe(true);
    const settings = await serverSettings(r.port);
    expect(settings.initialWindowSize).toBe(1_048_576);
    expect(settings.maxFrameSize).toBe(1_048_576);
  });

  it('keeps the HTTP/2 defaults when the window is set to 65535', async () => {
    const r = await start(65_535);
    expect(r.flowControlApplied).toBe(true);
    const settings = await serverSettings(r.port);
    expect(settings.initialWindowSize).toBe(65_535);
    expect(settings.maxFrameSize).toBe(16_384);
  });

  it('receives a request far larger than the default window over a tuned connection', async () => {
    const beats: Beat[] = [];
    const r = await start(128 * 1024, (b) => beats.push(...b));
    client = new RawTraceClient(r.port);
    const body = encodeTraceRequest([beatSpans(2000, 7)]);
    expect(body.length).toBeGreaterThan(4 * 128 * 1024);
    const { error } = await client.export(body);
    expect(error).toBeNull();
    expect(beats).toHaveLength(2000);
  });
});
