import { rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type SidecarMetrics } from '../../src/emit/metrics.js';
import type { Beat } from '../../src/model/beat.js';
import { GrpcReceiver } from '../../src/receive/grpc-server.js';
import { HttpReceiver } from '../../src/receive/http-server.js';
import { grpcServerCredentials, httpsServerOptions, loadTlsMaterial, TlsConfigError } from '../../src/receive/tls.js';
import { beatSpans, encodeTraceRequest } from '../bench/otlp/encode-request.js';
import { RawTraceClient, receiveConfig } from './harness.js';
import { generateTestCerts, type TestCerts } from './tls-certs.js';

function httpsPost(port: number, body: Buffer, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, ...tls, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('TLS', () => {
  let certs: TestCerts;
  let metrics: SidecarMetrics;
  const beats: Beat[] = [];
  const stops: Array<() => Promise<void> | void> = [];
  const body = encodeTraceRequest([beatSpans(3, 1)]);

  beforeAll(() => {
    certs = generateTestCerts();
  });
  afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    metrics?.stop();
    beats.length = 0;
  });

  function tlsConfig(requireClientCert: boolean) {
    return receiveConfig({
      tls: { enabled: true, certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.caFile, requireClientCert },
    });
  }

  it('loads material from the configured files and reports bad paths by field', () => {
    expect(loadTlsMaterial(receiveConfig().tls)).toBeUndefined();
    const m = loadTlsMaterial(tlsConfig(true).tls)!;
    expect(m.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(m.requireClientCert).toBe(true);
    expect(httpsServerOptions(m)).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    expect(httpsServerOptions({ ...m, ca: undefined, requireClientCert: false })).not.toHaveProperty('ca');
    expect(grpcServerCredentials(undefined)._isSecure()).toBe(false);
    expect(grpcServerCredentials(m)._isSecure()).toBe(true);
    expect(() => loadTlsMaterial({ enabled: true, certFile: join(certs.dir, 'nope.crt'), keyFile: certs.keyFile, requireClientCert: false })).toThrow(
      /receive\.tls\.certFile: cannot read .*ENOENT/,
    );
    expect(() => loadTlsMaterial({ enabled: true, requireClientCert: false })).toThrow(TlsConfigError);
    expect(() => loadTlsMaterial({ enabled: true, certFile: certs.certFile, keyFile: certs.keyFile, requireClientCert: true })).toThrow(/caFile/);
  });

  it('serves OTLP/HTTP over TLS', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const r = new HttpReceiver(tlsConfig(false), (b) => beats.push(...b), metrics, { auth: null });
    await r.start();
    stops.push(() => r.stop());
    expect(await httpsPost(r.port, body, { ca: certs.ca })).toBe(200);
    expect(beats).toHaveLength(3);
    // A client that does not trust the CA refuses the server.
    await expect(httpsPost(r.port, body, { ca: certs.rogueCert })).rejects.toThrow();
  });

  it('requires a client certificate from the trusted CA with mutual TLS (HTTP)', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const r = new HttpReceiver(tlsConfig(true), (b) => beats.push(...b), metrics, { auth: null });
    await r.start();
    stops.push(() => r.stop());
    expect(await httpsPost(r.port, body, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey })).toBe(200);
    await expect(httpsPost(r.port, body, { ca: certs.ca })).rejects.toThrow();
    await expect(httpsPost(r.port, body, { ca: certs.ca, cert: certs.rogueCert, key: certs.rogueKey })).rejects.toThrow();
    expect(beats).toHaveLength(3);
  });

  it('serves OTLP/gRPC over TLS and mutual TLS', async () => {
    metrics = createMetrics({ defaultMetrics: false });
    const plainTls = new GrpcReceiver({ ...tlsConfig(false) }, (b) => beats.push(...b), metrics, { auth: null });
    const mutual = new GrpcReceiver(tlsConfig(true), (b) => beats.push(...b), metrics, { auth: null });
    await plainTls.start();
    await mutual.start();
    stops.push(() => plainTls.stop(), () => mutual.stop());
    const clients: RawTraceClient[] = [];
    stops.push(() => clients.forEach((c) => c.close()));
    const client = (port: number, creds: ReturnType<typeof credentials.createSsl>) => {
      const c = new RawTraceClient(port, creds, { 'grpc.ssl_target_name_override': 'localhost' });
      clients.push(c);
      return c;
    };
    expect((await client(plainTls.port, credentials.createSsl(certs.ca)).export(body)).error).toBeNull();
    expect((await client(mutual.port, credentials.createSsl(certs.ca, certs.clientKey, certs.clientCert)).export(body)).error).toBeNull();
    const noCert = await client(mutual.port, credentials.createSsl(certs.ca)).export(body, undefined, 5_000);
    expect(noCert.error!.code).toBe(status.UNAVAILABLE);
    const rogue = await client(mutual.port, credentials.createSsl(certs.ca, certs.rogueKey, certs.rogueCert)).export(body, undefined, 5_000);
    expect(rogue.error!.code).toBe(status.UNAVAILABLE);
    expect(beats).toHaveLength(6);
  });
});
