/**
 * Detection engine cost: observe() per span and evaluate() per slice, on steady traffic made of
 * multi-beat sequence runs (a root span plus one child span per beat, some beats with a child
 * span of their own), fed slice by slice in data time as the live sidecar would.
 *
 *   npx tsx test/bench/detect-bench.ts [--handlers 50] [--rate 20] [--beats 5] [--slices 120] [--warmup 60]
 *
 * `--handlers` handlers each running `--rate` beats per second, grouped into sequences of
 * `--beats` beats (so handlers / beats sequences, each at `rate` runs per second); half of the
 * sequences are declared, half learned; `--beats 1` makes every beat its own one-span trace (a root
 * span carrying the beat). A second pass feeds the same traffic to a standalone
 * SequenceDetector and CoverageDetector to show their share of the engine's cost.
 */
import { ConfigSchema } from '../../src/config/schema.js';
import { CoverageDetector, type TrafficView } from '../../src/detect/coverage-detector.js';
import { parseLcov } from '../../src/detect/coverage-report.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import { SequenceDetector } from '../../src/detect/sequence-detector.js';
import { STATUS_ERROR, STATUS_OK, type Beat } from '../../src/model/beat.js';
import type { Sequence } from '../../src/model/sequence.js';
import { Random } from './faults/random.js';

const SLICE_MS = 10_000;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

interface SeqSpec {
  name: string;
  service: string;
  handlers: string[];
  declared: boolean;
}

function catalog(handlers: number, beatsPerRun: number): SeqSpec[] {
  const out: SeqSpec[] = [];
  for (let s = 0; s * beatsPerRun < handlers; s++) {
    const hs: string[] = [];
    for (let b = 0; b < beatsPerRun && s * beatsPerRun + b < handlers; b++) hs.push(`h${s}_${b}`);
    out.push({ name: `seq${s}`, service: `svc${s % 5}`, handlers: hs, declared: s % 2 === 0 });
  }
  return out;
}

function declared(specs: SeqSpec[]): Sequence[] {
  return specs
    .filter((s) => s.declared)
    .map((s) => ({ id: `P.${s.name}`, name: s.name, movements: [{ name: 'main', beats: s.handlers.map((h, i) => ({ beat: i + 1, event: `${s.name}:${i}`, handler: h })) }] }));
}

/** One slice of traffic: `rate` runs per second per sequence, Poisson, each run's spans children first. */
function sliceTraffic(rnd: Random, specs: SeqSpec[], rate: number, slice: number): { spans: Beat[]; beats: number } {
  const spans: Beat[] = [];
  let beats = 0;
  const start = T0 + slice * SLICE_MS;
  const runs: Array<{ at: number; spec: SeqSpec }> = [];
  for (const spec of specs) {
    const n = rnd.poisson((rate * SLICE_MS) / 1000);
    for (let i = 0; i < n; i++) runs.push({ at: start + rnd.next() * SLICE_MS * 0.95, spec });
  }
  runs.sort((a, b) => a.at - b.at);
  for (const { at, spec } of runs) {
    const traceId = rnd.hex(32);
    if (spec.handlers.length === 1) {
      // One-beat sequences: every beat is its own trace, a lone root span carrying the beat.
      spans.push(span(spec, traceId, rnd.hex(16), '', spec.handlers[0]!, at, rnd.lognormal(8, 0.4), rnd.chance(0.003), 1));
      beats++;
      continue;
    }
    const rootId = rnd.hex(16);
    let t = at + 0.2;
    for (let b = 0; b < spec.handlers.length; b++) {
      // 1 % of runs skip their last beat; 2 % retry their first.
      if (b === spec.handlers.length - 1 && rnd.chance(0.01)) continue;
      const repeats = b === 0 && rnd.chance(0.02) ? 2 : 1;
      for (let r = 0; r < repeats; r++) {
        const spanId = rnd.hex(16);
        const dur = rnd.lognormal(8 + b * 3, 0.4);
        const failed = rnd.chance(0.003);
        if (b % 2 === 1) spans.push(span(spec, traceId, rnd.hex(16), spanId, `SELECT ${spec.handlers[b]}`, t + 0.1, dur * 0.6, false, 0));
        spans.push(span(spec, traceId, spanId, rootId, spec.handlers[b]!, t, dur, failed, b + 1));
        beats++;
        t += dur + 0.3;
      }
    }
    spans.push(span(spec, traceId, rootId, '', spec.name, at, t - at + 0.2, false, 0));
  }
  return { spans, beats };
}

function span(spec: SeqSpec, traceId: string, spanId: string, parentSpanId: string, handler: string, startMs: number, durationMs: number, failed: boolean, beatNumber: number): Beat {
  return {
    service: spec.service,
    serviceVersion: '1.0.0',
    sequence: beatNumber > 0 || parentSpanId === '' ? spec.name : '',
    movement: beatNumber > 0 ? 'main' : '',
    beatNumber,
    event: beatNumber > 0 ? `${spec.name}:${beatNumber}` : '',
    handler,
    plugin: 'BenchPlugin',
    kind: beatNumber > 0 ? 'stage-crew' : '',
    correlationId: '',
    startMs,
    durationMs,
    status: failed ? STATUS_ERROR : STATUS_OK,
    error: failed ? { type: 'TimeoutError', message: 'upstream timed out', topFrame: 'src/x.ts:1', stacktrace: 'TimeoutError', fingerprint: `fp-${handler}` } : undefined,
    traceId,
    spanId,
    parentSpanId,
    spanName: handler,
    attributes: {},
  };
}

function quantile(xs: number[], q: number): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))] ?? NaN;
}

function fmt(ms: number): string {
  if (ms < 0.01) return `${(ms * 1e6).toFixed(0)} ns`;
  return ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(2)} ms`;
}

function main(): void {
  const handlers = arg('handlers', 50);
  const rate = arg('rate', 20);
  const beatsPerRun = arg('beats', 5);
  const slices = arg('slices', 120);
  const warmup = arg('warmup', 60);
  const specs = catalog(handlers, beatsPerRun);
  const config = ConfigSchema.parse({ detect: { sliceMs: SLICE_MS } }).detect;
  const sequences = declared(specs);
  const coverage = parseLcov(specs.flatMap((s) => ['SF:src/' + s.name + '.js', ...s.handlers.map((h, i) => `FN:${i + 1},${h}`), ...s.handlers.map((h) => `FNDA:1,${h}`), 'end_of_record']).join('\n'));

  // Traffic is generated slice by slice (outside the timed calls), the same in both passes.
  const engine = new DetectionEngine({ config, sequences, coverage });
  let rnd = new Random(2026);
  let observeMs = 0;
  let spansMeasured = 0;
  let beatsMeasured = 0;
  const evalMs: number[] = [];
  let findings = 0;
  const opened: string[] = [];
  for (let s = 0; s < warmup + slices; s++) {
    const { spans, beats } = sliceTraffic(rnd, specs, rate, s);
    const t0 = performance.now();
    engine.observe(spans);
    const t1 = performance.now();
    const changes = engine.evaluate(T0 + (s + 1) * SLICE_MS);
    const t2 = performance.now();
    if (s >= warmup) {
      observeMs += t1 - t0;
      spansMeasured += spans.length;
      beatsMeasured += beats;
      evalMs.push(t2 - t1);
      findings += changes.length;
      for (const c of changes) if (opened.length < 5) opened.push(`slice ${s}: ${c.kind} ${c.anomaly.type}/${c.anomaly.subtype} ${c.anomaly.summary}`);
    }
  }

  // Same traffic through the behavioral and coverage detectors alone.
  const seqDet = new SequenceDetector(config, sequences);
  const covDet = new CoverageDetector(coverage, sequences);
  // The engine hands the coverage detector its window figures; a fixed copy stands in for them.
  const rows = engine.handlerFigures().map((f) => ({ service: f.service, handler: f.handler, count: f.count, share: f.trafficShare }));
  const view: TrafficView = { handlers: () => rows };
  rnd = new Random(2026);
  let seqObserveMs = 0;
  let covObserveMs = 0;
  const seqEvalMs: number[] = [];
  const covEvalMs: number[] = [];
  for (let s = 0; s < warmup + slices; s++) {
    const { spans } = sliceTraffic(rnd, specs, rate, s);
    const t0 = performance.now();
    for (const b of spans) seqDet.observe(b);
    const t1 = performance.now();
    seqDet.evaluate(T0 + (s + 1) * SLICE_MS);
    const t2 = performance.now();
    for (const b of spans) covDet.observe(b);
    const t3 = performance.now();
    covDet.evaluate(T0 + (s + 1) * SLICE_MS, view);
    const t4 = performance.now();
    if (s >= warmup) {
      seqObserveMs += t1 - t0;
      seqEvalMs.push(t2 - t1);
      covObserveMs += t3 - t2;
      covEvalMs.push(t4 - t3);
    }
  }

  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const perSlice = spansMeasured / slices;
  console.log(`detection engine: ${handlers} handlers x ${rate} beats/s, ${specs.length} sequences of ${beatsPerRun} beats (${sequences.length} declared), ${slices} measured slices of ${SLICE_MS / 1000} s after ${warmup} warm-up`);
  console.log(`traffic: ${perSlice.toFixed(0)} spans per slice (${(beatsMeasured / slices).toFixed(0)} beats, ${(beatsMeasured / slices / beatsPerRun).toFixed(0)} runs; roots and SQL child spans included)`);
  console.log(`engine.observe    ${fmt(observeMs / spansMeasured)} per span  (${fmt(observeMs / slices)} per slice, ${((spansMeasured / observeMs) * 1000 / 1e6).toFixed(2)} M spans/s)`);
  console.log(`engine.evaluate   mean ${fmt(mean(evalMs))}  p50 ${fmt(quantile(evalMs, 0.5))}  p95 ${fmt(quantile(evalMs, 0.95))}  max ${fmt(Math.max(...evalMs))} per slice`);
  console.log(`  of which SequenceDetector.evaluate  mean ${fmt(mean(seqEvalMs))}  p50 ${fmt(quantile(seqEvalMs, 0.5))}  p95 ${fmt(quantile(seqEvalMs, 0.95))}  (standalone pass; its observe ${fmt(seqObserveMs / spansMeasured)} per span)`);
  console.log(`  of which CoverageDetector.evaluate  mean ${fmt(mean(covEvalMs))}  (its observe ${fmt(covObserveMs / spansMeasured)} per span)`);
  // Steady traffic: any anomaly here is a false positive worth a look.
  console.log(`anomaly changes during measurement: ${findings}${opened.map((o) => `\n  ${o}`).join('')}`);
  const total = (observeMs + evalMs.reduce((a, b) => a + b, 0)) / slices;
  console.log(`engine total      ${fmt(total)} per ${SLICE_MS / 1000} s slice = ${((total / SLICE_MS) * 100).toFixed(2)} % of one core`);
}

main();
