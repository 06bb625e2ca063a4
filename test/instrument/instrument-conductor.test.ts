import { SpanStatusCode } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBus, MusicalConductor } from 'musical-conductor';
import { instrumentConductor } from '../../src/instrument/instrument-conductor.js';
import { INSTRUMENTATION_NAME } from '../../src/instrument/instrumentation-version.js';
import { cartHandlers, cartSequence, durationMs, newConductor, playAndWait, playUntraced, quietConsole, sleep, tracing, type RealConductor } from './conductor-fixture.js';

describe('instrumentConductor on the real musical-conductor', () => {
  beforeEach(() => quietConsole());

  it('gives a root span per run and a child span per handler with every beat attribute', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    const undo = instrumentConductor(conductor, { tracerProvider: provider });
    await conductor.mount(cartSequence(), cartHandlers(), 'CartPlugin');
    const { requestId, spans } = await playAndWait(conductor, exporter);
    const root = spans.find((s) => s.name === 'Cart Checkout')!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.instrumentationScope.name).toBe(INSTRUMENTATION_NAME);
    expect(root.attributes).toEqual({ 'beat.sequence': 'Cart Checkout', 'beat.sequence.id': 'cart-checkout-symphony', 'beat.correlation_id': requestId });
    const price = spans.find((s) => s.name === 'priceCart')!;
    expect(price.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(price.attributes).toEqual({
      'beat.sequence': 'Cart Checkout',
      'beat.sequence.id': 'cart-checkout-symphony',
      'beat.movement': 'Price',
      'beat.number': 1,
      'beat.event': 'cart.price',
      'beat.handler': 'priceCart',
      'beat.plugin': 'CartPlugin',
      'beat.kind': 'pure',
      'beat.correlation_id': requestId,
      'code.function': 'priceCart',
    });
    // No kind declared for addTax and no declared copy: no beat.kind rather than a guess.
    expect(spans.find((s) => s.name === 'addTax')!.attributes['beat.kind']).toBeUndefined();
    const charge = spans.find((s) => s.name === 'charge')!;
    expect(charge.attributes['beat.movement']).toBe('Pay');
    expect(durationMs(charge)).toBeGreaterThanOrEqual(30);
    // The root ends after its last handler, although the conductor reported completion before it
    // ran (1 ms slack: each span anchors its clock to Date.now() on its own).
    const end = (s: typeof root) => s.endTime[0] * 1e3 + s.endTime[1] / 1e6;
    expect(end(root)).toBeGreaterThanOrEqual(end(charge) - 1);
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    undo();
  });

  it('records a thrown and a rejected handler as error spans with the exception; the run fails', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    instrumentConductor(conductor, { tracerProvider: provider });
    await conductor.mount(
      cartSequence(),
      cartHandlers({
        addTax: () => {
          throw new RangeError('tax rate 7 out of range');
        },
        charge: async () => {
          await sleep(1);
          throw new Error('card declined');
        },
      }),
      'CartPlugin',
    );
    const { spans } = await playAndWait(conductor, exporter);
    const tax = spans.find((s) => s.name === 'addTax')!;
    expect(tax.status).toEqual({ code: SpanStatusCode.ERROR, message: 'tax rate 7 out of range' });
    expect(tax.events).toHaveLength(1);
    expect(tax.events[0]!.name).toBe('exception');
    expect(tax.events[0]!.attributes).toMatchObject({ 'exception.type': 'RangeError', 'exception.message': 'tax rate 7 out of range' });
    expect(String(tax.events[0]!.attributes!['exception.stacktrace'])).toContain('instrument-conductor.test.ts');
    const charge = spans.find((s) => s.name === 'charge')!;
    expect(charge.status.code).toBe(SpanStatusCode.ERROR);
    expect(charge.events[0]!.attributes).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'card declined' });
    const root = spans.find((s) => s.name === 'Cart Checkout')!;
    expect(root.status).toEqual({ code: SpanStatusCode.ERROR, message: 'addTax: tax rate 7 out of range' });
    expect(spans.find((s) => s.name === 'priceCart')!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a non-Error throw with its text', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    instrumentConductor(conductor, { tracerProvider: provider });
    await conductor.mount(
      cartSequence(),
      cartHandlers({
        priceCart: () => {
          throw 'no price';
        },
      }),
      'CartPlugin',
    );
    const { spans } = await playAndWait(conductor, exporter);
    expect(spans.find((s) => s.name === 'priceCart')!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no price' });
  });

  it('fills the kind from declared sequences and captures redacted input when asked', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    const declared = cartSequence();
    (declared.movements[0]!.beats[1] as { kind?: string }).kind = 'pure';
    instrumentConductor(conductor, {
      tracerProvider: provider,
      sequences: [declared],
      captureInput: { redact: (path, value) => (path === 'card.number' ? undefined : value) },
    });
    await conductor.mount(cartSequence(), cartHandlers(), 'CartPlugin');
    const { spans } = await playAndWait(conductor, exporter, { items: [{ sku: 'a1', qty: 2 }], card: { number: '4242', brand: 'visa' } });
    const tax = spans.find((s) => s.name === 'addTax')!;
    expect(tax.attributes['beat.kind']).toBe('pure');
    expect(JSON.parse(String(tax.attributes['beat.input']))).toEqual({ items: [{ sku: 'a1', qty: 2 }], card: { brand: 'visa' } });
  });

  it('undo restores mount, and handlers mounted before run untraced but unchanged', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    const before = conductor.mount;
    const undo = instrumentConductor(conductor, { tracerProvider: provider });
    expect(conductor.mount).not.toBe(before);
    const calls: string[] = [];
    await conductor.mount(cartSequence(), cartHandlers({ priceCart: () => void calls.push('priceCart') }), 'CartPlugin');
    undo();
    undo();
    expect(conductor.mount).toBe(before);
    expect(Object.prototype.hasOwnProperty.call(conductor, 'mount')).toBe(false);
    await playUntraced(conductor);
    expect(calls).toEqual(['priceCart']);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('leaves calls outside a sequence run (executeMovementHandler) untraced', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    instrumentConductor(conductor, { tracerProvider: provider });
    await conductor.mount(cartSequence(), cartHandlers(), 'CartPlugin');
    expect(conductor.executeMovementHandler('CartPlugin', 'priceCart', { x: 1 })).toEqual({ total: 10 });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('keeps the conductor’s console-usage check: in its error mode a handler calling console is still dropped', async () => {
    const { provider, exporter } = tracing();
    const conductor = newConductor();
    const undo = instrumentConductor(conductor, { tracerProvider: provider });
    const validator = (conductor as unknown as { pluginManager: { spaValidator: { config: { enforceConductorLogger: string } } } }).pluginManager.spaValidator;
    const mode = validator.config.enforceConductorLogger;
    validator.config.enforceConductorLogger = 'error';
    try {
      const result = (await conductor.mount(
        cartSequence(),
        cartHandlers({
          priceCart: () => {
            console.log('direct');
            return {};
          },
        }),
        'CartPlugin',
      )) as { warnings: string[] };
      expect(result.warnings).toContain('Handler priceCart disabled due to direct console usage');
      expect(result.warnings.join('\n')).not.toContain('addTax');
      const { spans } = await playAndWait(conductor, exporter);
      expect(spans.map((s) => s.name).sort()).toEqual(['Cart Checkout', 'addTax', 'charge']);
    } finally {
      validator.config.enforceConductorLogger = mode;
      undo();
    }
  });

  it("takes the library's own MusicalConductor type without a cast", async () => {
    const { provider, exporter } = tracing();
    MusicalConductor.resetInstance();
    const conductor = MusicalConductor.getInstance(new EventBus());
    const undo = instrumentConductor(conductor, { tracerProvider: provider });
    await conductor.mount(cartSequence() as never, cartHandlers(), 'CartPlugin');
    const { spans } = await playAndWait(conductor as unknown as RealConductor, exporter);
    expect(spans).toHaveLength(4);
    undo();
  });

  it('rejects what is not a conductor', () => {
    expect(() => instrumentConductor({} as never)).toThrow(/expected a MusicalConductor/);
    expect(() => instrumentConductor({ mount: async () => ({}) } as never)).toThrow(/no eventBus/);
  });
});
