/**
 * Root-cause benchmark on real fault data: the Train Ticket traces and logs of the Nezha dataset
 * (../shared/nezha), converted to OTLP/JSON (test/bench/rca/nezha.ts) and replayed per fault case
 * through the offline pipeline (`analyze`: DetectionEngine + IncidentEngine) with one global
 * parameter set. Prints per fault type and overall: detection rate, root-cause service top-1 and
 * top-3 of the incident (the first incident opened during the case's files in the product's own
 * best-first order; the rule before, the first one opened, is printed beside it), and false
 * incidents per fault-free minute; then a leave-one-day-out
 * figure (a small grid tuned on one day, scored on the other).
 *
 *   npm run bench:rca [-- --verbose] [-- --diagnose] [-- --only <fault type>] [-- --no-lodo] [-- --write <dir>] [-- --cases N] [-- --component] [-- --lead-in wrap|time|fold|distance]
 *
 * Lead-in: each fault's files hold only seconds of fault-free traffic before the injection. The
 * fault-free seconds before every OTHER injection of the same day (from its first file's start to
 * 2 s before its inject_time, whole traces only) are concatenated and shifted to end where this
 * case's files begin: the stretches after the case, then those before it, each part in time order,
 * so the traffic that really came before the case ends the lead-in (rca/lead-in.ts;
 * `--lead-in time|fold|distance` for the other orders). The first `WARMUP_MS` of that lead-in are
 * baseline learning; the rest are the fault-free minutes scored for false incidents.
 *
 * Not every pre-injection stretch is fault-free: in several cases the injected fault is already
 * visible seconds before inject_time (e.g. 2023-01-30 13:30:52, preserve-service network_delay:
 * 2 s gaps on gateway -> preserve from the first second of the file), or an earlier fault still
 * lingers. A stretch is left out of every lead-in when any edge's median client/server gap in it
 * is over 10x (and 50 ms above) that edge's median over the whole day: that is a fault, not quiet
 * traffic. For the same reason a case's own pre-injection seconds are not scored as quiet, and an
 * incident counts as detecting the fault from the start of the case's first file.
 *
 * A caught exception moves no latency or gap: it shows as an event that stops coming. So a stretch
 * is also left out when an event of some service that is written in step with a sibling event over
 * the day is missing from it while the sibling comes (rca/missing-sibling.ts; the bench prints the
 * stretches only this rule leaves out, and why).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { analyzeBeats } from '../../src/cli/offline-analysis.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { IncidentEngine, type IncidentEngineOptions } from '../../src/diagnose/incident-engine.js';
import type { Anomaly } from '../../src/model/anomaly.js';
import type { SignalScore, SignalSlice } from '../../src/detect/service-signals.js';
import type { Beat } from '../../src/model/beat.js';
import type { Incident } from '../../src/model/incident.js';
import type { LogEvent } from '../../src/model/log-event.js';
import { decodeTraceRequestObject } from '../../src/receive/otlp-json.js';
import { LEAD_IN_ORDERS, orderLeadIn, placeLeadIn, type LeadInOrder } from './rca/lead-in.js';
import { missingEvent, patternEvents, siblingPairs, type MissingEvent, type PatternEvent, type SiblingPair } from './rca/missing-sibling.js';
import { loadDay, logsIn, toOtlpLogs, toOtlpTraces, tracesIn, type Day, type Fault, type SpanRow } from './rca/nezha.js';

const PRE_MARGIN_MS = 2_000;
const WARMUP_MS = 3 * 60_000;
/** The detectors' slice under the default configuration, which the bench replays. */
const SLICE_MS = ConfigSchema.parse({}).detect.sliceMs;

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the bench');
    dir = up;
  }
  return dir;
}

interface CaseInput {
  fault: Fault;
  beats: Beat[];
  logs: LogEvent[];
  /** Fault-free scoring window [from, to) in the spliced timeline. */
  quietFromMs: number;
  quietToMs: number;
  endMs: number;
  otlp?: { traces: unknown[]; logs: LogEvent[] };
}

const dayGapMedians = new WeakMap<Day, Map<string, number>>();

/** Client/server gap medians per edge (caller > callee) of these spans. */
function edgeGapMedians(spans: readonly SpanRow[]): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const gaps = new Map<string, number[]>();
  for (const s of spans) {
    const p = s.parentId === '' ? undefined : byId.get(s.parentId);
    if (p === undefined || p.service === s.service) continue;
    const k = `${p.service}>${s.service}`;
    const list = gaps.get(k) ?? [];
    list.push(p.endMs - p.startMs - (s.endMs - s.startMs));
    gaps.set(k, list);
  }
  const out = new Map<string, number>();
  for (const [k, v] of gaps) out.set(k, v.sort((a, b) => a - b)[v.length >> 1]!);
  return out;
}

const dayLatencyMedians = new WeakMap<Day, Map<string, number>>();

/** Median latency of each service's requests (spans whose parent is absent or in another service), with at least `minN` of them. */
function requestLatencyMedians(spans: readonly SpanRow[], minN = 1): Map<string, number> {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const lat = new Map<string, number[]>();
  for (const s of spans) {
    const p = s.parentId === '' ? undefined : byId.get(s.parentId);
    if (p !== undefined && p.service === s.service) continue;
    const list = lat.get(s.service) ?? [];
    list.push(s.endMs - s.startMs);
    lat.set(s.service, list);
  }
  const out = new Map<string, number>();
  for (const [k, v] of lat) if (v.length >= minN) out.set(k, v.sort((a, b) => a - b)[v.length >> 1]!);
  return out;
}

/**
 * A stretch holds a fault (see above) when some edge's gap is far off its day-wide median, or
 * some service's median request latency (over at least 5 requests) is more than 4x its day-wide
 * median and 50 ms above it.
 */
function visiblyFaulty(day: Day, fromMs: number, toMs: number): boolean {
  return visiblyFaultyInTime(day, fromMs, toMs) || missingEventIn(day, fromMs, toMs) !== undefined;
}

const dayEvents = new WeakMap<Day, { events: PatternEvent[]; pairs: SiblingPair[]; judged: Map<string, MissingEvent | undefined> }>();

/** An event of some service that normally comes with a sibling event is missing (missing-sibling.ts). */
function missingEventIn(day: Day, fromMs: number, toMs: number): MissingEvent | undefined {
  let d = dayEvents.get(day);
  if (d === undefined) {
    const events = patternEvents(day.logs, day.spans);
    dayEvents.set(day, (d = { events, pairs: siblingPairs(events, { sliceMs: SLICE_MS }), judged: new Map() }));
  }
  const k = `${fromMs}-${toMs}`;
  if (!d.judged.has(k)) d.judged.set(k, missingEvent(d.pairs, d.events.filter((e) => e.timeMs >= fromMs && e.timeMs < toMs), fromMs, toMs, { sliceMs: SLICE_MS }));
  return d.judged.get(k);
}

function visiblyFaultyInTime(day: Day, fromMs: number, toMs: number): boolean {
  let medians = dayGapMedians.get(day);
  if (medians === undefined) dayGapMedians.set(day, (medians = edgeGapMedians(day.spans)));
  let latency = dayLatencyMedians.get(day);
  if (latency === undefined) dayLatencyMedians.set(day, (latency = requestLatencyMedians(day.spans)));
  const spans = tracesIn(day, fromMs, toMs).flat();
  for (const [k, g] of edgeGapMedians(spans)) {
    const m = medians.get(k) ?? 0;
    if (g > 10 * m && g - m > 50) return true;
  }
  for (const [k, l] of requestLatencyMedians(spans, 5)) {
    const m = latency.get(k) ?? 0;
    if (l > 4 * m && l - m > 50) return true;
  }
  return false;
}

function decode(doc: unknown): Beat[] {
  return decodeTraceRequestObject(doc, { maxAttributesPerSpan: 128 }).beats;
}

function buildCase(day: Day, fault: Fault, keepOtlp: boolean, order: LeadInOrder): CaseInput {
  const beats: Beat[] = [];
  const logs: LogEvent[] = [];
  const traces: unknown[] = [];
  const others = day.faults.filter((f) => f !== fault);
  const stretches = others
    .map((f) => ({ fromMs: f.filesStartMs, toMs: f.injectMs - PRE_MARGIN_MS }))
    .filter((s) => s.toMs > s.fromMs && !visiblyFaulty(day, s.fromMs, s.toMs));
  const leadMs = stretches.reduce((sum, s) => sum + (s.toMs - s.fromMs), 0);
  for (const { stretch: s, shiftMs } of placeLeadIn(orderLeadIn(stretches, fault.filesStartMs, order), fault.filesStartMs)) {
    const doc = toOtlpTraces(tracesIn(day, s.fromMs, s.toMs), shiftMs);
    if (keepOtlp) traces.push(doc);
    for (const b of decode(doc)) beats.push(b);
    for (const e of logsIn(day, s.fromMs, s.toMs, shiftMs)) logs.push(e);
  }
  const doc = toOtlpTraces(tracesIn(day, fault.filesStartMs, fault.filesEndMs), 0);
  if (keepOtlp) traces.push(doc);
  let lastMs = -Infinity;
  for (const b of decode(doc)) {
    beats.push(b);
    if (b.startMs > lastMs) lastMs = b.startMs;
  }
  for (const e of logsIn(day, fault.filesStartMs, fault.filesEndMs, 0)) logs.push(e);
  return {
    fault,
    beats,
    logs,
    quietFromMs: fault.filesStartMs - leadMs + WARMUP_MS,
    quietToMs: fault.filesStartMs,
    // The three files often stop before their third minute ends (the next file is missing): in
    // the slices after the last span every service falls silent at once, and the incident that
    // opens on that silence is the end of the data, not the fault. The case ends with the last
    // slice the data fills (the partial slice holding the last span left out too).
    endMs: Math.min(fault.filesEndMs, Math.floor(lastMs / SLICE_MS) * SLICE_MS),
    ...(keepOtlp ? { otlp: { traces, logs } } : {}),
  };
}

interface CaseResult {
  fault: Fault;
  detected: boolean;
  rank: number; // 1-based rank of the faulty service in the fault-window incident the product lists first, 0 = absent
  /** The same in the fault-window incident that opened first (the rule before 2026-12-07 10:00). */
  rankFirstOpened: number;
  falseIncidents: number;
  quietMinutes: number;
  top: string[];
  incident?: Incident;
  /** Summaries of the anomalies of the false incidents (for --verbose). */
  falseWhy: string[];
  /** Not detected, but an incident opened after the data's last full slice (not counted: see buildCase). */
  afterData: boolean;
  /** --diagnose: the faulty service's strongest score per signal kind in the fault window, and incidents open when it began. */
  diagnosis?: string;
}

/**
 * Component replay for the grid: the IncidentEngine alone, slice by slice as analyzeBeats drives
 * it. Its incidents are the pipeline's (engine anomalies only join incidents, they never open
 * one); anomaly ids of the engine are missing.
 */
function replayIncidents(c: CaseInput, opts: IncidentEngineOptions, sliceMs: number): { incidents: Incident[]; anomalies: Anomaly[] } {
  const engine = new IncidentEngine({ ...opts, instanceTag: 'bench', graph: { sliceMs } });
  const beats = [...c.beats].sort((a, b) => a.startMs - b.startMs);
  const logs = [...c.logs].sort((a, b) => a.timeMs - b.timeMs);
  const anomalies = new Map<string, Anomaly>();
  let i = 0;
  let li = 0;
  let boundary = Math.floor(beats[0]!.startMs / sliceMs) * sliceMs + sliceMs;
  const end = c.endMs + 60_000;
  for (; boundary <= end; boundary += sliceMs) {
    const batch: Beat[] = [];
    while (i < beats.length && beats[i]!.startMs < boundary) batch.push(beats[i++]!);
    if (batch.length > 0) engine.observe(batch);
    const lb: LogEvent[] = [];
    while (li < logs.length && logs[li]!.timeMs < boundary) lb.push(logs[li++]!);
    if (lb.length > 0) engine.observeLogs(lb);
    for (const ch of engine.evaluate(boundary).anomalyChanges) anomalies.set(ch.anomaly.id, ch.anomaly);
  }
  return { incidents: engine.incidents(), anomalies: [...anomalies.values()] };
}

/** Per-case diagnostics: what the faulty service's signals did in the fault window. */
function diagnoser(c: CaseInput): { opts: IncidentEngineOptions; report: (incidents: Incident[]) => string } {
  const best = new Map<string, SignalScore>();
  let discovered = 0;
  const onSlice = (sl: SignalSlice): void => {
    if (sl.startMs < c.fault.injectMs || sl.startMs >= c.endMs) return;
    for (const s of sl.scores) {
      if (s.service !== c.fault.service && s.caller !== c.fault.service) continue;
      const k = s.caller === c.fault.service && s.kind === 'edge-gap' ? 'egress-gap' : s.kind;
      if ((best.get(k)?.z ?? -Infinity) < s.z) best.set(k, s);
      if (s.discovered && s.service === c.fault.service) discovered++;
    }
  };
  const report = (incidents: Incident[]): string => {
    const open = incidents.filter((i) => i.startMs < c.fault.filesStartMs && i.endMs >= c.fault.filesStartMs);
    const kinds = [...best]
      .sort((a, b) => b[1].z - a[1].z)
      .map(([k, s]) => `${k} z ${s.z.toFixed(1)}${s.label !== undefined ? ` (${s.direction} ${s.label.slice(0, 60)} ${s.observed.toFixed(0)}/${s.expected.toFixed(1)})` : ` (${s.observed.toFixed(1)} vs ${s.expected.toFixed(1)})`}`);
    return `    diagnose: ${discovered} discoveries on ${c.fault.service}; ${open.length} incident(s) already open at the case start${open.length > 0 ? ` (${open[0]!.rootCauses[0]?.service ?? '?'})` : ''}; strongest: ${kinds.slice(0, 4).join('; ')}`;
  };
  return { opts: { onSlice }, report };
}

async function runCase(c: CaseInput, baseOpts: IncidentEngineOptions, component = false, diagnose = false): Promise<CaseResult> {
  const config = ConfigSchema.parse({});
  const diag = diagnose ? diagnoser(c) : undefined;
  const opts = diag !== undefined ? { ...baseOpts, ...diag.opts } : baseOpts;
  const result = component
    ? replayIncidents(c, opts, config.detect.sliceMs)
    : await analyzeBeats([...c.beats], config, process.cwd(), [...c.logs], { ...opts, instanceTag: 'bench' });
  const inc = result.incidents;
  const falseOnes = inc.filter((i) => i.startMs >= c.quietFromMs && i.startMs < c.quietToMs);
  const falseIncidents = falseOnes.length;
  const byId = new Map(result.anomalies.map((a) => [a.id, a]));
  const falseWhy = falseOnes.map((i) => byId.get(i.anomalyIds[0] ?? '')?.summary ?? '?');
  // The product lists incidents best first (analyze --json, GET /api/v1/incidents); the case is
  // scored on the first incident of that list that opened while the case's files played.
  // An incident is stamped with the end of the slice that opened it: the last full slice's ends at
  // endMs and counts, the partial slice's (endMs + one slice) and later ones do not.
  const inWindow = inc.filter((i) => i.startMs >= c.fault.filesStartMs && i.startMs <= c.endMs);
  const first = inWindow[0];
  const top = first?.rootCauses.map((r) => r.service) ?? [];
  const idx = top.indexOf(c.fault.service);
  const opened = [...inWindow].sort((a, b) => a.startMs - b.startMs)[0];
  const idxOpened = opened?.rootCauses.findIndex((r) => r.service === c.fault.service) ?? -1;
  return {
    fault: c.fault,
    detected: first !== undefined,
    rank: idx < 0 ? 0 : idx + 1,
    rankFirstOpened: idxOpened < 0 ? 0 : idxOpened + 1,
    falseIncidents,
    quietMinutes: Math.max(0, c.quietToMs - c.quietFromMs) / 60_000,
    top,
    falseWhy,
    afterData: first === undefined && inc.some((i) => i.startMs > c.endMs && i.startMs < c.fault.filesEndMs),
    ...(first !== undefined ? { incident: first } : {}),
    ...(diag !== undefined ? { diagnosis: diag.report(inc) } : {}),
  };
}

interface Summary {
  n: number;
  detection: number;
  top1: number;
  top3: number;
  falsePerMin: number;
}

function summarise(rs: CaseResult[], firstOpened = false): Summary {
  const n = rs.length;
  const rankOf = (r: CaseResult): number => (firstOpened ? r.rankFirstOpened : r.rank);
  const quiet = rs.reduce((s, r) => s + r.quietMinutes, 0);
  return {
    n,
    detection: rs.filter((r) => r.detected).length / Math.max(1, n),
    top1: rs.filter((r) => rankOf(r) === 1).length / Math.max(1, n),
    top3: rs.filter((r) => rankOf(r) >= 1 && rankOf(r) <= 3).length / Math.max(1, n),
    falsePerMin: rs.reduce((s, r) => s + r.falseIncidents, 0) / Math.max(1e-9, quiet),
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)} %`;

function printTable(title: string, rs: CaseResult[], firstOpened = false): void {
  console.log(`\n${title}`);
  console.log(`${'fault type'.padEnd(16)} ${'cases'.padStart(5)} ${'detected'.padStart(9)} ${'top-1'.padStart(8)} ${'top-3'.padStart(8)} ${'false/quiet min'.padStart(16)}`);
  const types = [...new Set(rs.map((r) => r.fault.type))].sort();
  for (const t of [...types, 'overall']) {
    const s = summarise(t === 'overall' ? rs : rs.filter((r) => r.fault.type === t), firstOpened);
    console.log(`${t.padEnd(16)} ${String(s.n).padStart(5)} ${pct(s.detection).padStart(9)} ${pct(s.top1).padStart(8)} ${pct(s.top3).padStart(8)} ${s.falsePerMin.toFixed(3).padStart(16)}`);
  }
}

/** Where does the data shift: at inject_time (as UTC) or at inject_timestamp? */
function checkInjectTimes(days: Day[]): void {
  let agree = 0;
  let eightHours = 0;
  let other = 0;
  let timestampOutsideData = 0;
  for (const d of days) {
    const first = d.spans[0]?.startMs ?? 0;
    const last = d.spans[d.spans.length - 1]?.startMs ?? 0;
    for (const f of d.faults) {
      const diff = f.injectTimestampMs - f.injectMs;
      if (Math.abs(diff) < 1000) agree++;
      else if (Math.abs(Math.abs(diff) - 8 * 3600_000) <= 60_000) eightHours++;
      else other++;
      if (f.injectTimestampMs < first || f.injectTimestampMs > last) timestampOutsideData++;
    }
  }
  console.log(
    `inject_time vs inject_timestamp: ${agree} agree, ${eightHours} differ by 8 h (+-1 min), ${other} differ otherwise; ` +
      `${timestampOutsideData} timestamps fall outside the day's trace data, while every inject_time falls inside its own three files. ` +
      'inject_time (UTC) is used.',
  );
}

/** Mean duration of the faulty service's spans and its error logs, 30 s before vs after inject_time. */
function shiftEvidence(days: Day[]): void {
  let up = 0;
  let n = 0;
  for (const d of days) {
    for (const f of d.faults) {
      const fig = (from: number, to: number): number => {
        let s = 0;
        let c = 0;
        for (const x of d.spans) {
          if (x.service !== f.service || x.startMs < from || x.startMs >= to) continue;
          s += x.endMs - x.startMs;
          c++;
        }
        let e = 0;
        for (const l of d.logs) if (l.service === f.service && l.severityNumber >= 17 && l.timeMs >= from && l.timeMs < to) e++;
        return (c > 0 ? s / c : 0) + e * 1000;
      };
      n++;
      if (fig(f.injectMs, f.injectMs + 30_000) > fig(f.injectMs - 30_000, f.injectMs)) up++;
    }
  }
  console.log(`the faulty service's span time or error logs rise within 30 s after inject_time in ${up}/${n} faults`);
}

async function runAll(cases: CaseInput[], opts: IncidentEngineOptions, component = false, diagnose = false): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) out.push(await runCase(c, opts, component, diagnose));
  return out;
}

/** The leave-one-day-out grid: a few settings of the knobs that trade misses for false alarms. */
const GRID: Array<{ name: string; opts: IncidentEngineOptions }> = [
  { name: 'minZ 3', opts: { signals: { minZ: 3 } } },
  { name: 'minZ 4 (default)', opts: {} },
  { name: 'minZ 5', opts: { signals: { minZ: 5 } } },
  { name: 'minZ 7', opts: { signals: { minZ: 7 } } },
  { name: 'evidence of the strongest slice (sustain 1)', opts: { incidents: { evidence: { sustain: 1 } } } },
];

function objective(s: Summary): number {
  return s.top1 + s.detection - 4 * Math.max(0, s.falsePerMin - 0.05);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // --diagnose: per case, the faulty service's strongest signals in the fault window (implies --verbose).
  const diagnose = args.includes('--diagnose');
  const verbose = diagnose || args.includes('--verbose');
  // --only <type>: the cases of one fault type (for iterating on a subset).
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const lodo = !args.includes('--no-lodo');
  const writeDir = args.includes('--write') ? args[args.indexOf('--write') + 1] : undefined;
  const maxCases = args.includes('--cases') ? Number(args[args.indexOf('--cases') + 1]) : Infinity;
  // --component: replay through the IncidentEngine only (fast, for tuning); the default runs the
  // whole offline pipeline.
  const component = args.includes('--component');
  const root = resolve(repoRoot(), '..', 'shared', 'nezha', 'rca_data');
  if (!existsSync(root)) {
    console.log(`Nezha data not found at ${root} (expected <repo>/../shared/nezha/rca_data): benchmark skipped.`);
    process.exitCode = 1;
    return;
  }
  console.log(`reading ${root}`);
  const t0 = performance.now();
  const days = ['2023-01-29', '2023-01-30'].filter((d) => existsSync(join(root, d))).map((d) => loadDay(root, d));
  console.log(`loaded ${days.map((d) => `${d.name}: ${d.spans.length} spans, ${d.logs.length} log records, ${d.faults.length} faults`).join('; ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  checkInjectTimes(days);
  shiftEvidence(days);
  // --lead-in <order>: how the lead-in's stretches are ordered (rca/lead-in.ts; for comparing, the reported figures use the default).
  const order = (args.includes('--lead-in') ? args[args.indexOf('--lead-in') + 1] : 'wrap') as LeadInOrder;
  if (!LEAD_IN_ORDERS.includes(order)) throw new Error(`--lead-in: expected one of ${LEAD_IN_ORDERS.join(', ')}, got ${String(order)}`);
  const cases: CaseInput[] = [];
  for (const d of days) for (const f of d.faults) if (cases.length < maxCases && (only === undefined || f.type === only)) cases.push(buildCase(d, f, writeDir !== undefined, order));
  if (writeDir !== undefined) {
    mkdirSync(writeDir, { recursive: true });
    for (const c of cases) {
      const base = join(writeDir, `${c.fault.day}_${new Date(c.fault.injectMs).toISOString().slice(11, 19).replace(/:/g, '')}_${c.fault.type}`);
      writeFileSync(`${base}.traces.jsonl.gz`, gzipSync(c.otlp!.traces.map((t) => JSON.stringify(t)).join('\n')));
      writeFileSync(`${base}.logs.json.gz`, gzipSync(JSON.stringify(toOtlpLogs(c.otlp!.logs))));
    }
    console.log(`wrote ${cases.length} cases as OTLP/JSON to ${writeDir}`);
  }
  // As scored (CaseResult.quietMinutes): a lead-in shorter than the warm-up scores nothing, not less than nothing.
  const lead = cases.map((c) => Math.max(0, c.quietToMs - c.quietFromMs) / 60_000);
  const stretchOf = (f: Fault): [number, number] => [f.filesStartMs, f.injectMs - PRE_MARGIN_MS];
  const dropped = days.map((d) => `${d.faults.filter((f) => visiblyFaulty(d, ...stretchOf(f))).length}/${d.faults.length} on ${d.name}`).join(', ');
  console.log(`pre-injection stretches left out of the lead-ins (a fault already visible in them): ${dropped}`);
  const byEvents = days.flatMap((d) => d.faults.filter((f) => !visiblyFaultyInTime(d, ...stretchOf(f))).map((f) => ({ f, m: missingEventIn(d, ...stretchOf(f)) })));
  const onlyEvents = byEvents.filter((x) => x.m !== undefined);
  console.log(
    `  of these, left out only because an event that comes with a sibling event went missing: ${onlyEvents.length}` +
      onlyEvents.map(({ f, m }) => `\n    before ${f.day} ${new Date(f.injectMs).toISOString().slice(11, 19)}: ${m!.service} ${m!.pattern} absent while ${m!.sibling} came ${m!.siblingCount} times (share ${m!.share.toFixed(2)}, p ${m!.p.toExponential(1)})`).join(''),
  );
  console.log(
    `${cases.length} cases; lead-in spliced from the other faults' pre-injection seconds (order: ${order}), first ${WARMUP_MS / 60_000} min warm-up; ` +
      `${lead.reduce((a, b) => a + b, 0).toFixed(1)} fault-free minutes scored`,
  );
  const t1 = performance.now();
  // --signals '<json>': ServiceSignals options for this run (for exploring; the reported figures use none).
  const signals = args.includes('--signals') ? (JSON.parse(args[args.indexOf('--signals') + 1]!) as IncidentEngineOptions['signals']) : undefined;
  // --incidents '<json>': IncidentTracker options for this run (for exploring, likewise).
  const incidents = args.includes('--incidents') ? (JSON.parse(args[args.indexOf('--incidents') + 1]!) as IncidentEngineOptions['incidents']) : undefined;
  const results = await runAll(cases, { ...(signals !== undefined ? { signals } : {}), ...(incidents !== undefined ? { incidents } : {}) }, component, diagnose);
  const runS = (performance.now() - t1) / 1000;
  if (verbose) {
    for (const r of results) {
      console.log(
        `${r.fault.day} ${new Date(r.fault.injectMs).toISOString().slice(11, 19)} ${r.fault.type.padEnd(15)} ${r.fault.service.padEnd(30)} ` +
          `${r.detected ? `rank ${r.rank || '-'} (first opened: ${r.rankFirstOpened || '-'})` : r.afterData ? 'missed (an incident opened after the data ended)' : 'missed'}  false ${r.falseIncidents}  top: ${r.top.slice(0, 3).join(', ')}` +
          (r.incident ? `  | ${r.incident.rootCauses[0]?.reason ?? ''}` : ''),
      );
      for (const w of r.falseWhy.slice(0, 3)) console.log(`    false: ${w}`);
      if (r.diagnosis !== undefined) {
        console.log(r.diagnosis);
        for (const rc of r.incident?.rootCauses.slice(0, 3) ?? []) console.log(`    cause ${rc.service} ${rc.score}: ${rc.reason.slice(0, 240)}`);
      }
    }
  }
  printTable(`Nezha Train Ticket, default parameters (${component ? 'COMPONENT run: IncidentEngine only' : 'offline pipeline'}, traces + logs)`, results);
  printTable('the same, scored by the rule before 2026-12-07 (the fault-window incident that opened first)', results, true);
  const after = results.filter((r) => r.afterData);
  console.log(
    `cases whose only incident opened in the data's last, partial slice or after the data ended (not counted as detected): ${after.length}` +
      (after.length > 0 ? ` (${after.map((r) => `${r.fault.type} ${r.fault.service}`).join('; ')})` : ''),
  );
  console.log(`replay: ${cases.reduce((s, c) => s + c.beats.length, 0)} spans in ${runS.toFixed(1)} s`);
  if (!lodo || days.length < 2) return;
  console.log('\nleave-one-day-out: pick the grid setting with the best objective on one day, score it on the other (grid replayed through the IncidentEngine alone)');
  const perSetting: Array<{ name: string; byDay: Map<string, CaseResult[]> }> = [];
  for (const g of GRID) {
    const rs = g.name.includes('default') ? results : await runAll(cases, g.opts, true);
    const byDay = new Map<string, CaseResult[]>();
    for (const r of rs) byDay.set(r.fault.day, [...(byDay.get(r.fault.day) ?? []), r]);
    perSetting.push({ name: g.name, byDay });
  }
  const held: CaseResult[] = [];
  for (const d of days) {
    const other = days.find((x) => x !== d)!;
    const best = perSetting.reduce((a, b) => (objective(summarise(b.byDay.get(other.name) ?? [])) > objective(summarise(a.byDay.get(other.name) ?? [])) ? b : a));
    const scored = best.byDay.get(d.name) ?? [];
    const s = summarise(scored);
    console.log(`tuned on ${other.name} -> ${best.name}; scored on ${d.name}: detection ${pct(s.detection)}, top-1 ${pct(s.top1)}, top-3 ${pct(s.top3)}, ${s.falsePerMin.toFixed(3)} false/min`);
    held.push(...scored);
  }
  printTable('held-out (leave-one-day-out), pooled', held);
  printTable('held-out, scored by the rule before 2026-12-07 (the fault-window incident that opened first)', held, true);
}

await main();
