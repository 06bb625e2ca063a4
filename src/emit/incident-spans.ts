import { SpanStatusCode, trace, ROOT_CONTEXT, TraceFlags, type Attributes, type Link, type Span, type SpanContext, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { createHash } from 'node:crypto';
import type { Incident } from '../model/incident.js';
import { anomalySpanContext, ATTR_NS } from './anomaly-spans.js';

/** Low-cardinality span names: what changed, never which incident (that is an attribute). */
export const INCIDENT_SPAN_NAME = 'incident';
/** Incidents whose root span this process emitted; bounded like the anomaly spans. */
const MAX_TRACKED = 10_000;

/** Every incident gets its own trace with ids derived from its id, as anomalies do. */
export function incidentSpanContext(incidentId: string): SpanContext {
  const digest = (text: string, length: number): string => createHash('sha256').update(text).digest('hex').slice(0, length);
  return {
    traceId: digest(`incident-trace:${incidentId}`, 32),
    spanId: digest(`incident-span:${incidentId}`, 16),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: false,
  };
}

/**
 * Attribute types never vary between spans: times are integer milliseconds, counts integers and
 * scores integer thousandths (a JS number is exported as an int or a double depending on its
 * value, so a raw score would change type from one span to the next).
 */
export function incidentAttributes(i: Incident): Attributes {
  const ns = `${ATTR_NS}.incident`;
  const attrs: Attributes = {
    [`${ns}.id`]: i.id,
    [`${ns}.state`]: i.state,
    [`${ns}.severity`]: i.severity,
    [`${ns}.summary`]: i.summary,
    [`${ns}.start_ms`]: Math.round(i.startMs),
    [`${ns}.end_ms`]: Math.round(i.endMs),
    [`${ns}.anomaly_count`]: i.anomalyIds.length,
    [`${ns}.services`]: [...i.services],
  };
  const top = i.rootCauses[0];
  if (top !== undefined) {
    attrs[`${ns}.root_cause.service`] = top.service;
    if (top.operation !== undefined) attrs[`${ns}.root_cause.operation`] = top.operation;
    attrs[`${ns}.root_cause.score_milli`] = Math.round(top.score * 1000);
    attrs[`${ns}.root_cause.reason`] = top.reason;
  }
  if (i.impact !== undefined && i.impact !== null) {
    attrs[`${ns}.impact.requests`] = Math.round(i.impact.requests);
    attrs[`${ns}.impact.errors`] = Math.round(i.impact.errors);
  }
  return attrs;
}

/** Links from an incident span to the spans of its anomalies (their ids are derived, so no lookup). */
export function anomalyLinks(anomalyIds: readonly string[]): Link[] {
  return anomalyIds.map((id) => ({
    context: { ...anomalySpanContext(id), isRemote: true },
    attributes: { [`${ATTR_NS}.link.reason`]: 'incident-anomaly', [`${ATTR_NS}.anomaly.id`]: id },
  }));
}

function addRootCauseEvents(span: Span, i: Incident, at: Date): void {
  for (const [rank, r] of i.rootCauses.entries()) {
    const attributes: Attributes = {
      [`${ATTR_NS}.root_cause.rank`]: rank + 1,
      [`${ATTR_NS}.root_cause.service`]: r.service,
      [`${ATTR_NS}.root_cause.score_milli`]: Math.round(r.score * 1000),
      [`${ATTR_NS}.root_cause.reason`]: r.reason,
    };
    if (r.operation !== undefined) attributes[`${ATTR_NS}.root_cause.operation`] = r.operation;
    span.addEvent('incident.root_cause', attributes, at);
  }
}

/** What the incident span emitter needs of the anomaly span emitter (same provider and exporter). */
export interface RootSpanSource {
  getTracer(): Tracer;
  startRootSpan(name: string, ids: SpanContext, options: SpanOptions): Span;
}

interface Emitted {
  anomalyIds: Set<string>;
  signature: string;
}

/**
 * One span per incident, in its own trace (ids from incidentSpanContext), linked to the spans of
 * its anomalies. Later changes an operator cares about (anomalies joined, severity or top root
 * cause changed, resolved) become child spans in the same trace; the per-slice refreshes that
 * change nothing of that emit nothing.
 */
export class IncidentSpanEmitter {
  private readonly emitted = new Map<string, Emitted>();

  constructor(private readonly source: RootSpanSource) {}

  emit(change: { kind: 'opened' | 'updated' | 'resolved'; incident: Incident }): void {
    const i = change.incident;
    const prev = this.emitted.get(i.id);
    const signature = `${i.state}|${i.severity}|${i.rootCauses[0]?.service ?? ''}|${i.rootCauses[0]?.operation ?? ''}|${i.anomalyIds.length}`;
    if (prev === undefined) {
      this.emitRoot(i, signature);
      return;
    }
    if (prev.signature === signature) return;
    const joined = i.anomalyIds.filter((id) => !prev.anomalyIds.has(id));
    const at = new Date(i.endMs);
    const span = this.source
      .getTracer()
      .startSpan(change.kind === 'resolved' ? 'incident.resolved' : 'incident.updated', { startTime: at, attributes: incidentAttributes(i), links: anomalyLinks(joined) }, trace.setSpanContext(ROOT_CONTEXT, incidentSpanContext(i.id)));
    addRootCauseEvents(span, i, at);
    if (change.kind !== 'resolved') this.setStatus(span, i);
    span.end(at);
    for (const id of joined) prev.anomalyIds.add(id);
    prev.signature = signature;
  }

  private emitRoot(i: Incident, signature: string): void {
    const start = new Date(i.startMs);
    const end = new Date(Math.max(i.endMs, i.startMs));
    const span = this.source.startRootSpan(INCIDENT_SPAN_NAME, incidentSpanContext(i.id), { startTime: start, attributes: incidentAttributes(i), links: anomalyLinks(i.anomalyIds) });
    addRootCauseEvents(span, i, end);
    this.setStatus(span, i);
    span.end(end);
    this.emitted.set(i.id, { anomalyIds: new Set(i.anomalyIds), signature });
    if (this.emitted.size > MAX_TRACKED) this.emitted.delete(this.emitted.keys().next().value!);
  }

  private setStatus(span: Span, i: Incident): void {
    if (i.severity === 'high' || i.severity === 'critical') span.setStatus({ code: SpanStatusCode.ERROR, message: i.summary });
  }
}
