import type { Config } from '../config/index.js';
import type { LearningStore } from '../heal/learn.js';
import { sendJson, type AdminServer } from './admin-server.js';

/**
 * GET /api/v1/info       what the dashboard needs to know about this sidecar
 * GET /api/v1/insights   what healing has learned (JSON, or Markdown with Accept: text/markdown)
 */
export function registerInfoRoutes(admin: AdminServer, config: Config, deps: { healing: boolean; learning: LearningStore }): void {
  admin.addRoute('GET', '/api/v1/info', (_req, res) => {
    sendJson(res, 200, {
      serviceName: config.serviceName,
      jaegerUrl: config.emit.jaegerUrl,
      healing: deps.healing ? { mode: config.heal.policy.mode, repository: 'configured' } : { mode: 'off' },
      detect: { sliceMs: config.detect.sliceMs, windowSlices: config.detect.windowSlices },
    });
  });
  admin.addRoute('GET', '/api/v1/insights', (req, res) => {
    const insights = deps.learning.learningInsights();
    if ((req.headers.accept ?? '').includes('text/markdown')) {
      res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
      res.end(insights.markdown);
    } else sendJson(res, 200, insights.json);
  });
}
