import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { ConfigSchema } from '../../src/config/schema.js';
import { SilenceGate } from '../../src/diagnose/silence-gate.js';
import { EventBus } from '../../src/emit/event-bus.js';
import { createLogger } from '../../src/emit/logger.js';
import { Notifier } from '../../src/emit/notifier.js';
import { IncidentStore } from '../../src/store/incident-store.js';
import { anomaly } from '../diagnose/fixtures.js';
import { incidentFixture } from '../store/incident-fixture.js';
import { tempStore, waitFor } from './store-fixture.js';

/** A real HTTP receiver on loopback that keeps every request body. */
async function receiver(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(target: Record<string, unknown>): Promise<{ bus: EventBus; incidents: IncidentStore; registry: Registry; hook: Awaited<ReturnType<typeof receiver>> }> {
  const hook = await receiver();
  const { store, db, cleanup } = tempStore();
  const incidents = new IncidentStore(db);
  const bus = new EventBus(store);
  const registry = new Registry();
  const config = ConfigSchema.parse({ notify: { targets: [{ name: 't', url: `${hook.url}/hook`, minSeverity: 'low', backoffMs: 10, ...target }] } }).notify;
  const notifier = new Notifier(config, bus, registry, createLogger('silent'), { silence: new SilenceGate(incidents, undefined) });
  notifier.start();
  cleanups.push(cleanup, () => void hook.server.close(), () => bus.close(), () => notifier.stop());
  return { bus, incidents, registry, hook };
}

describe('Notifier: a silenced incident does not notify', () => {
  it('webhooks: nothing for the silenced incident or its anomalies, everything for the other, and again once the silence is removed', async () => {
    const { bus, incidents, registry, hook } = await setup({ events: ['incident.*', 'anomaly.*', 'diagnosis.created'] });
    const now = Date.now();
    incidents.saveIncident(incidentFixture({ id: 'quiet', anomalyIds: ['an-quiet'] }), now);
    incidents.saveIncident(incidentFixture({ id: 'loud', anomalyIds: ['an-loud'] }), now);
    incidents.silence('quiet', now + 3_600_000, 'known deploy', now);
    bus.publish('incident.silenced', incidents.get('quiet', now));
    bus.publish('incident.opened', incidents.incident('quiet'));
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'an-quiet' }) });
    bus.publish('diagnosis.created', { id: 'd1', severity: 'high' }, { anomalyId: 'an-quiet' });
    bus.publish('incident.opened', incidents.incident('loud'));
    bus.publishAnomalyChange({ kind: 'opened', anomaly: anomaly({ id: 'an-loud' }) });
    await waitFor(() => hook.bodies.length === 2, 10_000, 'the two events of the unsilenced incident');
    const kinds = (): string[] => hook.bodies.map((b) => {
      const e = JSON.parse(b) as { kind: string; payload: { id: string } };
      return `${e.kind}:${e.payload.id}`;
    });
    expect(kinds()).toEqual(['incident.opened:loud', 'anomaly.opened:an-loud']);
    expect(await registry.metrics()).toContain('self_healing_notifications_total{target="t",result="silenced"} 4');

    incidents.unsilence('quiet', Date.now());
    bus.publish('incident.updated', incidents.incident('quiet'));
    await waitFor(() => hook.bodies.length === 3, 10_000, 'the event after the silence was removed');
    expect(kinds()[2]).toBe('incident.updated:quiet');
  });

  it('alertmanager: a silenced incident is not fired and no longer re-sent, so Alertmanager lets it lapse', async () => {
    const { bus, incidents, hook } = await setup({ format: 'alertmanager', resendMs: 1_000 });
    const now = Date.now();
    incidents.saveIncident(incidentFixture({ id: 'inc-a', startMs: now }), now);
    incidents.saveIncident(incidentFixture({ id: 'inc-b', startMs: now }), now);
    bus.publish('incident.opened', incidents.incident('inc-a'));
    bus.publish('incident.opened', incidents.incident('inc-b'));
    bus.publish('incident.acknowledged', incidents.get('inc-a', now)); // not a lifecycle change: no alert
    await waitFor(() => hook.bodies.length === 2, 10_000, 'both alerts fired');
    incidents.silence('inc-a', now + 3_600_000, '', now);
    bus.publish('incident.updated', incidents.incident('inc-a'));
    // The next re-send carries only the unsilenced alert.
    await waitFor(() => hook.bodies.length >= 3, 10_000, 'a re-send');
    const ids = (body: string): string[] => (JSON.parse(body) as Array<{ labels: Record<string, string> }>).map((a) => a.labels['incident_id']!);
    expect(hook.bodies.slice(0, 2).map(ids)).toEqual([['inc-a'], ['inc-b']]);
    for (const body of hook.bodies.slice(2)) expect(ids(body)).toEqual(['inc-b']);
  });
});
