import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard is a handful of static files served from memory: plain ES modules and a style
 * sheet in src/web/client (copied next to the compiled code by `npm run build`), plus uPlot's
 * browser build read from its npm package, so nothing is fetched from a CDN and the page works
 * wherever the package's node_modules are (an npm install, deploy/Dockerfile).
 */
export interface DashboardAsset {
  path: string;
  type: string;
  body: Buffer;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Page modules, served under /assets/ (the entry module keeps its old path, /dashboard.js). */
export const CLIENT_MODULES = ['dom.js', 'format.js', 'api.js', 'feed.js', 'heatmap.js', 'charts.js', 'service-map.js', 'incidents.js', 'waterfall.js', 'anomalies.js', 'fixes.js', 'services.js'] as const;

const CLIENT_DIR = new URL('./client/', import.meta.url);

function clientFile(name: string): Buffer {
  return readFileSync(new URL(name, CLIENT_DIR));
}

/** uPlot's self-contained browser build and its style sheet, from the installed package. */
function uplotFile(file: 'uPlot.iife.min.js' | 'uPlot.min.css'): Buffer {
  const require = createRequire(fileURLToPath(import.meta.url));
  return readFileSync(require.resolve(`uplot/dist/${file}`));
}

/** Every file the page loads; read once, when the routes are registered. */
export function loadDashboardAssets(): DashboardAsset[] {
  return [
    { path: '/', type: 'text/html; charset=utf-8', body: clientFile('index.html') },
    { path: '/dashboard.js', type: JS, body: clientFile('main.js') },
    { path: '/dashboard.css', type: CSS, body: clientFile('dashboard.css') },
    { path: '/favicon.svg', type: 'image/svg+xml', body: clientFile('favicon.svg') },
    ...CLIENT_MODULES.map((name) => ({ path: `/assets/${name}`, type: JS, body: clientFile(name) })),
    { path: '/assets/uplot.js', type: JS, body: uplotFile('uPlot.iife.min.js') },
    { path: '/assets/uplot.css', type: CSS, body: uplotFile('uPlot.min.css') },
  ];
}
