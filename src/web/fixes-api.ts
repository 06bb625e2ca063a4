import type { JobState } from '../model/heal.js';
import { JobStateSchema } from '../model/heal.js';
import type { JobQueue } from '../heal/queue.js';
import { sendJson, type AdminServer } from './admin-server.js';

const MAX_LIMIT = 500;

/**
 * GET /api/v1/fixes?state=&limit=   healing jobs, newest first, as summaries
 * GET /api/v1/fixes/:id             one job: summary, diagnosis, anomaly and every stage attempt
 */
export function registerFixesApi(server: AdminServer, queue: JobQueue): void {
  server.addRoute('GET', '/api/v1/fixes', (_req, res, _params, url) => {
    const stateParam = url.searchParams.get('state');
    let state: JobState | undefined;
    if (stateParam !== null) {
      const parsed = JobStateSchema.safeParse(stateParam);
      if (!parsed.success) {
        sendJson(res, 400, { error: `state must be one of ${JobStateSchema.options.join(', ')}` });
        return;
      }
      state = parsed.data;
    }
    const limitParam = url.searchParams.get('limit');
    const limit = limitParam === null ? 100 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      sendJson(res, 400, { error: `limit must be an integer in 1..${MAX_LIMIT}` });
      return;
    }
    const jobs = queue.list({ ...(state ? { state } : {}), limit });
    sendJson(res, 200, { fixes: jobs.map((j) => queue.summarize(j)), counts: queue.counts() });
  });

  server.addRoute('GET', '/api/v1/fixes/:id', (_req, res, params) => {
    const job = queue.get(params['id']!);
    if (!job) {
      sendJson(res, 404, { error: `no healing job ${params['id']}` });
      return;
    }
    sendJson(res, 200, {
      fix: queue.summarize(job),
      diagnosis: job.diagnosis,
      anomaly: job.anomaly,
      before: job.before,
      stages: queue.stageResults(job.id),
    });
  });
}
