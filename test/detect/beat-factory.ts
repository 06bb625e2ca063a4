import { STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../../src/model/beat.js';

/** Deterministic PRNG (mulberry32) so every test run sees the same "random" traffic. */
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

/** Standard normal variate (Box-Muller). */
export function normal(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Lognormal variate with the given median and log-space sigma. */
export function lognormal(rand: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(rand));
}

/** Pareto variate with scale xm and shape a. */
export function pareto(rand: () => number, xm: number, a: number): number {
  return xm / Math.pow(Math.max(1 - rand(), 1e-12), 1 / a);
}

let spanCounter = 0;

export function makeError(type: string, message: string, topFrame = 'src/app.ts:10'): BeatError {
  return { type, message, topFrame, stacktrace: `${type}: ${message}\n    at ${topFrame}`, fingerprint: `${type}|${message}|${topFrame}` };
}

export function makeBeat(over: Partial<Beat> & { startMs: number; durationMs: number }): Beat {
  spanCounter++;
  const error = over.error;
  return {
    service: 'shop',
    serviceVersion: '1.0.0',
    sequence: 'checkout',
    movement: 'pay',
    beatNumber: 1,
    event: 'pay.requested',
    handler: 'chargeCard',
    plugin: 'payments',
    kind: 'stage-crew',
    correlationId: '',
    status: error ? STATUS_ERROR : STATUS_OK,
    error: undefined,
    traceId: `t${spanCounter.toString(16).padStart(31, '0')}`,
    spanId: `s${spanCounter.toString(16).padStart(15, '0')}`,
    parentSpanId: 'p000000000000000',
    spanName: 'chargeCard',
    attributes: {},
    ...over,
  };
}

export interface TrafficSpec {
  service?: string;
  handler: string;
  sequence?: string;
  /** Beats per second. */
  rate: number;
  medianMs: number;
  sigma: number;
  errorRate: number;
  errors?: BeatError[];
  serviceVersion?: string;
  /** Parent span id of generated beats (default: a fixed non-root parent). */
  parentSpanId?: string;
}

/**
 * Beats for [fromMs, toMs) with Poisson-ish arrivals (exponential gaps), lognormal durations and
 * random errors picked from the spec's fingerprints.
 */
export function traffic(rand: () => number, spec: TrafficSpec, fromMs: number, toMs: number, medianScale = 1): Beat[] {
  const out: Beat[] = [];
  const errs = spec.errors ?? [makeError('TimeoutError', 'upstream timed out')];
  let t = fromMs + (-Math.log(Math.max(rand(), 1e-12)) * 1000) / spec.rate;
  while (t < toMs) {
    const failed = rand() < spec.errorRate;
    out.push(
      makeBeat({
        service: spec.service ?? 'shop',
        serviceVersion: spec.serviceVersion ?? '1.0.0',
        handler: spec.handler,
        spanName: spec.handler,
        sequence: spec.sequence ?? 'checkout',
        parentSpanId: spec.parentSpanId ?? 'p000000000000000',
        startMs: t,
        durationMs: lognormal(rand, spec.medianMs * medianScale, spec.sigma),
        error: failed ? errs[Math.floor(rand() * errs.length)] : undefined,
        status: failed ? STATUS_ERROR : STATUS_OK,
      }),
    );
    t += (-Math.log(Math.max(rand(), 1e-12)) * 1000) / spec.rate;
  }
  return out;
}

/** A Poisson draw (Knuth; fine for the small means the tests use). */
export function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l);
  return k - 1;
}
