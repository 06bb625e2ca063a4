import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { SeveritySchema, type Anomaly } from '../model/anomaly.js';
import type { Diagnosis } from '../model/diagnosis.js';
import { IncidentStateSchema, type ExemplarTrace, type Incident, type IncidentTimelineEntry, type IncidentView } from '../model/incident.js';
import type { IncidentQuery } from '../store/incident-store.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { describeIssues, MAX_PAGE, NO_BODY, readJsonBodyOrAnswer } from './api.js';

/** Shortest and longest silence (1 min .. 7 days): long enough to matter, short enough not to be forgotten. */
export const MIN_SILENCE_MS = 60_000;
export const MAX_SILENCE_MS = 7 * 86_400_000;
/** Exemplar traces listed in an incident's detail (stored waterfalls first, then bare ids). */
const MAX_DETAIL_EXEMPLARS = 10;

/** A comma-separated list of enum values ("open,resolved"); the error names the value it refused. */
function csvOf<T extends string>(values: readonly T[]) {
  return z.string().transform((s, ctx): T[] => {
    const items = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const bad = items.find((i) => !(values as readonly string[]).includes(i));
    if (items.length === 0 || bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `expected one or more of ${values.join(', ')} separated by commas${bad === undefined ? '' : `, got '${bad}'`}` });
      return z.NEVER;
    }
    return items as T[];
  });
}

export const IncidentListQuerySchema = z
  .object({
    state: csvOf(IncidentStateSchema.options).optional(),
    severity: csvOf(SeveritySchema.options).optional(),
    service: z.string().min(1).max(200).optional(),
    q: z.string().max(200).optional(),
    from: z.coerce.number().int().min(0).optional(),
    to: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.to > q.from, { path: ['to'], message: 'must be greater than from' });

export const AcknowledgeBodySchema = z.object({ by: z.string().trim().min(1).max(200).optional() }).strict();

export const SilenceBodySchema = z
  .object({
    forMs: z.number().int().min(MIN_SILENCE_MS).max(MAX_SILENCE_MS),
    reason: z.string().max(1000).optional(),
  })
  .strict();

/** What the incident routes read and write (IncidentStore in the sidecar). */
export interface IncidentRecords {
  list(q: IncidentQuery, nowMs: number): { items: IncidentView[]; total: number };
  get(id: string, nowMs: number): IncidentView | undefined;
  acknowledge(id: string, by: string, atMs: number): IncidentView | undefined;
  silence(id: string, untilMs: number, reason: string, atMs: number): IncidentView | undefined;
  unsilence(id: string, atMs: number): IncidentView | undefined;
  timeline(id: string): IncidentTimelineEntry[];
  exemplars(id: string): ExemplarTrace[];
}

/** A healing job as the detail shows it (JobQueue.summarize). */
export interface IncidentFix {
  id: string;
  anomalyId: string;
  state: string;
  createdMs: number;
  fix?: { title: string } | undefined;
}

export interface IncidentApiDeps {
  /** Stored incidents with operator state (the sidecar stores every change of the live tracker). */
  records: IncidentRecords;
  /** The live tracker: fresher figures (impact, end) for incidents it still holds. */
  live?: { incidentById(id: string): Incident | undefined };
  anomalies: { getAnomaly(id: string): Anomaly | undefined; diagnosesForAnomaly(id: string): Diagnosis[] };
  fixesFor?: (anomalyIds: readonly string[]) => IncidentFix[];
  bus: { publish(kind: string, payload: unknown, ids?: { anomalyId?: string }): unknown };
  clock?: () => number;
}

function withoutOperatorState(i: Incident): IncidentView {
  return { ...i, acknowledged: null, silencedUntilMs: null, silenceReason: null, impact: i.impact ?? null };
}

/** The stored view with the live tracker's newer figures, when it still tracks the incident. */
function overlay(view: IncidentView, live: Incident | undefined): IncidentView {
  if (live === undefined) return view;
  return { ...view, ...live, impact: live.impact ?? view.impact };
}

/**
 * The incident's story, oldest first: what the tracker and operators did (stored timeline),
 * when each anomaly opened and resolved, each diagnosis and each healing job.
 */
export function incidentTimeline(entries: readonly IncidentTimelineEntry[], anomalies: readonly Anomaly[], diagnoses: readonly Diagnosis[], fixes: readonly IncidentFix[]): IncidentTimelineEntry[] {
  const out: IncidentTimelineEntry[] = [...entries];
  for (const a of anomalies) {
    out.push({ t: a.firstSeenMs, kind: 'anomaly-opened', text: `${a.id} ${a.type}/${a.subtype} on ${a.service}${a.handler === undefined ? '' : ` ${a.handler}`}: ${a.summary}` });
    if (a.resolvedMs !== undefined) out.push({ t: a.resolvedMs, kind: 'anomaly-resolved', text: `${a.id} resolved` });
  }
  for (const d of diagnoses) out.push({ t: d.createdMs, kind: 'diagnosis', text: `${d.anomalyId}: ${d.rootCause.cause}: ${d.rootCause.description}` });
  for (const f of fixes) out.push({ t: f.createdMs, kind: 'fix', text: `healing job ${f.id} for ${f.anomalyId}: ${f.state}${f.fix === undefined ? '' : `: ${f.fix.title}`}` });
  return out.sort((a, b) => a.t - b.t);
}

/** An empty body (Content-Length: 0) counts as `{}`: acknowledge takes optional fields only. */
async function bodyOrEmpty(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  if (req.headers['content-length'] === '0') {
    req.resume();
    return {};
  }
  return readJsonBodyOrAnswer(req, res);
}

/**
 * GET /api/v1/incidents, GET /api/v1/incidents/:id, POST /api/v1/incidents/:id/acknowledge,
 * POST and DELETE /api/v1/incidents/:id/silence (docs/api.md, "Incidents").
 */
export function registerIncidentRoutes(admin: AdminServer, deps: IncidentApiDeps): void {
  const clock = deps.clock ?? Date.now;
  const liveById = (id: string): Incident | undefined => deps.live?.incidentById(id);

  admin.addRoute('GET', '/api/v1/incidents', (_req, res, _params, url) => {
    const parsed = IncidentListQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) {
      sendJson(res, 400, { error: describeIssues(parsed.error, 'query parameter') });
      return;
    }
    const q = parsed.data;
    const query: IncidentQuery = {
      limit: q.limit,
      offset: q.offset,
      ...(q.state !== undefined ? { states: q.state } : {}),
      ...(q.severity !== undefined ? { severities: q.severity } : {}),
      ...(q.service !== undefined ? { service: q.service } : {}),
      ...(q.q !== undefined ? { q: q.q } : {}),
      ...(q.from !== undefined ? { fromMs: q.from } : {}),
      ...(q.to !== undefined ? { toMs: q.to } : {}),
    };
    const page = deps.records.list(query, clock());
    res.setHeader('X-Total-Count', String(page.total));
    // The contract of `analyze --json` top-level `incidents`: a bare array, best incident first.
    sendJson(res, 200, page.items.map((v) => overlay(v, liveById(v.id))));
  });

  admin.addRoute('GET', '/api/v1/incidents/:id', (_req, res, params) => {
    const id = params['id']!;
    const now = clock();
    const stored = deps.records.get(id, now);
    const live = liveById(id);
    const incident = stored !== undefined ? overlay(stored, live) : live !== undefined ? withoutOperatorState(live) : undefined;
    if (incident === undefined) {
      sendJson(res, 404, { error: `no incident ${id}` });
      return;
    }
    const anomalies = incident.anomalyIds.map((a) => deps.anomalies.getAnomaly(a)).filter((a): a is Anomaly => a !== undefined);
    const diagnoses = anomalies.flatMap((a) => deps.anomalies.diagnosesForAnomaly(a.id));
    const fixes = deps.fixesFor?.(incident.anomalyIds) ?? [];
    const exemplars = deps.records.exemplars(id);
    const listed = new Set(exemplars.map((e) => e.traceId));
    // Exemplars whose spans were not kept still name their trace (a Jaeger link, when configured).
    for (const a of anomalies) {
      for (const ex of a.exemplars) {
        if (listed.has(ex.traceId) || listed.size >= MAX_DETAIL_EXEMPLARS) continue;
        listed.add(ex.traceId);
        exemplars.push({ traceId: ex.traceId, spans: [] });
      }
    }
    sendJson(res, 200, {
      incident,
      anomalies,
      timeline: incidentTimeline(deps.records.timeline(id), anomalies, diagnoses, fixes),
      diagnoses,
      fixes,
      exemplars,
    });
  });

  const operate = (kind: 'acknowledge' | 'silence' | 'unsilence') => async (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => {
    const id = params['id']!;
    let body: unknown = {};
    if (kind !== 'unsilence') {
      body = await bodyOrEmpty(req, res);
      if (body === NO_BODY) return;
    } else req.resume();
    const records = deps.records;
    const now = clock();
    // The incident first: an unknown id is 404 whatever the body says.
    if (records.get(id, now) === undefined) {
      sendJson(res, 404, { error: `no incident ${id}` });
      return;
    }
    let view: IncidentView | undefined;
    let event: string;
    if (kind === 'acknowledge') {
      const parsed = AcknowledgeBodySchema.safeParse(body);
      if (!parsed.success) {
        sendJson(res, 400, { error: describeIssues(parsed.error, 'field') });
        return;
      }
      view = records.acknowledge(id, parsed.data.by ?? 'operator', now);
      event = 'incident.acknowledged';
    } else if (kind === 'silence') {
      const parsed = SilenceBodySchema.safeParse(body);
      if (!parsed.success) {
        sendJson(res, 400, { error: describeIssues(parsed.error, 'field') });
        return;
      }
      view = records.silence(id, now + parsed.data.forMs, parsed.data.reason ?? '', now);
      event = 'incident.silenced';
    } else {
      view = records.unsilence(id, now);
      event = 'incident.unsilenced';
    }
    if (view === undefined) {
      // Deleted by retention between the two reads.
      sendJson(res, 404, { error: `no incident ${id}` });
      return;
    }
    const shown = overlay(view, liveById(id));
    const first = shown.anomalyIds[0];
    deps.bus.publish(event, shown, first !== undefined ? { anomalyId: first } : {});
    sendJson(res, 200, shown);
  };
  admin.addRoute('POST', '/api/v1/incidents/:id/acknowledge', operate('acknowledge'));
  admin.addRoute('POST', '/api/v1/incidents/:id/silence', operate('silence'));
  admin.addRoute('DELETE', '/api/v1/incidents/:id/silence', operate('unsilence'));
}
