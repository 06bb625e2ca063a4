import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type Beat } from '../../src/model/beat.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { lognormal, pareto, seededRandom } from '../detect/beat-factory.js';
import { beat } from './service-traffic.js';

/**
 * Synthetic steady traffic of a small fleet for unit tests (generators are for unit tests only):
 * seven services calling each
 * other, whose database and bank calls have Pareto tails, with a load that rises and falls, a
 * baseline of 1 % failing payments and sporadic error logs; optionally busy minutes (a larger
 * tail share) and bursts of one WARN line. Nothing changes over time.
 */
interface Call {
  service: string;
  route: string;
  /** Own work: log-normal median and spread, or quick calls with a Pareto tail (scale, shape, cap). */
  own: { median: number; sigma: number } | { xm: number; shape: number; cap: number };
  calls?: Call[];
  failRate?: number;
}

const DB_ORDERS: Call = { service: 'orders-db', route: 'SELECT orders', own: { xm: 4, shape: 0.9, cap: 550 } };
const DB_USERS: Call = { service: 'users-db', route: 'SELECT users', own: { xm: 3, shape: 1.1, cap: 400 } };
const BANK: Call = { service: 'bank', route: 'POST /charge', own: { xm: 40, shape: 1.3, cap: 2_000 }, failRate: 0.01 };
const ROUTES: Array<{ weight: number; call: Call }> = [
  {
    weight: 0.5,
    call: { service: 'gateway', route: 'GET /orders', own: { median: 2, sigma: 0.3 }, calls: [{ service: 'orders', route: 'GET /orders', own: { median: 4, sigma: 0.3 }, calls: [DB_ORDERS] }] },
  },
  {
    weight: 0.3,
    call: { service: 'gateway', route: 'GET /profile', own: { median: 2, sigma: 0.3 }, calls: [{ service: 'users', route: 'GET /users/:id', own: { median: 3, sigma: 0.4 }, calls: [DB_USERS] }] },
  },
  {
    weight: 0.2,
    call: {
      service: 'gateway',
      route: 'POST /checkout',
      own: { median: 3, sigma: 0.3 },
      calls: [
        { service: 'orders', route: 'POST /orders', own: { median: 6, sigma: 0.3 }, calls: [DB_ORDERS, { service: 'payments', route: 'POST /pay', own: { median: 5, sigma: 0.4 }, calls: [BANK] }] },
        { service: 'users', route: 'GET /users/:id', own: { median: 3, sigma: 0.4 }, calls: [DB_USERS] },
      ],
    },
  },
];

export interface FleetNoise {
  /** Share of a database or bank call's requests that hit its Pareto tail. */
  tailShare: number;
  /** Share of minutes in which a database's tail share is eight times as large (per service). */
  busyMinutes: number;
  /** Bursts of pool warnings in payments, per request. */
  warnBursts: number;
}

export function fleetTraffic(fromMs: number, toMs: number, seed: number, noise: FleetNoise = { tailShare: 0.06, busyMinutes: 0, warnBursts: 0 }): { beats: Beat[]; logs: LogEvent[] } {
  const rand = seededRandom(seed);
  const beats: Beat[] = [];
  const logs: LogEvent[] = [];
  let n = 0;
  const busyMinutes = new Map<string, Set<number>>();
  for (const db of [DB_ORDERS, DB_USERS, BANK]) {
    const minutes = new Set<number>();
    for (let m = Math.floor(fromMs / 60_000); m < toMs / 60_000; m++) if (rand() < noise.busyMinutes) minutes.add(m);
    busyMinutes.set(db.service, minutes);
  }
  /** One call: its server span, its client spans to callees; returns its end. */
  const serve = (trace: string, c: Call, parent: string, startMs: number): { endMs: number; failed: boolean } => {
    const id = `${trace}-${++n}`;
    // A database or bank call is usually quick, but a share of its calls hit a Pareto tail (lock
    // waits, a slow disk, a retry), and in busy minutes (a tenth of them, drawn per service) that
    // share is eight times as large: its p95 swings from a few ms to hundreds between minutes
    // while its median stays put.
    let own: number;
    if ('median' in c.own) own = lognormal(rand, c.own.median, c.own.sigma);
    else {
      const busy = busyMinutes.get(c.service)!.has(Math.floor(startMs / 60_000));
      own = rand() < (busy ? 8 : 1) * noise.tailShare ? Math.min(c.own.cap, pareto(rand, c.own.xm, c.own.shape)) : lognormal(rand, c.own.xm / 2, 0.3);
    }
    let t = startMs + own / 2;
    let failed = false;
    for (const callee of c.calls ?? []) {
      const client = `${trace}-${++n}`;
      const wire = lognormal(rand, 0.6, 0.4);
      const r = serve(trace, callee, client, t + wire / 2);
      beats.push(beat({ service: c.service, traceId: trace, spanId: client, parentSpanId: id, spanName: `call ${callee.route}`, startMs: t, durationMs: r.endMs + wire / 2 - t, status: r.failed ? STATUS_ERROR : STATUS_UNSET }, SPAN_KIND_CLIENT));
      t = r.endMs + wire / 2;
      failed ||= r.failed;
    }
    t += own / 2;
    if (c.failRate !== undefined && rand() < c.failRate) failed = true;
    beats.push(beat({ service: c.service, traceId: trace, spanId: id, parentSpanId: parent, spanName: c.route, startMs, durationMs: t - startMs, status: failed ? STATUS_ERROR : STATUS_UNSET }, SPAN_KIND_SERVER));
    // Sporadic error logs (a retried timeout) and info lines, bound to the span.
    const level = rand() < 0.004 ? 17 : rand() < 0.2 ? 9 : 0;
    if (level > 0) {
      logs.push({ service: c.service, serviceVersion: '1', timeMs: t, severityNumber: level, severityText: level === 17 ? 'ERROR' : 'INFO', body: level === 17 ? `upstream timeout after ${Math.round(own * 10)} ms, retrying` : `${c.route} served in ${Math.round(t - startMs)} ms`, traceId: trace, spanId: id, attributes: {} });
    }
    return { endMs: t, failed };
  };
  let burstUntil = -Infinity;
  for (let t = fromMs; t < toMs; ) {
    // Load rises and falls over half an hour (2-8 requests/s).
    const rate = 5 + 3 * Math.sin(((t - fromMs) / 1_800_000) * 2 * Math.PI);
    t += (-Math.log(1 - rand()) / rate) * 1000;
    const u = rand();
    let acc = 0;
    const route = ROUTES.find((r) => (acc += r.weight) > u) ?? ROUTES[0]!;
    const trace = `q${seed}-${t.toFixed(3)}`;
    serve(trace, route.call, '', t);
    // Warning bursts: every few minutes a service warns for a few seconds.
    if (t > burstUntil && rand() < noise.warnBursts) burstUntil = t + 5_000 + rand() * 10_000;
    if (t < burstUntil) logs.push({ service: 'payments', serviceVersion: '1', timeMs: t, severityNumber: 13, severityText: 'WARN', body: `connection pool at ${70 + Math.floor(rand() * 30)} %`, traceId: '', spanId: '', attributes: {} });
  }
  return { beats, logs };
}

