import type { Exemplar, Finding, Severity } from '../model/anomaly.js';
import { STATUS_ERROR, type Beat } from '../model/beat.js';
import { SEVERITY_ERROR, SEVERITY_WARN, type LogEvent } from '../model/log-event.js';
import type { LogDetectConfig } from '../config/sections/detect.js';
import { LogTemplateMiner, type TemplateMatch } from './log-templates.js';
import { clamp, logGamma, normalUpperTail } from './stats.js';
import { takeOldest, touchNewest, type RecencyEnds } from './recency-list.js';

/**
 * Detection on logs, the second signal next to spans. Records are mined into templates
 * (log-templates.ts); per (service, template) the detector keeps the counts of the newest
 * `horizonSlices` slices and a decayed per-slice baseline of older ones, in the engine's slice
 * width, and reports:
 *  - new-log-template: a WARN/ERROR template first seen after the service's logs were warm, while
 *    it keeps appearing and its first sighting is within the engine's window;
 *  - log-rate-surge: a template's horizon count well above its baseline (over-dispersed normal
 *    test), with thresholds divided by the template's severity weight, so error lines surge
 *    sooner than chatter;
 *  - log-rate-drop: a line seen in nearly every baseline slice that (nearly) stops while the rest
 *    of its service keeps logging: often the only trace of a failure that was caught and handled.
 * It also joins ERROR records with their spans by trace/span id (bounded in time and entries): a
 * span that carries no error status but logged an error is handed to the span detectors as
 * failed, with the log's template as its error (bindErrorLogs).
 * Pure and synchronous: time comes with the data, memory is bounded by the config's caps.
 */

export interface LogDetectorOptions {
  config: LogDetectConfig;
  sliceMs: number;
  /** Slices of the engine's window: a new template stays "new" while its first sighting is inside it. */
  windowSlices: number;
  baselineSlices: number;
  baselineMinSlices: number;
}

const MAX_DETAIL_TEXT = 500;
const EXEMPLARS_PER_TEMPLATE = 3;

/** Decayed per-slice count statistics (weight, sum, sum of squares, presence). */
class RateBaseline {
  weight = 0;
  sum = 0;
  squares = 0;
  present = 0;
  slices = 0;

  constructor(readonly decay: number) {}

  learn(count: number): void {
    const d = this.decay;
    this.weight = this.weight * d + 1;
    this.sum = this.sum * d + count;
    this.squares = this.squares * d + count * count;
    this.present = this.present * d + (count > 0 ? 1 : 0);
    this.slices++;
  }

  /** Learns `n` empty slices at once. */
  learnZeros(n: number): void {
    if (n <= 0) return;
    const f = Math.pow(this.decay, n);
    // Sum of a geometric series: the weight each of the n new slices adds, decayed.
    this.weight = this.weight * f + (1 - f) / (1 - this.decay);
    this.sum *= f;
    this.squares *= f;
    this.present *= f;
    this.slices += n;
  }

  get mean(): number {
    return this.weight > 0 ? this.sum / this.weight : 0;
  }
  get variance(): number {
    const m = this.mean;
    return this.weight > 0 ? Math.max(0, this.squares / this.weight - m * m) : 0;
  }
  get presence(): number {
    return this.weight > 0 ? this.present / this.weight : 0;
  }
}

/**
 * Per-slice record counts of a whole service for the last ACTIVITY_SLICES slices (never zeroed on
 * a roll, tagged with their slice index): tells a template's series whether its service logged
 * at all in a slice that leaves the horizon. A slice in which the service was silent says nothing
 * about whether a line should have appeared (no traffic, a gap between replayed files), so it is
 * not learnt.
 */
const ACTIVITY_SLICES = 64;
class ServiceActivity {
  private readonly counts = new Int32Array(ACTIVITY_SLICES);
  private readonly indices = new Float64Array(ACTIVITY_SLICES).fill(Number.NaN);

  add(index: number): void {
    const slot = mod(index, ACTIVITY_SLICES);
    if (this.indices[slot] !== index) {
      this.indices[slot] = index;
      this.counts[slot] = 0;
    }
    this.counts[slot]!++;
  }

  /** Records of the service in slice `index`; 0 when it was silent (or the slice is too old to know). */
  at(index: number): number {
    const slot = mod(index, ACTIVITY_SLICES);
    return this.indices[slot] === index ? this.counts[slot]! : 0;
  }
}

/** Counts of the newest slices of one series, as a ring; older slices go to its baseline. */
class HorizonCounts {
  readonly counts: Int32Array;
  /** Newest slice index rolled into this series. */
  head = NaN;
  readonly baseline: RateBaseline;
  /** Decayed highest horizon total seen while learning: a surge must go beyond the series' own bursts. */
  peak = 0;
  /** While set (an open surge or drop), leaving slices are not learned: the baseline stays what was normal. */
  frozen = false;
  frozenSlices = 0;

  constructor(
    slices: number,
    decay: number,
    /** First slice of the series: slices before it are not learned as zeros. */
    readonly firstIndex: number,
    /** Slices of the surge horizon, whose totals the burst peak is taken over. */
    private readonly peakSlices: number,
  ) {
    this.counts = new Int32Array(slices);
    this.baseline = new RateBaseline(decay);
    this.head = firstIndex;
  }

  /** Moves the newest slice to `to`, learning the slices that leave the ring (those in which the service logged). */
  roll(to: number, activity: ServiceActivity): void {
    const n = this.counts.length;
    if (!(to > this.head)) return;
    const steps = to - this.head;
    const real = Math.min(steps, n);
    for (let i = 1; i <= real; i++) {
      const idx = this.head + i;
      const slot = mod(idx, n);
      // The slice idx - n leaves; only learn it when the series already existed then.
      if (idx - n >= this.firstIndex && activity.at(idx - n) > 0) {
        if (this.frozen) this.frozenSlices++;
        else {
          // At this step the ring holds slices idx-n .. idx-1: the surge horizon ending at idx-1.
          this.peak = Math.max(this.peak * this.baseline.decay, this.windowBefore(idx - 1));
          this.baseline.learn(this.counts[slot]!);
        }
      }
      this.counts[slot] = 0;
    }
    // Slices head+1 .. to-n leave without ever having been in the ring: empty for this series;
    // learnt as zeros where the service did log.
    if (steps > n && !this.frozen) {
      let zeros = 0;
      for (let idx = Math.max(this.head + 1, this.firstIndex, to - n - ACTIVITY_SLICES + 1); idx <= to - n; idx++) if (activity.at(idx) > 0) zeros++;
      this.baseline.learnZeros(zeros);
    }
    this.head = to;
  }

  add(index: number, activity: ServiceActivity): boolean {
    if (index > this.head) this.roll(index, activity);
    if (index <= this.head - this.counts.length) return false;
    this.counts[mod(index, this.counts.length)]!++;
    return true;
  }

  /** Records in the peakSlices slices ending at slice `last` (while rolling, when the ring holds last-n+1 .. last). */
  private windowBefore(last: number): number {
    const n = this.counts.length;
    let t = 0;
    for (let k = 0; k < Math.min(this.peakSlices, n); k++) t += this.counts[mod(last - k, n)]!;
    return t;
  }

  /** Records in the newest `slices` slices (default: the whole ring). */
  total(slices = this.counts.length): number {
    const n = this.counts.length;
    let t = 0;
    for (let k = 0; k < Math.min(slices, n); k++) t += this.counts[mod(this.head - k, n)]!;
    return t;
  }
}

interface TemplateState {
  service: string;
  templateId: string;
  template: string;
  maxSeverity: number;
  severityText: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Created while its service's logs were warm: a candidate "new template". */
  novel: boolean;
  occurrences: number;
  series: HorizonCounts;
  /** The newest EXEMPLARS_PER_TEMPLATE records bound to a trace, as a ring (no object per record). */
  exemplarTraces: string[];
  exemplarSpans: string[];
  exemplarCount: number;
  /** Neighbours in the recency list (older = seen less recently). */
  older: TemplateState | undefined;
  newer: TemplateState | undefined;
}

interface ServiceState {
  firstIndex: number;
  series: HorizonCounts;
  activity: ServiceActivity;
}

interface ErrorLogWaiting {
  traceId: string;
  timeMs: number;
  service: string;
  template: string;
  templateId: string;
}

export class LogDetector {
  private readonly cfg: LogDetectConfig;
  private readonly sliceMs: number;
  private readonly windowMs: number;
  private readonly windowSlices: number;
  /** Ring length of every series: the longer of the surge and drop horizons. */
  private readonly ringSlices: number;
  private readonly minSlices: number;
  private readonly decay: number;
  readonly miner: LogTemplateMiner;
  /** Rate state by template id; recency (for eviction and evaluation order) is the list below. */
  private readonly templates = new Map<string, TemplateState>();
  /** Least and most recently seen templates: a seen template moves to `newest` (no map re-insert per record). */
  private readonly recency: RecencyEnds<TemplateState> = { oldest: undefined, newest: undefined };
  private readonly services = new Map<string, ServiceState>();
  /** ERROR records bound to a span, by span id, oldest first. */
  private readonly waiting = new Map<string, ErrorLogWaiting>();
  private newestMs = -Infinity;
  /** The service state looked up last (see service()). */
  private lastServiceName: string | undefined;
  private lastService: ServiceState | undefined;
  /** Records dropped because they were older than the horizon; templates evicted from rate state. */
  lateRecords = 0;
  evictedTemplates = 0;
  /** Spans marked failed by an ERROR log although they carried no error status. */
  spansMarkedFailed = 0;
  records = 0;
  /**
   * What observe() mined last: the records' templates by position, and the array they came in
   * (until templatesOf() hands the templates out, so a large request's records do not outlive it
   * here; a WeakRef would keep them for the rest of the job instead).
   */
  private readonly matches: TemplateMatch[] = [];
  private matchedEvents: readonly LogEvent[] | undefined;

  constructor(opts: LogDetectorOptions) {
    this.cfg = opts.config;
    this.sliceMs = opts.sliceMs;
    this.windowMs = opts.windowSlices * opts.sliceMs;
    this.windowSlices = opts.windowSlices;
    this.ringSlices = Math.max(opts.config.horizonSlices, opts.config.dropHorizonSlices);
    this.minSlices = opts.baselineMinSlices;
    this.decay = 1 - 1 / Math.max(2, opts.baselineSlices);
    this.miner = new LogTemplateMiner({
      similarity: this.cfg.similarity,
      prefixTokens: this.cfg.prefixTokens,
      maxTemplatesPerService: this.cfg.maxTemplatesPerService,
      maxServices: this.cfg.maxServices,
    });
  }

  /** Mines and counts records. */
  observe(events: readonly LogEvent[]): void {
    const matches = this.matches;
    matches.length = 0;
    this.matchedEvents = events;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const m = this.miner.add(e.service, e.body, e.bodyShape);
      matches.push(m);
      const severity = e.severityNumber;
      this.records++;
      const index = Math.floor(e.timeMs / this.sliceMs);
      if (!Number.isFinite(index)) {
        this.lateRecords++;
        continue;
      }
      const service = this.service(e.service, index);
      if (index <= service.series.head - this.ringSlices) {
        this.lateRecords++;
        continue;
      }
      service.activity.add(index);
      service.series.add(index, service.activity);
      const t = this.template(e, m.templateId, m.template, m.created, index, service);
      t.series.add(index, service.activity);
      t.template = m.template;
      t.occurrences++;
      if (e.timeMs > t.lastSeenMs) t.lastSeenMs = e.timeMs;
      if (severity > t.maxSeverity) {
        t.maxSeverity = severity;
        t.severityText = e.severityText;
      }
      if (e.traceId !== '') {
        const slot = t.exemplarCount++ % EXEMPLARS_PER_TEMPLATE;
        t.exemplarTraces[slot] = e.traceId;
        t.exemplarSpans[slot] = e.spanId;
      }
      if (this.cfg.markSpansFailed && severity >= SEVERITY_ERROR && e.spanId !== '') this.wait(e, m.templateId, m.template);
    }
  }

  /**
   * The template each record of `events` ended in, by position, when `events` is the very array
   * the last observe() call mined (the service graph takes them instead of mining every record a
   * second time); undefined otherwise, and for every call after the first (they are handed out once).
   */
  templatesOf(events: readonly LogEvent[]): readonly TemplateMatch[] | undefined {
    if (events !== this.matchedEvents || this.matches.length !== events.length) return undefined;
    this.matchedEvents = undefined;
    return this.matches;
  }

  /**
   * Marks beats failed whose span logged an ERROR record but carries no error itself: the beat
   * gets an error named after the log template (type "ErrorLog", fingerprint from the template
   * id), which the span detectors then count like any other. Call before the beats are observed.
   */
  bindErrorLogs(beats: readonly Beat[]): void {
    if (this.waiting.size === 0) return;
    for (const beat of beats) {
      if (beat.status === STATUS_ERROR || beat.error !== undefined) continue;
      const w = this.waiting.get(beat.spanId);
      if (w === undefined || w.traceId !== beat.traceId) continue;
      if (Math.abs(w.timeMs - beat.startMs) > this.cfg.joinHorizonMs + beat.durationMs) continue;
      beat.error = { type: 'ErrorLog', message: truncate(w.template, MAX_DETAIL_TEXT), topFrame: '', stacktrace: '', fingerprint: `log-${fnv1a(w.templateId)}` };
      this.spansMarkedFailed++;
    }
  }

  /** Findings at data time nowMs (a slice boundary): rolls every series to the newest full slice. */
  evaluate(nowMs: number): Finding[] {
    const head = Math.floor((nowMs - 1) / this.sliceMs);
    this.expireWaiting(nowMs);
    for (const s of this.services.values()) s.series.roll(head, s.activity);
    const findings: Finding[] = [];
    const H = this.cfg.horizonSlices;
    const windowStartMs = (head - H + 1) * this.sliceMs;
    for (let t = this.recency.oldest; t !== undefined; t = t.newer) {
      const service = this.services.get(t.service);
      if (service === undefined) continue;
      t.series.roll(head, service.activity);
      const observed = t.series.total(H);
      const f =
        this.newTemplateFinding(t, observed, nowMs, windowStartMs) ??
        this.surgeFinding(t, observed, nowMs, windowStartMs) ??
        this.dropFinding(t, service, nowMs);
      const series = t.series;
      // Freeze the baseline while a surge or drop lasts, but not forever: a lasting change of level
      // becomes the new normal after a window.
      series.frozen = f !== undefined && f.subtype !== 'new-log-template' && series.frozenSlices < this.windowSlices;
      if (!series.frozen && f === undefined) series.frozenSlices = 0;
      if (f !== undefined) findings.push(f);
    }
    return findings;
  }

  /** Templates with rate state, for figures and tests. */
  get trackedTemplates(): number {
    return this.templates.size;
  }

  /** Error records waiting for their span. */
  get waitingErrorLogs(): number {
    return this.waiting.size;
  }

  // internals

  private service(name: string, index: number): ServiceState {
    // Records come in runs of one service: the last one looked up needs no map lookup.
    if (name === this.lastServiceName && this.lastService !== undefined) return this.lastService;
    let s = this.services.get(name);
    if (s === undefined) {
      if (this.services.size >= this.cfg.maxServices) {
        const oldest = this.services.keys().next().value!;
        this.services.delete(oldest);
      }
      s = { firstIndex: index, series: new HorizonCounts(this.ringSlices, this.decay, index, this.cfg.horizonSlices), activity: new ServiceActivity() };
      this.services.set(name, s);
    }
    // Only set after any eviction above, so the remembered state is always one still in the map.
    this.lastServiceName = name;
    this.lastService = s;
    return s;
  }

  /** The service has logged for long enough that an unseen template is news. */
  private warm(service: ServiceState): boolean {
    return service.series.baseline.slices >= this.minSlices;
  }

  private template(e: LogEvent, templateId: string, text: string, created: boolean, index: number, service: ServiceState): TemplateState {
    let t = this.templates.get(templateId);
    if (t !== undefined) {
      touchNewest(this.recency, t);
      return t;
    }
    if (this.templates.size >= this.cfg.maxTrackedTemplates) {
      this.templates.delete(takeOldest(this.recency)!.templateId);
      this.evictedTemplates++;
    }
    // A template the miner knew before (its rate state was evicted) starts a fresh baseline but is
    // not new; one the miner just created is new once the service is warm.
    const first = created ? index : Math.max(service.firstIndex, index - this.cfg.horizonSlices);
    t = {
      service: e.service,
      templateId,
      template: text,
      maxSeverity: 0,
      severityText: '',
      firstSeenMs: e.timeMs,
      lastSeenMs: e.timeMs,
      novel: created && this.warm(service),
      occurrences: 0,
      series: new HorizonCounts(this.ringSlices, this.decay, first, this.cfg.horizonSlices),
      exemplarTraces: [],
      exemplarSpans: [],
      exemplarCount: 0,
      older: undefined,
      newer: undefined,
    };
    this.templates.set(templateId, t);
    touchNewest(this.recency, t);
    return t;
  }

  private newTemplateFinding(t: TemplateState, observed: number, nowMs: number, windowStartMs: number): Finding | undefined {
    if (!t.novel) return undefined;
    if (nowMs - t.firstSeenMs > this.windowMs) {
      t.novel = false;
      return undefined;
    }
    if (observed === 0 || t.maxSeverity < this.cfg.newTemplateMinSeverity) return undefined;
    const error = t.maxSeverity >= SEVERITY_ERROR;
    return this.finding(t, 'new-log-template', error ? 'high' : 'medium', error ? 'error' : 'behavioral', nowMs, windowStartMs, {
      summary: `${t.service} new ${error ? 'error' : 'warning'} log line: ${truncate(t.template, 120)}`,
      observed: { occurrences: observed, firstSeenMs: t.firstSeenMs },
      expected: { occurrences: 0 },
      confidence: 0.7,
    });
  }

  private weight(t: TemplateState): number {
    if (t.maxSeverity >= SEVERITY_ERROR) return this.cfg.errorWeight;
    if (t.maxSeverity >= SEVERITY_WARN) return Math.max(1, this.cfg.errorWeight / 2);
    return 1;
  }

  private surgeFinding(t: TemplateState, observed: number, nowMs: number, windowStartMs: number): Finding | undefined {
    const b = t.series.baseline;
    if (b.slices < this.minSlices) return undefined;
    const w = this.weight(t);
    const H = this.cfg.horizonSlices;
    const expected = H * b.mean;
    const minCount = Math.max(2, Math.ceil(this.cfg.surgeMinCount / w));
    const ratio = Math.max(1.5, this.cfg.surgeRatio / w);
    if (t.maxSeverity < this.cfg.surgeMinSeverity) return undefined;
    if (observed < minCount || observed < ratio * expected || observed <= t.series.peak) return undefined;
    // Over-dispersion: the slices' own variance when it exceeds the Poisson one; a floor of one
    // record per horizon keeps a silent template from making any single line significant.
    const variance = H * Math.max(b.variance, b.mean, 1 / H);
    const z = (observed - expected) / Math.sqrt(variance);
    const p = normalUpperTail(z);
    if (p >= this.cfg.significance) return undefined;
    const error = t.maxSeverity >= SEVERITY_ERROR;
    const factor = expected > 0 ? observed / expected : observed;
    const level = (error ? 1 : 0) + (factor >= 10 ? 2 : factor >= 4 ? 1 : 0);
    return this.finding(t, 'log-rate-surge', (['low', 'medium', 'high', 'critical'] as const)[clamp(level, 0, 3)]!, error ? 'error' : 'behavioral', nowMs, windowStartMs, {
      summary: `${t.service} log line ${expected > 0 ? `${factor.toFixed(1)}x` : 'surged'} (${observed} vs ~${expected.toFixed(1)} per ${H} slices): ${truncate(t.template, 120)}`,
      observed: { count: observed },
      expected: { count: round(expected) },
      confidence: clamp(0.5 + 0.5 * Math.min(1, b.slices / (2 * this.minSlices)) * Math.min(1, Math.log10(1 / Math.max(p, 1e-300)) / 8), 0, 1),
      pValue: p,
    });
  }

  private dropFinding(t: TemplateState, service: ServiceState, nowMs: number): Finding | undefined {
    const b = t.series.baseline;
    if (b.slices < this.minSlices || b.presence < this.cfg.dropMinPresence) return undefined;
    const H = this.cfg.dropHorizonSlices;
    const head = t.series.head;
    // Only slices in which the service logged count: a silent service is not a line that stopped.
    let active = 0;
    for (let k = 0; k < H; k++) if (service.activity.at(head - k) > 0) active++;
    if (active < H) return undefined;
    const observed = t.series.total(H);
    const windowStartMs = (head - H + 1) * this.sliceMs;
    const expected = H * b.mean;
    if (observed > this.cfg.dropRatio * expected) return undefined;
    // The rest of the service must still be logging: a service that went quiet as a whole (or the
    // end of a replay) is not a line that stopped.
    const serviceExpected = H * service.series.baseline.mean;
    const rest = service.series.total(H) - observed;
    if (rest < 0.5 * (serviceExpected - expected) || rest <= 0) return undefined;
    const p = poissonLowerTail(observed, expected);
    if (p >= this.cfg.significance) return undefined;
    return this.finding(t, 'log-rate-drop', 'medium', 'behavioral', nowMs, windowStartMs, {
      summary: `${t.service} expected log line stopped (${observed} vs ~${expected.toFixed(1)} per ${H} slices): ${truncate(t.template, 120)}`,
      observed: { count: observed, lastSeenMs: t.lastSeenMs },
      expected: { count: round(expected) },
      confidence: clamp(0.5 + 0.5 * b.presence * Math.min(1, b.slices / (2 * this.minSlices)), 0, 1),
      pValue: p,
    });
  }

  private finding(
    t: TemplateState,
    subtype: 'new-log-template' | 'log-rate-surge' | 'log-rate-drop',
    severity: Severity,
    type: 'error' | 'behavioral',
    nowMs: number,
    windowStartMs: number,
    f: { summary: string; observed: Record<string, number>; expected: Record<string, number>; confidence: number; pValue?: number },
  ): Finding {
    const details: Record<string, string | number | boolean> = {
      // Telemetry text: sinks escape it for their context (see docs/architecture.md, untrusted text).
      template: truncate(t.template, MAX_DETAIL_TEXT),
      templateId: t.templateId,
      logSeverity: t.maxSeverity,
      occurrences: t.occurrences,
    };
    if (t.severityText !== '') details['logSeverityText'] = truncate(t.severityText, 32);
    if (f.pValue !== undefined) details['pValue'] = f.pValue;
    return {
      key: `log:${subtype === 'new-log-template' ? 'new' : subtype === 'log-rate-surge' ? 'surge' : 'drop'}:${t.service}:${t.templateId}`,
      type,
      subtype,
      severity,
      confidence: f.confidence,
      service: t.service,
      windowStartMs,
      windowEndMs: nowMs,
      summary: f.summary,
      observed: f.observed,
      expected: f.expected,
      details,
      exemplars: exemplarsOf(t),
    };
  }

  private wait(e: LogEvent, templateId: string, template: string): void {
    if (this.waiting.size >= this.cfg.maxJoinEntries) {
      const oldest = this.waiting.keys().next().value!;
      this.waiting.delete(oldest);
    }
    this.waiting.delete(e.spanId);
    this.waiting.set(e.spanId, { traceId: e.traceId, timeMs: e.timeMs, service: e.service, template, templateId });
    if (e.timeMs > this.newestMs) this.newestMs = e.timeMs;
  }

  /** Drops waiting error logs older than the join horizon (insertion order is about time order). */
  private expireWaiting(nowMs: number): void {
    const limit = Math.max(nowMs, this.newestMs) - this.cfg.joinHorizonMs;
    for (const [spanId, w] of this.waiting) {
      if (w.timeMs >= limit) break;
      this.waiting.delete(spanId);
    }
  }
}

/** A template's exemplars, oldest first (the order they were seen in). */
function exemplarsOf(t: TemplateState): Exemplar[] {
  const n = Math.min(t.exemplarCount, EXEMPLARS_PER_TEMPLATE);
  const out: Exemplar[] = [];
  for (let k = t.exemplarCount - n; k < t.exemplarCount; k++) {
    const slot = k % EXEMPLARS_PER_TEMPLATE;
    out.push({ traceId: t.exemplarTraces[slot]!, spanId: t.exemplarSpans[slot]! });
  }
  return out;
}

/** P(X <= k) for X ~ Poisson(lambda). */
export function poissonLowerTail(k: number, lambda: number): number {
  if (lambda <= 0) return 1;
  let sum = 0;
  for (let i = 0; i <= Math.floor(k); i++) sum += Math.exp(-lambda + i * Math.log(lambda) - logGamma(i + 1));
  return Math.min(1, sum);
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

/** 32-bit FNV-1a of a string, as 8 hex digits: a short stable fingerprint. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
