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
 * The on-call page in a real browser (Debian's Chromium via playwright-core) against a real
 * sidecar fed over OTLP/HTTP by a three-service app traced with the OpenTelemetry SDK, with one
 * injected fault (a pricing release, 3.1.0, makes it slow). The page must show RED charts with data for the chosen
 * service, the service map with pricing highlighted, the incident with pricing as its first root
 * cause, and acknowledge it; no console errors. Screenshots (1400x1000): test-output/dashboard-*.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const OUT = join(process.cwd(), 'test-output');
const SLICE_MS = 1000;
const SERVICES = [
  { name: 'frontend', version: '2.4.0', endpoint: 'GET /checkout' },
  { name: 'cart', version: '1.9.1', endpoint: 'GET /cart/total' },
  { name: 'pricing', version: '3.0.2', endpoint: 'GET /price' },
];
const FAULTY = 'pricing';
const WAIT = { timeout: 30_000 };

describe('the on-call dashboard in Chromium', () => {
  let dir: string;
  let sidecar: Sidecar;
  let app: OtelChainApp;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the dashboard browser test needs Debian's Chromium (apt-get install -y chromium)`);
    }
    dir = await mkdtemp(join(tmpdir(), 'dashboard-red-e2e-'));
    const config = ConfigSchema.parse({
      logLevel: 'silent',
      receive: { grpc: { enabled: false }, http: { port: 0 } },
      admin: { port: 0 },
      emit: { otlp: { enabled: false } },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE_MS },
      heal: { enabled: false },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent'), cwd: dir });
    app = new OtelChainApp(`http://127.0.0.1:${sidecar.http!.port}`, SERVICES);

    // Data time: 60 s of healthy traffic, then pricing slow for 25 s, ending about a minute ago,
    // so everything lies inside the page's 15-minute range.
    let t = Math.floor((Date.now() - 150_000) / SLICE_MS) * SLICE_MS;
    const feed = async (slices: number, fault?: { service: string; extraMs: number }) => {
      for (let s = 0; s < slices; s++) {
        app.slice(t, 20, fault);
        await app.flush();
        t += SLICE_MS;
        sidecar.evaluate(t);
      }
    };
    await feed(60);
    // The fault arrives with a release of pricing: the charts mark the deploy.
    await app.deploy(FAULTY, '3.1.0');
    await feed(25, { service: FAULTY, extraMs: 60 });
    const open = sidecar.incidents.incidents().filter((i) => i.state === 'open');
    if (open.length === 0) {
      const anomalies = sidecar.store.listAnomalies({ limit: 50, offset: 0 }).map((a) => `${a.service}/${a.handler ?? a.sequence}: ${a.subtype}`);
      throw new Error(`no incident opened for the injected fault; anomalies: ${JSON.stringify(anomalies)}`);
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await mkdir(OUT, { recursive: true });
  }, 180_000);

  /** Waits until the charts show `service` with at least one point. */
  async function chartsShow(service: string): Promise<void> {
    await expect
      .poll(async () => {
        const el = page.locator('#charts');
        return (await el.getAttribute('data-service')) === service && Number(await el.getAttribute('data-points')) > 0;
      }, WAIT)
      .toBe(true);
  }

  afterAll(async () => {
    await browser?.close();
    await app?.shutdown();
    await sidecar?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the watched app, RED charts with data for the chosen service and the range picker', async () => {
    await page.goto(`${sidecar.admin!.url}/#range=15m`);
    await page.locator('#conn.on').waitFor(WAIT);
    // The header names the app's services, not the sidecar.
    await page.locator('#watched', { hasText: 'pricing' }).waitFor(WAIT);
    const watched = (await page.locator('#watched').textContent()) ?? '';
    for (const s of SERVICES) expect(watched).toContain(s.name);
    expect(watched).not.toContain(sidecar.config.serviceName);
    // The selector says which services are in trouble.
    await page.locator('#service option[value="pricing"]', { hasText: 'open incident' }).waitFor({ state: 'attached', ...WAIT });

    await page.selectOption('#service', 'cart');
    await page.locator('#charts[data-service="cart"]').waitFor({ state: 'attached', ...WAIT });
    await chartsShow('cart');
    for (const id of ['chart-rate', 'chart-errors', 'chart-latency']) {
      await page.locator(`#${id} .uplot canvas`).waitFor(WAIT);
    }
    expect(await page.locator('#red-title').textContent()).toContain('cart');
    // The endpoint table lists the service's endpoints; choosing one narrows the charts to it.
    const row = page.locator('#operations tbody tr[data-operation="GET /cart/total"]');
    await row.waitFor(WAIT);
    await row.click();
    await page.locator('#red-title', { hasText: 'GET /cart/total' }).waitFor(WAIT);
    await chartsShow('cart');
    // An endpoint has a learned p95 band, drawn behind its latency lines.
    await page.locator('#charts[data-operation="GET /cart/total"]:not([data-band="0"])').waitFor({ state: 'attached', ...WAIT });

    await page.screenshot({ path: join(OUT, 'dashboard-red.png') });

    // The range picker: 1 h is marked and kept in the URL.
    await page.click('#range button[data-range="1h"]');
    await page.locator('#range button.on[data-range="1h"]').waitFor(WAIT);
    expect(page.url()).toContain('range=1h');
    await page.locator('#red-title', { hasText: '1 h' }).waitFor(WAIT);
    expect(pageErrors).toEqual([]);
  });

  it('draws the service map with every service and the faulty one highlighted', async () => {
    for (const s of SERVICES) await page.locator(`#service-map .node[data-service="${s.name}"]`).waitFor(WAIT);
    await page.locator(`#service-map .node.anomalous[data-service="${FAULTY}"]`).waitFor(WAIT);
    expect(await page.locator('#service-map .node.anomalous').count()).toBe(1);
    await page.locator('#service-map .edge[data-caller="frontend"][data-callee="cart"]').waitFor(WAIT);
    await page.locator('#service-map .edge[data-caller="cart"][data-callee="pricing"]').waitFor(WAIT);
    // Click-through: the map opens the service's view.
    await page.locator(`#service-map .node[data-service="${FAULTY}"]`).click();
    await chartsShow(FAULTY);
    expect(await page.locator('#service').inputValue()).toBe(FAULTY);
    // The release is a deploy marker, and the anomaly and incident spans are marked on the charts.
    await page.locator('#markers li.deploy', { hasText: '3.1.0' }).waitFor(WAIT);
    await page.locator('#markers li.mark .tag.incident').first().waitFor(WAIT);
    await page.locator('#markers li.mark .tag.anomaly').first().waitFor(WAIT);
    // The heatmap row of pricing's endpoint over 15 min (10 s cells): red where the fault was,
    // closed buckets only.
    await page.click('#range button[data-range="15m"]');
    const heat = page.locator('#heatmap .row.anomalous[data-service="pricing"][data-handler="GET /price"]');
    await heat.locator('.cell.lvl4, .cell.lvl3').first().waitFor(WAIT);
    expect(await heat.locator('.cell.lvl0').count()).toBeGreaterThan(0);
    expect(await heat.locator('.cell.partial').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it('lists the incident with its first root cause, opens it and acknowledges it', async () => {
    const row = page.locator('#incidents tbody tr[data-id]').first();
    await row.waitFor(WAIT);
    expect(await row.locator('td.root-cause b.cause').textContent()).toContain(FAULTY);
    const id = (await row.getAttribute('data-id'))!;
    await row.click();
    const detail = page.locator('#incident-detail');
    await detail.locator('.causes li.first').waitFor(WAIT);
    expect(await detail.locator('.causes li.first').textContent()).toContain(FAULTY);
    await page.screenshot({ path: join(OUT, 'dashboard-incident.png') });

    await detail.locator('button.ack').click();
    await page.locator(`#incidents tbody tr[data-id="${id}"] .badge.ack`).waitFor(WAIT);
    await detail.locator('button.ack[disabled]', { hasText: 'Acknowledged' }).waitFor(WAIT);
    // The acknowledgement is stored by the sidecar, not only shown.
    const stored = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents/${encodeURIComponent(id)}`)).json()) as { incident: { acknowledged: { by: string } | null } };
    expect(stored.incident.acknowledged?.by).toBe('dashboard');

    // Silence for an hour, then lift it: stored, and shown on the row.
    await detail.locator('select.silence-for').selectOption('3600000');
    await detail.locator('button.silence').click();
    await page.locator(`#incidents tbody tr[data-id="${id}"] .badge.silenced`).waitFor(WAIT);
    const silenced = (await (await fetch(`${sidecar.admin!.url}/api/v1/incidents/${encodeURIComponent(id)}`)).json()) as { incident: { silencedUntilMs: number | null } };
    expect(silenced.incident.silencedUntilMs).toBeGreaterThan(Date.now() + 50 * 60_000);
    await detail.locator('button.unsilence').click();
    await page.locator(`#incidents tbody tr[data-id="${id}"] .badge.silenced`).waitFor({ state: 'detached', ...WAIT });
    await page.screenshot({ path: join(OUT, 'dashboard-full.png'), fullPage: true });
    expect(existsSync(join(OUT, 'dashboard-red.png'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('filters and searches incidents, and the feed collapses repeats', async () => {
    await page.fill('#search', 'no-such-thing');
    await page.locator('#incidents tbody tr.empty', { hasText: 'No incidents match' }).waitFor(WAIT);
    await page.fill('#search', FAULTY);
    await page.locator('#incidents tbody tr[data-id]').first().waitFor(WAIT);
    await page.selectOption('#f-state', 'resolved');
    await page.locator('#incidents tbody tr.empty').waitFor(WAIT);
    await page.selectOption('#f-state', 'open');
    await page.locator('#incidents tbody tr[data-id]').first().waitFor(WAIT);
    await page.fill('#search', '');
    // Another service in view: the list follows it, the map still points at the root cause.
    await page.selectOption('#service', 'frontend');
    await chartsShow('frontend');
    await page.locator('#incidents tbody tr[data-id]').first().waitFor(WAIT);
    await page.locator(`#service-map .node.anomalous[data-service="${FAULTY}"]`).waitFor(WAIT);

    // Every open anomaly is "updated" at each evaluation: one line per anomaly, with a count.
    await page.locator('#feed li[data-kind="anomaly.updated"] .count').first().waitFor(WAIT);
    const updated = await page.locator('#feed li[data-kind="anomaly.updated"]').count();
    expect(updated).toBeGreaterThan(0);
    expect(updated).toBeLessThanOrEqual(sidecar.store.listAnomalies({ limit: 100, offset: 0 }).length);
    expect(pageErrors).toEqual([]);
  });
});

describe('the dashboard of a sidecar that has seen nothing yet', () => {
  it('shows empty states and no console errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-empty-e2e-'));
    const config = ConfigSchema.parse({ logLevel: 'silent', receive: { grpc: { enabled: false }, http: { enabled: false } }, admin: { port: 0 }, emit: { otlp: { enabled: false } }, store: { path: join(dir, 'state.db') }, heal: { enabled: false } });
    const sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent'), cwd: dir });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    const errors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      await page.goto(`${sidecar.admin!.url}/`);
      await page.locator('#conn.on').waitFor(WAIT);
      await page.locator('#incidents tbody tr.empty', { hasText: 'No incidents' }).waitFor(WAIT);
      await page.locator('#service-map .empty').waitFor(WAIT);
      await page.locator('#red-empty', { hasText: 'Choose a service' }).waitFor(WAIT);
      await page.locator('#heatmap .empty').waitFor(WAIT);
      expect(await page.locator('#watched').textContent()).toBe('no services yet');
      expect(await page.locator('.error-line').count()).toBe(0);
      await page.screenshot({ path: join(OUT, 'dashboard-empty.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await sidecar.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
