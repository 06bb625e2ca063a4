import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { AdminServer, sendJson } from '../../src/web/admin-server.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { httpSend, receiveConfig, waitFor } from './harness.js';

const PROTO = { 'content-type': 'application/x-protobuf' };

/** A raw TCP connection whose close (by the server) is recorded. */
function rawConnection(port: number): Promise<{ socket: Socket; closed: () => boolean; received: () => string }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    let received = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, closed: () => closed, received: () => received }));
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('receiver limits', () => {
  let http: HttpReceiver | undefined;
  let grpc: GrpcReceiver | undefined;
  let admin: AdminServer | undefined;
  let metrics: SidecarMetrics;
  const sockets: Socket[] = [];
  const beats: Beat[] = [];

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await http?.stop();
    await grpc?.stop();
    await admin?.close();
    http = grpc = admin = undefined;
    metrics?.stop();
  });

  async function startHttp(overrides: Parameters<typeof receiveConfig>[0]): Promise<number> {
    metrics = createMetrics({ defaultMetrics: false });
    http = new HttpReceiver(receiveConfig(overrides), (b) => beats.push(...b), metrics, { auth: null, tls: null });
    await http.start();
    return http.port;
  }

  it('caps body bytes held over all connections as they arrive: 40 uploads declaring 16 MiB hold at most the budget', async () => {
    const mib = 1024 * 1024;
    const port = await startHttp({ maxRequestBytes: 16 * mib, maxConcurrentBodyBytes: 16 * mib });
    const admission = http!.admission;
    let peak = 0;
    const conns = await Promise.all(Array.from({ length: 40 }, () => rawConnection(port)));
    sockets.push(...conns.map((c) => c.socket));
    const part = Buffer.alloc(mib, 1);
    for (const c of conns) {
      c.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${16 * mib}\r\n\r\n`);
      c.socket.write(part);
    }
    // Every upload has either been refused or is holding what it sent so far.
    await waitFor(() => {
      peak = Math.max(peak, admission.heldBodyBytes);
      const refused = conns.filter((c) => c.received().startsWith('HTTP/1.1 503')).length;
      return refused > 0 && refused + admission.heldBodyBytes / mib >= 40;
    });
    const refused = conns.filter((c) => c.received().startsWith('HTTP/1.1 503'));
    expect(admission.heldBodyBytes).toBeLessThanOrEqual(16 * mib);
    expect(peak).toBeLessThanOrEqual(16 * mib);
    expect(refused.length).toBeGreaterThanOrEqual(24);
    expect(refused[0]!.received()).toMatch(/retry-after: 1/i);
    expect(await metrics.registry.metrics()).toMatch(/self_healing_receive_refusals_total\{protocol="http",reason="body_bytes"\} (2[4-9]|3\d|40)/);
    // The held uploads give up: their bytes are released and a new request gets in.
    for (const c of conns) c.socket.destroy();
    await waitFor(() => admission.heldBodyBytes === 0);
    expect((await httpSend(port, encodeTraceRequest([beatSpans(3, 1)]), PROTO)).status).toBe(200);
  });

  it('closes idle keep-alive connections, silent connections and connections over the limit (HTTP)', async () => {
    const port = await startHttp({ http: { idleTimeoutMs: 100, headersTimeoutMs: 200, requestTimeoutMs: 400, maxConnections: 3 } });
    const silent = await rawConnection(port);
    const keptAlive = await rawConnection(port);
    const slowBody = await rawConnection(port);
    sockets.push(silent.socket, keptAlive.socket, slowBody.socket);
    const body = encodeTraceRequest([beatSpans(2, 2)]);
    keptAlive.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
    keptAlive.socket.write(body);
    slowBody.socket.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${body.length}\r\n\r\n`);
    slowBody.socket.write(body.subarray(0, 10));
    await waitFor(() => keptAlive.received().startsWith('HTTP/1.1 200'));
    // A fourth connection is over maxConnections and is dropped at once.
    const extra = await rawConnection(port);
    sockets.push(extra.socket);
    await waitFor(() => extra.closed());
    expect(extra.received()).toBe('');
    await waitFor(() => silent.closed() && keptAlive.closed() && slowBody.closed());
    expect(slowBody.received()).toMatch(/^HTTP\/1.1 408/);
    expect(http!.admission.heldBodyBytes).toBe(0);
  });

  it('closes idle connections and caps connections on the gRPC receiver', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    grpc = new GrpcReceiver(receiveConfig({ grpc: { idleTimeoutMs: 150, maxConnections: 2 } }), (b) => beats.push(...b), metrics, { auth: null, tls: null });
    await grpc.start();
    expect(grpc.connectionLimitApplied).toBe(true);
    const idle = connectHttp2(`http://127.0.0.1:${grpc.port}`);
    let goaway = false;
    let idleClosed = false;
    idle.on('goaway', () => (goaway = true));
    idle.on('close', () => (idleClosed = true));
    idle.on('error', () => undefined);
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    const second = await rawConnection(grpc.port);
    const third = await rawConnection(grpc.port);
    sockets.push(second.socket, third.socket);
    await waitFor(() => third.closed());
    await waitFor(() => idleClosed);
    expect(goaway).toBe(true);
    idle.destroy();
  });

  it('applies the admin limits: idle connections are closed', async () => {
    admin = new AdminServer({ host: '127.0.0.1', port: 0, limits: { idleTimeoutMs: 100, headersTimeoutMs: 200, requestTimeoutMs: 400, maxConnections: 2 } });
    admin.addRoute('GET', '/healthz', (_req, res) => sendJson(res, 200, { ok: true }));
    await admin.listen();
    expect(admin.httpServer.keepAliveTimeout).toBe(100);
    expect(admin.httpServer.maxConnections).toBe(2);
    const keptAlive = await rawConnection(admin.port);
    const silent = await rawConnection(admin.port);
    sockets.push(keptAlive.socket, silent.socket);
    keptAlive.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => keptAlive.received().startsWith('HTTP/1.1 200'));
    await waitFor(() => keptAlive.closed() && silent.closed());
  });
});
