import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MAX_BEAT_ATTRIBUTE_LENGTH } from '../../src/model/beat.js';
import { createFixtureRepo, FIXTURE_BUG, FIXTURE_SEQUENCE, type FixtureRepo } from '../../src/demo/app-repo.js';
import { DemoConductor, handlerInput, inputsFor, loadHandlers, SLOW_TEMPLATE_ID, type AppHandlers, type DemoFault } from '../../src/demo/app-runner.js';
import { waitFor } from '../receive/harness.js';

const none = new Set<DemoFault>();

describe('handlerInput', () => {
  it('gives each app function its own argument from the play data and the baton', () => {
    const data = { runId: 'r', template: { templateId: 'card', variant: 'dark' }, payload: { position: { x: 1, y: 2 } } };
    const baton = { payload: { css: '.c', id: 'cmp-1', name: 'B' } };
    expect(handlerInput('resolveTemplate', data, baton)).toBe(data.template);
    expect(handlerInput('createComponent', data, baton)).toBe(data.payload);
    expect(handlerInput('renderComponent', data, baton)).toEqual({ id: 'cmp-1', name: 'B', css: '.c' });
    expect(handlerInput('renderComponent', data, { payload: { id: 'cmp-1', name: 'B' } })).toEqual({ id: 'cmp-1', name: 'B', css: '' });
    expect(handlerInput('notifyUi', data, baton)).toEqual({ topic: 'component-created', componentId: 'cmp-1' });
    expect(handlerInput('renderComponent', data, { payload: { css: '.c' } })).toBeUndefined();
    expect(handlerInput('notifyUi', data, undefined)).toBeUndefined();
  });
});

describe('inputsFor', () => {
  it('sends short templates and complete payloads without faults', () => {
    for (let n = 0; n < 20; n++) {
      const { template, payload } = inputsFor(n, none);
      expect(['card', 'panel', 'chip']).toContain(template.templateId);
      expect(payload.component?.name).toBe(payload.name);
    }
  });

  it('the latency fault sends every other run to the slow template', () => {
    const faults = new Set<DemoFault>(['latency']);
    expect(inputsFor(0, faults).template.templateId).toBe(SLOW_TEMPLATE_ID);
    expect(inputsFor(1, faults).template.templateId).not.toBe(SLOW_TEMPLATE_ID);
    expect(SLOW_TEMPLATE_ID.length).toBeGreaterThan(8 * 'panel'.length);
  });

  it('the exception fault drops component from odd runs, never from the latency fault slow runs', () => {
    const faults = new Set<DemoFault>(['exception', 'latency']);
    expect(inputsFor(5, faults).payload.component).toBeUndefined();
    expect(inputsFor(4, faults).payload.component).toBeDefined();
    expect(inputsFor(4, faults).template.templateId).toBe(SLOW_TEMPLATE_ID);
  });

  it('every input fits in one kept beat attribute', () => {
    const both = new Set<DemoFault>(['latency', 'exception']);
    for (let n = 0; n < 40; n++) {
      const { template, payload } = inputsFor(n, both);
      expect(JSON.stringify(template).length).toBeLessThanOrEqual(MAX_BEAT_ATTRIBUTE_LENGTH);
      expect(JSON.stringify(payload).length).toBeLessThanOrEqual(MAX_BEAT_ATTRIBUTE_LENGTH);
    }
  });
});

describe('loadHandlers and DemoConductor against the real demo repository and the real musical-conductor', () => {
  let repo: FixtureRepo;
  let handlers: AppHandlers;
  let app: DemoConductor;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  beforeAll(async () => {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, level).mockImplementation(() => {});
    repo = await createFixtureRepo({ bug: 'null-access' });
    handlers = await loadHandlers(repo.dir);
    app = await DemoConductor.start(provider, handlers);
  });
  afterAll(async () => {
    app?.undo();
    await provider.shutdown();
    await repo?.cleanup();
    vi.restoreAllMocks();
  });

  /** The spans of one run, once its root span has ended. */
  async function spansOfRun(): Promise<ReadableSpan[]> {
    await waitFor(() => exporter.getFinishedSpans().some((s) => s.name === FIXTURE_SEQUENCE));
    const spans = exporter.getFinishedSpans();
    const byStart = (x: ReadableSpan, y: ReadableSpan) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1];
    return [...spans.filter((s) => s.name !== FIXTURE_SEQUENCE).sort(byStart), ...spans.filter((s) => s.name === FIXTURE_SEQUENCE)];
  }

  it('traces a healthy run as a root span with one child per beat, inputs as the app functions got them', async () => {
    exporter.reset();
    expect(await app.run(1, none, 'run')).toBe(true);
    const spans = await spansOfRun();
    expect(spans.map((s) => s.name)).toEqual(['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi', 'canvas-component-create']);
    const root = spans.at(-1)!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    const requestId = root.attributes['beat.correlation_id'];
    expect(requestId).toMatch(/^canvas-component-create-\d+-\w+$/);
    for (const beat of spans.slice(0, 4)) {
      expect(beat.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(beat.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(beat.attributes['beat.sequence']).toBe('canvas-component-create');
      expect(beat.attributes['beat.plugin']).toBe('CanvasComponentPlugin');
      expect(beat.attributes['beat.correlation_id']).toBe(requestId);
      expect(typeof beat.attributes['beat.input']).toBe('string');
    }
    const create = spans[1]!;
    expect(create.attributes).toMatchObject({ 'beat.movement': 'create', 'beat.number': 1, 'beat.handler': 'createComponent', 'beat.kind': 'pure' });
    expect(JSON.parse(create.attributes['beat.input'] as string)).toEqual(inputsFor(1, none).payload);
    expect(JSON.parse(spans[0]!.attributes['beat.input'] as string)).toEqual(inputsFor(1, none).template);
    const render = JSON.parse(spans[2]!.attributes['beat.input'] as string) as { id: string; name: string; css: string };
    expect(render.name).toBe('Button1');
    expect(render.css.length).toBeGreaterThan(0);
    expect(spans[3]!.attributes['beat.kind']).toBe('stage-crew');
  });

  it('a payload without component throws the v1.1.0 TypeError, recorded on the beat although the conductor swallows it', async () => {
    exporter.reset();
    expect(await app.run(5, new Set<DemoFault>(['exception']))).toBe(false);
    const spans = await spansOfRun();
    // The conductor still dispatches the later beats; with nothing created they do no work.
    expect(spans.map((s) => s.name)).toEqual(['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi', 'canvas-component-create']);
    const failed = spans[1]!;
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: FIXTURE_BUG.errorMessage });
    const exception = failed.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('TypeError');
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain(`createComponent.ts:${FIXTURE_BUG.line}`);
    expect(spans[2]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(spans[2]!.attributes['beat.input']).toBeUndefined();
    expect(spans[4]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('names a handler module that lacks its export', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-handlers-'));
    try {
      await mkdir(join(dir, 'src', 'handlers'), { recursive: true });
      for (const name of ['resolveTemplate', 'createComponent', 'renderComponent']) {
        await writeFile(join(dir, 'src', 'handlers', `${name}.ts`), `export function ${name}() { return 1; }\n`);
      }
      await writeFile(join(dir, 'src', 'handlers', 'notifyUi.ts'), 'export const other = 1;\n');
      await expect(loadHandlers(dir)).rejects.toThrow('src/handlers/notifyUi.ts does not export a function notifyUi');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
