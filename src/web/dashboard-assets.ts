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
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard.css">
</head>
<body>
<header>
  <h1>self&#8209;healing</h1>
  <span id="conn" class="pill off" title="live event stream">offline</span>
  <span id="summary"></span>
  <span id="mode" class="muted"></span>
</header>
<main>
  <section id="heatmap-section" class="wide">
    <h2>Handlers <small>p95 per slice against the handler's baseline p95</small></h2>
    <div id="legend">
      <span class="cell lvl0"></span>normal <span class="cell lvl1"></span>&gt;1.25x <span class="cell lvl2"></span>&gt;1.5x
      <span class="cell lvl3"></span>&gt;2x <span class="cell lvl4"></span>&gt;4x <span class="cell lvl0 err"></span>errors
    </div>
    <div id="heatmap" role="grid" aria-label="handler heatmap"><p class="empty">No beats received yet.</p></div>
  </section>
  <section id="anomalies-section">
    <h2>Anomalies <small>click one for its diagnosis</small></h2>
    <table id="anomalies"><thead><tr><th>severity</th><th>anomaly</th><th>where</th><th>what</th><th>state</th></tr></thead>
    <tbody><tr class="empty"><td colspan="5">No anomalies.</td></tr></tbody></table>
    <div id="diagnosis" hidden></div>
  </section>
  <section id="feed-section">
    <h2>Activity <small>live</small></h2>
    <ol id="feed"></ol>
    <p id="feed-empty" class="empty">Waiting for events.</p>
  </section>
  <section id="fixes-section" class="wide">
    <h2>Healing <small>fix &rarr; validate &rarr; deploy &rarr; learn</small></h2>
    <div id="fixes"><p class="empty">No healing runs yet.</p></div>
  </section>
</main>
<script src="/dashboard.js" defer></script>
</body>
</html>
`;

export const DASHBOARD_CSS = `
:root { --bg:#0d1117; --panel:#161b22; --line:#262f3a; --fg:#e6edf3; --muted:#8b98a5; --ok:#2ea043; --l1:#b08800; --l2:#d1731f; --l3:#da3633; --l4:#8e1519; --err:#a371f7; --link:#58a6ff; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:1rem; align-items:center; padding:.7rem 1.25rem; background:var(--panel); border-bottom:1px solid var(--line); position:sticky; top:0; z-index:1; }
h1 { font-size:1.15rem; margin:0; letter-spacing:.02em; } h2 { font-size:.95rem; margin:0 0 .6rem; } h2 small { color:var(--muted); font-weight:normal; margin-left:.4rem; }
h3 { font-size:.95rem; margin:0 0 .5rem; }
main { display:grid; gap:1rem; padding:1rem 1.25rem; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:.9rem 1rem; overflow:auto; min-width:0; }
section.wide { grid-column: 1 / -1; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
.muted, #summary { color:var(--muted); }
.pill { padding:.1rem .6rem; border-radius:999px; font-size:.8rem; background:var(--line); }
.pill.on { background:var(--ok); } .pill.off { background:var(--l3); }
#legend { color:var(--muted); font-size:.8rem; margin-bottom:.6rem; display:flex; gap:.4rem; align-items:center; flex-wrap:wrap; }
#legend .cell { margin-left:.5rem; }
.row { display:flex; align-items:center; gap:2px; margin:2px 0; }
.row .label { width:20rem; flex:none; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; color:var(--muted); padding-right:.5rem; }
.row .label b { color:var(--fg); font-weight:600; }
.row .figure { width:6.5rem; flex:none; text-align:right; color:var(--muted); font-variant-numeric:tabular-nums; padding-right:.6rem; }
.cell { display:inline-block; width:14px; height:14px; border-radius:2px; background:var(--line); flex:none; }
.lvl0 { background:var(--ok); } .lvl1 { background:var(--l1); } .lvl2 { background:var(--l2); } .lvl3 { background:var(--l3); } .lvl4 { background:var(--l4); }
.cell.err { box-shadow: inset 0 0 0 2px var(--err); }
.row.anomalous .label b { color:#ff7b72; }
.row.anomalous .label::before { content:"\\25CF  "; color:var(--l3); }
table { width:100%; border-collapse:collapse; } th { color:var(--muted); font-weight:600; font-size:.8rem; }
th, td { text-align:left; padding:.4rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
#anomalies { font-size:.85rem; }
td.summary { color:var(--muted); overflow-wrap:break-word; }
td.where b { overflow-wrap:break-word; } td.state { white-space:nowrap; }
tbody tr[data-id] { cursor:pointer; } tbody tr[data-id]:hover { background:#1c2430; }
tbody tr.selected { background:#1f2a3a; box-shadow: inset 3px 0 0 var(--link); }
.sev { padding:.05rem .45rem; border-radius:4px; font-size:.72rem; text-transform:uppercase; letter-spacing:.03em; }
.sev.low { background:var(--line); } .sev.medium { background:var(--l1); } .sev.high { background:var(--l2); } .sev.critical { background:var(--l3); }
tr.resolved td { opacity:.55; }
#diagnosis { margin-top:.8rem; padding:.8rem 1rem; border-left:3px solid var(--link); background:#0f141b; border-radius:0 6px 6px 0; }
#diagnosis p { margin:.35rem 0; }
#diagnosis ul { margin:.3rem 0; padding-left:1.2rem; }
#diagnosis .score { color:var(--muted); font-variant-numeric:tabular-nums; }
.root-cause b.cause { color:#ffa657; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background:#0b0f14; padding:.05rem .3rem; border-radius:4px; }
#feed { list-style:none; margin:0; padding:0; max-height:26rem; overflow:auto; }
#feed li { padding:.3rem 0; border-bottom:1px solid var(--line); display:grid; grid-template-columns: 4.8rem 1fr; gap:.4rem; font-size:.85rem; }
#feed time { color:var(--muted); font-variant-numeric:tabular-nums; }
#feed .kind { font-weight:600; margin-right:.35rem; }
#feed .k-anomaly .kind { color:#ff7b72; } #feed .k-diagnosis .kind { color:#ffa657; } #feed .k-fix .kind, #feed .k-validation .kind { color:#d2a8ff; }
#feed .k-deployment .kind { color:var(--link); } #feed .k-learning .kind { color:#7ee787; } #feed .k-job .kind { color:var(--l3); }
.fix { padding:.6rem 0; border-bottom:1px solid var(--line); }
.fix .meta { color:var(--muted); font-size:.85rem; margin-top:.2rem; }
.stages { display:flex; gap:.3rem; margin-top:.35rem; flex-wrap:wrap; }
.stage { padding:.1rem .55rem; border-radius:4px; background:var(--line); font-size:.78rem; color:var(--muted); }
.stage.succeeded { background:var(--ok); color:var(--fg); } .stage.running { background:var(--l1); color:var(--fg); } .stage.waiting { background:#1f6feb; color:var(--fg); }
.stage.failed { background:var(--l3); color:var(--fg); }
.verdict { font-weight:600; } .verdict.improved { color:#7ee787; } .verdict.worse { color:#ff7b72; }
.empty { color:var(--muted); }
a { color:var(--link); }
`;

export const DASHBOARD_JS = `
'use strict';
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const listOf = (x, key) => (Array.isArray(x) ? x : (x && (x[key] || x.items)) || []);
const fmtMs = (v) => (typeof v === 'number' && isFinite(v) ? (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)) + ' ms' : '-');
const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 60 ? s + 's ago' : s < 3600 ? Math.round(s / 60) + 'm ago' : Math.round(s / 3600) + 'h ago'; };
const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
const STAGES = [['fix.generate', 'fix'], ['validation.run', 'validate'], ['deployment.deploy', 'deploy'], ['learning.track', 'learn']];
let info = { jaegerUrl: undefined };
let openKeys = new Set();
let selected;

async function getJson(path) {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  // The session cookie expired or the token changed: back to the sign-in page.
  if (r.status === 401) location.assign('/signin?next=' + encodeURIComponent(location.pathname));
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

// The API returns only the current window's slices; the page keeps what it has seen so the
// heatmap shows a longer history than one window.
const history = new Map();
const HISTORY_SLICES = 60;
function remember(h) {
  const key = h.service + '/' + h.handler;
  let slices = history.get(key);
  if (!slices) { slices = new Map(); history.set(key, slices); }
  for (const s of h.slices || []) slices.set(s.startMs, s);
  const starts = [...slices.keys()].sort((a, b) => a - b);
  for (const old of starts.slice(0, Math.max(0, starts.length - HISTORY_SLICES))) slices.delete(old);
  return starts.slice(-HISTORY_SLICES).map((t) => slices.get(t));
}

async function refreshHandlers() {
  const handlers = listOf(await getJson('/api/v1/handlers'), 'handlers');
  const root = $('#heatmap');
  if (handlers.length === 0) { root.innerHTML = '<p class="empty">No beats received yet.</p>'; return; }
  handlers.sort((a, b) => (a.service + a.handler).localeCompare(b.service + b.handler));
  root.innerHTML = handlers.map((h) => {
    const base = h.baselineP95Ms || h.p95Ms || 0;
    const cells = remember(h).map((s) => {
      const ratio = base > 0 ? s.p95Ms / base : 0;
      const title = clock(s.startMs) + ' p95 ' + fmtMs(s.p95Ms) + ' (' + (ratio ? ratio.toFixed(2) + 'x' : '-') + ') n=' + s.count + (s.errors ? ' errors=' + s.errors : '');
      return '<span class="cell ' + (s.count ? level(ratio) : '') + (s.errors ? ' err' : '') + '" title="' + esc(title) + '"></span>';
    }).join('');
    const anomalous = openKeys.has(h.service + '/' + h.handler) ? ' anomalous' : '';
    const figures = 'p50 ' + fmtMs(h.p50Ms) + ' · p95 ' + fmtMs(h.p95Ms) + ' · p99 ' + fmtMs(h.p99Ms) + ' · baseline p95 ' + fmtMs(h.baselineP95Ms) + ' · errors ' + ((h.errorRate || 0) * 100).toFixed(1) + '%';
    return '<div class="row' + anomalous + '" data-handler="' + esc(h.handler) + '" data-service="' + esc(h.service) + '">' +
      '<span class="label" title="' + esc(figures) + '"><b>' + esc(h.handler) + '</b> ' + esc(h.service) + '</span>' +
      '<span class="figure" title="window p95">' + fmtMs(h.p95Ms) + '</span>' + cells + '</div>';
  }).join('');
}

async function refreshAnomalies() {
  const anomalies = listOf(await getJson('/api/v1/anomalies?limit=100'), 'anomalies');
  openKeys = new Set(anomalies.filter((a) => a.state !== 'resolved').map((a) => a.service + '/' + (a.handler || a.sequence || '')));
  const open = anomalies.filter((a) => a.state !== 'resolved').length;
  $('#summary').textContent = open + ' open anomal' + (open === 1 ? 'y' : 'ies');
  const body = $('#anomalies tbody');
  if (anomalies.length === 0) { body.innerHTML = '<tr class="empty"><td colspan="5">No anomalies.</td></tr>'; return; }
  body.innerHTML = anomalies.map((a) =>
    '<tr data-id="' + esc(a.id) + '" class="' + (a.state === 'resolved' ? 'resolved' : '') + (a.id === selected ? ' selected' : '') + '">' +
    '<td><span class="sev ' + esc(a.severity) + '">' + esc(a.severity) + '</span></td>' +
    '<td>' + esc(a.subtype) + '<br><span class="muted">' + esc(a.type) + '</span></td>' +
    '<td class="where"><b>' + esc(a.handler || a.sequence || '') + '</b><br><span class="muted">' + esc(a.service) + '</span></td>' +
    '<td class="summary">' + esc(a.summary) + '</td>' +
    '<td class="state">' + esc(a.state) + '<br><span class="muted">' + ago(a.firstSeenMs) + '</span></td></tr>').join('');
}

function traceLink(traceId) {
  return info.jaegerUrl
    ? '<a href="' + esc(info.jaegerUrl.replace(/\\/$/, '') + '/trace/' + traceId) + '" target="_blank" rel="noopener">' + esc(traceId.slice(0, 16)) + '</a>'
    : '<code>' + esc(traceId.slice(0, 16)) + '</code>';
}

async function showDiagnosis(id) {
  selected = id;
  for (const tr of document.querySelectorAll('#anomalies tbody tr[data-id]')) tr.classList.toggle('selected', tr.dataset.id === id);
  const box = $('#diagnosis');
  const data = await getJson('/api/v1/anomalies/' + encodeURIComponent(id));
  const a = data.anomaly || data;
  const d = (data.diagnoses || [])[0];
  const exemplars = (a.exemplars || []).map((e) => traceLink(e.traceId)).join(' ');
  let html = '<h3>' + esc(a.type + '/' + a.subtype) + ' in ' + esc(a.handler || a.sequence || a.service) + '</h3><p class="muted">' + esc(a.summary) + '</p>';
  if (d) {
    const others = (d.hypotheses || []).filter((h) => h.cause !== d.rootCause.cause).slice(0, 3);
    html += '<p class="root-cause"><b>Root cause:</b> <b class="cause">' + esc(d.rootCause.cause) + '</b> <span class="score">(' + Number(d.rootCause.score).toFixed(2) + ')</span> ' + esc(d.rootCause.description) + '</p>';
    if ((d.rootCause.evidence || []).length) html += '<ul>' + d.rootCause.evidence.slice(0, 4).map((e) => '<li>' + esc(e) + '</li>').join('') + '</ul>';
    if (others.length) html += '<p><b>Other hypotheses:</b> ' + others.map((h) => esc(h.cause) + ' <span class="score">(' + Number(h.score).toFixed(2) + ')</span>').join(', ') + '</p>';
    html += '<p><b>Affected:</b> ' + esc([...(d.affected.handlers || []), ...(d.affected.sequences || [])].join(', ') || '-') +
      ' · <b>impact:</b> ' + Math.round((d.impact.trafficShare || 0) * 100) + '% of traffic, ' + d.impact.affectedRuns + ' runs</p>';
    html += '<p><b>Recommended fixes:</b> ' + esc((d.recommendedFixes || []).join(', ') || 'none') + '</p>';
  } else html += '<p class="root-cause">Diagnosis pending&hellip;</p>';
  html += '<p><b>Exemplar traces:</b> ' + (exemplars || '-') + '</p>';
  box.innerHTML = html;
  box.hidden = false;
}

function stageStates(f) {
  const cur = f.stage ? STAGES.findIndex((s) => s[0] === f.stage) : STAGES.length;
  return STAGES.map((s, i) => {
    if (f.state === 'succeeded' || i < cur) return 'succeeded';
    if (i > cur) return '';
    if (f.state === 'running') return 'running';
    if (f.state === 'queued') return 'waiting';
    return 'failed';
  });
}

async function refreshFixes() {
  let fixes;
  try { fixes = listOf(await getJson('/api/v1/fixes'), 'fixes'); } catch { return; }
  const root = $('#fixes');
  if (fixes.length === 0) { root.innerHTML = '<p class="empty">No healing runs yet.</p>'; return; }
  root.innerHTML = fixes.map((f) => {
    const states = stageStates(f);
    const meta = [];
    if (f.validation && f.validation.tests) meta.push('tests ' + f.validation.tests.passed + ' passed, ' + f.validation.tests.failed + ' failed');
    else if (f.validation) meta.push('validation ' + (f.validation.passed ? 'passed' : 'failed'));
    if (f.validation && f.validation.proof === 'unverified') meta.push('<span class="verdict worse">unverified: not auto-merged</span>');
    if (f.validation && f.validation.proof === 'proven') meta.push('proven: reproduction red on base, green on patch');
    if (f.deployment) meta.push(f.deployment.decision + (f.deployment.branch ? ' <code>' + esc(f.deployment.branch) + '</code>' : '') + (f.deployment.mergeSha ? ' merge <code>' + esc(f.deployment.mergeSha.slice(0, 10)) + '</code>' : ''));
    if (f.deployment && f.deployment.url) meta.push('<a target="_blank" rel="noopener" href="' + esc(f.deployment.url) + '">pull request</a>');
    if (f.verdict) meta.push('verdict <span class="verdict ' + esc(f.verdict) + '">' + esc(f.verdict) + '</span>');
    if (f.error && f.state !== 'succeeded') meta.push('<span class="muted">' + esc(String(f.error).slice(0, 160)) + '</span>');
    if (info.jaegerUrl && f.traceId) meta.push('<a target="_blank" rel="noopener" href="' + esc(info.jaegerUrl.replace(/\\/$/, '') + '/trace/' + f.traceId) + '">trace</a>');
    const title = f.fix ? '<b>' + esc(f.fix.kind) + '</b> ' + esc(f.fix.title) : '<b>' + esc(f.handler || f.service) + '</b> <span class="muted">no fix yet</span>';
    return '<div class="fix" data-job="' + esc(f.id) + '" data-state="' + esc(f.state) + '">' + title +
      '<div class="stages">' + STAGES.map((s, i) => '<span class="stage ' + states[i] + '" data-stage="' + s[0] + '">' + s[1] + '</span>').join('') +
      '<span class="muted">&nbsp;' + esc(f.handler || '') + ' · ' + esc(f.state) + ' · ' + ago(f.updatedMs) + '</span></div>' +
      (meta.length ? '<div class="meta">' + meta.join(' · ') + '</div>' : '') + '</div>';
  }).join('');
}

function describeEvent(kind, p) {
  p = p || {};
  const r = p.result || {};
  switch (kind) {
    case 'anomaly.opened': case 'anomaly.updated': case 'anomaly.resolved': return p.summary || '';
    case 'diagnosis.created': return (p.rootCause ? p.rootCause.cause + ': ' + p.rootCause.description : '');
    case 'fix.generated': return Array.isArray(r) && r[0] ? r[0].kind + ': ' + r[0].title : '';
    case 'validation.completed': { const v = (r.results || [])[r.chosen ?? 0]; return p.passed === false ? 'failed: ' + (p.reason || '') : v && v.tests ? 'passed: tests ' + v.tests.passed + ' passed, ' + v.tests.failed + ' failed' : 'passed'; }
    case 'deployment.completed': return r.merge && r.merge.merged ? 'merged ' + ((r.proposal && r.proposal.branch) || '') + ' as ' + String(r.merge.mergeSha || '').slice(0, 10) : (r.decision || '') + ': ' + (r.reason || '');
    case 'learning.completed': return 'verdict ' + (r.verdict || '?');
    case 'job.failed': case 'job.parked': return p.reason || p.error || '';
    default: return '';
  }
}

function addFeed(e) {
  let data;
  try { data = JSON.parse(e.data); } catch { return; }
  const li = document.createElement('li');
  li.className = 'k-' + String(data.kind).split('.')[0];
  li.innerHTML = '<time>' + clock(data.timeMs) + '</time><span><span class="kind">' + esc(data.kind) + '</span>' + esc(describeEvent(data.kind, data.payload).slice(0, 220)) + '</span>';
  const feed = $('#feed');
  feed.insertBefore(li, feed.firstChild);
  while (feed.children.length > 60) feed.removeChild(feed.lastChild);
  $('#feed-empty').hidden = true;
}

async function refreshAll() {
  await Promise.allSettled([refreshAnomalies().then(refreshHandlers), refreshFixes()]);
  if (selected) showDiagnosis(selected).catch(() => {});
}

// Bursts of events (a replay on connect, a busy healing run) cause one refresh, not one per event.
let pending;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = undefined; refreshAll(); }, 200);
}

function connect() {
  const es = new EventSource('/api/v1/events');
  es.onopen = () => { $('#conn').textContent = 'live'; $('#conn').className = 'pill on'; };
  es.onerror = () => { $('#conn').textContent = 'reconnecting'; $('#conn').className = 'pill off'; };
  const onEvent = (e) => { if (e.data) addFeed(e); scheduleRefresh(); };
  es.onmessage = onEvent;
  for (const kind of ['anomaly.opened', 'anomaly.updated', 'anomaly.resolved', 'anomaly.feedback', 'diagnosis.created', 'fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed', 'job.parked', 'job.failed']) {
    es.addEventListener(kind, onEvent);
  }
}

document.addEventListener('click', (e) => {
  const row = e.target.closest && e.target.closest('tr[data-id]');
  if (row) showDiagnosis(row.dataset.id).catch(() => {});
});

getJson('/api/v1/info').then((i) => {
  info = i;
  $('#mode').textContent = (i.serviceName || '') + ' · healing ' + ((i.healing && i.healing.mode) || 'off');
}).catch(() => {});
refreshAll();
setInterval(refreshAll, 5000);
connect();
`;

/** A small icon, served from memory like the rest (the CSP allows only same-origin images). */
export const DASHBOARD_FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#161b22"/><path d="M2 9h3l1.5-4 3 7 1.5-3H14" fill="none" stroke="#2ea043" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;
