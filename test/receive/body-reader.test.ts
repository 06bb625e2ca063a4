import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Admission } from '../../src/receive/admission.js';
import { BodyPool } from '../../src/receive/body-pool.js';
import { readRequestBody, type BodyFailure, type RequestBody } from '../../src/receive/body-reader.js';
import { waitFor } from './harness.js';

type Outcome = { body: RequestBody } | { failure: BodyFailure; message: string };

/** A server that reads each request body with readRequestBody and records what came of it. */
async function bodyServer(admission: Admission, maxBytes: number): Promise<{ server: Server; port: number; outcomes: Outcome[] }> {
  const outcomes: Outcome[] = [];
  const pool = new BodyPool(2, 64 * 1024);
  const server = createServer((req, res) => {
    const gzip = req.headers['content-encoding'] === 'gzip';
    readRequestBody(req, gzip, Number(req.headers['content-length'] ?? -1), { maxBytes, admission, pool }, {
      onBody: (body) => {
        outcomes.push({ body });
        res.end('ok');
      },
      onFailure: (failure, message) => {
        outcomes.push({ failure, message });
        res.statusCode = 503;
        res.end(failure);
        req.resume();
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, outcomes };
}

function post(port: number, body: Buffer, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('readRequestBody', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  it('holds a small body (pooled) and a large one (chunks) against the budget until released', async () => {
    const admission = new Admission({ maxInflightSpans: 10, maxConcurrentBodyBytes: 1024 * 1024 });
    const s = await bodyServer(admission, 1024 * 1024);
    server = s.server;
    expect(await post(s.port, Buffer.alloc(1000, 7))).toBe(200);
    expect(await post(s.port, Buffer.alloc(300 * 1024, 8))).toBe(200);
    expect(admission.heldBodyBytes).toBe(1000 + 300 * 1024);
    const [small, large] = s.outcomes as Array<{ body: RequestBody }>;
    expect(small!.body.bytes.equals(Buffer.alloc(1000, 7))).toBe(true);
    expect(large!.body.bytes.equals(Buffer.alloc(300 * 1024, 8))).toBe(true);
    expect([small!.body.pooled, large!.body.pooled]).toEqual([true, false]);
    small!.body.release();
    large!.body.release();
    expect(admission.heldBodyBytes).toBe(0);
  });

  it('refuses decompressed bytes over the budget and releases what the gzip body held', async () => {
    const admission = new Admission({ maxInflightSpans: 10, maxConcurrentBodyBytes: 256 * 1024 });
    const s = await bodyServer(admission, 4 * 1024 * 1024);
    server = s.server;
    expect(await post(s.port, gzipSync(Buffer.alloc(1024 * 1024)), { 'content-encoding': 'gzip' })).toBe(503);
    expect(s.outcomes[0]).toMatchObject({ failure: 'budget' });
    expect(admission.heldBodyBytes).toBe(0);
    expect(await post(s.port, gzipSync(Buffer.alloc(100 * 1024, 3)), { 'content-encoding': 'gzip' })).toBe(200);
    expect(admission.heldBodyBytes).toBe(100 * 1024);
  });

  it('releases the bytes of a client that goes away mid-body (plain and gzip)', async () => {
    const admission = new Admission({ maxInflightSpans: 10, maxConcurrentBodyBytes: 8 * 1024 * 1024 });
    const s = await bodyServer(admission, 8 * 1024 * 1024);
    server = s.server;
    for (const gzip of [false, true]) {
      const req = request({ host: '127.0.0.1', port: s.port, method: 'POST', headers: { 'content-length': String(4 * 1024 * 1024), ...(gzip ? { 'content-encoding': 'gzip' } : {}) } });
      req.on('error', () => undefined);
      req.write(gzip ? gzipSync(Buffer.alloc(2 * 1024 * 1024)).subarray(0, 1000) : Buffer.alloc(512 * 1024));
      if (!gzip) await waitFor(() => admission.heldBodyBytes > 0);
      else await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await waitFor(() => admission.heldBodyBytes === 0);
    }
    expect(s.outcomes).toHaveLength(0);
  });
});
