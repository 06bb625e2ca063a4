import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ConfigSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/emit/logger.js';
import { Sidecar } from '../../src/sidecar.js';
import { OtelChainApp } from './fixtures/otel-chain-app.js';

/**
 * Telemetry is attacker input: service names, span names and versions that are markup, quotes
 * and javascript: URLs reach every view of the page (header, selectors, charts, map, heatmap,
 * incidents, anomalies, feed) through the real OTLP path, and a javascript: Jaeger URL is
 * configured. Nothing may execute, no element may gain an event handler, every link must be
 * http(s), and the hostile text must show up as text. Screenshot: test-output/dashboard-hostile.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const FRONT = '<img src=x onerror="window.__pwned=1">';
const MIDDLE = '"><svg onload=window.__pwned=2>';
const FAULTY = "javascript:window.__pwned=3//'<b>";
const SERVICES = [
  { name: FRONT, version: '1.0"><script>window.__pwned=4</script>', endpoint: '<script>window.__pwned=5</script>' },
  { name: MIDDLE, version: "2.0'onmouseover='window.__pwned=6", endpoint: 'GET /a?x="><iframe src=javascript:window.__pwned=7>' },
  { name: FAULTY, version: 'javascript:window.__pwned=8', endpoint: '{{constructor.constructor("window.__pwned=9")()}}' },
];
const WAIT = { timeout: 30_000 };

describe('the dashboard with hostile telemetry', () => {
  let dir: string;
  let sidecar: Sidecar;
  let app: OtelChainApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    dir = await mkdtemp(join(tmpdir(), 'dashboard-hostile-e2e-'));
    const config = ConfigSchema.parse({
      logLevel: 'silent',
      receive: { grpc: { enabled: false }, http: { port: 0 } },
      admin: { port: 0 },
      emit: { otlp: { enabled: false }, jaegerUrl: 'javascript:window.__pwned=10//' },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: 1000 },
      heal: { enabled: false },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent'), cwd: dir });
    app = new OtelChainApp(`http://127.0.0.1:${sidecar.http!.port}`, SERVICES);
    let t = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    for (let s = 0; s < 80; s++) {
      app.slice(t, 20, s >= 55 ? { service: FAULTY, extraMs: 60, errorShare: 0.5 } : undefined);
      await app.flush();
      t += 1000;
      sidecar.evaluate(t);
    }
    if (sidecar.store.listAnomalies({ limit: 1, offset: 0 }).length === 0) throw new Error('the injected fault opened no anomaly');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.shutdown();
    await sidecar?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders every hostile name as text and runs none of it', async () => {
    await page.goto(`${sidecar.admin!.url}/#range=15m`);
    await page.locator('#conn.on').waitFor(WAIT);
    await page.locator('#service option', { hasText: FAULTY }).waitFor({ state: 'attached', ...WAIT });
    await page.selectOption('#service', FAULTY);
    await page.locator(`#service-map .node[data-service="${FAULTY.replace(/["\\]/g, '\\$&')}"]`).waitFor(WAIT);
    await page.locator('#anomalies tbody tr[data-id]').first().waitFor(WAIT);
    await page.locator('#anomalies tbody tr[data-id]').first().click();
    await page.locator('#diagnosis h3').waitFor(WAIT);
    const incident = page.locator('#incidents tbody tr[data-id]').first();
    if ((await incident.count()) > 0) {
      await incident.click();
      await page.locator('#incident-detail h3').waitFor(WAIT);
    }
    await page.locator('#feed li').first().waitFor(WAIT);
    await mkdir(join(process.cwd(), 'test-output'), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), 'test-output', 'dashboard-hostile.png'), fullPage: true });

    const facts = (await page.evaluate(`(() => {
      const all = [...document.querySelectorAll('*')];
      return {
        pwned: window.__pwned ?? null,
        scripts: [...document.scripts].map((s) => s.getAttribute('src')),
        handlers: all.flatMap((el) => [...el.attributes].filter((a) => a.name.toLowerCase().startsWith('on')).map((a) => el.tagName + ' ' + a.name)),
        injected: document.querySelectorAll('img, iframe, object, embed, body script:not([src])').length,
        hrefs: [...document.querySelectorAll('[href]')].map((a) => a.getAttribute('href')),
        text: document.body.innerText,
        options: [...document.querySelectorAll('#service option')].map((o) => o.value),
      };
    })()`)) as { pwned: unknown; scripts: string[]; handlers: string[]; injected: number; hrefs: string[]; text: string; options: string[] };
    expect(facts.pwned).toBeNull();
    expect(dialogs).toEqual([]);
    expect(facts.scripts).toEqual(['/assets/uplot.js', '/dashboard.js']);
    expect(facts.handlers).toEqual([]);
    expect(facts.injected).toBe(0);
    for (const href of facts.hrefs) expect(href, href).toMatch(/^(https?:\/\/|\/(?!\/))/);
    expect(facts.hrefs.some((h) => /javascript:/i.test(h))).toBe(false);
    // The names arrive intact, as text.
    expect(facts.options).toEqual(expect.arrayContaining(SERVICES.map((s) => s.name)));
    expect(facts.text).toContain(FAULTY);
    expect(facts.text).toContain(FRONT);
    expect(pageErrors).toEqual([]);
  });

  it("the page's link and attribute guards refuse script URLs and unknown attributes", async () => {
    const verdicts = (await page.evaluate(`(async () => {
      const dom = await import('/assets/dom.js');
      const urls = ['javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', '//evil.example/x', '/relative', 'https://ok.example/a?b="c"'];
      let refused = false;
      try { dom.h('div', { style: 'x' }); } catch { refused = true; }
      const a = dom.link('javascript:alert(1)', '<b>x</b>');
      // A stored exemplar with hostile span names, drawn by the built-in waterfall.
      const wf = await import('/assets/waterfall.js');
      const tree = wf.renderWaterfall({ traceId: '"><img src=x onerror=window.__pwned=11>', spans: [
        { spanId: 'a', service: '<img src=x onerror=window.__pwned=12>', name: '<script>window.__pwned=13</script>', startMs: 0, durationMs: 10, error: false },
        { spanId: 'b', parentSpanId: 'a', service: 'x', name: '" onmouseover="window.__pwned=14', startMs: 2, durationMs: 5, error: true },
      ] });
      document.body.appendChild(tree);
      return {
        safe: urls.map((u) => dom.safeHref(u)),
        linkTag: a.tagName,
        linkText: a.textContent,
        jaeger: [dom.jaegerTraceHref('javascript:alert(1)//', '0af7651916cd43dd8448eb211c80319c'), dom.jaegerTraceHref('http://j:16686/', '"><script>'), dom.jaegerTraceHref('http://j:16686/', '0af7651916cd43dd8448eb211c80319c')],
        refused,
        blank: dom.h('a', { href: 'https://x.example', target: '_blank' }, 'x').getAttribute('rel'),
        waterfall: { rows: tree.querySelectorAll('.wf-row').length, errors: tree.querySelectorAll('.wf-row.error').length, text: tree.textContent, injected: tree.querySelectorAll('img, script').length, pwned: window.__pwned ?? null },
      };
    })()`)) as { safe: Array<string | null>; linkTag: string; linkText: string; jaeger: Array<string | null>; refused: boolean; blank: string; waterfall: { rows: number; errors: number; text: string; injected: number; pwned: unknown } };
    expect(verdicts.safe).toEqual([null, null, null, null, null, null, null, 'https://ok.example/a?b=%22c%22']);
    expect(verdicts.linkTag).toBe('SPAN');
    expect(verdicts.linkText).toBe('<b>x</b>');
    expect(verdicts.jaeger).toEqual([null, null, 'http://j:16686/trace/0af7651916cd43dd8448eb211c80319c']);
    expect(verdicts.refused).toBe(true);
    expect(verdicts.blank).toBe('noopener noreferrer');
    expect(verdicts.waterfall).toMatchObject({ rows: 2, errors: 1, injected: 0, pwned: null });
    expect(verdicts.waterfall.text).toContain('<script>window.__pwned=13</script>');
    expect(pageErrors).toEqual([]);
  });
});
