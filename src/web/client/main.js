import { $, h, fill } from './assets/dom.js';
import { ApiError, getJson, getPage, listOf, query, sendJson } from './assets/api.js';
import { fmtMs, fmtPct, fmtRate, learningText } from './assets/format.js';
import { FeedModel, renderFeed } from './assets/feed.js';
import { cellsFromSeries, cellsFromWindow, renderHeatmap, typicalP95 } from './assets/heatmap.js';
import { RedCharts, renderMarkers } from './assets/charts.js';
import { renderServiceMap } from './assets/service-map.js';
import { renderAnomalyRows, renderDiagnosis } from './assets/anomalies.js';
import { renderFixes } from './assets/fixes.js';
import { joinLiveHandlers } from './assets/services.js';
import { loadIncidentDetail, matchesIncident, renderIncidentDetail, renderIncidentList } from './assets/incidents.js';

// Served as /dashboard.js, so its imports name /assets/.
// The page: state in the URL fragment (service, endpoint, range), views refreshed from the API
// every few seconds and at once on live events.

const RANGES = { '15m': 15 * 60_000, '1h': 3_600_000, '6h': 6 * 3_600_000, '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 };
const PAGE = 10;
const HEATMAP_ROWS = 12;

const fragment = new URLSearchParams(location.hash.slice(1));
const state = {
  range: RANGES[fragment.get('range')] ? fragment.get('range') : '1h',
  service: fragment.get('service') || '',
  operation: fragment.get('op') || '',
  q: '',
  incPage: 0,
  anPage: 0,
  incident: fragment.get('incident') || undefined,
  anomaly: undefined,
  info: { jaegerUrl: undefined },
  services: [],
  /** Whether the sidecar has the history endpoints (/api/v1/services, /api/v1/series). */
  history: true,
  /** The incident list's current page, and every open incident (for the map and the header). */
  pageIncidents: [],
  openIncidents: [],
  openAnomalyServices: new Set(),
  actionStatus: '',
  silenceFor: 3_600_000,
};
const charts = new RedCharts({ rate: $('#chart-rate'), errors: $('#chart-errors'), latency: $('#chart-latency') });
const feed = new FeedModel(60);

function window_() {
  const to = Date.now();
  return { from: to - RANGES[state.range], to };
}

function saveFragment() {
  const f = new URLSearchParams();
  if (state.service) f.set('service', state.service);
  if (state.operation) f.set('op', state.operation);
  f.set('range', state.range);
  if (state.incident) f.set('incident', state.incident);
  history.replaceState(null, '', '#' + f.toString());
}

function note(el, text) {
  fill(el, h('p', { class: 'empty' }, text));
}

// ---- services, operations, header ----

/**
 * Services with their operations: the stored history (/api/v1/services) joined with the live
 * handler figures (/api/v1/handlers). Handler-only apps (no entry spans, e.g. MusicalConductor
 * beats) and sidecars without the history endpoints still get their services and heatmap rows.
 */
async function loadServices() {
  const { from, to } = window_();
  let stored = [];
  try {
    stored = listOf(await getJson('/api/v1/services' + query({ from, to })), 'services');
    state.history = true;
  } catch (err) {
    if (!(err instanceof ApiError) || !err.missingRoute) throw err;
    state.history = false;
  }
  const handlers = listOf(await getJson('/api/v1/handlers'), 'handlers');
  return joinLiveHandlers(stored, handlers, (state.info.detect && state.info.detect.sliceMs) || 1000);
}

function renderSelectors() {
  const svc = $('#service');
  const names = state.services.map((s) => s.name);
  if (state.service && !names.includes(state.service)) names.unshift(state.service);
  const trouble = (n) => {
    const s = state.services.find((x) => x.name === n) || {};
    if (s.openIncidents > 0) return ' \u2014 ' + s.openIncidents + ' open incident' + (s.openIncidents === 1 ? '' : 's');
    return s.openAnomalies > 0 ? ' \u2014 ' + s.openAnomalies + ' open anomal' + (s.openAnomalies === 1 ? 'y' : 'ies') : '';
  };
  fill(svc, h('option', { value: '' }, 'all services'), names.map((n) => h('option', { value: n, selected: n === state.service }, n + trouble(n))));
  svc.value = state.service;
  const ops = (state.services.find((s) => s.name === state.service) || { operations: [] }).operations || [];
  const opNames = ops.map((o) => o.name);
  if (state.operation && !opNames.includes(state.operation)) opNames.unshift(state.operation);
  fill($('#operation'), h('option', { value: '' }, 'whole service'), opNames.map((n) => h('option', { value: n, selected: n === state.operation }, n)));
  $('#operation').value = state.operation;
  $('#operation').disabled = !state.service;
  const watched = state.services.map((s) => s.name);
  $('#watched').textContent = watched.length === 0 ? 'no services yet' : 'watching ' + (watched.length > 4 ? watched.slice(0, 4).join(', ') + ' +' + (watched.length - 4) : watched.join(', '));
  $('#watched').title = watched.join(', ');
}

function renderOperations() {
  const body = $('#operations tbody');
  const svc = state.services.find((s) => s.name === state.service);
  if (!svc) {
    fill(body, h('tr', { class: 'empty' }, h('td', { colspan: 5 }, state.service ? 'No traffic from this service in range.' : 'Choose a service.')));
    return;
  }
  const ops = svc.operations || [];
  if (ops.length === 0) {
    fill(body, h('tr', { class: 'empty' }, h('td', { colspan: 5 }, 'No endpoints seen in range.')));
    return;
  }
  fill(body, ops.map((o) => {
    const learning = learningText(o.learning);
    return h('tr', { class: o.name === state.operation ? 'selected' : '', dataset: { operation: o.name }, tabindex: 0, onclick: () => selectService(state.service, o.name) },
      h('td', { class: 'where' }, h('b', null, o.name), learning ? h('span', { class: 'learning' }, learning) : null),
      h('td', null, fmtRate(o.ratePerSec)),
      h('td', null, fmtPct(o.errorRate)),
      h('td', null, fmtMs(o.p95Ms)),
      h('td', null, learning ? h('span', { class: 'muted' }, learning) : o.baselineP95Ms !== undefined ? fmtMs(o.baselineP95Ms) : 'baselined'));
  }));
}

async function refreshServices() {
  state.services = await loadServices();
  if (!state.service && state.services.length > 0) {
    // Start on a service in trouble when there is one.
    const troubled = state.openIncidents.find((i) => (i.rootCauses || [])[0]);
    state.service = troubled ? troubled.rootCauses[0].service : state.services[0].name;
    saveFragment();
  }
  renderSelectors();
  renderOperations();
}

// ---- RED charts ----

async function refreshRed() {
  const empty = $('#red-empty');
  $('#red-title').textContent = state.service ? state.service + (state.operation ? ' \u00b7 ' + state.operation : ' \u00b7 all entry requests') + ' \u00b7 last ' + $('#range button.on').textContent : '';
  if (!state.service) {
    empty.textContent = 'Choose a service.';
    empty.hidden = false;
    $('#charts').hidden = true;
    return;
  }
  const { from, to } = window_();
  const view = { service: state.service, operation: state.operation, range: state.range };
  let series;
  try {
    series = await getJson('/api/v1/series' + query({ service: view.service, operation: view.operation, from, to }));
  } catch (err) {
    if (!(err instanceof ApiError) || !err.missingRoute) throw err;
    empty.textContent = 'RED history needs GET /api/v1/series, which this sidecar does not have: the live figures are in the endpoint table.';
    empty.hidden = false;
    $('#charts').hidden = true;
    fill($('#markers'));
    return;
  }
  // The view changed while this answer was on its way: the refresh for the new view draws.
  if (view.service !== state.service || view.operation !== state.operation || view.range !== state.range) return;
  const points = series.points || [];
  $('#charts').hidden = false;
  $('#charts').dataset.points = String(points.length);
  $('#charts').dataset.service = view.service;
  $('#charts').dataset.operation = view.operation;
  $('#charts').dataset.band = String((series.baseline || []).length);
  if (!charts.show(series, from, to)) {
    empty.textContent = 'The chart library did not load (/assets/uplot.js).';
    empty.hidden = false;
  } else {
    empty.textContent = points.length === 0 ? 'No requests in this range.' : '';
    empty.hidden = points.length > 0;
  }
  renderMarkers($('#markers'), series, (id) => selectIncident(id));
}

// ---- service map ----

async function refreshMap() {
  const { from, to } = window_();
  const graph = await getJson('/api/v1/service-graph' + (state.history ? query({ from, to }) : ''));
  const rootCauses = new Set(state.openIncidents.map((i) => ((i.rootCauses || [])[0] || {}).service).filter(Boolean));
  renderServiceMap($('#service-map'), graph, {
    services: state.services.map((s) => s.name),
    anomalous: rootCauses,
    affected: state.openAnomalyServices,
    selected: state.service,
    onSelect: (name) => selectService(name, ''),
  });
}

// ---- heatmap ----

async function refreshHeatmap() {
  const root = $('#heatmap');
  const services = state.service ? state.services.filter((s) => s.name === state.service) : state.services;
  const ops = services.flatMap((s) => (s.operations || []).map((o) => ({ service: s.name, op: o })));
  if (ops.length === 0) {
    note(root, 'No data in this range yet.');
    return;
  }
  const shown = ops.slice(0, HEATMAP_ROWS);
  const { from, to } = window_();
  const step = Math.max(10_000, Math.floor((to - from) / 90));
  const rows = await Promise.all(shown.map(async ({ service, op }) => {
    let cells = [];
    if (state.history && !op.live) {
      const series = await getJson('/api/v1/series' + query({ service, operation: op.name, from, to, step })).catch(() => ({ points: [] }));
      cells = cellsFromSeries(series);
    }
    // No stored history for this key (a handler-only app, an older sidecar): the live window.
    const windowed = cells.length === 0;
    if (windowed) cells = cellsFromWindow(op.slices);
    const closed = cells.filter((c) => c.closed && c.count > 0);
    return {
      service,
      name: op.name,
      cells,
      learning: op.learning,
      // Per-cell learned bands come with the series; else the detector's learned p95 for the key; else what is typical in range.
      baselineP95Ms: op.baselineP95Ms || typicalP95(cells),
      anomalous: isAnomalous(service, op.name),
      p95Ms: closed.length ? closed[closed.length - 1].p95Ms : undefined,
    };
  }));
  renderHeatmap(root, rows, (r) => selectService(r.service, r.name));
  if (ops.length > shown.length) root.appendChild(h('p', { class: 'muted' }, (ops.length - shown.length) + ' more: choose a service to see its endpoints.'));
}

let openAnomalyKeys = new Set();
function isAnomalous(service, name) {
  return openAnomalyKeys.has(service + '\u0000' + name);
}

// ---- incidents ----

function incidentFilters() {
  return { state: $('#f-state').value, severity: $('#f-severity').value, service: state.service, q: state.q };
}

async function refreshIncidents() {
  const f = incidentFilters();
  const page = await getPage('/api/v1/incidents' + query({ ...f, limit: PAGE, offset: state.incPage * PAGE }));
  let list = listOf(page.body, 'incidents');
  let total = page.total;
  if (total === undefined) {
    // A sidecar whose list neither filters nor pages (no X-Total-Count): do both here.
    state.openIncidents = list.filter((i) => i.state === 'open');
    const all = list.filter((i) => matchesIncident(i, f));
    total = all.length;
    list = all.slice(state.incPage * PAGE, (state.incPage + 1) * PAGE);
  } else {
    // The map, the header and the first view need every open incident, whatever the filters.
    state.openIncidents = listOf(await getJson('/api/v1/incidents?state=open&limit=100'), 'incidents');
  }
  state.pageIncidents = list;
  const open = state.openIncidents.length;
  $('#summary').textContent = open + ' open incident' + (open === 1 ? '' : 's');
  renderIncidentList($('#incidents tbody'), list, { selectedId: state.incident, onSelect: (i) => selectIncident(i.id, i), emptyText: f.state || f.severity || f.service || f.q ? 'No incidents match.' : 'No incidents.' });
  pager('#inc', state.incPage, total, (p) => { state.incPage = p; refreshIncidents().catch(report('#incidents-section')); });
  if (state.incident) await showIncident(state.incident, knownIncident(state.incident));
}

function knownIncident(id) {
  return state.pageIncidents.find((i) => i.id === id) || state.openIncidents.find((i) => i.id === id);
}

let lastIncidentShown = '';
async function showIncident(id, fromList) {
  const box = $('#incident-detail');
  let detail;
  try {
    detail = await loadIncidentDetail(id, fromList);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      fill(box, h('p', { class: 'muted' }, 'Incident ' + id + ' is not known to this sidecar.'));
      box.hidden = false;
      return;
    }
    throw err;
  }
  if (state.incident !== id) return;
  // Unchanged since the last refresh: keep the panel as it is (a button about to be clicked,
  // the scroll position). The "so far" duration moves on at the next change.
  const shown = JSON.stringify([detail, state.actionStatus, state.info.jaegerUrl]);
  if (shown === lastIncidentShown && !box.hidden) return;
  lastIncidentShown = shown;
  renderIncidentDetail(box, detail, {
    info: state.info,
    status: state.actionStatus,
    silenceFor: state.silenceFor,
    onSilenceFor: (ms) => { state.silenceFor = ms; },
    onAck: (i) => act(i, 'POST', '/acknowledge', { by: 'dashboard' }, 'acknowledged'),
    onSilence: (i, forMs) => act(i, 'POST', '/silence', { forMs, reason: 'silenced from the dashboard' }, 'silenced'),
    onUnsilence: (i) => act(i, 'DELETE', '/silence', {}, 'silence lifted'),
    onService: (service, operation) => selectService(service, operation || ''),
  });
}

async function act(incident, method, suffix, body, done) {
  try {
    await sendJson(method, '/api/v1/incidents/' + encodeURIComponent(incident.id) + suffix, body);
    state.actionStatus = done;
  } catch (err) {
    state.actionStatus = err instanceof ApiError && err.missingRoute ? 'this sidecar cannot ' + done.replace(/ed$/, '') + ' incidents yet' : 'failed: ' + err.message;
  }
  await refreshIncidents().catch(report('#incidents-section'));
}

function selectIncident(id, fromList) {
  state.incident = id;
  state.actionStatus = '';
  saveFragment();
  for (const tr of document.querySelectorAll('#incidents tbody tr[data-id]')) tr.classList.toggle('selected', tr.dataset.id === id);
  showIncident(id, fromList || knownIncident(id)).catch(report('#incidents-section'));
}

// ---- anomalies ----

async function refreshAnomalies() {
  const reply = await getJson('/api/v1/anomalies' + query({ state: $('#a-state').value, type: $('#a-type').value, service: state.service, limit: PAGE, offset: state.anPage * PAGE }));
  let items = listOf(reply, 'anomalies');
  if (state.q) {
    const q = state.q.toLowerCase();
    items = items.filter((a) => [a.summary, a.handler, a.sequence, a.service, a.subtype, a.id].join(' ').toLowerCase().includes(q));
  }
  renderAnomalyRows($('#anomalies tbody'), items, { selectedId: state.anomaly, onSelect: (id) => showDiagnosis(id).catch(report('#anomalies-section')) });
  pager('#an', state.anPage, typeof reply.total === 'number' ? reply.total : items.length, (p) => { state.anPage = p; refreshAnomalies().catch(report('#anomalies-section')); });
}

/** Open anomalies of every service (for highlighting), independent of the table's filters. */
async function refreshOpenAnomalies() {
  const open = [...listOf(await getJson('/api/v1/anomalies?state=open&limit=500'), 'anomalies'), ...listOf(await getJson('/api/v1/anomalies?state=ongoing&limit=500'), 'anomalies')];
  state.openAnomalyServices = new Set(open.map((a) => a.service));
  openAnomalyKeys = new Set(open.map((a) => a.service + '\u0000' + (a.handler || a.sequence || '')));
}

async function showDiagnosis(id) {
  state.anomaly = id;
  for (const tr of document.querySelectorAll('#anomalies tbody tr[data-id]')) tr.classList.toggle('selected', tr.dataset.id === id);
  renderDiagnosis($('#diagnosis'), await getJson('/api/v1/anomalies/' + encodeURIComponent(id)), state.info);
}

// ---- healing runs ----

async function refreshFixes() {
  renderFixes($('#fixes'), listOf(await getJson('/api/v1/fixes'), 'fixes'), state.info);
}

// ---- paging, errors, selection ----

function pager(prefix, page, total, go) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  $(prefix + '-page').textContent = total === 0 ? '' : (page + 1) + ' / ' + pages + ' (' + total + ')';
  $(prefix + '-prev').disabled = page <= 0;
  $(prefix + '-next').disabled = page + 1 >= pages;
  $(prefix + '-prev').onclick = () => go(Math.max(0, page - 1));
  $(prefix + '-next').onclick = () => go(Math.min(pages - 1, page + 1));
}

/** A failed view says so in its own section (no console noise, the rest of the page goes on). */
function report(sectionSelector) {
  return (err) => {
    const section = $(sectionSelector);
    let line = section.querySelector('.error-line');
    if (!line) {
      line = h('p', { class: 'error-line' });
      section.appendChild(line);
    }
    line.textContent = 'Could not load: ' + (err && err.message ? err.message : String(err));
  };
}

function clearReport(sectionSelector) {
  const line = $(sectionSelector).querySelector('.error-line');
  if (line) line.remove();
}

function guarded(sectionSelector, fn) {
  return fn().then(() => clearReport(sectionSelector), report(sectionSelector));
}

function selectService(service, operation) {
  state.service = service;
  state.operation = operation;
  state.incPage = 0;
  state.anPage = 0;
  saveFragment();
  renderSelectors();
  renderOperations();
  refreshAll();
}

function markRange() {
  for (const b of document.querySelectorAll('#range button')) b.classList.toggle('on', b.dataset.range === state.range);
}

let running;
async function refreshAll() {
  if (running) {
    running.again = true;
    return;
  }
  running = { again: false };
  try {
    await Promise.allSettled([guarded('#incidents-section', refreshIncidents), guarded('#anomalies-section', refreshOpenAnomalies)]);
    await guarded('#operations-section', refreshServices);
    await Promise.allSettled([
      guarded('#red-section', refreshRed),
      guarded('#map-section', refreshMap),
      guarded('#heatmap-section', refreshHeatmap),
      guarded('#anomalies-section', refreshAnomalies),
      guarded('#fixes-section', refreshFixes),
    ]);
  } finally {
    const again = running.again;
    running = undefined;
    if (again) refreshAll();
  }
}

// Bursts of events (a replay on connect, a busy healing run) cause one refresh, not one per event.
let pending;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => {
    pending = undefined;
    refreshAll();
  }, 300);
}

const EVENT_KINDS = ['anomaly.opened', 'anomaly.updated', 'anomaly.resolved', 'anomaly.feedback', 'diagnosis.created', 'fix.generated', 'validation.completed', 'deployment.completed', 'learning.completed', 'job.parked', 'job.held', 'job.failed', 'incident.opened', 'incident.updated', 'incident.resolved', 'incident.acknowledged', 'incident.silenced', 'incident.unsilenced'];

function connect() {
  const es = new EventSource('/api/v1/events');
  es.onopen = () => {
    $('#conn').textContent = 'live';
    $('#conn').className = 'pill on';
  };
  es.onerror = () => {
    $('#conn').textContent = 'reconnecting';
    $('#conn').className = 'pill off';
  };
  const onEvent = (e) => {
    if (e.data) {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        data = undefined;
      }
      if (data) {
        feed.add(data);
        renderFeed($('#feed'), feed);
        $('#feed-empty').hidden = true;
      }
    }
    scheduleRefresh();
  };
  es.onmessage = onEvent;
  for (const kind of EVENT_KINDS) es.addEventListener(kind, onEvent);
}

$('#service').addEventListener('change', (e) => selectService(e.target.value, ''));
$('#operation').addEventListener('change', (e) => selectService(state.service, e.target.value));
for (const b of document.querySelectorAll('#range button')) {
  b.addEventListener('click', () => {
    state.range = b.dataset.range;
    markRange();
    saveFragment();
    refreshAll();
  });
}
for (const sel of ['#f-state', '#f-severity']) $(sel).addEventListener('change', () => { state.incPage = 0; refreshIncidents().catch(report('#incidents-section')); });
for (const sel of ['#a-state', '#a-type']) $(sel).addEventListener('change', () => { state.anPage = 0; refreshAnomalies().catch(report('#anomalies-section')); });
let searchTimer;
$('#search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.q = e.target.value.trim();
    state.incPage = 0;
    state.anPage = 0;
    refreshIncidents().catch(report('#incidents-section'));
    refreshAnomalies().catch(report('#anomalies-section'));
  }, 250);
});

markRange();
getJson('/api/v1/info').then((i) => {
  state.info = i;
  $('#mode').textContent = 'sidecar ' + String(i.serviceName || '') + ' · healing ' + String((i.healing && i.healing.mode) || 'off');
}).catch(() => {}).finally(() => {
  refreshAll();
  setInterval(refreshAll, 5000);
  connect();
});
