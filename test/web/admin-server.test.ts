import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { AdminServer, sendJson } from '../../src/web/admin-server.js';

/** Sends a raw HTTP/1.1 request (so the request target can be anything) and returns the status line. */
function raw(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => resolve(data.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

describe('AdminServer', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(errors: unknown[] = []): Promise<AdminServer> {
    server = new AdminServer({ host: '127.0.0.1', port: 0, onError: (e) => errors.push(e) });
    server.addRoute('GET', '/api/v1/things/:id', (_req, res, params, url) => sendJson(res, 200, { id: params.id, q: url.searchParams.get('q') }));
    server.addRoute('POST', '/api/v1/things', (_req, res) => sendJson(res, 201, { ok: true }));
    server.addRoute('GET', '/boom', () => {
      throw new Error('SQLITE_ERROR: no such table: secrets at /var/lib/x.db');
    });
    await server.listen();
    return server;
  }

  it('routes by method and pattern, with decoded parameters', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/api/v1/things/a%20b?q=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'a b', q: '1' });
    expect((await fetch(`${s.url}/api/v1/things`, { method: 'POST' })).status).toBe(201);
    expect((await fetch(`${s.url}/api/v1/things/x`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${s.url}/api/v1/things`)).status).toBe(405);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect(s.port).toBeGreaterThan(0);
  });

  it('answers a handler failure with a generic 500 and reports the detail to onError only', async () => {
    const errors: unknown[] = [];
    const s = await start(errors);
    const res = await fetch(`${s.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect((errors[0] as Error).message).toContain('SQLITE_ERROR');
  });

  it('survives request targets that are not valid URLs and bad escapes', async () => {
    const s = await start();
    expect(await raw(s.port, '//')).toContain('400');
    expect(await raw(s.port, '//[::')).toContain('400');
    expect(await raw(s.port, '/api/v1/things/%E0%A4%A')).toContain('400');
    // Still serving.
    expect((await fetch(`${s.url}/api/v1/things/ok`)).status).toBe(200);
  });
});
