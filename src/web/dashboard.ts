import type { AdminServer } from './admin-server.js';
import { DASHBOARD_CSS, DASHBOARD_FAVICON, DASHBOARD_HTML, DASHBOARD_JS } from './dashboard-assets.js';

const ASSETS: Array<[string, string, string]> = [
  ['/', DASHBOARD_HTML, 'text/html; charset=utf-8'],
  ['/dashboard.js', DASHBOARD_JS, 'text/javascript; charset=utf-8'],
  ['/dashboard.css', DASHBOARD_CSS, 'text/css; charset=utf-8'],
  ['/favicon.svg', DASHBOARD_FAVICON, 'image/svg+xml'],
];

/** Serves the dashboard page and its assets (script, style sheet, icon) on the admin server. */
export function registerDashboardRoutes(admin: AdminServer): void {
  for (const [path, body, type] of ASSETS) {
    const bytes = Buffer.from(body);
    admin.addRoute('GET', path, (_req, res) => {
      res.writeHead(200, {
        'content-type': type,
        'content-length': bytes.length,
        'cache-control': 'no-cache',
        'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'",
        'x-content-type-options': 'nosniff',
      });
      res.end(bytes);
    });
  }
}
