/**
 * The parts of musical-conductor (1.4.x) that the instrumentation touches, as structural types:
 * the package is an optional peer dependency, so nothing here imports it. Shapes were read from
 * the library's source (PluginManager.mount, BeatExecutor.createContextualEventData,
 * SequenceExecutor) and checked by running it.
 */

/** One beat of a sequence definition (`movements[].beats[]`). */
export interface ConductorBeat {
  beat?: unknown;
  /** Older RenderX files number beats with `number` instead of `beat`. */
  number?: unknown;
  event?: unknown;
  handler?: unknown;
  kind?: unknown;
}

export interface ConductorMovement {
  id?: unknown;
  name?: unknown;
  beats?: readonly ConductorBeat[];
}

/** A sequence definition as given to `mount(sequence, handlers, pluginId)`. */
export interface ConductorSequence {
  id?: unknown;
  name?: unknown;
  movements?: readonly ConductorMovement[];
}

/** The handler map given to `mount`: handler name to `(data, context) => result`. */
export type ConductorHandlers = Record<string, unknown>;

/** The event bus the conductor emits its lifecycle events on (`subscribe` returns an unsubscribe). */
export interface ConductorEventBus {
  subscribe(eventName: string, callback: (data: unknown) => void, context?: Record<string, unknown>): () => void;
}

/**
 * A `MusicalConductor` instance as far as its public types go (`eventBus` is private there, so
 * it and the other internals the tracer uses are read through ConductorInternals).
 */
export interface ConductorLike {
  mount(sequence: ConductorSequence, handlers: ConductorHandlers, pluginId?: string, metadata?: unknown): Promise<unknown>;
  getSequenceByName?(name: string): ConductorSequence | undefined;
}

/**
 * `data._musicalContext`, which BeatExecutor attaches to the data every beat handler receives.
 * It holds neither the sequence id, the handler, the plugin nor the kind: those come from the
 * sequence definition given to `mount`.
 */
export interface MusicalContext {
  sequenceName: string;
  movement: string;
  beatNumber: number | undefined;
  event: string;
  requestId: string;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

export function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

/** A beat number as the sidecar reads it: a non-negative integer, else undefined. */
export function beatNumberOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Reads `data._musicalContext`; undefined when the handler was not called by a sequence run. */
export function readMusicalContext(data: unknown): MusicalContext | undefined {
  const mc = record(record(data)?._musicalContext);
  if (mc === undefined) return undefined;
  const execution = record(mc.execution);
  const requestId = text(execution?.requestId);
  if (requestId === '') return undefined;
  const beat = record(mc.beat);
  return {
    sequenceName: text(record(mc.sequence)?.name),
    movement: text(record(mc.movement)?.name),
    beatNumber: beatNumberOf(beat?.number),
    event: text(beat?.event),
    requestId,
  };
}

/** The lifecycle payloads the instrumentation listens to (`sequence-started`, `-completed`, `-failed`, `-cancelled`). */
export interface SequenceLifecycle {
  sequenceName: string;
  requestId: string;
  error: string;
}

export function readLifecycle(data: unknown): SequenceLifecycle | undefined {
  const d = record(data);
  const requestId = text(d?.requestId);
  if (d === undefined || requestId === '') return undefined;
  return { sequenceName: text(d.sequenceName), requestId, error: text(d.error) };
}
