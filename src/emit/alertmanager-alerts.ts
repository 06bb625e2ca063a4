import type { StoredEvent } from '../store/anomaly-store.js';

/** One alert of the Alertmanager API v2 (POST /api/v2/alerts takes an array of these). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

interface Subject {
  id?: unknown;
  service?: unknown;
  services?: unknown;
  severity?: unknown;
  subtype?: unknown;
  type?: unknown;
  summary?: unknown;
  handler?: unknown;
  firstSeenMs?: unknown;
  startMs?: unknown;
  resolvedMs?: unknown;
  endMs?: unknown;
  rootCauses?: unknown;
}

/** Only lifecycle changes fire or resolve an alert; incident.acknowledged and the like do not. */
const LIFECYCLE = new Set(['opened', 'updated', 'resolved']);

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Label values are free text to Alertmanager, but bounded so one span name cannot bloat every alert. */
function bounded(text: string, max = 256): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * An anomaly or incident lifecycle event as an Alertmanager alert; undefined for other events. The labels
 * identify the alert (Alertmanager deduplicates on them), so they hold the id and stable facts;
 * the summary goes to annotations, which Alertmanager replaces on every send.
 */
export function toAlert(event: StoredEvent, publicUrl: string | undefined): { key: string; alert: PostableAlert; resolved: boolean } | undefined {
  const [family, change] = event.kind.split('.', 2) as [string, string | undefined];
  if ((family !== 'anomaly' && family !== 'incident') || !LIFECYCLE.has(change ?? '')) return undefined;
  const p = (event.payload ?? {}) as Subject;
  const id = str(p.id);
  if (id === undefined) return undefined;
  const labels: Record<string, string> = {
    alertname: family === 'anomaly' ? 'SelfHealingAnomaly' : 'SelfHealingIncident',
    [`${family}_id`]: bounded(id),
    severity: str(p.severity) ?? 'medium',
  };
  const service = str(p.service) ?? (Array.isArray(p.services) ? str(p.services[0]) : undefined);
  if (service !== undefined) labels['service'] = bounded(service);
  if (family === 'anomaly') {
    if (str(p.type) !== undefined) labels['type'] = str(p.type)!;
    if (str(p.subtype) !== undefined) labels['subtype'] = str(p.subtype)!;
    if (str(p.handler) !== undefined) labels['handler'] = bounded(str(p.handler)!);
  }
  const annotations: Record<string, string> = { summary: bounded(str(p.summary) ?? `${family} ${id}`, 1024) };
  if (family === 'incident' && Array.isArray(p.rootCauses) && p.rootCauses.length > 0) {
    const first = p.rootCauses[0] as { service?: unknown; reason?: unknown };
    annotations['root_cause'] = bounded(`${str(first.service) ?? '?'}: ${str(first.reason) ?? ''}`, 1024);
  }
  const startMs = num(p.firstSeenMs) ?? num(p.startMs) ?? event.timeMs;
  const resolved = change === 'resolved';
  const alert: PostableAlert = { labels, annotations, startsAt: new Date(startMs).toISOString() };
  if (resolved) alert.endsAt = new Date(num(p.resolvedMs) ?? num(p.endMs) ?? event.timeMs).toISOString();
  if (publicUrl !== undefined) alert.generatorURL = `${publicUrl.replace(/\/+$/, '')}/#${family}/${encodeURIComponent(id)}`;
  return { key: `${family}:${id}`, alert, resolved };
}
