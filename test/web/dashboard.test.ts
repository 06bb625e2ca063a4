import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerDashboardRoutes } from '../../src/web/dashboard.js';
import { DASHBOARD_CSS, DASHBOARD_FAVICON, DASHBOARD_HTML, DASHBOARD_JS } from '../../src/web/dashboard-assets.js';

const run = promisify(execFile);

describe('dashboard routes', () => {
  let admin: AdminServer | undefined;
  afterEach(async () => {
    await admin?.close();
    admin = undefined;
  });

  async function start(): Promise<string> {
    admin = new AdminServer({ host: '127.0.0.1', port: 0 });
    registerDashboardRoutes(admin);
    await admin.listen();
    return admin.url;
  }

  it.each([
    ['/', 'text/html; charset=utf-8', DASHBOARD_HTML],
    ['/dashboard.js', 'text/javascript; charset=utf-8', DASHBOARD_JS],
    ['/dashboard.css', 'text/css; charset=utf-8', DASHBOARD_CSS],
    ['/favicon.svg', 'image/svg+xml', DASHBOARD_FAVICON],
  ])('serves %s as %s with a strict CSP', async (path, type, body) => {
    const url = await start();
    const res = await fetch(`${url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'self'; style-src 'self'; script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const text = await res.text();
    expect(text).toBe(body);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
  });

  it('answers 404 for an unknown asset and 405 for a POST to the page', async () => {
    const url = await start();
    expect((await fetch(`${url}/dashboard.map`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('dashboard assets', () => {
  it('the page loads only same-origin assets that are served', () => {
    const refs = [...DASHBOARD_HTML.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs.sort()).toEqual(['/dashboard.css', '/dashboard.js', '/favicon.svg']);
    // The CSP forbids inline code: no <style> or inline <script> bodies, no on* handlers.
    expect(DASHBOARD_HTML).not.toMatch(/<style|<script>[^<]|\son[a-z]+=/i);
  });

  it('has every element the script looks up by id', () => {
    const ids = new Set([...DASHBOARD_JS.matchAll(/\$\('#([a-z-]+)/g)].map((m) => m[1]));
    expect(ids.size).toBeGreaterThan(5);
    for (const id of ids) expect(DASHBOARD_HTML, `#${id}`).toContain(`id="${id}"`);
  });

  it('the embedded script parses as a function body and as a checked file', async () => {
    expect(() => new Function(DASHBOARD_JS)).not.toThrow();
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-js-'));
    try {
      const file = join(dir, 'dashboard.js');
      await writeFile(file, DASHBOARD_JS);
      await expect(run(process.execPath, ['--check', file])).resolves.toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('escapes what it interpolates into HTML', () => {
    // Load the script's esc() helper without a DOM: it is a pure function of its argument.
    const escSource = /const esc = (\(s\) => [^\n]+);/.exec(DASHBOARD_JS)?.[1];
    expect(escSource).toBeDefined();
    const esc = new Function(`return ${escSource!}`)() as (s: unknown) => string;
    expect(esc('<img src=x onerror="a">&\'')).toBe('&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;');
    expect(esc(undefined)).toBe('');
  });

  it('the style sheet has balanced braces and the icon is an SVG', () => {
    expect(DASHBOARD_CSS.split('{').length).toBe(DASHBOARD_CSS.split('}').length);
    expect(DASHBOARD_FAVICON.trim()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
  });
});
