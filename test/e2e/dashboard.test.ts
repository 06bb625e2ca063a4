import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ConfigSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/emit/logger.js';
import { STATUS_OK, type Beat } from '../../src/model/beat.js';
import { Sidecar } from '../../src/sidecar.js';

/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
 * sidecar: beats go in through the engine with data time, the page shows the heatmap, the anomaly
 * appears live over SSE, a click shows the diagnosis. Screenshot: test-output/dashboard.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = join(process.cwd(), 'test-output', 'dashboard.png');
const SLICE_MS = 1000;
const SERVICE = 'canvas-app';
const HANDLERS = ['resolveTemplate', 'createComponent', 'renderComponent'] as const;

let n = 0;
/** One run of the three-beat sequence at `startMs`; resolveTemplate takes `slowMs` when given. */
function run(startMs: number, slowMs?: number): Beat[] {
  n++;
  // Hex ids that look like real ones (the page shows the first 16 digits).
  const traceId = (Math.imul(n, 2654435761) >>> 0).toString(16).padStart(8, '0').repeat(4);
  const jitter = (n % 7) / 10;
  const durations = [slowMs ?? 2 + jitter, 0.4 + jitter / 4, 1 + jitter / 2];
  let t = startMs;
  return HANDLERS.map((handler, i) => {
    const beat: Beat = {
      service: SERVICE,
      serviceVersion: '1.1.0',
      sequence: 'canvas-component-create',
      movement: i === 0 ? 'resolve' : 'create',
      beatNumber: i === 0 ? 1 : i,
      event: `canvas:component:${handler}`,
      handler,
      plugin: 'CanvasComponentPlugin',
      kind: i === 0 ? 'pure' : 'stage-crew',
      correlationId: `req-${n}`,
      startMs: t,
      durationMs: durations[i]!,
      status: STATUS_OK,
      error: undefined,
      traceId,
      spanId: `${n.toString(16).padStart(14, '0')}${i.toString(16).padStart(2, '0')}`,
      parentSpanId: 'ffffffffffffffff',
      spanName: handler,
      attributes: {},
    };
    t += durations[i]!;
    return beat;
  });
}

/** `seconds` of traffic at 20 runs/s from `fromMs`, evaluating after each slice (data time). */
function feed(sidecar: Sidecar, fromMs: number, seconds: number, slowMs?: number): number {
  let t = fromMs;
  for (let s = 0; s < seconds; s++) {
    const beats: Beat[] = [];
    for (let i = 0; i < 20; i++) beats.push(...run(t + i * 50, slowMs));
    // What the receivers' sink does: detectors and the service graph (whose closed slices become
    // the stored RED rollups the page's history views read) see the same beats.
    sidecar.engine.observe(beats);
    sidecar.incidents.observe(beats);
    t += SLICE_MS;
    sidecar.evaluate(t);
  }
  return t;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard in Chromium', () => {
  let dir: string;
  let sidecar: Sidecar;
  let browser: Browser;
  let page: Page;
  let clock: number;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the dashboard browser test needs Debian's Chromium (apt-get install -y chromium)`);
    }
    dir = await mkdtemp(join(tmpdir(), 'dashboard-e2e-'));
    const config = ConfigSchema.parse({
      logLevel: 'silent',
      receive: { grpc: { port: 0 }, http: { port: 0 } },
      admin: { port: 0 },
      emit: { otlp: { enabled: false } },
      store: { path: join(dir, 'state.db') },
      detect: { sliceMs: SLICE_MS, windowSlices: 5, baselineMinSlices: 5, minSamples: 10 },
      heal: { enabled: false },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, logger: createLogger('silent'), cwd: dir });
    // 60 s of healthy traffic ending a minute ago, inside the page's 15-minute range.
    clock = feed(sidecar, Math.floor((Date.now() - 150_000) / SLICE_MS) * SLICE_MS, 60);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sidecar?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the heatmap over the range (closed slices only), a live anomaly and its diagnosis', async () => {
    await page.goto(`${sidecar.admin!.url}/#range=15m`);
    await page.locator('#conn.on').waitFor({ timeout: 15_000 });

    // One heatmap row per handler, with cells for the slices seen.
    for (const h of HANDLERS) await page.locator(`#heatmap .row[data-handler="${h}"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator('#heatmap .row[data-handler="resolveTemplate"] .cell.lvl0').count()).toBeGreaterThan(3);
    expect(await page.locator('#anomalies tbody tr[data-id]').count()).toBe(0);

    // A latency regression arrives while the page is open: the row appears without a reload.
    const opened = new Promise<void>((resolve) => {
      const sub = sidecar.bus.subscribe(sidecar.bus.lastSeq(), ['anomaly.opened'], () => {
        sub.close();
        resolve();
      });
    });
    clock = feed(sidecar, clock, 12, 25);
    await opened;
    const row = page.locator('#anomalies tbody tr[data-id]', { hasText: 'resolveTemplate' }).first();
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('latency-regression');
    await page.locator('#heatmap .row.anomalous[data-handler="resolveTemplate"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#heatmap .row[data-handler="resolveTemplate"] .cell.lvl4').count()).toBeGreaterThan(0);
    // The activity feed is fed only by the event stream: this entry proves the SSE path.
    await page.locator('#feed li', { hasText: 'anomaly.opened' }).first().waitFor({ timeout: 15_000 });

    await row.click();
    const diagnosis = page.locator('#diagnosis');
    await diagnosis.locator('.root-cause').waitFor({ timeout: 15_000 });
    const text = await waitFor('the diagnosis text', async () => {
      const t = (await diagnosis.textContent()) ?? '';
      return t.includes('Root cause') ? t : undefined;
    });
    expect(text).toContain('resolveTemplate');
    expect(await row.getAttribute('class')).toContain('selected');

    // Healthy traffic again: the anomaly resolves, and its row says so instead of repeating
    // its worst summary as if it were still going on.
    const id = (await row.getAttribute('data-id'))!;
    // Evaluation is synchronous in data time: after these slices the anomaly is resolved and stored.
    clock = feed(sidecar, clock, 40);
    expect(sidecar.store.getAnomaly(id)?.state).toBe('resolved');
    const resolvedRow = page.locator(`#anomalies tbody tr.resolved[data-id="${id}"]`);
    await resolvedRow.waitFor({ timeout: 15_000 });
    expect(await resolvedRow.locator('td.summary').textContent()).toMatch(/^resolved \d\d:\d\d:\d\d after \d+s?.*; worst: .*resolveTemplate/);

    await mkdir(join(process.cwd(), 'test-output'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
