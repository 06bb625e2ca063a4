/**
 * `self-healing-sidecar/musical-conductor`: tracing for apps built on the `musical-conductor`
 * package, in the beat conventions the sidecar reads (docs/beat-conventions.md).
 */
export { instrumentConductor, type InstrumentConductorOptions } from './instrument-conductor.js';
export {
  MusicalConductorInstrumentation,
  SUPPORTED_VERSIONS,
  type MusicalConductorInstrumentationConfig,
} from './musical-conductor-instrumentation.js';
export type { CaptureInputOptions } from './input-capture.js';
export type { ConductorTracingOptions } from './conductor-tracer.js';
export type { ConductorLike, ConductorSequence, ConductorHandlers } from './conductor-shapes.js';
export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './instrumentation-version.js';
