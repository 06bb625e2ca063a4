import { h, fill, jaegerTraceHref } from './dom.js';
import { ApiError, getJson } from './api.js';
import { ago, clock, duration, fmtCount, stamp } from './format.js';
import { renderWaterfall } from './waterfall.js';

// Incidents first: the list (one row per fault, best root cause shown) and the detail panel
// (root causes, impact, anomaly timeline, diagnosis, healing run, exemplar traces, acknowledge
// and silence).

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };

/** Whether an incident passes the page's filters (used when the server does not filter). */
export function matchesIncident(i, f) {
  if (f.state && i.state !== f.state) return false;
  if (f.severity && i.severity !== f.severity) return false;
  if (f.service && !(i.services || []).includes(f.service) && !(i.rootCauses || []).some((r) => r.service === f.service)) return false;
  if (f.q) {
    const hay = [i.summary, i.id, ...(i.services || []), ...(i.rootCauses || []).flatMap((r) => [r.service, r.operation, r.reason])].join(' ').toLowerCase();
    if (!hay.includes(f.q.toLowerCase())) return false;
  }
  return true;
}

export function rootCauseText(rc) {
  return rc ? rc.service + (rc.operation ? ' \u00b7 ' + rc.operation : '') : '';
}

export function isSilenced(i, now = Date.now()) {
  return typeof i.silencedUntilMs === 'number' && i.silencedUntilMs > now;
}

function stateCell(i) {
  const badges = [];
  if (i.acknowledged) badges.push(h('span', { class: 'badge ack', title: 'acknowledged by ' + String(i.acknowledged.by || '?') + ' at ' + stamp(i.acknowledged.atMs) }, 'acked'));
  if (isSilenced(i)) badges.push(h('span', { class: 'badge silenced', title: 'silenced until ' + stamp(i.silencedUntilMs) }, 'silenced'));
  return h('td', { class: 'state' }, String(i.state), ' ', badges, h('br'), h('span', { class: 'muted' }, ago(i.startMs)));
}

export function renderIncidentList(tbody, incidents, opts) {
  if (incidents.length === 0) {
    fill(tbody, h('tr', { class: 'empty' }, h('td', { colspan: 5 }, opts.emptyText || 'No incidents.')));
    return;
  }
  fill(tbody, incidents.map((i) => {
    const rc = (i.rootCauses || [])[0];
    const impact = i.impact ? fmtCount(i.impact.requests) + ' req, ' + fmtCount(i.impact.errors) + ' err' : (i.anomalyIds || []).length + ' anomal' + ((i.anomalyIds || []).length === 1 ? 'y' : 'ies');
    return h('tr', { class: (i.state === 'resolved' ? 'resolved' : '') + (i.id === opts.selectedId ? ' selected' : ''), dataset: { id: String(i.id) }, tabindex: 0, onclick: () => opts.onSelect(i), onkeydown: (e) => { if (e.key === 'Enter') opts.onSelect(i); } },
      h('td', null, h('span', { class: 'sev ' + i.severity }, String(i.severity))),
      h('td', { class: 'summary' }, String(i.summary || i.id), h('br'), h('span', { class: 'muted' }, (i.services || []).join(', '))),
      h('td', { class: 'root-cause' }, rc ? [h('b', { class: 'cause' }, rootCauseText(rc)), h('br'), h('span', { class: 'muted' }, 'score ' + Number(rc.score).toFixed(2))] : h('span', { class: 'muted' }, 'ranking\u2026')),
      h('td', null, impact),
      stateCell(i));
  }));
}

/**
 * The detail of one incident: GET /api/v1/incidents/:id when the sidecar has it, else assembled
 * from the list entry and each anomaly's own record (no stored exemplar spans then).
 */
export async function loadIncidentDetail(id, fromList) {
  try {
    return { ...(await getJson('/api/v1/incidents/' + encodeURIComponent(id))), assembled: false };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404 || !fromList) throw err;
  }
  const records = await Promise.all((fromList.anomalyIds || []).slice(0, 20).map((a) => getJson('/api/v1/anomalies/' + encodeURIComponent(a)).catch(() => undefined)));
  const anomalies = records.filter(Boolean).map((r) => r.anomaly);
  const diagnoses = records.filter(Boolean).flatMap((r) => r.diagnoses || []);
  const timeline = [];
  for (const a of anomalies) {
    timeline.push({ t: a.firstSeenMs, kind: 'anomaly.opened', text: a.type + '/' + a.subtype + ' in ' + (a.handler || a.sequence || a.service) + ': ' + a.summary });
    if (a.resolvedMs) timeline.push({ t: a.resolvedMs, kind: 'anomaly.resolved', text: (a.handler || a.sequence || a.service) + ' back to normal' });
  }
  timeline.sort((x, y) => x.t - y.t);
  const exemplars = anomalies.flatMap((a) => a.exemplars || []).slice(0, 5).map((e) => ({ traceId: e.traceId, spans: [] }));
  return { incident: fromList, anomalies, timeline, diagnoses, fixes: [], exemplars, assembled: true };
}

/** "resolved 14:02 after 3m; worst: …" for a resolved anomaly, its summary otherwise. */
export function anomalySummary(a) {
  if (a.state !== 'resolved') return String(a.summary || '');
  const end = a.resolvedMs || a.lastSeenMs;
  return 'resolved ' + clock(end) + ' after ' + duration(end - a.firstSeenMs) + '; worst: ' + String(a.summary || '');
}

function section(title, ...body) {
  return h('div', { class: 'detail-part' }, h('h4', null, title), body);
}

function exemplarView(e, info) {
  const href = jaegerTraceHref(info.jaegerUrl, e.traceId);
  if (href !== null) return h('li', null, h('a', { href, target: '_blank', class: 'trace-link' }, String(e.traceId).slice(0, 16)), ' in Jaeger');
  if (Array.isArray(e.spans) && e.spans.length > 0) return h('li', null, renderWaterfall(e));
  return h('li', null, h('code', null, String(e.traceId).slice(0, 32)), h('span', { class: 'muted' }, ' (set emit.jaegerUrl to link traces)'));
}

export function renderIncidentDetail(box, detail, opts) {
  const i = detail.incident;
  const acked = i.acknowledged;
  const silenced = isSilenced(i);
  const silenceFor = h('select', { 'aria-label': 'silence for', class: 'silence-for' },
    [['3600000', '1 h'], ['14400000', '4 h'], ['86400000', '24 h'], ['604800000', '7 d']].map(([v, t]) => h('option', { value: v }, t)));
  if (opts.silenceFor) silenceFor.value = String(opts.silenceFor);
  silenceFor.addEventListener('change', () => opts.onSilenceFor && opts.onSilenceFor(Number(silenceFor.value)));
  const actions = h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ack', disabled: Boolean(acked), onclick: () => opts.onAck(i) }, acked ? 'Acknowledged' : 'Acknowledge'),
    silenced
      ? h('button', { type: 'button', class: 'unsilence', onclick: () => opts.onUnsilence(i) }, 'Lift silence')
      : [h('button', { type: 'button', class: 'silence', onclick: () => opts.onSilence(i, Number(silenceFor.value)) }, 'Silence'), ' for ', silenceFor],
    h('span', { class: 'action-status muted' }, opts.status || ''));
  const state = [String(i.state), ' · started ', stamp(i.startMs), i.state === 'resolved' ? ' · ended ' + stamp(i.endMs) + ' (' + duration(i.endMs - i.startMs) + ')' : ' · ' + duration(Date.now() - i.startMs) + ' so far'];
  if (acked) state.push(' · acknowledged by ', String(acked.by || '?'), ' ', ago(acked.atMs));
  if (silenced) state.push(' · silenced until ', stamp(i.silencedUntilMs), i.silenceReason ? ' (' + String(i.silenceReason) + ')' : '');

  const causes = h('ol', { class: 'causes' }, (i.rootCauses || []).slice(0, 5).map((rc, n) =>
    h('li', { class: n === 0 ? 'first' : '' },
      h('button', { type: 'button', class: 'linklike cause', onclick: () => opts.onService(rc.service, rc.operation) }, rootCauseText(rc)),
      ' ', h('span', { class: 'score' }, '(' + Number(rc.score).toFixed(2) + ')'), ' ', h('span', { class: 'muted' }, String(rc.reason || '')))));

  const impact = i.impact ? fmtCount(i.impact.requests) + ' requests affected, ' + fmtCount(i.impact.errors) + ' errors' : 'not measured by this sidecar';
  const timeline = h('ol', { class: 'timeline' }, (detail.timeline || []).slice(-30).map((t) => h('li', null, h('time', null, clock(t.t)), ' ', h('span', { class: 'kind' }, String(t.kind)), ' ', String(t.text || ''))));
  const anomalies = h('ul', { class: 'incident-anomalies' }, (detail.anomalies || []).slice(0, 20).map((a) =>
    h('li', null, h('span', { class: 'sev ' + a.severity }, String(a.severity)), ' ', h('b', null, String(a.handler || a.sequence || a.service)), ' ', h('span', { class: 'muted' }, a.type + '/' + a.subtype), ' ', anomalySummary(a))));
  const d = (detail.diagnoses || [])[0];
  const diagnosis = d
    ? [h('p', { class: 'root-cause' }, h('b', null, 'Diagnosis: '), h('b', { class: 'cause' }, String(d.rootCause.cause)), ' ', h('span', { class: 'score' }, '(' + Number(d.rootCause.score).toFixed(2) + ')'), ' ', String(d.rootCause.description || '')),
       (d.rootCause.evidence || []).length ? h('ul', null, d.rootCause.evidence.slice(0, 4).map((e) => h('li', null, String(e)))) : null,
       h('p', null, h('b', null, 'Recommended fixes: '), (d.recommendedFixes || []).join(', ') || 'none')]
    : h('p', { class: 'muted' }, 'No diagnosis stored for these anomalies.');
  const fixes = (detail.fixes || []).length
    ? h('ul', null, detail.fixes.map((f) => h('li', null, h('b', null, f.fix ? String(f.fix.kind) + ': ' + String(f.fix.title) : String(f.handler || f.service || f.id)), ' · ', String(f.state), f.stage ? ' at ' + String(f.stage) : '', f.verdict ? ' · verdict ' + String(f.verdict) : '')))
    : h('p', { class: 'muted' }, silenced ? 'Silenced: no healing while the silence lasts.' : 'No healing run for this incident.');
  const exemplars = (detail.exemplars || []).length
    ? h('ul', { class: 'exemplars' }, detail.exemplars.slice(0, 3).map((e) => exemplarView(e, opts.info)))
    : h('p', { class: 'muted' }, 'No exemplar traces stored.');

  fill(box,
    h('h3', null, h('span', { class: 'sev ' + i.severity }, String(i.severity)), ' ', String(i.summary || i.id)),
    h('p', { class: 'muted state-line' }, state),
    actions,
    section('Root causes, most likely first', causes),
    section('Impact', h('p', null, impact, ' · services: ', (i.services || []).join(', '))),
    section('Anomalies', anomalies),
    section('Timeline', timeline),
    section('Diagnosis', diagnosis),
    section('Healing', fixes),
    section('Exemplar traces', exemplars),
    detail.assembled ? h('p', { class: 'muted small' }, 'Assembled from the anomaly records: this sidecar has no GET /api/v1/incidents/:id.') : null);
  box.hidden = false;
}

export function sortIncidents(list) {
  return [...list].sort((a, b) => (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1) || (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.startMs - a.startMs);
}

