import { STATUS_ERROR, STATUS_OK, type Beat, type BeatError } from '../../../src/model/beat.js';
import { SEQUENCES, STANDALONE, type BeatSpec, type SequenceSpec, type StandaloneSpec } from './catalog.js';
import { Random } from './random.js';
import { activeFaults, type Fault, type Scenario } from './scenario.js';

/**
 * Produces the beats (and child spans) of one slice of simulated traffic, faults included.
 * Deterministic for a given scenario seed; slices must be generated in order.
 */
export interface SliceTraffic {
  slice: number;
  startMs: number;
  endMs: number;
  beats: Beat[];
  runs: number;
}

function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function makeError(type: string, message: string, file: string): BeatError {
  const topFrame = `${file}:${10 + (hash(type + file).charCodeAt(0) % 40)}`;
  return { type, message, topFrame, stacktrace: `${type}: ${message}\n    at ${topFrame}`, fingerprint: hash(`${type}|${message}|${topFrame}`) };
}

interface SpanInit {
  service: string;
  version: string;
  traceId: string;
  parentSpanId: string;
  spanName: string;
  handler: string;
  startMs: number;
  durationMs: number;
}

export class TrafficGenerator {
  private readonly rnd: Random;

  constructor(
    private readonly scenario: Scenario,
    private readonly sequences: SequenceSpec[] = SEQUENCES,
    private readonly standalone: StandaloneSpec[] = STANDALONE,
  ) {
    this.rnd = new Random(scenario.seed);
  }

  private span(init: SpanInit): Beat {
    return {
      service: init.service,
      serviceVersion: init.version,
      sequence: '',
      movement: '',
      beatNumber: 0,
      event: '',
      handler: init.handler,
      plugin: '',
      kind: '',
      correlationId: '',
      startMs: init.startMs,
      durationMs: init.durationMs,
      status: STATUS_OK,
      error: undefined,
      traceId: init.traceId,
      spanId: this.rnd.hex(16),
      parentSpanId: init.parentSpanId,
      spanName: init.spanName,
      attributes: {},
    };
  }

  slice(slice: number): SliceTraffic {
    const startMs = this.scenario.startMs + slice * this.scenario.sliceMs;
    const faults = activeFaults(this.scenario.faults, slice);
    const beats: Beat[] = [];
    let runs = 0;
    for (const seq of this.sequences) {
      const surge = faults.find((f) => f.kind === 'count-surge' && f.sequence === seq.name);
      const n = this.rnd.poisson(seq.runsPerSlice * (surge?.factor ?? 1));
      for (let i = 0; i < n; i++) this.run(seq, faults, startMs + this.rnd.next() * this.scenario.sliceMs * 0.9, beats);
      runs += n;
    }
    for (const h of this.standalone) {
      const hot = faults.find((f) => f.kind === 'hot-untested-handler' && f.handler === h.handler);
      const n = this.rnd.poisson(hot?.calls ?? h.callsPerSlice);
      for (let i = 0; i < n; i++) {
        const s = this.span({
          service: h.service,
          version: h.version,
          traceId: this.rnd.hex(32),
          parentSpanId: '',
          spanName: h.handler,
          handler: h.handler,
          startMs: startMs + this.rnd.next() * this.scenario.sliceMs * 0.95,
          durationMs: this.rnd.lognormal(h.medianMs, h.sigma),
        });
        beats.push(s);
      }
    }
    return { slice, startMs, endMs: startMs + this.scenario.sliceMs, beats, runs };
  }

  private plan(seq: SequenceSpec, faults: Fault[]): BeatSpec[] {
    const order: BeatSpec[] = [];
    for (const b of seq.beats) {
      if (b.skipRate !== undefined && this.rnd.chance(b.skipRate)) continue;
      const missing = faults.find((f) => f.kind === 'missing-beat' && f.sequence === seq.name && f.handler === b.handler);
      if (missing && this.rnd.chance(missing.rate ?? 1)) continue;
      order.push(b);
      if (b.retryRate !== undefined && this.rnd.chance(b.retryRate)) order.push(b);
    }
    for (const f of faults) {
      if (f.kind !== 'out-of-order' || f.sequence !== seq.name || !this.rnd.chance(f.rate ?? 1)) continue;
      const a = order.findIndex((b) => b.handler === f.handler);
      const b = order.findIndex((x) => x.handler === f.swapWith);
      if (a >= 0 && b >= 0) [order[a], order[b]] = [order[b]!, order[a]!];
    }
    return order;
  }

  private run(seq: SequenceSpec, faults: Fault[], startMs: number, out: Beat[]): void {
    const traceId = this.rnd.hex(32);
    const release = faults.find((f) => f.kind === 'version-regression' && f.service === seq.service);
    const version = release && this.rnd.chance(release.rate ?? 1) ? release.version! : seq.version;
    const root = this.span({ service: seq.service, version, traceId, parentSpanId: '', spanName: seq.name, handler: seq.name, startMs, durationMs: 0 });
    root.sequence = seq.name;
    root.plugin = seq.plugin;
    const spans: Beat[] = [];
    let t = startMs + 0.2;
    for (const spec of this.plan(seq, faults)) {
      let factor = 1;
      for (const f of faults) {
        if (f.handler !== spec.handler || f.service !== seq.service) continue;
        if (f.kind === 'latency-regression') factor *= f.factor ?? 1;
        if (f.kind === 'version-regression' && version === f.version) factor *= f.factor ?? 1;
      }
      const beat = this.span({ service: seq.service, version, traceId, parentSpanId: root.spanId, spanName: spec.handler, handler: spec.handler, startMs: t, durationMs: 0 });
      beat.sequence = seq.name;
      beat.movement = spec.movement;
      beat.beatNumber = spec.beat;
      beat.event = spec.event;
      beat.plugin = seq.plugin;
      beat.kind = 'stage-crew';
      let inner = t + 0.05;
      for (const c of spec.children ?? []) {
        const child = this.span({ service: seq.service, version, traceId, parentSpanId: beat.spanId, spanName: c.name, handler: c.name, startMs: inner, durationMs: this.rnd.lognormal(c.medianMs, c.sigma) });
        spans.push(child);
        inner += child.durationMs + 0.05;
      }
      beat.durationMs = inner - t + this.rnd.lognormal(spec.medianMs, spec.sigma) * factor;
      this.maybeFail(beat, spec, seq, faults);
      spans.push(beat);
      t += beat.durationMs + 0.1 + this.rnd.next() * 0.5;
    }
    root.durationMs = t - startMs + 0.2;
    // Exporters send children first; the root span ends (and is exported) last.
    for (const s of spans) out.push(s);
    out.push(root);
  }

  private maybeFail(beat: Beat, spec: BeatSpec, seq: SequenceSpec, faults: Fault[]): void {
    let error: BeatError | undefined;
    if (this.rnd.chance(spec.noiseErrorRate)) error = makeError('TimeoutError', 'upstream timed out after 5000 ms', `src/${seq.name}/${spec.handler}.js`);
    for (const f of faults) {
      if (f.handler !== spec.handler || f.service !== seq.service) continue;
      if (f.kind === 'error-burst' && this.rnd.chance(f.rate ?? 1)) error = makeError('TimeoutError', 'upstream timed out after 5000 ms', `src/${seq.name}/${spec.handler}.js`);
      if (f.kind === 'new-exception' && this.rnd.chance(f.rate ?? 1)) error = makeError('TypeError', "Cannot read properties of undefined (reading 'score')", `src/${seq.name}/${spec.handler}.js`);
    }
    if (error !== undefined) {
      beat.status = STATUS_ERROR;
      beat.error = error;
    }
  }
}
