import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { MAX_BEAT_ATTRIBUTE_LENGTH } from '../../src/model/beat.js';
import { createFixtureRepo, FIXTURE_BUG, type FixtureRepo } from '../../src/demo/app-repo.js';
import { inputsFor, loadHandlers, runSequence, SLOW_TEMPLATE_ID, type AppHandlers, type DemoFault } from '../../src/demo/app-runner.js';

const none = new Set<DemoFault>();

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

describe('loadHandlers and runSequence against the real demo repository', () => {
  let repo: FixtureRepo;
  let handlers: AppHandlers;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');

  beforeAll(async () => {
    repo = await createFixtureRepo({ bug: 'null-access' });
    handlers = await loadHandlers(repo.dir);
  });
  afterAll(async () => {
    await provider.shutdown();
    await repo?.cleanup();
  });

  it('traces a healthy run as a root span with one child per beat', () => {
    exporter.reset();
    expect(runSequence(tracer, handlers, 1, none, 'run')).toBe(true);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi', 'canvas-component-create']);
    const root = spans.at(-1)!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.status.code).toBe(SpanStatusCode.OK);
    for (const beat of spans.slice(0, 4)) {
      expect(beat.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(beat.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      expect(beat.attributes['beat.sequence']).toBe('canvas-component-create');
      expect(beat.attributes['beat.correlation_id']).toBe('run-1');
      expect(typeof beat.attributes['beat.input']).toBe('string');
    }
    const create = spans[1]!;
    expect(create.attributes).toMatchObject({ 'beat.movement': 'create', 'beat.number': 1, 'beat.handler': 'createComponent', 'beat.kind': 'pure' });
    expect(JSON.parse(create.attributes['beat.input'] as string)).toEqual(inputsFor(1, none).payload);
  });

  it('a payload without component throws the v1.1.0 TypeError, recorded on the beat; the run stops there', () => {
    exporter.reset();
    expect(runSequence(tracer, handlers, 5, new Set<DemoFault>(['exception']))).toBe(false);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['resolveTemplate', 'createComponent', 'canvas-component-create']);
    const failed = spans[1]!;
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: FIXTURE_BUG.errorMessage });
    const exception = failed.events.find((e) => e.name === 'exception');
    expect(exception?.attributes?.['exception.type']).toBe('TypeError');
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain(`createComponent.ts:${FIXTURE_BUG.line}`);
    expect(spans[2]!.status.code).toBe(SpanStatusCode.ERROR);
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
