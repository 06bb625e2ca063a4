import { trace, type TracerProvider } from '@opentelemetry/api';
import type { ConductorHandlers, ConductorLike, ConductorSequence } from './conductor-shapes.js';
import { ConductorTracer, type ConductorTracingOptions } from './conductor-tracer.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './instrumentation-version.js';

export interface InstrumentConductorOptions extends ConductorTracingOptions {
  /** Where spans go; the globally registered provider by default. */
  tracerProvider?: TracerProvider;
}

/**
 * Instruments one MusicalConductor instance: plugins mounted from now on have their handlers
 * traced, and each sequence run becomes a root span with one child span per handler call.
 * Mount plugins after calling this (handlers mounted before are not seen). Returns the undo:
 * `mount` is restored, listeners removed, and handlers already wrapped become plain calls.
 */
export function instrumentConductor(conductor: ConductorLike, options: InstrumentConductorOptions = {}): () => void {
  if (typeof conductor?.mount !== 'function') throw new TypeError('instrumentConductor: expected a MusicalConductor (an object with mount())');
  const provider = options.tracerProvider;
  const tracer = (provider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const tracing = new ConductorTracer(conductor, () => tracer, () => options);
  tracing.attach();
  const own = Object.getOwnPropertyDescriptor(conductor, 'mount');
  const mount = conductor.mount;
  const traced = function (this: ConductorLike, sequence: ConductorSequence, handlers: ConductorHandlers, pluginId?: string, metadata?: unknown) {
    return mount.call(this, sequence, tracing.wrapHandlers(sequence, handlers, pluginId), pluginId, metadata);
  };
  Object.defineProperty(conductor, 'mount', { value: traced, configurable: true, writable: true, enumerable: false });
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (conductor.mount === traced) {
      if (own !== undefined) Object.defineProperty(conductor, 'mount', own);
      else delete (conductor as { mount?: unknown }).mount;
    }
    tracing.detach();
  };
}
