import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/web/admin-server.js';
import { registerDashboardRoutes } from '../../src/web/dashboard.js';
import { CLIENT_MODULES, loadDashboardAssets } from '../../src/web/dashboard-assets.js';

const run = promisify(execFile);
const assets = loadDashboardAssets();
const asset = (path: string): string => assets.find((a) => a.path === path)!.body.toString('utf8');
const HTML = asset('/');
/** The page's own modules (entry + /assets/*.js), not uPlot. */
const MODULES: Array<[string, string]> = [['/dashboard.js', asset('/dashboard.js')], ...CLIENT_MODULES.map((m): [string, string] => [`/assets/${m}`, asset(`/assets/${m}`)])];

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

  it('serves every asset with its type, a strict CSP and no caching', async () => {
    const url = await start();
    expect(assets.map((a) => a.path)).toEqual(expect.arrayContaining(['/', '/dashboard.js', '/dashboard.css', '/favicon.svg', '/assets/uplot.js', '/assets/uplot.css']));
    for (const a of assets) {
      const res = await fetch(`${url}${a.path}`);
      expect(res.status, a.path).toBe(200);
      expect(res.headers.get('content-type'), a.path).toBe(a.type);
      expect(res.headers.get('content-security-policy')).toBe("default-src 'self'; style-src 'self'; script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(a.body), a.path).toBe(true);
      expect(Number(res.headers.get('content-length'))).toBe(a.body.length);
    }
  });

  it('answers 404 for an unknown asset and 405 for a POST to the page', async () => {
    const url = await start();
    expect((await fetch(`${url}/dashboard.map`)).status).toBe(404);
    expect((await fetch(`${url}/assets/../package.json`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
  });
});

describe('dashboard assets', () => {
  it('uPlot comes from its npm package, not a CDN', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'node_modules', 'uplot', 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(asset('/assets/uplot.js')).toMatch(/var uPlot\s*=/);
    expect(asset('/assets/uplot.css')).toContain('.uplot');
    for (const [, text] of [['/', HTML], ...MODULES]) expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('the page loads only same-origin assets that are served, with no inline code', () => {
    const served = new Set(assets.map((a) => a.path));
    const refs = [...HTML.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(5);
    for (const r of refs) expect(served.has(r), r).toBe(true);
    // The CSP forbids inline code: no <style> or inline <script> bodies, no on* handlers.
    expect(HTML).not.toMatch(/<style|<script>[^<]|<script[^>]*>[^<]|\son[a-z]+=/i);
  });

  it('every module import names a served module', () => {
    const served = new Set(CLIENT_MODULES as readonly string[]);
    for (const [path, text] of MODULES) {
      // The entry module is /dashboard.js, the others live under /assets/.
      const prefix = path === '/dashboard.js' ? 'assets/' : '';
      const imports = [...text.matchAll(/from '\.\/([a-z/-]+\.js)'/g)].map((m) => m[1]!);
      if (path === '/dashboard.js') expect(imports.length).toBeGreaterThan(5);
      for (const m of imports) expect(m.startsWith(prefix) && served.has(m.slice(prefix.length)), `${path} imports ${m}`).toBe(true);
    }
  });

  it('has every element the page looks up by id', () => {
    const ids = new Set(MODULES.flatMap(([, text]) => [...text.matchAll(/\$\('#([a-z-]+)/g)].map((m) => m[1]!)));
    expect(ids.size).toBeGreaterThan(15);
    for (const id of ids) expect(HTML, `#${id}`).toContain(`id="${id}"`);
  });

  it('never turns strings into markup or code', () => {
    // Telemetry text reaches the page only as text nodes and checked attributes (dom.js).
    for (const [path, text] of MODULES) {
      expect(text, path).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      // Only dom.js sets attributes, and a link's href only after safeHref.
      if (path !== '/assets/dom.js') expect(text, path).not.toMatch(/setAttribute\(/);
    }
  });

  it('each module parses as an ES module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-js-'));
    try {
      for (const [path, text] of MODULES) {
        const file = join(dir, `${path.split('/').pop()!.replace(/\.js$/, '')}.mjs`);
        await writeFile(file, text);
        await expect(run(process.execPath, ['--check', file]), path).resolves.toBeDefined();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the style sheet has balanced braces and the icon is an SVG', () => {
    const css = asset('/dashboard.css');
    expect(css.split('{').length).toBe(css.split('}').length);
    expect(asset('/favicon.svg').trim()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
  });
});
