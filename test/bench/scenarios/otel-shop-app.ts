import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';

/**
 * A plain OpenTelemetry app, the shape of the issue-10 hidden checks: one SERVER root span per
 * request, one INTERNAL child span per handler named after it and carrying `code.function`, spans
 * made by the real SDK with timestamps from the app's own clock (so a run can go faster than wall
 * time). Faults change one handler, one endpoint or one downstream call from a given time on.
 * Only the traffic is synthetic here; the SDK, the exporter, the receiver and the detectors are the
 * real ones.
 */

export interface HandlerShape {
  name: string;
  /** Median duration and log-normal spread. */
  medianMs: number;
  sigma: number;
}

export interface EndpointShape {
  method: string;
  route: string;
  /** Share of the traffic. */
  weight: number;
  handlers: HandlerShape[];
  /** Baseline share of requests failing in `failingHandler` (0 for none). */
  baseErrorRate: number;
  failingHandler?: string;
}

/** Three endpoints, eight handlers; loadOrder's p95 is ~30 ms like the example. */
export const SHOP_ENDPOINTS: EndpointShape[] = [
  {
    method: 'GET',
    route: '/api/orders/:id',
    weight: 0.5,
    handlers: [
      { name: 'authenticate', medianMs: 3, sigma: 0.3 },
      { name: 'loadOrder', medianMs: 20, sigma: 0.25 },
      { name: 'renderOrder', medianMs: 6, sigma: 0.3 },
    ],
    baseErrorRate: 0,
  },
  {
    method: 'GET',
    route: '/api/users/:id',
    weight: 0.3,
    handlers: [
      { name: 'authenticate', medianMs: 3, sigma: 0.3 },
      { name: 'loadUser', medianMs: 12, sigma: 0.3 },
      { name: 'renderUser', medianMs: 4, sigma: 0.3 },
    ],
    baseErrorRate: 0,
  },
  {
    method: 'POST',
    route: '/api/checkout',
    weight: 0.2,
    handlers: [
      { name: 'authenticate', medianMs: 3, sigma: 0.3 },
      { name: 'validateCart', medianMs: 5, sigma: 0.3 },
      { name: 'chargeCard', medianMs: 25, sigma: 0.35 },
      { name: 'sendReceipt', medianMs: 8, sigma: 0.3 },
    ],
    baseErrorRate: 0.05,
    failingHandler: 'chargeCard',
  },
];

export type FaultKind = 'none' | 'handler-latency' | 'endpoint-latency' | 'new-exception' | 'error-rate' | 'handler-stops' | 'slow-client';

/** What a fault does, and which anomaly target counts as finding it. */
export interface ScenarioSpec {
  name: string;
  fault: FaultKind;
  description: string;
  /** A detection is an anomaly opened during the fault on one of these handlers/endpoints/sequences ([] for the control run). */
  targets: string[];
}

export const SCENARIOS: ScenarioSpec[] = [
  { name: 'child-latency-3.5x', fault: 'handler-latency', description: 'loadOrder 3.5x slower on every call', targets: ['loadOrder', 'GET /api/orders/:id'] },
  { name: 'endpoint-latency-2x', fault: 'endpoint-latency', description: 'GET /api/users/:id takes 2x as long, in its own code (no child changes)', targets: ['GET /api/users/:id'] },
  {
    name: 'new-exception-30%',
    fault: 'new-exception',
    description: 'renderOrder throws a new TypeError on 30 % of its calls (span ERROR + exception event; the request fails)',
    targets: ['renderOrder', 'GET /api/orders/:id'],
  },
  { name: 'error-rate-5-to-50%', fault: 'error-rate', description: 'POST /api/checkout fails on 50 % of requests instead of 5 %', targets: ['POST /api/checkout', 'chargeCard'] },
  { name: 'handler-stops', fault: 'handler-stops', description: 'sendReceipt is no longer called by POST /api/checkout', targets: ['sendReceipt', 'POST /api/checkout'] },
  {
    name: 'new-slow-client-span',
    fault: 'slow-client',
    description: 'loadUser makes a new downstream CLIENT call of ~60 ms',
    targets: ['loadUser', 'GET /api/users/:id', 'GET'],
  },
  { name: 'quiet-control', fault: 'none', description: 'steady traffic, no fault: must raise nothing', targets: [] },
];

/** mulberry32: a small seeded generator, so a run is repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ShopApp {
  private readonly rnd: () => number;
  private readonly cumulative: number[];
  private spare: number | undefined;
  requests = 0;

  constructor(
    private readonly tracer: Tracer,
    seed: number,
    private readonly fault: FaultKind,
    /** App time from which the fault is active (Infinity for never). */
    private readonly faultFromMs: number,
  ) {
    this.rnd = seededRandom(seed);
    let c = 0;
    this.cumulative = SHOP_ENDPOINTS.map((e) => (c += e.weight));
  }

  /** Exponential gap between arrivals at `ratePerSec`. */
  nextGapMs(ratePerSec: number): number {
    return (-Math.log(1 - this.rnd()) / ratePerSec) * 1000;
  }

  /** Serves one request that starts at app time `startMs`: a root span and its handlers' spans. */
  request(startMs: number): void {
    this.requests++;
    const u = this.rnd();
    const endpoint = SHOP_ENDPOINTS[this.cumulative.findIndex((c) => u < c)] ?? SHOP_ENDPOINTS[0]!;
    const faulty = startMs >= this.faultFromMs;
    const name = `${endpoint.method} ${endpoint.route}`;
    const root = this.tracer.startSpan(name, {
      kind: SpanKind.SERVER,
      startTime: startMs,
      attributes: { 'http.request.method': endpoint.method, 'http.route': endpoint.route, 'url.path': endpoint.route.replace(':id', String(1 + Math.floor(this.rnd() * 5000))) },
    });
    const ctx = trace.setSpan(context.active(), root);
    let t = startMs + 0.3 + this.rnd() * 0.4;
    let failed = false;
    let status = 200;
    for (const h of endpoint.handlers) {
      if (faulty && this.fault === 'handler-stops' && h.name === 'sendReceipt') continue;
      const span = this.tracer.startSpan(h.name, { kind: SpanKind.INTERNAL, startTime: t, attributes: { 'code.function': h.name } }, ctx);
      let ms = this.lognormal(h.medianMs, h.sigma);
      if (faulty && this.fault === 'handler-latency' && h.name === 'loadOrder') ms *= 3.5;
      if (faulty && this.fault === 'slow-client' && h.name === 'loadUser') {
        const callAt = t + ms * 0.3;
        const callMs = this.lognormal(60, 0.2);
        const client = this.tracer.startSpan(
          'GET',
          { kind: SpanKind.CLIENT, startTime: callAt, attributes: { 'http.request.method': 'GET', 'server.address': 'profiles.internal', 'server.port': 8080, 'http.response.status_code': 200 } },
          trace.setSpan(ctx, span),
        );
        client.end(callAt + callMs);
        ms += callMs;
      }
      const errorRate = h.name === endpoint.failingHandler ? (faulty && this.fault === 'error-rate' ? 0.5 : endpoint.baseErrorRate) : 0;
      if (errorRate > 0 && this.rnd() < errorRate) {
        fail(span, t + ms, 'PaymentGatewayError', 'payment gateway answered 503', `PaymentGatewayError: payment gateway answered 503\n    at chargeCard (/app/src/checkout.js:41:11)`);
        failed = true;
        status = 502;
      } else if (faulty && this.fault === 'new-exception' && h.name === 'renderOrder' && this.rnd() < 0.3) {
        fail(span, t + ms, 'TypeError', "Cannot read properties of undefined (reading 'total')", `TypeError: Cannot read properties of undefined (reading 'total')\n    at renderOrder (/app/src/orders.js:88:23)`);
        failed = true;
        status = 500;
      }
      span.end(t + ms);
      t += ms + 0.1 + this.rnd() * 0.2;
      if (failed) break;
    }
    if (faulty && this.fault === 'endpoint-latency' && endpoint.route === '/api/users/:id') t += t - startMs;
    root.setAttribute('http.response.status_code', status);
    if (failed) root.setStatus({ code: SpanStatusCode.ERROR });
    root.end(t + 0.2);
  }

  private lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.gaussian());
  }

  private gaussian(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = Math.max(1e-12, this.rnd());
    const v = this.rnd();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function fail(span: Span, atMs: number, type: string, message: string, stack: string): void {
  span.recordException({ name: type, message, stack }, atMs);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
