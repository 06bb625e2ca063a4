import { InstrumentationBase, InstrumentationNodeModuleDefinition, isWrapped, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { ConductorHandlers, ConductorLike, ConductorSequence } from './conductor-shapes.js';
import { ConductorTracer, type ConductorTracingOptions } from './conductor-tracer.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './instrumentation-version.js';

export interface MusicalConductorInstrumentationConfig extends InstrumentationConfig, ConductorTracingOptions {}

/** The library versions whose internals were read and run (mount, events, _musicalContext). */
export const SUPPORTED_VERSIONS = ['>=1.4.0 <2'];

type Mount = ConductorLike['mount'];
interface ConductorModule {
  MusicalConductor?: { prototype: { mount?: Mount } };
}

/**
 * OpenTelemetry instrumentation for the `musical-conductor` package: patches
 * `MusicalConductor.prototype.mount` when the package is imported, so every conductor the app
 * creates (including the `getInstance()` singleton) traces its sequence runs, as
 * `instrumentConductor` does for one instance. The package is ESM-only: the import hook must be
 * registered (`node --import @opentelemetry/instrumentation/hook.mjs`, or `register()` of
 * node:module) before it is imported, or the module handed over with `manuallyInstrument`.
 */
export class MusicalConductorInstrumentation extends InstrumentationBase<MusicalConductorInstrumentationConfig> {
  // Left without initialisers: the base constructor calls enable() before field initialisers run.
  private tracers: Map<ConductorLike, ConductorTracer> | undefined;
  private manualModules: Set<ConductorModule> | undefined;

  constructor(config: MusicalConductorInstrumentationConfig = {}) {
    super(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'musical-conductor',
        SUPPORTED_VERSIONS,
        (exports: ConductorModule) => {
          this.patch(exports);
          return exports;
        },
        (exports: ConductorModule | undefined) => {
          if (exports !== undefined) this.unpatch(exports);
        },
      ),
    ];
  }

  /**
   * Instruments a `musical-conductor` module namespace imported before the hook was registered
   * (e.g. `inst.manuallyInstrument(await import('musical-conductor'))`); follows enable/disable.
   */
  manuallyInstrument(moduleExports: unknown): void {
    const mod = moduleExports as ConductorModule;
    (this.manualModules ??= new Set()).add(mod);
    if (this.isEnabled()) this.patch(mod);
  }

  override enable(): void {
    super.enable();
    for (const mod of this.manualModules ?? []) this.patch(mod);
    // Conductors seen before a disable() trace again, handlers mounted back then included.
    for (const tracer of this.tracers?.values() ?? []) tracer.attach();
  }

  override disable(): void {
    super.disable();
    for (const mod of this.manualModules ?? []) this.unpatch(mod);
    for (const tracer of this.tracers?.values() ?? []) tracer.detach();
  }

  private tracerFor(conductor: ConductorLike): ConductorTracer {
    this.tracers ??= new Map();
    let tracing = this.tracers.get(conductor);
    if (tracing === undefined) {
      tracing = new ConductorTracer(conductor, () => this.tracer, () => this.getConfig());
      tracing.attach();
      this.tracers.set(conductor, tracing);
    }
    return tracing;
  }

  private patch(mod: ConductorModule): void {
    const proto = mod?.MusicalConductor?.prototype;
    if (proto === undefined || typeof proto.mount !== 'function') {
      this._diag.warn('musical-conductor has no MusicalConductor.prototype.mount; not instrumented');
      return;
    }
    if (isWrapped(proto.mount)) return;
    const wrapHandlers = (conductor: ConductorLike, sequence: ConductorSequence, handlers: ConductorHandlers, pluginId: string | undefined) =>
      this.isEnabled() ? this.tracerFor(conductor).wrapHandlers(sequence, handlers, pluginId) : handlers;
    this._wrap(proto, 'mount', (original: Mount | undefined) => {
      const mount = original!;
      return function (this: ConductorLike, sequence: ConductorSequence, handlers: ConductorHandlers, pluginId?: string, metadata?: unknown) {
        return mount.call(this, sequence, wrapHandlers(this, sequence, handlers, pluginId), pluginId, metadata);
      };
    });
  }

  private unpatch(mod: ConductorModule): void {
    const proto = mod?.MusicalConductor?.prototype;
    if (proto !== undefined && isWrapped(proto.mount)) this._unwrap(proto, 'mount');
  }
}
