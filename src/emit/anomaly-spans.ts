import {
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  RandomIdGenerator,
  type IdGenerator,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { createHash } from 'node:crypto';
import type { Anomaly, AnomalyChange } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';

export interface AnomalySpanEmitterOptions {
  /** OTLP/gRPC endpoint, e.g. http://127.0.0.1:4317 (emit.otlp.endpoint). */
  endpoint: string;
  serviceName: string;
  /** Jaeger UI base URL; spans then carry a link to their own trace. */
  jaegerUrl?: string;
  /** Replace the OTLP exporter (tests, or a different transport). */
  exporter?: SpanExporter;
  /** BatchSpanProcessor delay; spans are few, so a short delay keeps Jaeger current. */
  scheduledDelayMillis?: number;
}

const TRACER_NAME = 'self-healing.anomalies';
/** Anomalies whose root span this process emitted; bounded like everything else. */
const MAX_TRACKED = 10_000;

function hexDigest(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * Every anomaly gets its own trace with ids derived from the anomaly id, so the heal stages (and
 * a restarted process) can attach spans to it without any shared state.
 */
export function anomalySpanContext(anomalyId: string): SpanContext {
  return {
    traceId: hexDigest(`anomaly-trace:${anomalyId}`, 32),
    spanId: hexDigest(`anomaly-span:${anomalyId}`, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: false,
  };
}

/** A parent context for spans about this anomaly: `tracer.startSpan(name, opts, anomalyParentContext(id))`. */
export function anomalyParentContext(anomalyId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, anomalySpanContext(anomalyId));
}

/** Jaeger UI address of the anomaly's trace. */
export function anomalyTraceUrl(jaegerUrl: string, anomalyId: string): string {
  return `${jaegerUrl.replace(/\/+$/, '')}/trace/${anomalySpanContext(anomalyId).traceId}`;
}

export function anomalySpanName(a: Anomaly): string {
  return `anomaly ${a.type}/${a.subtype} ${a.handler ?? a.sequence ?? a.service}`;
}

/** Lets one root span take the derived ids; everything else gets random ones. */
class AnomalyIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  next: SpanContext | undefined;

  // The tracer asks for the span id before the trace id; the caller clears `next` afterwards.
  generateTraceId(): string {
    return this.next?.traceId ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.next?.spanId ?? this.random.generateSpanId();
  }
}

export function anomalyAttributes(a: Anomaly): Attributes {
  const attrs: Attributes = {
    'anomaly.id': a.id,
    'anomaly.key': a.key,
    'anomaly.type': a.type,
    'anomaly.subtype': a.subtype,
    'anomaly.severity': a.severity,
    'anomaly.confidence': a.confidence,
    'anomaly.state': a.state,
    'anomaly.service': a.service,
    'anomaly.summary': a.summary,
    'anomaly.window.start_ms': a.windowStartMs,
    'anomaly.window.end_ms': a.windowEndMs,
    'anomaly.first_seen_ms': a.firstSeenMs,
    'anomaly.last_seen_ms': a.lastSeenMs,
  };
  if (a.handler !== undefined) attrs['anomaly.handler'] = a.handler;
  if (a.sequence !== undefined) attrs['anomaly.sequence'] = a.sequence;
  if (a.resolvedMs !== undefined) attrs['anomaly.resolved_ms'] = a.resolvedMs;
  for (const [k, v] of Object.entries(a.observed)) attrs[`anomaly.observed.${k}`] = v;
  for (const [k, v] of Object.entries(a.expected)) attrs[`anomaly.expected.${k}`] = v;
  for (const [k, v] of Object.entries(a.details)) attrs[`anomaly.details.${k}`] = v;
  return attrs;
}

/** Links to the exemplar runs, each saying why it was picked. */
export function exemplarLinks(a: Anomaly): Link[] {
  const links: Link[] = [];
  for (const [i, ex] of a.exemplars.entries()) {
    if (!/^[0-9a-f]{32}$/i.test(ex.traceId) || !/^[0-9a-f]{16}$/i.test(ex.spanId)) continue;
    const attributes: Attributes = { 'anomaly.link.rank': i + 1 };
    let reason = `exemplar of ${a.type}/${a.subtype}`;
    if (ex.durationMs !== undefined) {
      attributes['exemplar.duration_ms'] = ex.durationMs;
      const p95 = a.expected['p95Ms'];
      reason = `slow run: ${ex.durationMs} ms` + (p95 === undefined ? '' : ` (expected p95 ${p95} ms)`);
    }
    if (ex.errorFingerprint !== undefined) {
      attributes['exemplar.error_fingerprint'] = ex.errorFingerprint;
      reason = `failing run: error ${ex.errorFingerprint}`;
    }
    attributes['anomaly.link.reason'] = reason;
    links.push({
      context: { traceId: ex.traceId.toLowerCase(), spanId: ex.spanId.toLowerCase(), traceFlags: TraceFlags.SAMPLED, isRemote: true },
      attributes,
    });
  }
  return links;
}

function addDiagnosisEvents(span: Span, d: Diagnosis, at: Date): void {
  span.addEvent(
    'diagnosis.root_cause',
    {
      'diagnosis.id': d.id,
      'diagnosis.cause': d.rootCause.cause,
      'diagnosis.description': d.rootCause.description,
      'diagnosis.score': d.rootCause.score,
      'diagnosis.evidence': d.rootCause.evidence,
      'diagnosis.impact.traffic_share': d.impact.trafficShare,
      'diagnosis.impact.affected_runs': d.impact.affectedRuns,
    },
    at,
  );
  for (const [i, h] of d.hypotheses.entries()) {
    span.addEvent(
      'diagnosis.hypothesis',
      {
        'hypothesis.rank': i + 1,
        'hypothesis.cause': h.cause,
        'hypothesis.description': h.description,
        'hypothesis.score': h.score,
        'hypothesis.evidence': h.evidence,
      },
      at,
    );
  }
  for (const fix of d.recommendedFixes) span.addEvent('diagnosis.recommended_fix', { 'fix.kind': fix }, at);
}

/**
 * Emits one span per anomaly (its own trace, ids from anomalySpanContext) so Jaeger shows the
 * anomaly next to the runs it links to; later changes (updated, resolved, a new diagnosis)
 * become child spans in the same trace, as do the heal stages' spans.
 */
export class AnomalySpanEmitter {
  private readonly provider: BasicTracerProvider;
  private readonly ids = new AnomalyIdGenerator();
  private readonly tracer: Tracer;
  private readonly emitted = new Set<string>();

  constructor(private readonly opts: AnomalySpanEmitterOptions) {
    const exporter = opts.exporter ?? new OTLPTraceExporter({ url: opts.endpoint });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName }),
      idGenerator: this.ids,
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: opts.scheduledDelayMillis ?? 1000 })],
    });
    this.tracer = this.provider.getTracer(TRACER_NAME);
  }

  /** The tracer anomaly spans use; heal stages may share it (and its exporter). */
  getTracer(): Tracer {
    return this.tracer;
  }

  /** The anomaly span's context when this emitter has emitted it, else undefined. */
  spanContextFor(anomalyId: string): SpanContext | undefined {
    return this.emitted.has(anomalyId) ? anomalySpanContext(anomalyId) : undefined;
  }

  emit(change: AnomalyChange, diagnosis?: Diagnosis): void {
    const a = change.anomaly;
    if (!this.emitted.has(a.id)) this.emitRoot(a, diagnosis);
    else this.emitChange(change, diagnosis);
  }

  private emitRoot(a: Anomaly, diagnosis: Diagnosis | undefined): void {
    const start = new Date(a.windowStartMs);
    const end = new Date(Math.max(a.windowEndMs, a.windowStartMs));
    const attributes = anomalyAttributes(a);
    if (this.opts.jaegerUrl !== undefined) attributes['anomaly.trace_url'] = anomalyTraceUrl(this.opts.jaegerUrl, a.id);
    this.ids.next = anomalySpanContext(a.id);
    let span: Span;
    try {
      span = this.tracer.startSpan(anomalySpanName(a), { startTime: start, attributes, links: exemplarLinks(a), root: true }, ROOT_CONTEXT);
    } finally {
      this.ids.next = undefined;
    }
    if (diagnosis !== undefined) addDiagnosisEvents(span, diagnosis, end);
    this.setStatus(span, a);
    span.end(end);
    this.remember(a.id);
  }

  private emitChange(change: AnomalyChange, diagnosis: Diagnosis | undefined): void {
    const a = change.anomaly;
    const name = change.kind === 'opened' ? (diagnosis === undefined ? 'anomaly.opened' : 'anomaly.diagnosed') : `anomaly.${change.kind}`;
    const at = new Date(change.kind === 'resolved' ? (a.resolvedMs ?? a.lastSeenMs) : a.lastSeenMs);
    const span = this.tracer.startSpan(
      name,
      { startTime: at, attributes: anomalyAttributes(a), links: change.kind === 'updated' ? exemplarLinks(a) : [] },
      anomalyParentContext(a.id),
    );
    if (diagnosis !== undefined) addDiagnosisEvents(span, diagnosis, at);
    if (change.kind !== 'resolved') this.setStatus(span, a);
    span.end(at);
  }

  private setStatus(span: Span, a: Anomaly): void {
    if (a.severity === 'high' || a.severity === 'critical') span.setStatus({ code: SpanStatusCode.ERROR, message: a.summary });
  }

  private remember(id: string): void {
    this.emitted.add(id);
    if (this.emitted.size > MAX_TRACKED) {
      const oldest = this.emitted.values().next().value;
      if (oldest !== undefined) this.emitted.delete(oldest);
    }
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}
