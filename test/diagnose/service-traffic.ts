import { SPAN_KIND_CLIENT, SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, STATUS_ERROR, STATUS_UNSET, type Beat, type SpanKindCode } from '../../src/model/beat.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { lognormal, pareto, seededRandom } from '../detect/beat-factory.js';

/**
 * Synthetic three-service traffic for unit tests (generators are for unit tests only):
 * frontend /checkout -> (client) -> cart GET /cart -> (client) -> pricing GET /price, plus an
 * Express-like middleware span in frontend and a noisy database span in pricing whose duration is
 * heavy-tailed (Pareto). Faults are switched on per request by time.
 */
export interface TrafficFaults {
  /** Extra ms in pricing's own work. */
  slowPricingMs?: (t: number) => number;
  /** Extra ms between cart's client span and pricing's server span (network). */
  cartToPricingDelayMs?: (t: number) => number;
  /** pricing logs an error (span status stays unset). */
  pricingErrorLog?: (t: number) => boolean;
  /** frontend /checkout fails with span status error on every request. */
  checkoutFails?: (t: number) => boolean;
}

export function beat(over: Partial<Beat> & Pick<Beat, 'service' | 'traceId' | 'spanId' | 'spanName' | 'startMs' | 'durationMs'>, kind: SpanKindCode): Beat {
  return {
    serviceVersion: '1',
    sequence: '',
    movement: '',
    beatNumber: 0,
    event: '',
    handler: over.spanName,
    plugin: '',
    kind: '',
    correlationId: '',
    status: STATUS_UNSET,
    error: undefined,
    parentSpanId: '',
    attributes: {},
    spanKind: kind,
    ...over,
  };
}

export function generateTraffic(fromMs: number, toMs: number, perSecond: number, faults: TrafficFaults = {}, seed = 7): { beats: Beat[]; logs: LogEvent[] } {
  const rand = seededRandom(seed);
  const beats: Beat[] = [];
  const logs: LogEvent[] = [];
  let n = 0;
  for (let t = fromMs; t < toMs; t += 1000 / perSecond) {
    n++;
    const trace = `t${seed}-${n}`;
    const db = Math.min(600, pareto(rand, 2, 1.2));
    const pricingSelf = lognormal(rand, 3, 0.2) + (faults.slowPricingMs?.(t) ?? 0);
    const priceDur = db + pricingSelf;
    const gap2 = lognormal(rand, 1, 0.2) + (faults.cartToPricingDelayMs?.(t) ?? 0);
    const cartSelf = lognormal(rand, 4, 0.2);
    const cartDur = cartSelf + gap2 + priceDur;
    const gap1 = lognormal(rand, 1, 0.2);
    const feSelf = lognormal(rand, 5, 0.2);
    const feDur = feSelf + gap1 + cartDur;
    const fails = faults.checkoutFails?.(t) ?? false;
    const s = (id: string): string => `${trace}-${id}`;
    beats.push(beat({ service: 'frontend', traceId: trace, spanId: s('fe'), spanName: 'GET /checkout', startMs: t, durationMs: feDur, status: fails ? STATUS_ERROR : STATUS_UNSET }, SPAN_KIND_SERVER));
    beats.push(beat({ service: 'frontend', traceId: trace, spanId: s('mw'), parentSpanId: s('fe'), spanName: 'middleware - query', startMs: t + 0.1, durationMs: 0.5, status: fails ? STATUS_ERROR : STATUS_UNSET }, SPAN_KIND_INTERNAL));
    beats.push(beat({ service: 'frontend', traceId: trace, spanId: s('fc'), parentSpanId: s('fe'), spanName: 'GET', startMs: t + feSelf, durationMs: gap1 + cartDur }, SPAN_KIND_CLIENT));
    const cartStart = t + feSelf + gap1 / 2;
    beats.push(beat({ service: 'cart', traceId: trace, spanId: s('cs'), parentSpanId: s('fc'), spanName: 'GET /cart', startMs: cartStart, durationMs: cartDur }, SPAN_KIND_SERVER));
    beats.push(beat({ service: 'cart', traceId: trace, spanId: s('cc'), parentSpanId: s('cs'), spanName: 'GET', startMs: cartStart + cartSelf, durationMs: gap2 + priceDur }, SPAN_KIND_CLIENT));
    const priceStart = cartStart + cartSelf + gap2 / 2;
    beats.push(beat({ service: 'pricing', traceId: trace, spanId: s('ps'), parentSpanId: s('cc'), spanName: 'GET /price', startMs: priceStart, durationMs: priceDur }, SPAN_KIND_SERVER));
    beats.push(beat({ service: 'pricing', traceId: trace, spanId: s('db'), parentSpanId: s('ps'), spanName: 'SELECT prices', startMs: priceStart + pricingSelf / 2, durationMs: db }, SPAN_KIND_CLIENT));
    if (faults.pricingErrorLog?.(t)) {
      logs.push({ service: 'pricing', serviceVersion: '1', timeMs: priceStart + 1, severityNumber: 17, severityText: 'ERROR', body: 'price lookup failed: NullPointerException', traceId: trace, spanId: s('ps'), attributes: {} });
    }
  }
  return { beats, logs };
}
