import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ConductorTracer } from '../../src/instrument/conductor-tracer.js';
import { cartSequence, tracing } from './conductor-fixture.js';

/**
 * The run lifecycle against a bus the test drives: the events the real library emits
 * (sequence-failed, sequence-cancelled) that a plugin cannot provoke, and a conductor without the
 * internals the tracer uses when present.
 */
class Bus {
  readonly listeners = new Map<string, Array<(d: unknown) => void>>();
  subscribe(name: string, cb: (d: unknown) => void): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), cb]);
    return () => this.listeners.set(name, (this.listeners.get(name) ?? []).filter((c) => c !== cb));
  }
  emit(name: string, data: unknown): void {
    for (const cb of this.listeners.get(name) ?? []) cb(data);
  }
}

const mc = (requestId: string, movement: string, number: number, event: string) => ({
  _musicalContext: { sequence: { name: 'Cart Checkout' }, movement: { name: movement }, beat: { number, event }, execution: { requestId } },
});

function setup(getSequenceByName?: (name: string) => unknown) {
  const bus = new Bus();
  const { provider, exporter } = tracing();
  const conductor = { eventBus: bus, mount: async () => ({}), ...(getSequenceByName ? { getSequenceByName } : {}) };
  const tracer = new ConductorTracer(conductor as never, () => provider.getTracer('t'), () => ({}));
  tracer.attach();
  return { bus, exporter, tracer };
}

describe('ConductorTracer', () => {
  it('marks a failed run ERROR with the conductor’s message and ends it when its handlers are done', () => {
    const { bus, exporter, tracer } = setup();
    const h = tracer.wrapHandlers(cartSequence(), { priceCart: () => 1 }, undefined);
    bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: 'r1' });
    expect((h.priceCart as (d: unknown) => number)(mc('r1', 'Price', 1, 'cart.price'))).toBe(1);
    bus.emit('sequence-failed', { sequenceName: 'Cart Checkout', requestId: 'r1', error: 'Sequence not found' });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['priceCart', 'Cart Checkout']);
    expect(spans[1]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Sequence not found' });
    // The plugin id defaults to the sequence name, as PluginManager.mount does.
    expect(spans[0]!.attributes['beat.plugin']).toBe('Cart Checkout');
  });

  it('keeps a run open while a handler still runs, then ends it; a cancelled run is not an error', async () => {
    const { bus, exporter, tracer } = setup((name) => (name === 'Other' ? { id: 'other-id' } : undefined));
    let release!: () => void;
    const h = tracer.wrapHandlers(cartSequence(), { charge: () => new Promise<void>((r) => (release = r)) }, 'P');
    bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: 'r2' });
    const pending = (h.charge as (d: unknown) => Promise<void>)(mc('r2', 'Pay', 1, 'cart.charge'));
    bus.emit('sequence-cancelled', { sequenceName: 'Cart Checkout', requestId: 'r2' });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    release();
    await pending;
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['charge', 'Cart Checkout']);
    expect(spans[1]!.status.code).toBe(SpanStatusCode.UNSET);
    // A sequence never mounted: its id from the conductor's registry.
    bus.emit('sequence-started', { sequenceName: 'Other', requestId: 'r3' });
    bus.emit('sequence-completed', { sequenceName: 'Other', requestId: 'r3' });
    expect(exporter.getFinishedSpans()[2]!.attributes['beat.sequence.id']).toBe('other-id');
  });

  it('ignores lifecycle events without a request id, duplicates, and handlers of unknown runs get a parentless span', () => {
    const { bus, exporter, tracer } = setup();
    bus.emit('sequence-started', { sequenceName: 'x' });
    bus.emit('sequence-started', null);
    bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: 'r4' });
    bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: 'r4' });
    bus.emit('sequence-completed', { sequenceName: 'Cart Checkout', requestId: 'r4' });
    bus.emit('sequence-completed', { sequenceName: 'Cart Checkout', requestId: 'r4' });
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    const h = tracer.wrapHandlers(cartSequence(), { addTax: () => 2 }, 'P');
    (h.addTax as (d: unknown) => number)(mc('unknown-run', 'Price', 2, 'cart.tax'));
    const span = exporter.getFinishedSpans()[1]!;
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes['beat.correlation_id']).toBe('unknown-run');
  });

  it('detach ends open runs and turns wrapped handlers into plain calls', () => {
    const { bus, exporter, tracer } = setup();
    const h = tracer.wrapHandlers(cartSequence(), { priceCart: () => 3, notAFunction: 5 } as never, 'P');
    expect(h.notAFunction).toBe(5);
    bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: 'r5' });
    tracer.detach();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(bus.listeners.get('sequence-started')).toHaveLength(0);
    expect((h.priceCart as (d: unknown) => number)(mc('r5', 'Price', 1, 'cart.price'))).toBe(3);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('keeps at most 10,000 unfinished runs, ending the oldest first', () => {
    const { bus, exporter } = setup();
    for (let i = 0; i <= 10_000; i++) bus.emit('sequence-started', { sequenceName: 'Cart Checkout', requestId: `run-${i}` });
    const ended = exporter.getFinishedSpans();
    expect(ended).toHaveLength(1);
    expect(ended[0]!.attributes['beat.correlation_id']).toBe('run-0');
    bus.emit('sequence-completed', { sequenceName: 'Cart Checkout', requestId: 'run-0' });
    bus.emit('sequence-completed', { sequenceName: 'Cart Checkout', requestId: 'run-10000' });
    expect(exporter.getFinishedSpans().map((s) => s.attributes['beat.correlation_id'])).toEqual(['run-0', 'run-10000']);
  });

  it('passes through handler maps it cannot read', () => {
    const { tracer } = setup();
    expect(tracer.wrapHandlers(cartSequence(), null as never, 'P')).toBeNull();
    const handlers = {};
    expect(tracer.wrapHandlers(null as never, handlers, 'P')).toBe(handlers);
  });
});
