import { ROOT_CONTEXT, SpanStatusCode, context, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { BEAT_ATTR } from '../model/attributes.js';
import { BEAT_INPUT_ATTR } from '../model/beat.js';
import { SequenceCatalog, beatAttributes, beatSpecs, findBeat, type BeatSpec } from './beat-attributes.js';
import {
  readLifecycle,
  readMusicalContext,
  text,
  type ConductorEventBus,
  type ConductorHandlers,
  type ConductorLike,
  type ConductorSequence,
  type SequenceLifecycle,
} from './conductor-shapes.js';
import { captureInput, type CaptureInputOptions } from './input-capture.js';
import { trackOriginal, unwrapForConsoleCheck } from './console-check.js';

/** What the instrumentation reads on every beat (a getter, so an Instrumentation's setConfig applies at once). */
export interface ConductorTracingOptions {
  /** Declared sequences (e.g. the app's sequence JSON files): fill ids and kinds that mounted definitions lack. */
  sequences?: readonly ConductorSequence[];
  /** Capture each handler's input as `beat.input`; off unless given. */
  captureInput?: CaptureInputOptions;
}

/** Runs whose end was never seen (a conductor reset mid-run) are ended oldest first past this many. */
const MAX_OPEN_RUNS = 10_000;

interface Run {
  span: Span;
  /** Handler calls of this run still executing. */
  open: number;
  /** The conductor reported the run's end (completed, failed or cancelled). */
  done: boolean;
  /** Waiting for the plugin handler chain of this run, which the conductor does not await. */
  waiting: boolean;
  /** Failure reported by the conductor, else the first handler exception's message. */
  error: string | undefined;
}

type HandlerFn = (this: unknown, ...args: unknown[]) => unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(typeof err === 'string' ? err : String(err));
}

/** The conductor's internals that say when a run's handlers are done; absent in other versions. */
interface ConductorInternals {
  eventBus?: ConductorEventBus;
  pluginManager?: { eventBus?: ConductorEventBus; spaValidator?: unknown; requestContexts?: Map<string, { chain?: unknown }> };
}

/**
 * Traces the sequence runs of one conductor: a root span per run (from the conductor's
 * `sequence-started` to the end of the run's last handler) and a child span per handler call,
 * timed around the handler itself. The conductor's own events cannot give either: its
 * `beat-completed` fires before an async handler has run, and a throwing handler produces no
 * `beat-failed` (the plugin manager logs and swallows it), so handlers are wrapped at mount time.
 */
export class ConductorTracer {
  private readonly runs = new Map<string, Run>();
  private readonly mounted = new SequenceCatalog();
  private unsubscribes: Array<() => void> = [];
  private enabled = false;
  private declaredCache: { source: readonly ConductorSequence[]; catalog: SequenceCatalog } | undefined;

  constructor(
    private readonly conductor: ConductorLike,
    private readonly tracer: () => Tracer,
    private readonly options: () => ConductorTracingOptions,
  ) {}

  /** Starts listening to the conductor's run lifecycle; wrapped handlers trace from now on. */
  attach(): void {
    if (this.enabled) return;
    const bus = this.bus();
    if (bus === undefined) throw new TypeError('instrumentConductor: the conductor has no eventBus with subscribe()');
    this.enabled = true;
    this.unsubscribes.push(unwrapForConsoleCheck((this.conductor as ConductorInternals).pluginManager?.spaValidator));
    const on = (name: string, fn: (lc: SequenceLifecycle) => void): void => {
      this.unsubscribes.push(
        bus.subscribe(name, (data) => {
          const lc = readLifecycle(data);
          if (lc !== undefined && this.enabled) fn(lc);
        }),
      );
    };
    on('sequence-started', (lc) => this.startRun(lc));
    on('sequence-completed', (lc) => this.finishRun(lc.requestId, undefined));
    on('sequence-failed', (lc) => this.finishRun(lc.requestId, lc.error || 'sequence failed'));
    on('sequence-cancelled', (lc) => this.finishRun(lc.requestId, undefined));
  }

  /** Stops tracing: unsubscribes, ends open runs, and makes already wrapped handlers plain calls. */
  detach(): void {
    this.enabled = false;
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const run of this.runs.values()) run.span.end();
    this.runs.clear();
  }

  /**
   * A copy of `handlers` whose functions trace each call (what `mount` should be given). The
   * plugin id defaults as PluginManager.mount defaults it.
   */
  wrapHandlers(sequence: ConductorSequence, handlers: ConductorHandlers, pluginId: string | undefined): ConductorHandlers {
    if (typeof sequence !== 'object' || sequence === null || typeof handlers !== 'object' || handlers === null) return handlers;
    this.mounted.add(sequence);
    const plugin = pluginId || text(sequence.name) || 'unknown-plugin';
    const specs = beatSpecs(sequence);
    const wrapped: ConductorHandlers = { ...handlers };
    for (const [name, fn] of Object.entries(handlers)) {
      if (typeof fn === 'function') wrapped[name] = this.wrap(name, plugin, specs, fn as HandlerFn);
    }
    return wrapped;
  }

  private bus(): ConductorEventBus | undefined {
    // The plugin manager's bus is the one the conductor was built with and emits on; the public
    // `eventBus` getter returns the first conductor's bus (ConductorCore is a singleton).
    const internals = this.conductor as ConductorInternals;
    const candidates = [internals.pluginManager?.eventBus, internals.eventBus];
    return candidates.find((b) => typeof b?.subscribe === 'function');
  }

  /** The declared sequences, indexed once per array given. */
  private declared(): SequenceCatalog | undefined {
    const source = this.options().sequences;
    if (source === undefined || source.length === 0) return undefined;
    if (this.declaredCache?.source !== source) this.declaredCache = { source, catalog: new SequenceCatalog(source) };
    return this.declaredCache.catalog;
  }

  private sequenceId(name: string): string {
    const specs = this.mounted.get(name) ?? this.declared()?.get(name);
    const fromSpecs = specs?.[0]?.sequenceId;
    if (fromSpecs) return fromSpecs;
    try {
      return text(this.conductor.getSequenceByName?.(name)?.id);
    } catch {
      return '';
    }
  }

  private startRun(lc: SequenceLifecycle): void {
    if (this.runs.has(lc.requestId)) return;
    if (this.runs.size >= MAX_OPEN_RUNS) {
      const [oldestId, oldest] = this.runs.entries().next().value as [string, Run];
      oldest.span.end();
      this.runs.delete(oldestId);
    }
    const attributes: Attributes = { [BEAT_ATTR.sequence]: lc.sequenceName, [BEAT_ATTR.correlationId]: lc.requestId };
    const id = this.sequenceId(lc.sequenceName);
    if (id !== '') attributes[BEAT_ATTR.sequenceId] = id;
    const span = this.tracer().startSpan(lc.sequenceName || 'sequence', { attributes }, ROOT_CONTEXT);
    this.runs.set(lc.requestId, { span, open: 0, done: false, waiting: false, error: undefined });
  }

  private finishRun(requestId: string, failure: string | undefined): void {
    const run = this.runs.get(requestId);
    if (run === undefined || run.done) return;
    run.done = true;
    if (failure !== undefined) run.error = failure;
    // The conductor reports the end once every beat was *dispatched*; plugin handlers run on a
    // per-request promise chain it does not await. Wait for that chain when it can be seen.
    const chain = (this.conductor as ConductorInternals).pluginManager?.requestContexts?.get(requestId)?.chain;
    if (isThenable(chain)) {
      run.waiting = true;
      const resume = (): void => {
        run.waiting = false;
        this.maybeEnd(requestId, run);
      };
      chain.then(resume, resume);
    } else this.maybeEnd(requestId, run);
  }

  private maybeEnd(requestId: string, run: Run): void {
    if (!run.done || run.waiting || run.open > 0 || this.runs.get(requestId) !== run) return;
    this.runs.delete(requestId);
    if (run.error !== undefined) run.span.setStatus({ code: SpanStatusCode.ERROR, message: run.error });
    run.span.end();
  }

  private declaredBeat(spec: BeatSpec | undefined, handler: string, sequenceName: string): BeatSpec | undefined {
    const catalog = this.declared();
    if (catalog === undefined) return undefined;
    const specs = (spec?.sequenceId ? catalog.get(spec.sequenceId) : undefined) ?? catalog.get(sequenceName);
    return specs === undefined ? undefined : findBeat(specs, handler, undefined);
  }

  private traceCall(handler: string, plugin: string, specs: readonly BeatSpec[], original: HandlerFn, thisArg: unknown, args: unknown[]): unknown {
    const mc = this.enabled ? readMusicalContext(args[0]) : undefined;
    // Not in a sequence run (executeMovementHandler, a direct call) or not traced: a plain call.
    if (mc === undefined) return original.apply(thisArg, args);
    const spec = findBeat(specs, handler, mc);
    const attributes = beatAttributes(handler, plugin, spec, mc, spec?.kind ? undefined : this.declaredBeat(spec, handler, mc.sequenceName));
    const capture = this.options().captureInput;
    if (capture !== undefined) {
      const input = captureInput(args[0], capture, { handler, context: args[1] });
      if (input !== undefined) attributes[BEAT_INPUT_ATTR] = input;
    }
    const run = this.runs.get(mc.requestId);
    const parent = run === undefined ? context.active() : trace.setSpan(context.active(), run.span);
    const span = this.tracer().startSpan(handler, { attributes }, parent);
    if (run !== undefined) run.open++;
    const settle = (err?: unknown): void => {
      if (err !== undefined) {
        const e = asError(err);
        span.recordException({ name: e.name, message: e.message, stack: e.stack });
        span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
        if (run !== undefined) run.error ??= `${handler}: ${e.message}`;
      }
      span.end();
      if (run !== undefined) {
        run.open--;
        this.maybeEnd(mc.requestId, run);
      }
    };
    let result: unknown;
    try {
      result = context.with(trace.setSpan(parent, span), () => original.apply(thisArg, args));
    } catch (err) {
      settle(err ?? new Error('handler threw a nullish value'));
      throw err;
    }
    if (!isThenable(result)) {
      settle();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        settle();
        return value;
      },
      (err: unknown) => {
        settle(err ?? new Error('handler rejected with a nullish value'));
        throw err;
      },
    );
  }

  private wrap(handler: string, plugin: string, specs: readonly BeatSpec[], original: HandlerFn): HandlerFn {
    const call = (thisArg: unknown, args: unknown[]): unknown => this.traceCall(handler, plugin, specs, original, thisArg, args);
    const traced = function (this: unknown, ...args: unknown[]): unknown {
      return call(this, args);
    };
    Object.defineProperty(traced, 'name', { value: original.name });
    trackOriginal(traced, original);
    return traced;
  }
}
