import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { EventBus, MusicalConductor } from 'musical-conductor';
import { vi } from 'vitest';
import type { ConductorLike } from '../../src/instrument/conductor-shapes.js';
import { waitFor } from '../receive/harness.js';

/** The real library's conductor, typed for the calls the tests make. */
export interface RealConductor extends ConductorLike {
  play(pluginId: string, sequenceId: string, ctx?: unknown): Promise<string | null>;
  executeMovementHandler(pluginId: string, handler: string, data: unknown): unknown;
  eventBus: { subscribe(name: string, cb: (d: unknown) => void): () => void };
}

/** The library logs every step; tests keep their output readable. */
export function quietConsole(): void {
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, level).mockImplementation(() => {});
}

/** A fresh conductor on its own bus, through the library's own reset (its constructor is private). */
export function newConductor(): RealConductor {
  MusicalConductor.resetInstance();
  return MusicalConductor.getInstance(new EventBus()) as unknown as RealConductor;
}

export function tracing(): { provider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { exporter, provider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sleeps at least `ms` by the clock spans are timed with (a timer may fire a fraction early). */
export async function sleepAtLeast(ms: number): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) await sleep(Math.max(1, Math.ceil(ms - (performance.now() - t0))));
}

const beat = (n: number, event: string, handler: string, kind?: string) => ({
  beat: n,
  event,
  handler,
  title: handler,
  dynamics: 'mf',
  timing: 'immediate',
  errorHandling: 'continue',
  ...(kind === undefined ? {} : { kind }),
});

/** A sequence as RenderX plugins declare them: two movements, one beat without a kind. */
export function cartSequence() {
  return {
    id: 'cart-checkout-symphony',
    name: 'Cart Checkout',
    description: 'checkout',
    version: '1.0.0',
    key: 'C',
    tempo: 120,
    category: 'data-flow',
    movements: [
      { id: 'price', name: 'Price', beats: [beat(1, 'cart.price', 'priceCart', 'pure'), beat(2, 'cart.tax', 'addTax')] },
      { id: 'pay', name: 'Pay', beats: [beat(1, 'cart.charge', 'charge', 'stage-crew')] },
    ],
  };
}

export type Handlers = Record<string, (data: unknown, ctx?: unknown) => unknown>;

export function cartHandlers(overrides: Partial<Handlers> = {}): Handlers {
  return {
    priceCart: () => ({ total: 10 }),
    addTax: () => ({ tax: 1 }),
    async charge() {
      await sleepAtLeast(30);
      return { charged: true };
    },
    ...overrides,
  } as Handlers;
}

/** Plays once and waits for the run's root span (`sequenceName` with this request's id) to end. */
export async function playAndWait(conductor: RealConductor, exporter: InMemorySpanExporter, ctx: unknown = {}): Promise<{ requestId: string; spans: ReadableSpan[] }> {
  const requestId = await conductor.play('CartPlugin', 'cart-checkout-symphony', ctx);
  if (requestId === null) throw new Error('play returned null');
  const ofRun = () => exporter.getFinishedSpans().filter((s) => s.attributes['beat.correlation_id'] === requestId);
  await waitFor(() => ofRun().some((s) => s.parentSpanContext === undefined));
  return { requestId, spans: ofRun() };
}

/**
 * Plays once and waits for the run's last handler (`charge`) to end, by the library's own
 * `plugin:handler:end` event: for runs that make no spans to wait on.
 */
export async function playUntraced(conductor: RealConductor): Promise<string> {
  let off: () => void = () => {};
  let requestId: string | null = null;
  const ended = new Set<string>();
  const lastEnded = new Promise<void>((resolve) => {
    off = conductor.eventBus.subscribe('plugin:handler:end', (d) => {
      const e = d as { requestId: string; handlerName: string };
      if (e.handlerName === 'charge') ended.add(e.requestId);
      if (requestId !== null && ended.has(requestId)) resolve();
    });
  });
  requestId = await conductor.play('CartPlugin', 'cart-checkout-symphony', {});
  if (requestId === null) throw new Error('play returned null');
  if (!ended.has(requestId)) await lastEnded;
  off();
  return requestId;
}

export const durationMs = (s: ReadableSpan): number => s.duration[0] * 1e3 + s.duration[1] / 1e6;
