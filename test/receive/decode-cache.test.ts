import { describe, expect, it } from 'vitest';
import { MAX_BEAT_ATTRIBUTES, type AttrValue } from '../../src/model/beat.js';
import { AttributeTemplates } from '../../src/receive/attribute-templates.js';
import { ByteSlots } from '../../src/receive/intern.js';
import { decodeTraceRequestJson } from '../../src/receive/otlp-json.js';
import { decodeTraceRequestProto } from '../../src/receive/otlp-proto.js';
import { encodeJson, encodeProto, type AttrSpec, type ResourceSpec, type SpanSpec } from './fixtures/otlp-request.js';

/**
 * The decoder's caches (hinted KeyValue lookups, attribute templates) must never change a
 * result: these tests feed them keys built to collide and check every answer.
 */

const enc = new TextEncoder();
const opts = { maxAttributesPerSpan: 128 };
const T0 = 1_760_000_000_000_000_000n;

function span(i: number, attributes: Record<string, AttrSpec>): SpanSpec {
  return {
    traceId: 'a'.repeat(30) + (i % 256).toString(16).padStart(2, '0'),
    spanId: (i + 1).toString(16).padStart(16, '0'),
    name: 'op',
    startNs: T0 + BigInt(i) * 1000n,
    endNs: T0 + BigInt(i) * 1000n + 500n,
    attributes,
  };
}

function request(spans: SpanSpec[], resource: Record<string, AttrSpec> = { 'service.name': 'svc' }): ResourceSpec[] {
  return [{ attributes: resource, spans }];
}

/** Decodes as protobuf twice (cold, then from the caches) and as JSON; all three must agree, key order included. */
function decodeAll(req: ResourceSpec[]): Record<string, AttrValue>[] {
  const cold = decodeTraceRequestProto(encodeProto(req), opts);
  const warm = decodeTraceRequestProto(encodeProto(req), opts);
  const json = decodeTraceRequestJson(encodeJson(req), opts);
  expect(warm).toEqual(cold);
  expect(cold).toEqual(json);
  for (let i = 0; i < json.beats.length; i++) {
    expect(Object.keys(cold.beats[i]!.attributes)).toEqual(Object.keys(json.beats[i]!.attributes));
    expect(Object.keys(warm.beats[i]!.attributes)).toEqual(Object.keys(json.beats[i]!.attributes));
  }
  return warm.beats.map((b) => b.attributes);
}

describe('ByteSlots.findHinted', () => {
  it('finds stored keys and misses on any differing byte, middle bytes included', () => {
    const slots = new ByteSlots(16, 64);
    const key = enc.encode('beat.event=checkout:m0:handle3-and-some-more');
    expect(slots.findHinted(key, 0, key.length)).toBe(false);
    slots.store(key, 0, key.length);
    expect(slots.findHinted(key.slice(), 0, key.length)).toBe(true);
    for (let i = 0; i < key.length; i++) {
      const changed = key.slice();
      changed[i] = changed[i]! ^ 4;
      expect(slots.findHinted(changed, 0, changed.length)).toBe(false);
      // The miss moved the hint; the original must still be found.
      expect(slots.findHinted(key, 0, key.length)).toBe(true);
    }
  });

  it('keeps keys that share a hint (same length, first and last bytes) apart', () => {
    const slots = new ByteSlots(64, 64);
    const values = ['0', '1', '2', '3', '4', '5'].map((d) => enc.encode(`prefix--middle-${d}-middle--suffix!`));
    const stored = new Map<number, number>();
    for (let round = 0; round < 4; round++) {
      for (let v = 0; v < values.length; v++) {
        const key = values[v]!;
        const found = slots.findHinted(key, 0, key.length);
        if (found) expect(stored.get(slots.slot)).toBe(v);
        else {
          slots.store(key, 0, key.length);
          stored.set(slots.slot, v);
        }
      }
    }
  });

  it('does not trust a hint whose slot was refilled with another key', () => {
    const slots = new ByteSlots(2, 64);
    const a = enc.encode('first-key-of-some-length');
    const b = enc.encode('other-key-of-same-length');
    slots.findHinted(a, 0, a.length);
    slots.store(a, 0, a.length);
    // Evict a from both slots of its only pair via the plain path.
    for (const k of [b, enc.encode('third-key-of-same-length')]) {
      if (!slots.find(k, 0, k.length)) slots.store(k, 0, k.length);
    }
    expect(slots.findHinted(a, 0, a.length)).toBe(false);
  });

  it('handles keys shorter than 8 bytes', () => {
    const slots = new ByteSlots(4, 16);
    const k = enc.encode('abc');
    expect(slots.findHinted(k, 0, 3)).toBe(false);
    slots.store(k, 0, 3);
    expect(slots.findHinted(enc.encode('abc'), 0, 3)).toBe(true);
    expect(slots.findHinted(enc.encode('abd'), 0, 3)).toBe(false);
  });
});

describe('AttributeTemplates', () => {
  const keys = ['a', 'b', 'c', 'deployment.environment'];
  const values: AttrValue[] = [1, 'two', true, 'staging'];

  it('builds the same object as adding the properties, and hands out that frozen object each time', () => {
    const t = new AttributeTemplates(4);
    const gens = new Int32Array(4);
    const kept = Int32Array.from([2, 0, 1]);
    const first = t.build(kept, 3, gens, keys, values, '');
    const second = t.build(kept, 3, gens, keys, values, '');
    expect(first).toEqual({ c: true, a: 1, b: 'two' });
    expect(Object.keys(second)).toEqual(['c', 'a', 'b']);
    expect(second).toBe(first);
    expect(t.hits).toBe(1);
    expect(() => {
      (second as Record<string, AttrValue>)['x'] = 1;
    }).toThrow(TypeError);
    expect(t.build(kept, 3, gens, keys, values, '')).toEqual({ c: true, a: 1, b: 'two' });
  });

  it('rebuilds when a slot was refilled, the slots differ, or the environment changed', () => {
    const t = new AttributeTemplates(1); // one entry: everything collides
    const gens = new Int32Array(4);
    const vals = values.slice();
    const kept = Int32Array.from([0, 1]);
    expect(t.build(kept, 2, gens, keys, vals, '')).toEqual({ a: 1, b: 'two' });
    vals[1] = 'changed';
    gens[1] = 1;
    expect(t.build(kept, 2, gens, keys, vals, '')).toEqual({ a: 1, b: 'changed' });
    expect(t.build(Int32Array.from([0, 2]), 2, gens, keys, vals, '')).toEqual({ a: 1, c: true });
    expect(t.build(Int32Array.from([0]), 1, gens, keys, vals, '')).toEqual({ a: 1 });
    expect(t.build(Int32Array.from([0]), 1, gens, keys, vals, 'prod')).toEqual({ a: 1, 'deployment.environment': 'prod' });
    expect(t.build(Int32Array.from([0]), 1, gens, keys, vals, 'dev')).toEqual({ a: 1, 'deployment.environment': 'dev' });
    expect(t.misses).toBe(6);
  });

  it('tells the http.route of the object it handed out, built or reused', () => {
    const t = new AttributeTemplates(1); // one entry: every build replaces or reuses it
    const routeKeys = ['http.route', 'a'];
    const routeValues: AttrValue[] = ['/api/cart', 1];
    const gens = new Int32Array(2);
    const withRoute = Int32Array.from([1, 0]);
    expect(t.build(withRoute, 2, gens, routeKeys, routeValues, '')['http.route']).toBe('/api/cart');
    expect(t.lastRoute).toBe('/api/cart');
    expect(t.build(Int32Array.from([1]), 1, gens, routeKeys, routeValues, '')).toEqual({ a: 1 });
    expect(t.lastRoute).toBeUndefined();
    expect(t.build(withRoute, 2, gens, routeKeys, routeValues, '')).toEqual({ a: 1, 'http.route': '/api/cart' });
    expect(t.lastRoute).toBe('/api/cart');
    // A reuse tells the route of the reused object, not of the last one built.
    const two = new AttributeTemplates(4);
    two.build(withRoute, 2, gens, routeKeys, routeValues, '');
    two.build(Int32Array.from([1]), 1, gens, routeKeys, routeValues, '');
    expect(two.lastRoute).toBeUndefined();
    two.build(withRoute, 2, gens, routeKeys, routeValues, '');
    expect(two.hits).toBe(1);
    expect(two.lastRoute).toBe('/api/cart');
  });

  it('adds the environment only when there is room and no such attribute', () => {
    const t = new AttributeTemplates(8);
    const gens = new Int32Array(4);
    expect(t.build(Int32Array.from([3, 0]), 2, gens, keys, values, 'prod')).toEqual({ 'deployment.environment': 'staging', a: 1 });
    const many = Array.from({ length: MAX_BEAT_ATTRIBUTES }, (_, i) => `k${i}`);
    const manyValues = many.map((_, i) => i);
    const all = Int32Array.from(many.keys());
    const built = t.build(all, MAX_BEAT_ATTRIBUTES, new Int32Array(MAX_BEAT_ATTRIBUTES), many, manyValues, 'prod');
    expect(Object.keys(built)).toHaveLength(MAX_BEAT_ATTRIBUTES);
  });
});

describe('decoder caches give the same beats as decoding from scratch', () => {
  it('for KeyValues that differ only in one middle byte, in turns', () => {
    const spans: SpanSpec[] = [];
    for (let i = 0; i < 60; i++) {
      const d = String(i % 6);
      spans.push(
        span(i, {
          'http.route': `/api/orders/${d}/items/list`,
          'beat.event': `checkout:m${d}:handle`,
          'beat.handler': `handler-${d}-x`,
          'beat.sequence': 'checkout',
          'component.type': `btn${d}`,
        }),
      );
    }
    const attrs = decodeAll(request(spans));
    const beats = decodeTraceRequestProto(encodeProto(request(spans)), opts).beats;
    for (let i = 0; i < 60; i++) {
      const d = String(i % 6);
      expect(attrs[i]).toEqual({ 'http.route': `/api/orders/${d}/items/list`, 'component.type': `btn${d}` });
      expect(beats[i]!.event).toBe(`checkout:m${d}:handle`);
      expect(beats[i]!.handler).toBe(`handler-${d}-x`);
    }
  });

  it('keeps attribute order when kept attributes mix cached, uncached and sequence ids', () => {
    const spans: SpanSpec[] = [];
    for (let i = 0; i < 12; i++) {
      const attributes: Record<string, AttrSpec> = { a: 1, 'beat.sequence': 'seq' };
      if (i % 3 === 1) attributes['beat.sequence.id'] = 'sid-1';
      if (i % 4 === 2) attributes[`fresh${i}`] = `value-${i}`;
      if (i % 5 === 3) attributes['long'] = 'x'.repeat(200);
      attributes['b'] = i % 2 === 0;
      attributes['thread.id'] = 7;
      attributes['c'] = 'tail';
      spans.push(span(i, attributes));
    }
    const attrs = decodeAll(request(spans, { 'service.name': 'svc', 'deployment.environment': 'prod' }));
    expect(Object.keys(attrs[1]!)).toEqual(['a', 'beat.sequence.id', 'b', 'c', 'deployment.environment']);
    expect(Object.keys(attrs[2]!)).toEqual(['a', 'fresh2', 'b', 'c', 'deployment.environment']);
  });

  it('shares one frozen attributes object between beats with the same kept attributes', () => {
    const spans = [0, 1, 2].map((i) => span(i, { a: 'same', b: 2 }));
    spans.push(span(3, { a: 'other', b: 2 }), span(4, {}), span(5, { 'beat.handler': 'h' }));
    const beats = decodeTraceRequestProto(encodeProto(request(spans)), opts).beats;
    // The first span's KeyValues were new (not cached yet): it got an object of its own.
    expect(beats[0]!.attributes).toEqual({ a: 'same', b: 2 });
    expect(beats[1]!.attributes).toEqual({ a: 'same', b: 2 });
    expect(beats[2]!.attributes).toBe(beats[1]!.attributes);
    expect(beats[3]!.attributes).toEqual({ a: 'other', b: 2 });
    expect(beats[4]!.attributes).toEqual({});
    expect(beats[5]!.attributes).toBe(beats[4]!.attributes);
    // A shared object cannot be changed through one beat behind the others' backs.
    expect(Object.isFrozen(beats[1]!.attributes)).toBe(true);
    expect(() => {
      (beats[1]!.attributes as Record<string, unknown>)['a'] = 'mutated';
    }).toThrow(TypeError);
    expect(decodeTraceRequestProto(encodeProto(request(spans)), opts).beats[2]!.attributes).toEqual({ a: 'same', b: 2 });
  });

  it('honours the attribute limit and the environment rule from the caches', () => {
    const many: Record<string, AttrSpec> = {};
    for (let k = 0; k < MAX_BEAT_ATTRIBUTES + 3; k++) many[`key${k}`] = k;
    const own = { a: 1, 'deployment.environment': 'mine' };
    const spans = [span(0, many), span(1, many), span(2, own), span(3, own), span(4, { a: 1 })];
    const attrs = decodeAll(request(spans, { 'service.name': 'svc', 'deployment.environment': 'prod' }));
    expect(Object.keys(attrs[1]!)).toHaveLength(MAX_BEAT_ATTRIBUTES);
    expect(attrs[3]).toEqual({ a: 1, 'deployment.environment': 'mine' });
    expect(attrs[4]).toEqual({ a: 1, 'deployment.environment': 'prod' });
  });

  it('survives KeyValue cache churn between spans with the same kept attributes', () => {
    const spans: SpanSpec[] = [];
    for (let i = 0; i < 40; i++) {
      const attributes: Record<string, AttrSpec> = { kept: 'k', other: i % 2 };
      // Thousands of one-off KeyValues refill many slots between the repeats.
      for (let j = 0; j < 100; j++) attributes[`noise.${i}.${j}`] = j;
      spans.push(span(i, attributes));
    }
    const attrs = decodeAll(request(spans));
    expect(attrs[39]!['kept']).toBe('k');
    expect(attrs[39]!['other']).toBe(1);
    expect(Object.keys(attrs[39]!)).toHaveLength(MAX_BEAT_ATTRIBUTES);
  });
});
