import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { FIXTURE_PLUGIN, FIXTURE_SEQUENCE } from './app-repo.js';

/**
 * One run of the canvas-component-create sequence against the real handler modules of the demo
 * repository, traced the way a MusicalConductor app would: a root span for the sequence run and one
 * child span per beat carrying the beat.* attributes and the handler's input (`beat.input`).
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
  handler: string;
  kind: 'pure' | 'stage-crew';
}

/** Where each handler sits in the declared sequence (sequences/canvas-component-create.sequence.json). */
const BEATS = {
  resolveTemplate: { movement: 'resolve', number: 1, event: 'canvas:component:resolve-template', handler: 'resolveTemplate', kind: 'pure' },
  createComponent: { movement: 'create', number: 1, event: 'canvas:component:create', handler: 'createComponent', kind: 'pure' },
  renderComponent: { movement: 'create', number: 2, event: 'canvas:component:render', handler: 'renderComponent', kind: 'stage-crew' },
  notifyUi: { movement: 'create', number: 3, event: 'canvas:component:notify', handler: 'notifyUi', kind: 'stage-crew' },
} satisfies Record<string, BeatSpec>;

function runBeat<T>(tracer: Tracer, parent: Context, spec: BeatSpec, correlationId: string, input: unknown, fn: () => T): T {
  const span: Span = tracer.startSpan(
    spec.handler,
    {
      attributes: {
        'beat.sequence': FIXTURE_SEQUENCE,
        'beat.movement': spec.movement,
        'beat.number': spec.number,
        'beat.event': spec.event,
        'beat.handler': spec.handler,
        'beat.plugin': FIXTURE_PLUGIN,
        'beat.kind': spec.kind,
        'beat.correlation_id': correlationId,
        'beat.input': JSON.stringify(input),
      },
    },
    parent,
  );
  try {
    return fn();
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    span.recordException(e);
    span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs the sequence once; resolves to false when a beat threw (the run then stops, as the
 * conductor stops a sequence whose beat failed). The parent context is passed explicitly, so no
 * global context manager is needed.
 */
export function runSequence(tracer: Tracer, h: AppHandlers, n: number, faults: ReadonlySet<DemoFault>, runPrefix = 'req'): boolean {
  const correlationId = `${runPrefix}-${n}`;
  const root = tracer.startSpan(FIXTURE_SEQUENCE, { attributes: { 'beat.sequence': FIXTURE_SEQUENCE, 'beat.correlation_id': correlationId } }, ROOT_CONTEXT);
  const parent = trace.setSpan(ROOT_CONTEXT, root);
  const { template, payload } = inputsFor(n, faults);
  try {
    const tpl = runBeat(tracer, parent, BEATS.resolveTemplate, correlationId, template, () => h.resolveTemplate(template));
    const created = runBeat(tracer, parent, BEATS.createComponent, correlationId, payload, () => h.createComponent(payload));
    const render = { id: created.id, name: created.name, css: tpl.css };
    runBeat(tracer, parent, BEATS.renderComponent, correlationId, { id: created.id, name: created.name }, () => h.renderComponent(render));
    const event = { topic: 'component-created', componentId: created.id };
    runBeat(tracer, parent, BEATS.notifyUi, correlationId, event, () => h.notifyUi(event));
    root.setStatus({ code: SpanStatusCode.OK });
    return true;
  } catch (err) {
    root.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    return false;
  } finally {
    root.end();
  }
}
