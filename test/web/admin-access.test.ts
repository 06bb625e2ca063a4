import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { ConfigSchema } from '../../src/config/schema.js';
import { Sidecar } from '../../src/sidecar.js';
import { createLogger } from '../../src/emit/logger.js';
import { AdminAccess, csrfProblem, hostName, isAllowedHost, isJsonContentType } from '../../src/web/admin-access.js';
import { adminTokenFromConfig, isLoopbackHost } from '../../src/web/admin-access-from-config.js';
import { AdminSessions, readCookie, SESSION_COOKIE, sessionCookie } from '../../src/web/admin-session.js';
import { rawRequest } from './admin-http.js';
import { Metadata, status } from '@grpc/grpc-js';
import { createEventsClient } from '../../src/emit/events-grpc.js';

const TOKEN = 'admin-token-0123456789';
const RECEIVE_TOKEN = 'receive-token-abcdef';

/** Fills ":id"-style parameters so each pattern becomes a concrete path. */
function concrete(pattern: string): string {
  return pattern.replace(/:[a-zA-Z]+/g, 'x1');
}

function fakeReq(method: string, headers: Record<string, string>): IncomingMessage {
  return { method, headers, socket: {} } as unknown as IncomingMessage;
}

describe('admin gate on every route of a running sidecar (token configured)', () => {
  let dir: string;
  let sidecar: Sidecar;
  let port: number;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-admin-access-'));
    writeFileSync(join(dir, 'admin-token'), `${TOKEN}\n`);
    const config = ConfigSchema.parse({
      receive: { grpc: { port: 0 }, http: { port: 0 } },
      admin: { port: 0, auth: { tokenFile: join(dir, 'admin-token') }, allowedHosts: ['sidecar.internal'] },
      store: { path: join(dir, 'state.db') },
      heal: { enabled: false },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, env: { SELF_HEALING_AUTH_TOKEN: RECEIVE_TOKEN }, logger: createLogger('info', {}, (l) => logs.push(l)) });
    port = sidecar.admin!.port;
  });

  afterAll(async () => {
    await sidecar?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const routes = () => sidecar.admin!.routeTable();
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const json = { 'content-type': 'application/json' };

  it('registers the API, SSE, fixes, feedback, dashboard, sign-in, health and metrics routes', () => {
    const paths = routes().map((r) => `${r.method} ${r.pattern}`);
    for (const p of ['GET /api/v1/events', 'GET /api/v1/fixes/:id', 'GET /api/v1/anomalies', 'POST /api/v1/anomalies/:id/feedback', 'GET /', 'GET /dashboard.js', 'GET /signin', 'POST /api/v1/session', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /api/v1/info', 'GET /api/v1/insights']) {
      expect(paths).toContain(p);
    }
    const open = routes().filter((r) => r.access === 'open').map((r) => r.pattern);
    expect(open.sort()).toEqual(['/healthz', '/readyz']);
  });

  it('refuses every token route without the token, with a wrong one, and with the receivers\' token', async () => {
    const tokenRoutes = routes().filter((r) => r.access === 'token');
    expect(tokenRoutes.length).toBeGreaterThanOrEqual(12);
    for (const r of tokenRoutes) {
      const headers = r.method === 'GET' ? {} : json;
      const body = r.method === 'GET' ? undefined : '{"verdict":"true-positive"}';
      const extras: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${RECEIVE_TOKEN}` }, { authorization: TOKEN }, { cookie: `${SESSION_COOKIE}=${TOKEN}` }];
      for (const extra of extras) {
        const res = await rawRequest(port, r.method, concrete(r.pattern), { ...headers, ...extra }, body);
        expect(res.status, `${r.method} ${r.pattern} ${JSON.stringify(extra)}`).toBe(401);
        expect(res.headers['www-authenticate']).toContain('Bearer');
        expect(res.body).not.toContain('"items"');
      }
      const ok = await rawRequest(port, r.method, concrete(r.pattern), { ...headers, ...bearer }, body);
      // Past the gate: the route answers (400 for one that needs a parameter, e.g. /series?service=).
      expect([200, 400, 404], `${r.method} ${r.pattern} with the token`).toContain(ok.status);
    }
  });

  it('sends a browser asking for a page to the sign-in page instead', async () => {
    const res = await rawRequest(port, 'GET', '/', { accept: 'text/html,application/xhtml+xml' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/signin?next=%2F');
    const page = await rawRequest(port, 'GET', '/signin', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/signin.js">');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await rawRequest(port, 'GET', '/signin.js')).body).toContain("'content-type': 'application/json'");
  });

  it('signs in once and then serves the dashboard, API and event stream with the session cookie', async () => {
    const bad = await rawRequest(port, 'POST', '/api/v1/session', json, JSON.stringify({ token: 'nope' }));
    expect(bad.status).toBe(401);
    expect(bad.headers['set-cookie']).toBeUndefined();
    const res = await rawRequest(port, 'POST', '/api/v1/session', { ...json, origin: `http://127.0.0.1:${port}` }, JSON.stringify({ token: TOKEN }));
    expect(res.status).toBe(200);
    const setCookie = (res.headers['set-cookie'] as string[])[0]!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/);
    expect(setCookie).not.toContain(TOKEN);
    const value = readCookie(setCookie.split(';')[0], SESSION_COOKIE)!;
    const cookie = { cookie: `${SESSION_COOKIE}=${value}` };
    expect((await rawRequest(port, 'GET', '/', { ...cookie, accept: 'text/html' })).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/api/v1/anomalies', cookie)).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/api/v1/events', cookie)).status).toBe(200);
    // A tampered session is refused.
    const tampered = value.replace(/\.(\d+)\./, (_m, t: string) => `.${Number(t) + 1}.`);
    expect((await rawRequest(port, 'GET', '/api/v1/anomalies', { cookie: `${SESSION_COOKIE}=${tampered}` })).status).toBe(401);
    // Signing out clears the cookie.
    const out = await rawRequest(port, 'DELETE', '/api/v1/session', { ...json, ...cookie });
    expect((out.headers['set-cookie'] as string[])[0]).toContain('Max-Age=0');
  });

  it('marks the cookie Secure behind a TLS proxy', async () => {
    const res = await rawRequest(port, 'POST', '/api/v1/session', { ...json, 'x-forwarded-proto': 'https' }, JSON.stringify({ token: TOKEN }));
    expect((res.headers['set-cookie'] as string[])[0]).toMatch(/; Secure/);
  });

  it('answers a foreign Host (DNS rebinding) with 403 on every route but health, even with the token', async () => {
    for (const r of routes()) {
      const res = await rawRequest(port, r.method, concrete(r.pattern), { host: `attacker.example:${port}`, ...bearer, ...json }, r.method === 'GET' ? undefined : '{}').catch((e: Error) => { throw new Error(`${r.method} ${r.pattern}: ${e.message}`); });
      expect(res.status, `${r.method} ${r.pattern}`).toBe(r.access === 'open' ? 200 : 403);
    }
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`, 'sidecar.internal', `SIDECAR.internal:${port}`]) {
      expect((await rawRequest(port, 'GET', '/api/v1/handlers', { host, ...bearer })).status, host).toBe(200);
    }
  });

  it('refuses CSRF: text/plain, form posts and cross-origin JSON to the feedback route', async () => {
    const id = 'x1';
    const path = `/api/v1/anomalies/${id}/feedback`;
    const body = JSON.stringify({ verdict: 'false-positive' });
    // Even with a valid session (the browser would attach the cookie), a simple request fails.
    const login = await rawRequest(port, 'POST', '/api/v1/session', json, JSON.stringify({ token: TOKEN }));
    const cookie = { cookie: (login.headers['set-cookie'] as string[])[0]!.split(';')[0]! };
    expect((await rawRequest(port, 'POST', path, { ...cookie, 'content-type': 'text/plain' }, body)).status).toBe(415);
    expect((await rawRequest(port, 'POST', path, { ...cookie, 'content-type': 'application/x-www-form-urlencoded' }, 'verdict=false-positive')).status).toBe(415);
    expect((await rawRequest(port, 'POST', path, { ...cookie }, body)).status).toBe(415);
    expect((await rawRequest(port, 'POST', path, { ...cookie, ...json, origin: 'http://attacker.example' }, body)).status).toBe(403);
    expect((await rawRequest(port, 'POST', path, { ...cookie, ...json, origin: 'null' }, body)).status).toBe(403);
    expect((await rawRequest(port, 'POST', path, { ...cookie, ...json, 'sec-fetch-site': 'cross-site' }, body)).status).toBe(403);
    // The same request from the dashboard's own origin reaches the handler (no such anomaly).
    expect((await rawRequest(port, 'POST', path, { ...cookie, ...json, origin: `http://127.0.0.1:${port}` }, body)).status).toBe(404);
    expect((await rawRequest(port, 'POST', '/api/v1/session', { 'content-type': 'text/plain' }, JSON.stringify({ token: TOKEN }))).status).toBe(415);
  });

  it('keeps health open and puts /metrics behind the token', async () => {
    expect((await rawRequest(port, 'GET', '/healthz')).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/readyz')).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/metrics')).status).toBe(401);
    expect((await rawRequest(port, 'GET', '/metrics', bearer)).status).toBe(200);
  });

  it('asks for the admin token, not the receivers\' one, on the gRPC event stream', async () => {
    const client = createEventsClient(`127.0.0.1:${sidecar.grpc!.port}`);
    try {
      const codeWith = (token: string | undefined): Promise<number | 'data'> =>
        new Promise((resolve) => {
          const md = new Metadata();
          if (token !== undefined) md.set('authorization', `Bearer ${token}`);
          const call = client.Subscribe({ afterSeq: 0, kinds: [] }, md);
          call.on('data', () => {
            resolve('data');
            call.cancel();
          });
          call.on('error', (err: { code: number }) => resolve(err.code));
        });
      expect(await codeWith(undefined)).toBe(status.UNAUTHENTICATED);
      expect(await codeWith(RECEIVE_TOKEN)).toBe(status.UNAUTHENTICATED);
      sidecar.bus.publish('test.ping', {});
      expect(await codeWith(TOKEN)).toBe('data');
    } finally {
      client.close();
    }
  });

  it('checks unknown paths like token routes, so they reveal nothing', async () => {
    expect((await rawRequest(port, 'GET', '/api/v1/secret-route')).status).toBe(401);
    expect((await rawRequest(port, 'GET', '/api/v1/secret-route', bearer)).status).toBe(404);
  });
});

describe('admin gate with metricsAuth off and no token', () => {
  it('serves /metrics without the token when admin.metricsAuth is false, still checking Host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-admin-metrics-'));
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0, metricsAuth: false },
      store: { path: join(dir, 'state.db') },
      heal: { enabled: false },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, env: { SELF_HEALING_ADMIN_TOKEN: TOKEN }, logger: createLogger('silent') });
    try {
      const port = sidecar.admin!.port;
      expect((await rawRequest(port, 'GET', '/metrics')).status).toBe(200);
      expect((await rawRequest(port, 'GET', '/metrics', { host: 'evil.example' })).status).toBe(403);
      expect((await rawRequest(port, 'GET', '/api/v1/handlers')).status).toBe(401);
    } finally {
      await sidecar.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without any token leaves routes open but still refuses foreign Hosts and CSRF, and sign-in says auth is off', async () => {
    const logs: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'sh-admin-open-'));
    const config = ConfigSchema.parse({
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0, host: '0.0.0.0' },
      store: { path: join(dir, 'state.db') },
      heal: { enabled: false },
    });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, env: {}, logger: createLogger('warn', {}, (l) => logs.push(l)) });
    try {
      const port = sidecar.admin!.port;
      expect(logs.join('\n')).toContain('without a token');
      expect((await rawRequest(port, 'GET', '/api/v1/handlers')).status).toBe(200);
      expect((await rawRequest(port, 'GET', '/api/v1/handlers', { host: 'rebound.example' })).status).toBe(403);
      expect((await rawRequest(port, 'POST', '/api/v1/anomalies/x/feedback', { 'content-type': 'text/plain' }, '{}')).status).toBe(415);
      expect((await rawRequest(port, 'POST', '/api/v1/session', { 'content-type': 'application/json' }, '{"token":"x"}')).status).toBe(409);
    } finally {
      await sidecar.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin gate pieces', () => {
  it('parses Host headers and allows loopback names, IP literals and configured names only', () => {
    expect(hostName('Example.COM:8787')).toBe('example.com');
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('[::1')).toBeUndefined();
    expect(hostName('a:b')).toBeUndefined();
    expect(hostName('[::1]x')).toBeUndefined();
    expect(hostName('')).toBeUndefined();
    expect(isAllowedHost('localhost:1', [])).toBe(true);
    expect(isAllowedHost('app.localhost', [])).toBe(true);
    expect(isAllowedHost('localhost.', [])).toBe(true);
    expect(isAllowedHost('127.0.0.1', [])).toBe(true);
    expect(isAllowedHost('self-healing.ns.svc:8787', ['self-healing.ns.svc'])).toBe(true);
    expect(isAllowedHost('localhost.attacker.example', [])).toBe(false);
    expect(isAllowedHost('self-healing.ns.svc.attacker.example', ['self-healing.ns.svc'])).toBe(false);
    expect(isAllowedHost(undefined, [])).toBe(false);
  });

  it('recognises JSON content types and CSRF shapes', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('Application/JSON')).toBe(true);
    expect(isJsonContentType('text/plain; application/json')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
    expect(csrfProblem(fakeReq('GET', {}))).toBeUndefined();
    expect(csrfProblem(fakeReq('PUT', { 'content-type': 'application/json', host: 'h:1', origin: 'http://h:1' }))).toBeUndefined();
    expect(csrfProblem(fakeReq('PUT', { 'content-type': 'application/json', host: 'h:1', origin: 'https://h:1' }))).toContain('cross-origin');
    expect(csrfProblem(fakeReq('PUT', { 'content-type': 'application/json', host: 'h:1', origin: 'not a url' }))).toContain('cross-origin');
    expect(csrfProblem(fakeReq('DELETE', { host: 'h:1' }))).toContain('application/json');
  });

  it('issues sessions that are not the token, expire, and stop working when the token changes', () => {
    let now = 1_000_000;
    const s = new AdminSessions(TOKEN, 60_000, () => now);
    const v = s.issue();
    expect(v).not.toContain(TOKEN);
    expect(s.verify(v)).toBe(true);
    expect(new AdminSessions('other-token', 60_000, () => now).verify(v)).toBe(false);
    expect(s.verify(undefined)).toBe(false);
    expect(s.verify('s1.1.short')).toBe(false);
    expect(s.verify(`s2${v.slice(2)}`)).toBe(false);
    now += 61_000;
    expect(s.verify(v)).toBe(false);
    now = 0;
    expect(s.verify(v)).toBe(false); // issued in the future
    expect(sessionCookie('', 10, true)).toBe(`${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure`);
    expect(readCookie('a=1; sh_admin_session=v; b', SESSION_COOKIE)).toBe('v');
    expect(readCookie(undefined, SESSION_COOKIE)).toBeUndefined();
  });

  it('takes the admin token from admin.auth, else from receive.auth, and names the field on errors', () => {
    const cfg = ConfigSchema.parse({});
    expect(adminTokenFromConfig(cfg, { SELF_HEALING_ADMIN_TOKEN: 'a', SELF_HEALING_AUTH_TOKEN: 'r' })).toBe('a');
    expect(adminTokenFromConfig(cfg, { SELF_HEALING_AUTH_TOKEN: 'r' })).toBe('r');
    expect(adminTokenFromConfig(cfg, {})).toBeUndefined();
    expect(() => adminTokenFromConfig(cfg, { SELF_HEALING_ADMIN_TOKEN: ' ' })).toThrow(/admin\.auth\.tokenEnv/);
    const access = new AdminAccess({ token: undefined, allowedHosts: [], metricsAuth: true, sessionTtlMs: 1 });
    expect(access.tokenMatches('x')).toBe(false);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});
