import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { ConfigSchema } from '../../src/config/index.js';
import { createLogger } from '../../src/emit/logger.js';
import { Sidecar } from '../../src/sidecar.js';

/**
 * Signing in to the dashboard in a real browser (Debian's Chromium via playwright-core) when the
 * admin server has a token: the page sends the browser to /signin, the token is typed once, and
 * the session cookie then carries the page, its API calls and the event stream.
 * Screenshot: test-output/signin.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-admin-token-42';

describe('dashboard sign-in in Chromium', () => {
  let dir: string;
  let sidecar: Sidecar;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: the dashboard browser test needs Debian's Chromium (apt-get install -y chromium)`);
    }
    dir = await mkdtemp(join(tmpdir(), 'signin-e2e-'));
    const config = ConfigSchema.parse({
      logLevel: 'silent',
      receive: { grpc: { enabled: false }, http: { enabled: false } },
      admin: { port: 0 },
      emit: { otlp: { enabled: false } },
      store: { path: join(dir, 'state.db') },
      heal: { enabled: false },
    });
    sidecar = await Sidecar.start(config, { manualEvaluation: true, env: { SELF_HEALING_ADMIN_TOKEN: TOKEN }, logger: createLogger('silent'), cwd: dir });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sidecar?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('sends the browser to sign in, takes the token once, then shows the live dashboard', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(`${sidecar.admin!.url}/`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await mkdir(join(process.cwd(), 'test-output'), { recursive: true });
    await page.screenshot({ path: join(process.cwd(), 'test-output', 'signin.png') });

    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await page.locator('#error', { hasText: 'not right' }).waitFor({ timeout: 10_000 });
    expect(await context.cookies()).toEqual([]);

    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${sidecar.admin!.url}/`, { timeout: 10_000 });
    // The event stream connected with the cookie alone.
    await page.locator('#conn.on').waitFor({ timeout: 15_000 });

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'sh_admin_session', httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookie!.value).not.toContain(TOKEN);
    // Scripts cannot read it; the API answers the page's own requests.
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(await page.evaluate(async () => (await fetch('/api/v1/anomalies')).status)).toBe(200);
    // A same-origin JSON POST passes the CSRF rule (404: no such anomaly); text/plain does not.
    const statuses = await page.evaluate(async () => {
      const body = JSON.stringify({ verdict: 'false-positive' });
      const json = await fetch('/api/v1/anomalies/none/feedback', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const plain = await fetch('/api/v1/anomalies/none/feedback', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      return [json.status, plain.status];
    });
    expect(statuses).toEqual([404, 415]);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
