import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AnomalyStateSchema, AnomalyTypeSchema } from '../model/anomaly.js';
import type { EventBus } from '../emit/event-bus.js';
import type { AnomalyStore } from '../store/anomaly-store.js';
import { sendJson, type AdminServer, type RouteHandler } from './admin-server.js';
import { eventStreamRoute, type EventStreamOptions } from './sse.js';

export type Verdict = 'false-positive' | 'true-positive';

export interface ApiDeps {
  store: AnomalyStore;
  engine: { handlerFigures(): unknown[]; feedback(id: string, v: Verdict): void };
  bus: EventBus;
  events?: EventStreamOptions;
  /** The incident engine, for its service graph (the incident routes are in incidents-api.ts). */
  incidents?: { graphFigures?(): unknown };
  /** GET /api/v1/service-graph with stored history (web/series-api.ts); the live graph only without it. */
  serviceGraph?: RouteHandler;
}

export const MAX_PAGE = 500;
const MAX_BODY_BYTES = 64 * 1024;

export const AnomalyListQuerySchema = z
  .object({
    state: AnomalyStateSchema.optional(),
    type: AnomalyTypeSchema.optional(),
    service: z.string().min(1).max(200).optional(),
    handler: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

export const FeedbackBodySchema = z
  .object({
    verdict: z.enum(['false-positive', 'true-positive']),
    note: z.string().max(2000).default(''),
  })
  .strict();

/** "invalid query parameter 'limit': Too big: expected number to be <=500" */
export function describeIssues(error: z.ZodError, what: string): string {
  const issue = error.issues[0]!;
  const name =
    issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `invalid ${what} '${name}': ${issue.message}`;
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a small JSON body. An oversized body is drained rather than cut off, so the client gets
 * the 413 instead of a connection reset.
 */
export function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new BodyError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new BodyError(400, 'body is not valid JSON'));
      }
    });
  });
}

/** What readJsonBodyOrAnswer returns when it has already answered the request. */
export const NO_BODY: unique symbol = Symbol('no body');

/** readJsonBody for a route: a body that is too large or not JSON is answered here (413/400). */
export async function readJsonBodyOrAnswer(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  try {
    return await readJsonBody(req);
  } catch (err) {
    if (!(err instanceof BodyError)) throw err;
    sendJson(res, err.status, { error: err.message });
    return NO_BODY;
  }
}

/** The HTTP API: anomalies, diagnoses, handler figures, feedback and the event stream. */
export function registerApiRoutes(admin: AdminServer, deps: ApiDeps): void {
  const { store, engine, bus } = deps;

  admin.addRoute('GET', '/api/v1/handlers', (_req, res) => {
    sendJson(res, 200, { handlers: engine.handlerFigures() });
  });

  admin.addRoute('GET', '/api/v1/anomalies', (_req, res, _params, url) => {
    const parsed = AnomalyListQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) {
      sendJson(res, 400, { error: describeIssues(parsed.error, 'query parameter') });
      return;
    }
    const q = parsed.data;
    const { limit: _limit, offset: _offset, ...filter } = q;
    sendJson(res, 200, {
      items: store.listAnomalies(q),
      total: store.countAnomalies(filter),
      limit: q.limit,
      offset: q.offset,
    });
  });

  admin.addRoute('GET', '/api/v1/anomalies/:id', (_req, res, params) => {
    const anomaly = store.getAnomaly(params['id']!);
    if (anomaly === undefined) {
      sendJson(res, 404, { error: `no anomaly ${params['id']}` });
      return;
    }
    sendJson(res, 200, {
      anomaly,
      diagnoses: store.diagnosesForAnomaly(anomaly.id),
      feedback: store.feedbackFor(anomaly.id),
    });
  });

  admin.addRoute('GET', '/api/v1/diagnoses/:id', (_req, res, params) => {
    const d = store.getDiagnosis(params['id']!);
    if (d === undefined) sendJson(res, 404, { error: `no diagnosis ${params['id']}` });
    else sendJson(res, 200, d);
  });

  admin.addRoute('POST', '/api/v1/anomalies/:id/feedback', async (req, res, params) => {
    const id = params['id']!;
    const body = await readJsonBodyOrAnswer(req, res);
    if (body === NO_BODY) return;
    const parsed = FeedbackBodySchema.safeParse(body);
    if (!parsed.success) {
      sendJson(res, 400, { error: describeIssues(parsed.error, 'field') });
      return;
    }
    if (store.getAnomaly(id) === undefined) {
      sendJson(res, 404, { error: `no anomaly ${id}` });
      return;
    }
    const { verdict, note } = parsed.data;
    store.saveFeedback(id, verdict, note);
    engine.feedback(id, verdict);
    const e = bus.publish('anomaly.feedback', { anomalyId: id, verdict, note }, { anomalyId: id });
    sendJson(res, 200, { anomalyId: id, verdict, note, seq: e.seq });
  });

  // GET /api/v1/incidents and the incident routes: web/incidents-api.ts.

  admin.addRoute('GET', '/api/v1/service-graph', (req, res, params, url) => {
    if (deps.serviceGraph !== undefined) return deps.serviceGraph(req, res, params, url);
    sendJson(res, 200, deps.incidents?.graphFigures?.() ?? { edges: [], keys: [] });
  });

  admin.addRoute('GET', '/api/v1/events', eventStreamRoute(bus, deps.events));
}
