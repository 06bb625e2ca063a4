import { describe, expect, it } from 'vitest';
import {
  BeatBatch,
  KEY_CODE_FUNCTION,
  KEY_HANDLER,
  KEY_NUMBER,
  KEY_OTHER,
  KEY_SEQUENCE,
  KEY_SKIP,
  ResourceFields,
  SpanFields,
  beatKindOf,
  classifyKey,
  classifyResourceKey,
  nanosToMs,
  RESOURCE_ENVIRONMENT,
  RESOURCE_SERVICE_NAME,
  routeQualifiedName,
} from '../../src/receive/beat-builder.js';
import { StringInterner } from '../../src/receive/intern.js';

function span(f: SpanFields, traceId: string, spanId: string, parent = ''): SpanFields {
  f.reset();
  f.traceId = traceId;
  f.spanId = spanId;
  f.parentSpanId = parent;
  f.startLo = 1000;
  f.endLo = 3000;
  return f;
}

describe('beatKindOf', () => {
  it("keeps MusicalConductor's and the application's own kinds, not long or non-string values", () => {
    expect(beatKindOf('pure')).toBe('pure');
    expect(beatKindOf('stage-crew')).toBe('stage-crew');
    expect(beatKindOf('io')).toBe('io');
    expect(beatKindOf('k'.repeat(64))).toBe('k'.repeat(64));
    expect(beatKindOf('k'.repeat(65))).toBe('');
    expect(beatKindOf(3)).toBe('');
    expect(beatKindOf(true)).toBe('');
  });
});

describe('classifyKey', () => {
  it('maps beat.* and fallback keys, skips ids and high-cardinality keys', () => {
    expect(classifyKey('beat.sequence')).toBe(KEY_SEQUENCE);
    expect(classifyKey('beat.handler')).toBe(KEY_HANDLER);
    expect(classifyKey('code.function')).toBe(KEY_CODE_FUNCTION);
    expect(classifyKey('beat.whatever')).toBe(KEY_SKIP);
    expect(classifyKey('exception.escaped')).toBe(KEY_SKIP);
    expect(classifyKey('__proto__')).toBe(KEY_SKIP);
    for (const k of ['id', 'user.id', 'order_id', 'requestId', 'http.url', 'db.statement']) expect(classifyKey(k)).toBe(KEY_SKIP);
    for (const k of ['http.method', 'idle', 'valid', 'cache.hit']) expect(classifyKey(k)).toBe(KEY_OTHER);
    // Cached classification answers the same.
    expect(classifyKey('user.id')).toBe(KEY_SKIP);
  });

  it('stays correct after the classification cache is cleared', () => {
    for (let i = 0; i < 5000; i++) classifyKey(`k${i}.id`);
    expect(classifyKey('k1.id')).toBe(KEY_SKIP);
    expect(classifyKey('plain')).toBe(KEY_OTHER);
  });

  it('maps resource keys', () => {
    expect(classifyResourceKey('service.name')).toBe(RESOURCE_SERVICE_NAME);
    expect(classifyResourceKey('deployment.environment.name')).toBe(RESOURCE_ENVIRONMENT);
    expect(classifyResourceKey('host.name')).toBe(0);
  });
});

describe('ResourceFields', () => {
  it('defaults and converts non-string values', () => {
    const r = new ResourceFields();
    r.set(RESOURCE_SERVICE_NAME, '');
    expect(r.service).toBe('unknown_service');
    r.set(RESOURCE_SERVICE_NAME, 42);
    expect(r.service).toBe('42');
    r.reset();
    expect([r.service, r.serviceVersion, r.environment]).toEqual(['unknown_service', '', '']);
  });
});

describe('SpanFields and BeatBatch', () => {
  it('applies beat.number leniently', () => {
    const f = new SpanFields();
    for (const [v, n] of [[3, 3], ['4', 4], [' ', 0], [-1, 0], [1.5, 0], [true, 0]] as const) {
      f.setAttribute(KEY_NUMBER, 'beat.number', v);
      expect(f.beatNumber).toBe(n);
    }
  });

  it('keeps the first rejection reason and summarises the rest', () => {
    const batch = new BeatBatch(new StringInterner());
    const r = new ResourceFields();
    const f = new SpanFields();
    for (let i = 0; i < 5; i++) {
      span(f, '', 's');
      f.reject(`reason ${i}`);
      f.reject('second reason is ignored');
      batch.finishSpan(f, r);
    }
    span(f, 't', 's1');
    batch.finishSpan(f, r);
    const result = batch.result();
    expect(result.spans).toBe(6);
    expect(result.rejected).toBe(5);
    expect(result.rejectMessage).toBe('span 0: reason 0; span 1: reason 1; span 2: reason 2 (and 2 more)');
    expect(result.beats).toHaveLength(1);
  });

  it('does not overwrite a deployment.environment span attribute with the resource one', () => {
    const batch = new BeatBatch(new StringInterner());
    const r = new ResourceFields();
    r.set(RESOURCE_ENVIRONMENT, 'prod');
    const f = span(new SpanFields(), 't', 's');
    f.setAttribute(KEY_OTHER, 'deployment.environment', 'canary');
    batch.finishSpan(f, r);
    expect(batch.result().beats[0]!.attributes).toEqual({ 'deployment.environment': 'canary' });
  });

  it('keeps captured handler inputs (beat.input*) up to their own, longer limit', () => {
    expect(classifyKey('beat.input')).toBe(KEY_OTHER);
    expect(classifyKey('beat.input.position.x')).toBe(KEY_OTHER);
    expect(classifyKey('beat.inputs')).toBe(KEY_SKIP);
    const batch = new BeatBatch(new StringInterner());
    const f = span(new SpanFields(), 't', 's');
    const json = JSON.stringify({ templateId: 'x'.repeat(200), variant: 'dark' });
    f.setAttribute(KEY_OTHER, 'beat.input', json);
    f.setAttribute(KEY_OTHER, 'beat.input.huge', 'y'.repeat(600));
    f.setAttribute(KEY_OTHER, 'http.long', 'z'.repeat(200));
    batch.finishSpan(f, new ResourceFields());
    expect(batch.result().beats[0]!.attributes).toEqual({ 'beat.input': json });
  });

  it('converts nanosecond halves to milliseconds', () => {
    expect(nanosToMs(0, 1_500_000)).toBe(1.5);
    expect(nanosToMs(1, 0)).toBe(4294.967296);
  });
});

describe('route-qualified handler names', () => {
  // Span names and attributes as @opentelemetry/instrumentation-express 0.71 makes them on
  // Express 5 (printed from a real app): every route's handler span is "request handler".
  function expressSpans(batch: BeatBatch, traceId: string, route: string): void {
    const f = new SpanFields();
    const r = new ResourceFields();
    r.set(RESOURCE_SERVICE_NAME, 'api');
    span(f, traceId, 'c1', 'r1');
    f.name = 'middleware - jsonParser';
    f.setAttribute(classifyKey('express.type'), 'express.type', 'middleware');
    batch.finishSpan(f, r);
    span(f, traceId, 'c2', 'r1');
    f.name = 'request handler';
    f.setAttribute(classifyKey('http.route'), 'http.route', route);
    f.setAttribute(classifyKey('express.type'), 'express.type', 'request_handler');
    batch.finishSpan(f, r);
    span(f, traceId, 'r1');
    f.name = `GET ${route}`;
    f.setAttribute(classifyKey('http.route'), 'http.route', route);
    batch.finishSpan(f, r);
  }

  it('keeps the handlers of two Express 5 routes apart', () => {
    const batch = new BeatBatch(new StringInterner());
    expressSpans(batch, 't1', '/users/:id');
    expressSpans(batch, 't2', '/orders/:id');
    const beats = batch.result().beats;
    expect(beats.map((b) => b.handler)).toEqual([
      'middleware - jsonParser',
      'request handler - /users/:id',
      'GET /users/:id',
      'middleware - jsonParser',
      'request handler - /orders/:id',
      'GET /orders/:id',
    ]);
    // The root stays the run span of its route's sequence; the span name itself is unchanged.
    expect(beats[2]!.sequence).toBe('GET /users/:id');
    expect(beats[1]!.sequence).toBe('GET /users/:id');
    expect(beats[1]!.spanName).toBe('request handler');
  });

  it('gives the same labels when (name, route) pairs repeat across requests, roots and children apart', () => {
    const labels = (route: string): string[] => {
      const batch = new BeatBatch(new StringInterner());
      for (const root of [true, false, true]) {
        const f = span(new SpanFields(), 't', 's', root ? undefined : 'p');
        f.name = 'request handler';
        f.setAttribute(classifyKey('http.route'), 'http.route', route);
        batch.finishSpan(f, new ResourceFields());
      }
      return batch.result().beats.map((b) => b.handler);
    };
    for (let i = 0; i < 2; i++) {
      expect(labels('/a')).toEqual(['request handler /a', 'request handler - /a', 'request handler /a']);
      expect(labels('/b')).toEqual(['request handler /b', 'request handler - /b', 'request handler /b']);
    }
    // More routes than the memo holds for one name: still right after it starts over.
    for (let i = 0; i < 4100; i++) expect(labels(`/r${i}`)[1]).toBe(`request handler - /r${i}`);
    expect(labels('/a')[0]).toBe('request handler /a');
  });

  it('names a root span without a path after its route, and leaves names with a path alone', () => {
    expect(routeQualifiedName('GET', '/users/:id', true)).toBe('GET /users/:id');
    expect(routeQualifiedName('request handler', '/users/:id', false)).toBe('request handler - /users/:id');
    expect(routeQualifiedName('router - /items/:n', '/api', false)).toBe('router - /items/:n');
    expect(routeQualifiedName('GET /users/:id', '/users/:id', true)).toBe('GET /users/:id');
    expect(routeQualifiedName('request handler', undefined, false)).toBe('request handler');
    expect(routeQualifiedName('request handler', 42, false)).toBe('request handler');
    expect(routeQualifiedName('', '/x', false)).toBe('/x');
  });

  it('prefers code.function over the route-qualified span name', () => {
    const batch = new BeatBatch(new StringInterner());
    const f = span(new SpanFields(), 't', 's', 'p');
    f.name = 'request handler';
    f.setAttribute(classifyKey('http.route'), 'http.route', '/users/:id');
    f.setAttribute(KEY_CODE_FUNCTION, 'code.function', 'getUser');
    batch.finishSpan(f, new ResourceFields());
    expect(batch.result().beats[0]!.handler).toBe('getUser');
  });
});
