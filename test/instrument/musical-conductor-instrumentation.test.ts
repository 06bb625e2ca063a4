import { readFileSync } from 'node:fs';
import * as musicalConductor from 'musical-conductor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, MusicalConductorInstrumentation } from '../../src/instrument/musical-conductor.js';
import { cartHandlers, cartSequence, newConductor, playAndWait, playUntraced, quietConsole, tracing } from './conductor-fixture.js';

describe('MusicalConductorInstrumentation (module handed over with manuallyInstrument)', () => {
  let instrumentation: MusicalConductorInstrumentation | undefined;
  beforeEach(() => quietConsole());
  afterEach(() => instrumentation?.disable());

  const proto = musicalConductor.MusicalConductor.prototype as unknown as { mount: unknown };

  it('patches MusicalConductor.prototype.mount so every conductor traces; disable() and enable() switch it', async () => {
    const original = proto.mount;
    const { provider, exporter } = tracing();
    instrumentation = new MusicalConductorInstrumentation();
    instrumentation.setTracerProvider(provider);
    instrumentation.manuallyInstrument(musicalConductor);
    expect(proto.mount).not.toBe(original);

    const conductor = newConductor();
    await conductor.mount(cartSequence(), cartHandlers(), 'CartPlugin');
    const first = await playAndWait(conductor, exporter);
    expect(first.spans.map((s) => s.name).sort()).toEqual(['Cart Checkout', 'addTax', 'charge', 'priceCart']);
    expect(first.spans[0]!.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_NAME, version: INSTRUMENTATION_VERSION });

    instrumentation.disable();
    expect(proto.mount).toBe(original);
    exporter.reset();
    await playUntraced(conductor);
    expect(exporter.getFinishedSpans()).toHaveLength(0);

    // Handlers mounted while enabled trace again after enable().
    instrumentation.enable();
    expect(proto.mount).not.toBe(original);
    const again = await playAndWait(conductor, exporter);
    expect(again.spans).toHaveLength(4);
  });

  it('reads its config at each beat: setConfig adds declared kinds and input capture', async () => {
    const { provider, exporter } = tracing();
    instrumentation = new MusicalConductorInstrumentation({ enabled: false });
    instrumentation.setTracerProvider(provider);
    instrumentation.manuallyInstrument(musicalConductor);
    expect(proto.mount).not.toHaveProperty('__wrapped');
    instrumentation.enable();
    const conductor = newConductor();
    await conductor.mount(cartSequence(), cartHandlers(), 'CartPlugin');
    const declared = cartSequence();
    (declared.movements[0]!.beats[1] as { kind?: string }).kind = 'stage-crew';
    instrumentation.setConfig({ sequences: [declared], captureInput: { maxLength: 100 } });
    const { spans } = await playAndWait(conductor, exporter, { sku: 'x' });
    const tax = spans.find((s) => s.name === 'addTax')!;
    expect(tax.attributes['beat.kind']).toBe('stage-crew');
    expect(tax.attributes['beat.input']).toBe('{"sku":"x"}');
  });

  it('warns and leaves a module without MusicalConductor alone', () => {
    instrumentation = new MusicalConductorInstrumentation();
    const mod = { MusicalConductor: { prototype: {} } };
    instrumentation.manuallyInstrument(mod);
    instrumentation.manuallyInstrument({});
    expect(mod.MusicalConductor.prototype).toEqual({});
  });

  it('carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(INSTRUMENTATION_VERSION).toBe(pkg.version);
  });
});
