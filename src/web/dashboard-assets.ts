/**
 * The dashboard is three small static assets served from memory: no framework and no build step,
 * so it ships inside the compiled package and loads instantly. It reads the HTTP API and follows
 * the event stream (SSE) for live updates.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>self-healing</title>
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>self-healing</h1>
  <span id="conn" class="pill off" title="live event stream">offline</span>
  <span id="summary"></span>
</header>
<main>
  <section id="heatmap-section">
    <h2>Handler performance heatmap <small>p95 per slice against baseline</small></h2>
    <div id="legend">
      <span class="cell lvl0"></span>normal <span class="cell lvl1"></span>&gt;1.25x <span class="cell lvl2"></span>&gt;1.5x
      <span class="cell lvl3"></span>&gt;2x <span class="cell lvl4"></span>&gt;4x <span class="cell err"></span>errors
    </div>
    <div id="heatmap" role="grid" aria-label="handler heatmap"><p class="empty">No beats received yet.</p></div>
  </section>
  <section id="anomalies-section">
    <h2>Anomalies</h2>
    <table id="anomalies"><thead><tr><th>severity</th><th>type</th><th>where</th><th>what</th><th>state</th><th>since</th></tr></thead>
    <tbody><tr class="empty"><td colspan="6">No anomalies.</td></tr></tbody></table>
    <div id="diagnosis" hidden></div>
  </section>
  <section id="fixes-section">
    <h2>Fixes</h2>
    <div id="fixes"><p class="empty">No healing runs yet.</p></div>
  </section>
</main>
<script src="/dashboard.js" defer></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { --bg:#0f1419; --panel:#182029; --fg:#e6edf3; --muted:#8b98a5; --ok:#2ea043; --l1:#9e6a03; --l2:#bd561d; --l3:#da3633; --l4:#8e1519; --err:#a371f7; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1rem; align-items:center; padding:.75rem 1.25rem; background:var(--panel); border-bottom:1px solid #263241; }
h1 { font-size:1.2rem; margin:0; } h2 { font-size:1rem; margin:0 0 .5rem; } h2 small { color:var(--muted); font-weight:normal; }
main { display:grid; gap:1rem; padding:1rem 1.25rem; grid-template-columns: 1fr; }
section { background:var(--panel); border-radius:8px; padding:1rem; overflow:auto; }
.pill { padding:.1rem .6rem; border-radius:999px; font-size:.8rem; background:#263241; }
.pill.on { background:var(--ok); } .pill.off { background:var(--l3); }
#summary { color:var(--muted); }
#legend { color:var(--muted); font-size:.8rem; margin-bottom:.5rem; display:flex; gap:.4rem; align-items:center; }
.row { display:flex; align-items:center; gap:2px; margin:1px 0; }
.row .label { width:18rem; flex:none; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; color:var(--muted); }
.row .label b { color:var(--fg); font-weight:600; }
.cell { display:inline-block; width:14px; height:14px; border-radius:2px; background:#263241; flex:none; }
.lvl0 { background:var(--ok); } .lvl1 { background:var(--l1); } .lvl2 { background:var(--l2); } .lvl3 { background:var(--l3); } .lvl4 { background:var(--l4); }
.err { outline:2px solid var(--err); outline-offset:-2px; }
.row.anomalous .label { color:var(--l3); }
table { width:100%; border-collapse:collapse; } th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid #263241; vertical-align:top; }
tbody tr[data-id] { cursor:pointer; } tbody tr[data-id]:hover { background:#1f2a36; }
.sev { padding:.05rem .45rem; border-radius:4px; font-size:.75rem; text-transform:uppercase; }
.sev.low { background:#263241; } .sev.medium { background:var(--l1); } .sev.high { background:var(--l2); } .sev.critical { background:var(--l3); }
.resolved { opacity:.55; }
#diagnosis { margin-top:.75rem; padding:.75rem; border-left:3px solid var(--err); background:#121a22; }
.fix { padding:.5rem 0; border-bottom:1px solid #263241; }
.stages { display:flex; gap:.35rem; margin-top:.3rem; flex-wrap:wrap; }
.stage { padding:.1rem .5rem; border-radius:4px; background:#263241; font-size:.8rem; }
.stage.succeeded { background:var(--ok); } .stage.running { background:var(--l1); } .stage.failed, .stage.parked { background:var(--l3); }
.empty { color:var(--muted); }
a { color:#58a6ff; }
`;

export const DASHBOARD_JS = `
'use strict';
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const listOf = (x, key) => (Array.isArray(x) ? x : (x && (x[key] || x.items)) || []);
const fmtMs = (v) => (typeof v === 'number' && isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + ' ms' : '-');
const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago'; };
let info = { jaegerUrl: undefined };
let openKeys = new Set();

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(path + ' -> ' + r.status);
  return r.json();
}

function level(ratio) {
  if (!(ratio > 0)) return 'lvl0';
  if (ratio > 4) return 'lvl4';
  if (ratio > 2) return 'lvl3';
  if (ratio > 1.5) return 'lvl2';
  if (ratio > 1.25) return 'lvl1';
  return 'lvl0';
}

async function refreshHandlers() {
  const handlers = listOf(await getJson('/api/v1/handlers'), 'handlers');
  const root = $('#heatmap');
  if (handlers.length === 0) { root.innerHTML = '<p class="empty">No beats received yet.</p>'; return; }
  handlers.sort((a, b) => (a.service + a.handler).localeCompare(b.service + b.handler));
  root.innerHTML = handlers.map((h) => {
    const base = h.baselineP95Ms || h.p95Ms || 0;
    const cells = (h.slices || []).slice(-40).map((s) => {
      const ratio = base > 0 ? s.p95Ms / base : 0;
      const title = new Date(s.startMs).toLocaleTimeString() + ' p95 ' + fmtMs(s.p95Ms) + ' (' + (ratio ? ratio.toFixed(2) + 'x' : '-') + ') n=' + s.count + (s.errors ? ' errors=' + s.errors : '');
      return '<span class="cell ' + (s.count ? level(ratio) : '') + (s.errors ? ' err' : '') + '" title="' + esc(title) + '"></span>';
    }).join('');
    const key = h.service + '/' + h.handler;
    const anomalous = openKeys.has(key) ? ' anomalous' : '';
    return '<div class="row' + anomalous + '" data-handler="' + esc(h.handler) + '" data-service="' + esc(h.service) + '">' +
      '<span class="label" title="p50 ' + fmtMs(h.p50Ms) + ' p95 ' + fmtMs(h.p95Ms) + ' p99 ' + fmtMs(h.p99Ms) + '"><b>' + esc(h.handler) + '</b> ' + esc(h.service) +
      ' · p95 ' + fmtMs(h.p95Ms) + '</span>' + cells + '</div>';
  }).join('');
}

async function refreshAnomalies() {
  const anomalies = listOf(await getJson('/api/v1/anomalies?limit=100'), 'anomalies');
  openKeys = new Set(anomalies.filter((a) => a.state !== 'resolved').map((a) => a.service + '/' + (a.handler || '')));
  const open = anomalies.filter((a) => a.state !== 'resolved').length;
  $('#summary').textContent = open + ' open anomal' + (open === 1 ? 'y' : 'ies');
  const body = $('#anomalies tbody');
  if (anomalies.length === 0) { body.innerHTML = '<tr class="empty"><td colspan="6">No anomalies.</td></tr>'; return; }
  body.innerHTML = anomalies.map((a) =>
    '<tr data-id="' + esc(a.id) + '" class="' + (a.state === 'resolved' ? 'resolved' : '') + '">' +
    '<td><span class="sev ' + esc(a.severity) + '">' + esc(a.severity) + '</span></td>' +
    '<td>' + esc(a.type) + '/' + esc(a.subtype) + '</td>' +
    '<td>' + esc(a.service) + ' ' + esc(a.handler || a.sequence || '') + '</td>' +
    '<td class="summary">' + esc(a.summary) + '</td>' +
    '<td>' + esc(a.state) + '</td>' +
    '<td>' + ago(a.firstSeenMs) + '</td></tr>').join('');
}

async function showDiagnosis(id) {
  const box = $('#diagnosis');
  const data = await getJson('/api/v1/anomalies/' + encodeURIComponent(id));
  const a = data.anomaly || data;
  const d = (data.diagnoses || [])[0];
  const links = (a.exemplars || []).map((e) => info.jaegerUrl
    ? '<a href="' + esc(info.jaegerUrl.replace(/\\/$/, '') + '/trace/' + e.traceId) + '" target="_blank">' + esc(e.traceId.slice(0, 16)) + '</a>'
    : '<code>' + esc(e.traceId.slice(0, 16)) + '</code>').join(' ');
  box.innerHTML = '<h3>' + esc(a.summary) + '</h3>' +
    (d ? '<p><b>Root cause:</b> ' + esc(d.rootCause.description) + '</p>' +
      '<p><b>Affected:</b> ' + esc([...(d.affected.handlers || []), ...(d.affected.sequences || [])].join(', ')) +
      ' · <b>impact:</b> ' + Math.round((d.impact.trafficShare || 0) * 100) + '% of traffic, ' + d.impact.affectedRuns + ' runs</p>' +
      '<p><b>Recommended fixes:</b> ' + esc((d.recommendedFixes || []).join(', ')) + '</p>' : '<p>Diagnosis pending…</p>') +
    '<p><b>Exemplar traces:</b> ' + (links || '-') + '</p>';
  box.hidden = false;
}

async function refreshFixes() {
  let fixes;
  try { fixes = listOf(await getJson('/api/v1/fixes'), 'fixes'); } catch { return; }
  const root = $('#fixes');
  if (fixes.length === 0) { root.innerHTML = '<p class="empty">No healing runs yet.</p>'; return; }
  const order = ['fix.generate', 'validation.run', 'deployment.deploy', 'learning.track'];
  root.innerHTML = fixes.map((f) => {
    const stages = f.stages || [];
    const stateOf = (name) => { const s = stages.find((x) => x.stage === name); return s ? s.status : (f.stage === name && f.state === 'running' ? 'running' : ''); };
    const pr = f.prUrl || (f.proposal && f.proposal.url);
    const trace = info.jaegerUrl && f.traceId ? ' · <a target="_blank" href="' + esc(info.jaegerUrl.replace(/\\/$/, '') + '/trace/' + f.traceId) + '">trace</a>' : '';
    return '<div class="fix" data-job="' + esc(f.id) + '"><b>' + esc(f.title || f.kind || f.id) + '</b> · ' + esc(f.handler || '') + ' · ' + esc(f.state) +
      (pr ? ' · <a target="_blank" href="' + esc(pr) + '">pull request</a>' : '') + trace +
      '<div class="stages">' + order.map((s) => '<span class="stage ' + esc(stateOf(s)) + '">' + s + '</span>').join('') + '</div></div>';
  }).join('');
}

async function refreshAll() {
  await Promise.allSettled([refreshAnomalies().then(refreshHandlers), refreshFixes()]);
}

function connect() {
  const es = new EventSource('/api/v1/events');
  es.onopen = () => { $('#conn').textContent = 'live'; $('#conn').className = 'pill on'; };
  es.onerror = () => { $('#conn').textContent = 'reconnecting'; $('#conn').className = 'pill off'; };
  es.onmessage = () => refreshAll();
  for (const kind of ['anomaly.opened', 'anomaly.updated', 'anomaly.resolved', 'diagnosis.created', 'fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed', 'job.parked']) {
    es.addEventListener(kind, () => refreshAll());
  }
}

document.addEventListener('click', (e) => {
  const row = e.target.closest && e.target.closest('tr[data-id]');
  if (row) showDiagnosis(row.dataset.id).catch(() => {});
});

getJson('/api/v1/info').then((i) => { info = i; }).catch(() => {});
refreshAll();
setInterval(refreshAll, 5000);
connect();
`;
