import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, type ConfigInput } from '../../src/config/schema.js';
import { createLogger } from '../../src/emit/logger.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import type { Beat } from '../../src/model/beat.js';
import type { Incident } from '../../src/model/incident.js';
import { Sidecar } from '../../src/sidecar.js';
import { encodeJson, type ResourceSpec } from '../receive/fixtures/otlp-request.js';
import { generateTraffic } from '../diagnose/service-traffic.js';
import { waitFor } from '../receive/harness.js';

/**
 * The scaled-out shape on loopback: two sidecar instances (real receivers, real admin servers,
 * the real SSE event stream between them, the admin token on it), routed by service as the
 * collector's load_balancing exporter does with routing_key: service. Instance sh-a owns frontend
 * and cart, sh-b owns pricing; pricing gets slow. Neither instance sees the other's spans, so
 * neither can see the cart -> pricing edge; the correlator (sh-a, first in name order) still makes
 * one incident of the fault, with anomalies of both instances.
 *
 * Evaluation is driven in data time (manualEvaluation) so 12 minutes of traffic replay in seconds;
 * everything between the instances travels over the network as in production.
 */
const SLICE = 5_000;
const TOKEN = 'peer-admin-token-0123456789';
const T0 = Math.floor((Date.now() - 3_600_000) / SLICE) * SLICE;
const FAULT_FROM = T0 + 6 * 60_000;
const END = T0 + 12 * 60_000;

const hexOf = (s: string, bytes: number): string => createHash('sha256').update(s).digest('hex').slice(0, bytes * 2);

/** OTLP/JSON requests, one per 30 s of traffic, of the spans of `services` only. */
function requestsFor(beats: readonly Beat[], services: ReadonlySet<string>): string[] {
  const out: string[] = [];
  let batch = new Map<string, ResourceSpec>();
  let batchStart = T0;
  const flush = (): void => {
    if (batch.size > 0) out.push(encodeJson([...batch.values()]));
    batch = new Map();
  };
  for (const b of beats) {
    if (!services.has(b.service)) continue;
    if (b.startMs >= batchStart + 30_000) {
      flush();
      batchStart = b.startMs;
    }
    let r = batch.get(b.service);
    if (r === undefined) batch.set(b.service, (r = { attributes: { 'service.name': b.service }, spans: [] }));
    const ns = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n;
    r.spans.push({
      traceId: hexOf(b.traceId, 16),
      spanId: hexOf(b.spanId, 8),
      ...(b.parentSpanId !== '' ? { parentSpanId: hexOf(b.parentSpanId, 8) } : {}),
      name: b.spanName,
      startNs: ns(b.startMs),
      endNs: ns(b.startMs + b.durationMs),
      kind: b.spanKind,
      ...(b.status === 2 ? { status: { code: 2 } } : {}),
    });
  }
  flush();
  return out;
}

async function send(s: Sidecar, bodies: string[]): Promise<void> {
  for (const body of bodies) {
    const r = await fetch(`http://127.0.0.1:${s.http!.port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(200);
  }
}

async function getJson<T>(s: Sidecar, path: string, token = TOKEN): Promise<{ status: number; body: T }> {
  const r = await fetch(`${s.admin!.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as T };
}

const anomalyEvents = (s: Sidecar): Array<{ seq: number; kind: string; anomaly: Anomaly }> =>
  s.store
    .eventsSince(0, 1_000_000)
    .filter((e) => e.kind.startsWith('anomaly.'))
    .map((e) => ({ seq: e.seq, kind: e.kind, anomaly: e.payload as Anomaly }));

describe('scaled-out instances keep one fault in one incident', () => {
  let dir: string;
  let member: Sidecar;
  let correlator: Sidecar;
  const logs: string[] = [];

  function config(instance: string, peerUrl: string): ConfigInput {
    return {
      // The machine's load must not turn the backfill into refusals.
      receive: { grpc: { enabled: false }, http: { port: 0 }, maxHeapUsedRatio: 0, maxEventLoopDelayMs: 0 },
      admin: { port: 0 },
      store: { path: join(dir, `${instance}.db`) },
      detect: { sliceMs: SLICE },
      heal: { enabled: false },
      cluster: {
        instance,
        // The same list on every instance, as in the StatefulSet's ConfigMap.
        peers: [
          { name: 'sh-a', url: instance === 'sh-a' ? 'http://127.0.0.1:9' : peerUrl },
          { name: 'sh-b', url: instance === 'sh-b' ? 'http://127.0.0.1:9' : peerUrl },
        ],
        retryMs: 100,
      },
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-cluster-'));
    const env = { SELF_HEALING_ADMIN_TOKEN: TOKEN };
    const logger = createLogger('warn', {}, (l) => logs.push(l));
    member = await Sidecar.start(ConfigSchema.parse(config('sh-b', 'http://127.0.0.1:9')), { manualEvaluation: true, env, logger });
    correlator = await Sidecar.start(ConfigSchema.parse(config('sh-a', member.admin!.url)), { manualEvaluation: true, env, logger });
  }, 60_000);

  afterAll(async () => {
    await correlator?.stop();
    await member?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('groups the anomalies of both instances into one incident at the correlator', async () => {
    expect(correlator.clusterRole.role).toBe('correlator');
    expect(member.clusterRole.role).toBe('member');
    const { beats } = generateTraffic(T0, END, 20, { slowPricingMs: (t) => (t >= FAULT_FROM ? 80 : 0) });
    beats.sort((a, b) => a.startMs - b.startMs);
    await send(correlator, requestsFor(beats, new Set(['frontend', 'cart'])));
    await send(member, requestsFor(beats, new Set(['pricing'])));

    for (let t = T0 + SLICE; t <= END + 30_000; t += SLICE) {
      member.evaluate(t);
      const published = anomalyEvents(member).at(-1)?.seq ?? 0;
      // The member's anomaly events reach the correlator over its event stream before it evaluates.
      await waitFor(() => correlator.peers!.seenSeq('sh-b') >= published, 10_000);
      correlator.evaluate(t);
    }

    const memberAnomalies = anomalyEvents(member).map((e) => e.anomaly);
    const ownAnomalies = anomalyEvents(correlator).map((e) => e.anomaly);
    expect(memberAnomalies.some((a) => a.service === 'pricing')).toBe(true);
    expect(ownAnomalies.some((a) => a.service === 'cart' || a.service === 'frontend')).toBe(true);
    // Each instance only ever detects what is routed to it.
    expect(memberAnomalies.every((a) => a.service === 'pricing')).toBe(true);
    expect(ownAnomalies.every((a) => a.service !== 'pricing')).toBe(true);

    const { status, body: incidents } = await getJson<Incident[]>(correlator, '/api/v1/incidents');
    expect(status).toBe(200);
    const withPricing = incidents.filter((i) => i.services.includes('pricing'));
    expect(withPricing).toHaveLength(1);
    const inc = withPricing[0]!;
    const memberIds = new Set(memberAnomalies.map((a) => a.id));
    const ownIds = new Set(ownAnomalies.map((a) => a.id));
    expect(inc.anomalyIds.some((id) => memberIds.has(id))).toBe(true);
    expect(inc.anomalyIds.some((id) => ownIds.has(id))).toBe(true);
    expect(inc.services.some((s) => s === 'cart' || s === 'frontend')).toBe(true);
    // The member's figures were evidence for the ranking too.
    expect(inc.rootCauses.map((r) => r.service)).toContain('pricing');
    // The peer anomalies are stored where the incident is, so its ids resolve.
    const peerId = inc.anomalyIds.find((id) => memberIds.has(id))!;
    expect((await getJson<{ anomaly: Anomaly }>(correlator, `/api/v1/anomalies/${peerId}`)).body.anomaly.service).toBe('pricing');
  }, 240_000);

  it('publishes no incident at a member and never sends a peer anomaly back out', async () => {
    expect((await getJson<Incident[]>(member, '/api/v1/incidents')).body).toEqual([]);
    expect(member.store.eventsSince(0, 1_000_000).filter((e) => e.kind.startsWith('incident.'))).toEqual([]);
    expect(correlator.store.eventsSince(0, 1_000_000).some((e) => e.kind.startsWith('incident.'))).toBe(true);
    // What the correlator's own event stream offers: none of sh-b's anomalies (no loop).
    expect(anomalyEvents(correlator).filter((e) => e.anomaly.service === 'pricing')).toEqual([]);
  });

  it('refuses a follower without the admin token, and the correlator counts its failing streams', async () => {
    expect((await getJson<unknown>(member, '/api/v1/events?kinds=anomaly.*', 'wrong-token')).status).toBe(401);
    const metrics = await (await fetch(`${correlator.admin!.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/self_healing_peer_anomaly_events_total\{peer="sh-b"\} [1-9]/);
    expect(metrics).toMatch(/self_healing_peer_streams_connected 1/);
  });
});

describe('two serve processes of the scaled-out shape', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));
  let dir: string;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode !== null) continue;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** `self-healing serve --config <file>` with its instance name from the environment, as in the StatefulSet. */
  async function serve(instance: string, peers: Array<{ name: string; url: string }>): Promise<{ admin: string; log: () => string }> {
    const file = join(dir, `${instance}.yaml`);
    writeFileSync(
      file,
      stringify({
        receive: { grpc: { port: 0 }, http: { port: 0 } },
        admin: { port: 0 },
        store: { path: join(dir, `${instance}.db`) },
        heal: { enabled: false },
        cluster: { peers, retryMs: 200 },
      }),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SELF_HEALING_ADMIN_TOKEN: TOKEN, SELF_HEALING_CLUSTER__INSTANCE: instance },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let log = '';
    child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const admin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${instance} did not start: ${log}`)), 60_000);
      child.stderr!.on('data', () => {
        const line = log.split('\n').find((l) => l.includes('"self-healing started"'));
        if (line === undefined) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { admin: string }).admin);
      });
      child.once('exit', (code) => reject(new Error(`${instance} exited with ${code}: ${log}`)));
    });
    return { admin, log: () => log };
  }

  it('the correlator process follows the member process over the network with the shared admin token', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sh-cluster-proc-'));
    // The member's own URL is never used by the member itself; the correlator's list has the real one.
    const member = await serve('sh-b', [{ name: 'sh-a', url: 'http://127.0.0.1:9' }, { name: 'sh-b', url: 'http://127.0.0.1:9' }]);
    const correlator = await serve('sh-a', [{ name: 'sh-a', url: 'http://127.0.0.1:9' }, { name: 'sh-b', url: member.admin }]);
    const metrics = async (): Promise<string> => (await fetch(`${correlator.admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    let text = '';
    await waitFor(() => /self_healing_peer_streams_connected 1/.test(text) || (void metrics().then((t) => (text = t)), false), 30_000);
    expect(text).toMatch(/self_healing_peer_streams_connected 1/);
    // The member serves no incidents of its own; both processes log JSON lines without errors.
    const incidents = await fetch(`${member.admin}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await incidents.json()).toEqual([]);
    for (const log of [member.log(), correlator.log()]) expect(log).not.toMatch(/"level":"(error|warn)"/);
  }, 120_000);
});
