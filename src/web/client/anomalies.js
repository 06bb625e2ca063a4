import { h, fill, jaegerTraceHref } from './dom.js';
import { ago } from './format.js';
import { anomalySummary } from './incidents.js';

// The anomaly table and the diagnosis panel of one anomaly.

export function renderAnomalyRows(tbody, items, opts) {
  if (items.length === 0) {
    fill(tbody, h('tr', { class: 'empty' }, h('td', { colspan: 5 }, 'No anomalies.')));
    return;
  }
  fill(tbody, items.map((a) => h('tr', { class: (a.state === 'resolved' ? 'resolved' : '') + (a.id === opts.selectedId ? ' selected' : ''), dataset: { id: a.id }, tabindex: 0, onclick: () => opts.onSelect(a.id), onkeydown: (e) => { if (e.key === 'Enter') opts.onSelect(a.id); } },
    h('td', null, h('span', { class: 'sev ' + a.severity }, String(a.severity))),
    h('td', null, String(a.subtype), h('br'), h('span', { class: 'muted' }, String(a.type))),
    h('td', { class: 'where' }, h('b', null, String(a.handler || a.sequence || '')), h('br'), h('span', { class: 'muted' }, String(a.service))),
    h('td', { class: 'summary' }, anomalySummary(a)),
    h('td', { class: 'state' }, String(a.state), h('br'), h('span', { class: 'muted' }, ago(a.firstSeenMs))))));
}

/** GET /api/v1/anomalies/:id as a panel: root cause, evidence, other hypotheses, impact, fixes, exemplars. */
export function renderDiagnosis(box, data, info) {
  const a = data.anomaly || data;
  const d = (data.diagnoses || [])[0];
  const parts = [h('h3', null, a.type + '/' + a.subtype + ' in ' + (a.handler || a.sequence || a.service)), h('p', { class: 'muted' }, anomalySummary(a))];
  if (d) {
    const others = (d.hypotheses || []).filter((x) => x.cause !== d.rootCause.cause).slice(0, 3);
    parts.push(h('p', { class: 'root-cause' }, h('b', null, 'Root cause: '), h('b', { class: 'cause' }, String(d.rootCause.cause)), ' ', h('span', { class: 'score' }, '(' + Number(d.rootCause.score).toFixed(2) + ')'), ' ', String(d.rootCause.description || '')));
    if ((d.rootCause.evidence || []).length) parts.push(h('ul', null, d.rootCause.evidence.slice(0, 4).map((e) => h('li', null, String(e)))));
    if (others.length) parts.push(h('p', null, h('b', null, 'Other hypotheses: '), others.map((x) => String(x.cause) + ' (' + Number(x.score).toFixed(2) + ')').join(', ')));
    parts.push(h('p', null, h('b', null, 'Affected: '), [...((d.affected && d.affected.handlers) || []), ...((d.affected && d.affected.sequences) || [])].join(', ') || '-',
      ' · ', h('b', null, 'impact: '), Math.round(((d.impact && d.impact.trafficShare) || 0) * 100) + '% of traffic, ' + ((d.impact && d.impact.affectedRuns) || 0) + ' runs'));
    parts.push(h('p', null, h('b', null, 'Recommended fixes: '), (d.recommendedFixes || []).join(', ') || 'none'));
  } else parts.push(h('p', { class: 'root-cause' }, 'Diagnosis pending\u2026'));
  const exemplars = (a.exemplars || []).map((e) => {
    const href = jaegerTraceHref(info.jaegerUrl, e.traceId);
    return href ? h('a', { href, target: '_blank' }, String(e.traceId).slice(0, 16)) : h('code', null, String(e.traceId).slice(0, 16));
  });
  parts.push(h('p', null, h('b', null, 'Exemplar traces: '), exemplars.length ? exemplars.flatMap((e) => [e, ' ']) : '-'));
  fill(box, parts);
  box.hidden = false;
}
