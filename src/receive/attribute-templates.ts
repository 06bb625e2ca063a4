import { MAX_BEAT_ATTRIBUTES, type AttrValue } from '../model/beat.js';
import { addEnvironment, HTTP_ROUTE_ATTRIBUTE } from './beat-builder.js';

/**
 * Builds beat.attributes objects from the cached KeyValues a span kept. Spans repeat the same
 * kept attributes ("http.route" = "/api/cart", "component.type" = "button", or none at all) far
 * more often than not, so beats with the same kept attributes share one frozen object
 * (Beat.attributes is read-only): no allocation per span, and the beats held for seconds by
 * trace assembly and the reservoirs carry one object fewer each through the garbage collector.
 * A template is reused only when it was built from the very same slots, each still holding the
 * KeyValue it held then (`generations` changes whenever a slot is refilled), so a reused template
 * always equals what adding the properties would have built. Memory is fixed: a direct-mapped
 * table of templates (an evicted template stays alive only through the beats that use it).
 */
const EMPTY: Readonly<Record<string, AttrValue>> = Object.freeze({});

export class AttributeTemplates {
  private readonly mask: number;
  /** Per template: the slots it was built from, MAX_BEAT_ATTRIBUTES words each. */
  private readonly slots: Int32Array;
  /** Per template: the generation of each of its slots when it was built. */
  private readonly generations: Int32Array;
  /** Per template: how many slots; -1 when the entry is empty. */
  private readonly counts: Int32Array;
  private readonly environments: string[];
  private readonly objects: Readonly<Record<string, AttrValue>>[];
  /** Per template: its `http.route` value (undefined when it has none), read once when built. */
  private readonly routes: (AttrValue | undefined)[];
  /**
   * The `http.route` of the object build() returned last: beat building reads it for every span,
   * and a keyed property load on objects of many shapes costs more than this field.
   */
  lastRoute: AttrValue | undefined = undefined;
  hits = 0;
  misses = 0;

  constructor(entries = 256) {
    let size = 1;
    while (size < entries) size <<= 1;
    this.mask = size - 1;
    this.slots = new Int32Array(size * MAX_BEAT_ATTRIBUTES);
    this.generations = new Int32Array(size * MAX_BEAT_ATTRIBUTES);
    this.counts = new Int32Array(size).fill(-1);
    this.environments = new Array<string>(size).fill('');
    this.objects = new Array<Readonly<Record<string, AttrValue>>>(size).fill(EMPTY);
    this.routes = new Array<AttrValue | undefined>(size).fill(undefined);
  }

  /**
   * A frozen object with keys[kept[i]] = values[kept[i]] for i < count, in that order, then
   * `environment` as addEnvironment adds it (BeatBatch.finishSpan applies the same rule, which
   * then finds the key already there and changes nothing); the same object for the same KeyValues.
   */
  build(
    kept: Int32Array,
    count: number,
    generationOf: Int32Array,
    keys: readonly string[],
    values: readonly AttrValue[],
    environment: string,
  ): Readonly<Record<string, AttrValue>> {
    let h = Math.imul(count, 0x9e3779b1);
    for (let i = 0; i < count; i++) h = Math.imul(h ^ kept[i]!, 0x85ebca6b) ^ (h >>> 15);
    const t = (h ^ (h >>> 13)) & this.mask;
    const base = t * MAX_BEAT_ATTRIBUTES;
    if (this.counts[t] === count && this.environments[t] === environment) {
      let same = true;
      for (let i = 0; i < count; i++) {
        const slot = kept[i]!;
        if (this.slots[base + i] !== slot || this.generations[base + i] !== generationOf[slot]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.hits++;
        this.lastRoute = this.routes[t];
        return this.objects[t]!;
      }
    }
    this.misses++;
    const object: Record<string, AttrValue> = {};
    for (let i = 0; i < count; i++) {
      const slot = kept[i]!;
      object[keys[slot]!] = values[slot]!;
      this.slots[base + i] = slot;
      this.generations[base + i] = generationOf[slot]!;
    }
    addEnvironment(object, count, environment);
    this.counts[t] = count;
    this.environments[t] = environment;
    Object.freeze(object);
    this.objects[t] = object;
    this.routes[t] = this.lastRoute = object[HTTP_ROUTE_ATTRIBUTE];
    return object;
  }
}
