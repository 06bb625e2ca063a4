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
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
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
import { VERSION } from '../version.js';
import { CountingExporter, type ExportCounters } from './counting-exporter.js';
import type { Logger } from './logger.js';

export interface AnomalySpanEmitterOptions {
  /** Exact OTLP URL for the protocol: http://jaeger:4317 for grpc, http://jaeger:4318/v1/traces for http/protobuf (see emitTarget). */
  endpoint: string;
  /** OTLP transport (default grpc). */
  protocol?: 'grpc' | 'http/protobuf';
  serviceName: string;
  /** Extra resource attributes (emit.resourceAttributes, from OTEL_RESOURCE_ATTRIBUTES). */
  resourceAttributes?: Record<string, string>;
  /** Counts exported spans and failed batches; failures are logged with backoff through `log`. */
  counters?: ExportCounters;
  log?: Logger;
  /** Jaeger UI base URL; spans then carry a link to their own trace. */
  jaegerUrl?: string;
  /** Replace the OTLP exporter (tests, or a different transport). */
  exporter?: SpanExporter;
  /** BatchSpanProcessor delay; spans are few, so a short delay keeps Jaeger current. */
  scheduledDelayMillis?: number;
}

/** Instrumentation scope of everything the sidecar emits about anomalies, incidents and healing. */
export const SCOPE_NAME = 'self-healing';
/** Semantic-conventions release whose names the spans use (service.name, error.type, exception.*). */
export const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.26.0';
/** Namespace of the attributes with no semantic convention (docs/jaeger.md lists them). */
export const ATTR_NS = 'self_healing';
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

/** Low-cardinality by construction: type and subtype are closed enums; the target is an attribute. */
export function anomalySpanName(a: Anomaly): string {
  return `anomaly ${a.type}/${a.subtype}`;
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

/**
 * Attribute types stay the same from span to span: times are integer milliseconds, the
 * confidence an integer percentage; observed/expected figures are numbers as detected.
 */
export function anomalyAttributes(a: Anomaly): Attributes {
  const ns = `${ATTR_NS}.anomaly`;
  const attrs: Attributes = {
    [`${ns}.id`]: a.id,
    [`${ns}.key`]: a.key,
    [`${ns}.type`]: a.type,
    [`${ns}.subtype`]: a.subtype,
    [`${ns}.severity`]: a.severity,
    [`${ns}.confidence_pct`]: Math.round(a.confidence * 100),
    [`${ns}.state`]: a.state,
    [`${ns}.service`]: a.service,
    [`${ns}.summary`]: a.summary,
    [`${ns}.window.start_ms`]: Math.round(a.windowStartMs),
    [`${ns}.window.end_ms`]: Math.round(a.windowEndMs),
    [`${ns}.first_seen_ms`]: Math.round(a.firstSeenMs),
    [`${ns}.last_seen_ms`]: Math.round(a.lastSeenMs),
  };
  if (a.handler !== undefined) attrs[`${ns}.handler`] = a.handler;
  if (a.sequence !== undefined) attrs[`${ns}.sequence`] = a.sequence;
  if (a.resolvedMs !== undefined) attrs[`${ns}.resolved_ms`] = Math.round(a.resolvedMs);
  const errorType = a.details['errorType'] ?? a.details['exceptionType'];
  if (a.type === 'error' && typeof errorType === 'string' && errorType !== '') attrs['error.type'] = errorType;
  for (const [k, v] of Object.entries(a.observed)) attrs[`${ns}.observed.${k}`] = v;
  for (const [k, v] of Object.entries(a.expected)) attrs[`${ns}.expected.${k}`] = v;
  for (const [k, v] of Object.entries(a.details)) attrs[`${ns}.details.${k}`] = v;
  return attrs;
}

/** Links to the exemplar runs, each saying why it was picked. */
export function exemplarLinks(a: Anomaly): Link[] {
  const links: Link[] = [];
  for (const [i, ex] of a.exemplars.entries()) {
    if (!/^[0-9a-f]{32}$/i.test(ex.traceId) || !/^[0-9a-f]{16}$/i.test(ex.spanId)) continue;
    const attributes: Attributes = { [`${ATTR_NS}.link.rank`]: i + 1 };
    let reason = `exemplar of ${a.type}/${a.subtype}`;
    if (ex.durationMs !== undefined) {
      attributes[`${ATTR_NS}.exemplar.duration_ms`] = ex.durationMs;
      const p95 = a.expected['p95Ms'];
      reason = `slow run: ${ex.durationMs} ms` + (p95 === undefined ? '' : ` (expected p95 ${p95} ms)`);
    }
    if (ex.errorFingerprint !== undefined) {
      attributes[`${ATTR_NS}.exemplar.error_fingerprint`] = ex.errorFingerprint;
      reason = `failing run: error ${ex.errorFingerprint}`;
    }
    attributes[`${ATTR_NS}.link.reason`] = reason;
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
      'self_healing.diagnosis.id': d.id,
      'self_healing.diagnosis.cause': d.rootCause.cause,
      'self_healing.diagnosis.description': d.rootCause.description,
      'self_healing.diagnosis.score': d.rootCause.score,
      'self_healing.diagnosis.evidence': d.rootCause.evidence,
      'self_healing.diagnosis.impact.traffic_share': d.impact.trafficShare,
      'self_healing.diagnosis.impact.affected_runs': d.impact.affectedRuns,
    },
    at,
  );
  for (const [i, h] of d.hypotheses.entries()) {
    span.addEvent(
      'diagnosis.hypothesis',
      {
        'self_healing.hypothesis.rank': i + 1,
        'self_healing.hypothesis.cause': h.cause,
        'self_healing.hypothesis.description': h.description,
        'self_healing.hypothesis.score': h.score,
        'self_healing.hypothesis.evidence': h.evidence,
      },
      at,
    );
  }
  for (const fix of d.recommendedFixes) span.addEvent('diagnosis.recommended_fix', { 'self_healing.fix.kind': fix }, at);
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
    let exporter: SpanExporter =
      opts.exporter ?? (opts.protocol === 'http/protobuf' ? new ProtoTraceExporter({ url: opts.endpoint }) : new GrpcTraceExporter({ url: opts.endpoint }));
    if (opts.counters !== undefined && opts.log !== undefined) exporter = new CountingExporter(exporter, opts.counters, opts.log, opts.endpoint);
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        ...opts.resourceAttributes,
        'service.name': opts.serviceName,
        'service.version': VERSION,
      }),
      idGenerator: this.ids,
      spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: opts.scheduledDelayMillis ?? 1000 })],
    });
    this.tracer = this.provider.getTracer(SCOPE_NAME, VERSION, { schemaUrl: SCHEMA_URL });
  }

  /** The tracer anomaly spans use; heal stages may share it (and its exporter). */
  getTracer(): Tracer {
    return this.tracer;
  }

  /**
   * Starts a root span that takes the given derived ids (incident spans use it, so their ids,
   * like the anomalies', follow from what they describe). The caller ends the span.
   */
  startRootSpan(name: string, ids: SpanContext, options: SpanOptions): Span {
    this.ids.next = ids;
    try {
      return this.tracer.startSpan(name, { ...options, root: true }, ROOT_CONTEXT);
    } finally {
      this.ids.next = undefined;
    }
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
    if (this.opts.jaegerUrl !== undefined) attributes[`${ATTR_NS}.anomaly.trace_url`] = anomalyTraceUrl(this.opts.jaegerUrl, a.id);
    const span = this.startRootSpan(anomalySpanName(a), anomalySpanContext(a.id), { startTime: start, attributes, links: exemplarLinks(a) });
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
