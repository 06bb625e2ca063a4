import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TracerProvider } from '@opentelemetry/api';
import type { ConductorLike } from '../instrument/conductor-shapes.js';
import { instrumentConductor } from '../instrument/instrument-conductor.js';
import { FIXTURE_PLUGIN, FIXTURE_SEQUENCE } from './app-repo.js';

/**
 * Runs of the canvas-component-create sequence through the real `musical-conductor` library
 * against the real handler modules of the demo repository, traced by this project's
 * musical-conductor instrumentation: a root span per sequence run and one child span per beat
 * carrying the beat.* attributes and the handler's input (`beat.input`).
 */

export type DemoFault = 'latency' | 'exception';

export interface TemplateRequest {
  templateId: string;
  variant: string;
}
export interface CreatePayload {
  name?: string;
  component?: { name: string; type: string };
  position: { x: number; y: number };
}

/** The four handlers of the sequence, as exported by src/handlers/*.ts of the demo repository. */
export interface AppHandlers {
  resolveTemplate(request: TemplateRequest): { css: string };
  createComponent(payload: CreatePayload): { id: string; name: string };
  renderComponent(request: { id: string; name: string; css: string }): string;
  notifyUi(event: { topic: string; componentId: string }): number;
}

export const HANDLER_NAMES = ['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi'] as const;

/**
 * A long template id: resolveTemplate's cost grows with the id's length (about 9x the normal ones).
 * Short enough that the request's JSON stays under the 128-character limit of kept beat attributes.
 */
export const SLOW_TEMPLATE_ID = 'hero-banner-'.repeat(7) + 'wide';
const TEMPLATES = ['card', 'panel', 'chip'];

/**
 * Inputs of run n: the latency fault sends even runs to the slow template, the exception fault
 * drops `component` from odd runs' payloads (disjoint, so slow runs still complete).
 */
export function inputsFor(n: number, faults: ReadonlySet<DemoFault>): { template: TemplateRequest; payload: CreatePayload } {
  const templateId = faults.has('latency') && n % 2 === 0 ? SLOW_TEMPLATE_ID : TEMPLATES[n % TEMPLATES.length]!;
  const template = { templateId, variant: n % 5 === 0 ? 'dark' : 'light' };
  const name = `Button${n % 7}`;
  const position = { x: n % 100, y: 3 };
  const payload: CreatePayload =
    faults.has('exception') && n % 2 === 1 ? { name: `Label${n % 7}`, position } : { name, component: { name, type: 'button' }, position };
  return { template, payload };
}

/** Imports the handler modules from `dir`/src/handlers (a fresh directory per deploy, so no module cache is reused). */
export async function loadHandlers(dir: string): Promise<AppHandlers> {
  const modules = await Promise.all(
    HANDLER_NAMES.map(async (name) => (await import(pathToFileURL(join(dir, 'src', 'handlers', `${name}.ts`)).href)) as Record<string, unknown>),
  );
  const handlers: Record<string, unknown> = {};
  for (const [i, name] of HANDLER_NAMES.entries()) {
    const fn = modules[i]![name];
    if (typeof fn !== 'function') throw new Error(`${dir}: src/handlers/${name}.ts does not export a function ${name}`);
    handlers[name] = fn;
  }
  return handlers as unknown as AppHandlers;
}

interface BeatSpec {
  movement: string;
  number: number;
  event: string;
  handler: (typeof HANDLER_NAMES)[number];
  kind: 'pure' | 'stage-crew';
}

/** Where each handler sits in the declared sequence (sequences/canvas-component-create.sequence.json). */
const BEATS: readonly BeatSpec[] = [
  { movement: 'resolve', number: 1, event: 'canvas:component:resolve-template', handler: 'resolveTemplate', kind: 'pure' },
  { movement: 'create', number: 1, event: 'canvas:component:create', handler: 'createComponent', kind: 'pure' },
  { movement: 'create', number: 2, event: 'canvas:component:render', handler: 'renderComponent', kind: 'stage-crew' },
  { movement: 'create', number: 3, event: 'canvas:component:notify', handler: 'notifyUi', kind: 'stage-crew' },
];

/**
 * The sequence as the conductor mounts it: the declared beats, plus what the conductor's registry
 * requires (movement ids, titles, an errorHandling), all with `immediate` timing: the file's
 * `after-beat` would make the conductor wait half a beat (500 ms at tempo 120) before each.
 */
export function conductorSequence() {
  return {
    id: FIXTURE_SEQUENCE,
    name: FIXTURE_SEQUENCE,
    description: 'Creates a component on the canvas',
    version: '1.0.0',
    key: 'C Major',
    tempo: 120,
    category: 'canvas-operations',
    movements: ['resolve', 'create'].map((movement) => ({
      id: movement,
      name: movement,
      beats: BEATS.filter((b) => b.movement === movement).map((b) => ({
        beat: b.number,
        event: b.event,
        handler: b.handler,
        kind: b.kind,
        title: b.handler,
        dynamics: 'mf',
        timing: 'immediate',
        errorHandling: 'continue',
      })),
    })),
  };
}

/** What one play carries: the run's id (how the conductor-side handlers find the run's state) and the inputs. */
interface RunData {
  runId: string;
  template: TemplateRequest;
  payload: CreatePayload;
}
/** The data baton: the conductor merges each handler's object result into it, per run. */
interface Baton {
  css?: string;
  id?: string;
  name?: string;
}

/**
 * The argument the app's own handler function gets for this beat, from the play's data and the
 * baton (earlier handlers' results); undefined when an earlier beat of the run failed and left
 * nothing to work on (the conductor still dispatches the later beats: it swallows handler errors).
 */
export function handlerInput(handler: string, data: unknown, context: unknown): unknown {
  const run = data as Partial<RunData> | undefined;
  const baton = ((context as { payload?: Baton } | undefined)?.payload ?? {}) as Baton;
  if (handler === 'resolveTemplate') return run?.template;
  if (handler === 'createComponent') return run?.payload;
  if (baton.id === undefined || baton.name === undefined) return undefined;
  if (handler === 'renderComponent') return { id: baton.id, name: baton.name, css: baton.css ?? '' };
  return { topic: 'component-created', componentId: baton.id };
}

interface RunState {
  failed: boolean;
  done: () => void;
}

/** The conductor's API as the demo uses it (the package's own types are not needed at run time). */
interface Conductor {
  mount(sequence: unknown, handlers: Record<string, unknown>, pluginId: string): Promise<{ success: boolean; message?: string }>;
  play(pluginId: string, sequenceId: string, context: unknown): Promise<string | null>;
}

/** A run that has not finished after this long counts as failed, so the app's loop never stalls. */
const RUN_TIMEOUT_MS = 10_000;

/**
 * The demo app on the real `musical-conductor` library: the handlers are mounted as a plugin, each
 * run is a `play()`, and the spans come from this project's instrumentation
 * (`instrumentConductor`), not from the app.
 */
export class DemoConductor {
  private readonly runs = new Map<string, RunState>();

  private constructor(
    private readonly conductor: Conductor,
    readonly undo: () => void,
  ) {}

  static async start(tracerProvider: TracerProvider, h: AppHandlers): Promise<DemoConductor> {
    let lib: { MusicalConductor: { resetInstance(): void; getInstance(bus: unknown): unknown }; EventBus: new () => unknown };
    try {
      lib = (await import('musical-conductor')) as unknown as typeof lib;
    } catch (err) {
      throw new Error(`the demo app needs the musical-conductor package (npm install musical-conductor): ${err instanceof Error ? err.message : String(err)}`);
    }
    // A fresh conductor on its own bus (getInstance is the library's singleton).
    lib.MusicalConductor.resetInstance();
    const conductor = lib.MusicalConductor.getInstance(new lib.EventBus()) as Conductor;
    const undo = instrumentConductor(conductor as unknown as ConductorLike, {
      tracerProvider,
      captureInput: { select: handlerInput },
    });
    const app = new DemoConductor(conductor, undo);
    const mounted = await conductor.mount(conductorSequence(), app.handlers(h), FIXTURE_PLUGIN);
    if (!mounted.success) throw new Error(`mounting ${FIXTURE_PLUGIN} failed: ${mounted.message ?? 'no reason given'}`);
    return app;
  }

  /** The conductor-side handlers: each calls the app's function with its input and records failures. */
  private handlers(h: AppHandlers): Record<string, unknown> {
    const call = (name: (typeof HANDLER_NAMES)[number]) =>
      // Named after the app's function, so spans and stack frames say which handler ran.
      ({
        [name]: (data: unknown, context: unknown): unknown => {
          const run = this.runs.get((data as RunData).runId);
          try {
            const input = handlerInput(name, data, context);
            if (input === undefined) return undefined;
            return (h[name] as (input: unknown) => unknown)(input);
          } catch (err) {
            if (run) run.failed = true;
            throw err;
          } finally {
            if (name === 'notifyUi') run?.done();
          }
        },
      })[name];
    return Object.fromEntries(HANDLER_NAMES.map((name) => [name, call(name)]));
  }

  /** Plays run n and waits for its last handler; resolves to false when a handler threw. */
  async run(n: number, faults: ReadonlySet<DemoFault>, runPrefix = 'req'): Promise<boolean> {
    const { template, payload } = inputsFor(n, faults);
    const runId = `${runPrefix}-${n}`;
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<boolean>((resolve) => {
      const state: RunState = { failed: false, done: () => resolve(!state.failed) };
      this.runs.set(runId, state);
      timer = setTimeout(() => resolve(false), RUN_TIMEOUT_MS);
    });
    try {
      const requestId = await this.conductor.play(FIXTURE_PLUGIN, FIXTURE_SEQUENCE, { runId, template, payload } satisfies RunData);
      return requestId === null ? false : await finished;
    } finally {
      clearTimeout(timer);
      this.runs.delete(runId);
    }
  }
}
