import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ConfigSchema } from '../../src/config/schema.js';
import { EventBus } from '../../src/emit/event-bus.js';
import { createLogger } from '../../src/emit/logger.js';
import { Notifier } from '../../src/emit/notifier.js';
import { verifyWebhook } from '../../src/emit/webhook-signature.js';
import { anomaly } from '../diagnose/fixtures.js';
import { tempStore, waitFor } from './store-fixture.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real webhook receiver on loopback answering with the scripted statuses, then 200. */
async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[]; hits: () => number; server: Server }> {
  const got: Received[] = [];
  let hits = 0;
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits++;
      const status = statuses.shift() ?? 200;
      if (status === 200) got.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, hits: () => hits, server };
}

/** Polls an asynchronous condition until it holds (20 s at most). */
async function eventually(cond: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(targets: unknown[], env: NodeJS.ProcessEnv = {}): { bus: EventBus; registry: Registry; notifier: Notifier; dir: string; logs: string[] } {
  const { store, dir, cleanup } = tempStore();
  const bus = new EventBus(store);
  const registry = new Registry();
  const logs: string[] = [];
  const config = ConfigSchema.parse({ notify: { targets, publicUrl: 'https://sh.example/' } }).notify;
  const notifier = new Notifier(config, bus, registry, createLogger('warn', {}, (l) => logs.push(l)), { env });
  notifier.start();
  cleanups.push(cleanup, () => bus.close(), () => notifier.stop());
  return { bus, registry, notifier, dir, logs };
}

describe('Notifier: signed JSON webhooks', () => {
  it('sends matching events at or above the severity, signed with HMAC-SHA256 over timestamp and body', async () => {
    const hook = await receiver();
    cleanups.push(() => void hook.server.close());
    const { bus } = setup([{ name: 'oncall', url: hook.url, secretEnv: 'HOOK_SECRET', minSeverity: 'high', backoffMs: 10 }], { HOOK_SECRET: 's3cret' });
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'low-1', severity: 'low' }) });
    bus.publish('fix.generated', { severity: 'critical' });
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'a-high', severity: 'high', summary: 'x <b>"quoted"</b>\n' }) });
    await waitFor(() => hook.got.length === 1, 10_000, 'one delivery');
    const [d] = hook.got;
    const body = JSON.parse(d!.body) as { kind: string; payload: { id: string; summary: string } };
    expect(body.kind).toBe('anomaly.opened');
    expect(body.payload.id).toBe('a-high');
    expect(body.payload.summary).toBe('x <b>"quoted"</b>\n');
    expect(d!.headers['x-self-healing-event']).toBe('anomaly.opened');
    expect(d!.headers['content-type']).toBe('application/json');
    const sig = String(d!.headers['x-self-healing-signature']);
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhook('s3cret', sig, d!.body, now)).toBe(true);
    expect(verifyWebhook('wrong', sig, d!.body, now)).toBe(false);
    expect(verifyWebhook('s3cret', sig, `${d!.body} `, now)).toBe(false);
    expect(verifyWebhook('s3cret', sig, d!.body, now + 3600)).toBe(false);
    expect(hook.hits()).toBe(1);
  });

  it('retries 5xx and network failures with backoff, dead-letters what keeps failing or is refused, and keeps order', async () => {
    const hook = await receiver([500, 503, 400]);
    cleanups.push(() => void hook.server.close());
    const { bus, registry, logs } = setup([{ name: 'flaky', url: hook.url, backoffMs: 5, maxAttempts: 3, events: ['anomaly.*'], minSeverity: 'low' }]);
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'first' }) }); // 500, 503, then 400: refused
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'second' }) }); // 200
    await waitFor(() => hook.got.length === 1, 10_000, 'the second event');
    expect((JSON.parse(hook.got[0]!.body) as { payload: { id: string } }).payload.id).toBe('second');
    // The receiver has the body before the sender has its answer: wait for the sender's count.
    await eventually(async () => (await registry.metrics()).includes('result="sent"} 1'), 'the sent count');
    const text = await registry.metrics();
    expect(text).toContain('self_healing_notifications_total{target="flaky",result="retried"} 2');
    expect(text).toContain('self_healing_notifications_total{target="flaky",result="dead"} 1');
    expect(text).toContain('self_healing_notifications_total{target="flaky",result="sent"} 1');
    expect(logs.some((l) => l.includes('notification dead-lettered') && l.includes('HTTP 400'))).toBe(true);
  });

  it('gives up after maxAttempts when nothing listens, and dead-letters beyond the queue bound', async () => {
    const { bus, registry } = setup([{ name: 'gone', url: 'http://127.0.0.1:9/hook', backoffMs: 5, maxAttempts: 2, maxQueue: 1, minSeverity: 'low' }]);
    for (const id of ['a', 'b', 'c']) bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id }) });
    await eventually(async () => /result="dead"\} (\d+)/.exec(await registry.metrics())?.[1] === '3', 'three dead letters');
  });

  it('refuses duplicate target names and names that make bad metric labels', () => {
    expect(() => ConfigSchema.parse({ notify: { targets: [{ name: 'a', url: 'http://x/' }, { name: 'a', url: 'http://y/' }] } })).toThrow(/duplicate target name/);
    expect(() => ConfigSchema.parse({ notify: { targets: [{ name: 'Bad Name', url: 'http://x/' }] } })).toThrow(/lowercase/);
  });
});

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('Notifier: Alertmanager API v2, against a real Alertmanager', () => {
  it('fires an alert per anomaly and incident, with labels and annotations, and resolves it', async () => {
    const { bus, dir } = setup([]); // only for a temp dir; the notifier under test is built below
    const port = await freePort();
    writeFileSync(join(dir, 'am.yml'), 'route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n');
    const am: ChildProcess = spawn('/usr/bin/prometheus-alertmanager', [
      `--config.file=${join(dir, 'am.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ], { stdio: 'ignore' });
    cleanups.push(() => void am.kill('SIGKILL'));
    const base = `http://127.0.0.1:${port}`;
    await eventually(() => fetch(`${base}/-/ready`).then((r) => r.ok, () => false), 'alertmanager ready');

    const registry = new Registry();
    const config = ConfigSchema.parse({ notify: { publicUrl: 'https://sh.example', targets: [{ name: 'am', url: base, format: 'alertmanager', minSeverity: 'low', backoffMs: 20 }] } }).notify;
    const notifier = new Notifier(config, bus, registry, createLogger('silent'));
    notifier.start();
    cleanups.push(() => notifier.stop());
    const a = anomaly({ id: 'an-1', severity: 'high', service: 'shop', handler: 'chargeCard', summary: 'chargeCard p95 120 ms vs 12 ms', firstSeenMs: Date.now() - 60_000 });
    bus.publishAnomalyChange({ kind: 'opened', anomaly: a });
    bus.publish('incident.opened', { id: 'inc-1', startMs: Date.now() - 30_000, endMs: Date.now(), severity: 'critical', services: ['shop'], summary: 'checkout failing', anomalyIds: ['an-1'], rootCauses: [{ service: 'payments', score: 3, reason: 'errors start here' }] });

    type AmAlert = { labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string; status: { state: string } };
    const alerts = async (): Promise<AmAlert[]> => (await (await fetch(`${base}/api/v2/alerts`)).json()) as AmAlert[];
    let current: AmAlert[] = [];
    await eventually(async () => (current = await alerts()).length === 2, 'two alerts in Alertmanager');
    const anomalyAlert = current.find((x) => x.labels['alertname'] === 'SelfHealingAnomaly')!;
    expect(anomalyAlert.labels).toMatchObject({ anomaly_id: 'an-1', severity: 'high', service: 'shop', handler: 'chargeCard', subtype: 'latency-regression' });
    expect(anomalyAlert.annotations['summary']).toBe('chargeCard p95 120 ms vs 12 ms');
    expect(anomalyAlert.generatorURL).toBe('https://sh.example/#anomaly/an-1');
    expect(anomalyAlert.status.state).toBe('active');
    const incidentAlert = current.find((x) => x.labels['alertname'] === 'SelfHealingIncident')!;
    expect(incidentAlert.labels).toMatchObject({ incident_id: 'inc-1', severity: 'critical', service: 'shop' });
    expect(incidentAlert.annotations['root_cause']).toBe('payments: errors start here');

    bus.publishAnomalyChange({ kind: 'resolved', anomaly: { ...a, state: 'resolved', resolvedMs: Date.now() - 1000 } });
    await eventually(async () => (current = await alerts()).length === 1, 'the anomaly alert resolved');
    expect(current[0]!.labels['alertname']).toBe('SelfHealingIncident');
  });
});
