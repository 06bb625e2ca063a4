import type { AdminServer } from './admin-server.js';
import { loadDashboardAssets } from './dashboard-assets.js';

/** Serves the dashboard page and its assets (modules, style sheets, icon, uPlot) on the admin server. */
export function registerDashboardRoutes(admin: AdminServer): void {
  for (const { path, body, type } of loadDashboardAssets()) {
    admin.addRoute('GET', path, (_req, res) => {
      res.writeHead(200, {
        'content-type': type,
        'content-length': body.length,
        'cache-control': 'no-cache',
        'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'",
        'x-content-type-options': 'nosniff',
      });
      res.end(body);
    });
  }
}
