import { h } from './dom.js';
import { fmtMs } from './format.js';

// A built-in span waterfall for a stored exemplar trace, for sidecars without a Jaeger link.

/** Spans in tree order (parents before children, siblings by start) with their depth and offsets. */
export function waterfallRows(spans) {
  const list = Array.isArray(spans) ? spans.filter((s) => s && Number.isFinite(s.startMs)) : [];
  if (list.length === 0) return { rows: [], totalMs: 0 };
  const byId = new Map(list.map((s) => [s.spanId, s]));
  const children = new Map();
  const roots = [];
  for (const s of list) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      if (!children.has(s.parentSpanId)) children.set(s.parentSpanId, []);
      children.get(s.parentSpanId).push(s);
    } else roots.push(s);
  }
  const start = Math.min(...list.map((s) => s.startMs));
  const end = Math.max(...list.map((s) => s.startMs + (s.durationMs || 0)));
  const totalMs = Math.max(end - start, 0.001);
  const rows = [];
  const seen = new Set();
  const walk = (s, depth) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    rows.push({ span: s, depth, offsetPct: ((s.startMs - start) / totalMs) * 100, widthPct: Math.max(0.5, ((s.durationMs || 0) / totalMs) * 100) });
    for (const c of (children.get(s.spanId) || []).sort((a, b) => a.startMs - b.startMs)) walk(c, depth + 1);
  };
  for (const r of roots.sort((a, b) => a.startMs - b.startMs)) walk(r, 0);
  return { rows, totalMs };
}

export function renderWaterfall(exemplar) {
  const { rows, totalMs } = waterfallRows(exemplar.spans);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No spans stored for this trace.');
  return h('div', { class: 'waterfall', dataset: { trace: String(exemplar.traceId) } },
    h('div', { class: 'wf-head muted' }, 'trace ', h('code', null, String(exemplar.traceId)), ' · ', fmtMs(totalMs)),
    rows.map((r) => {
      const bar = h('span', { class: 'wf-bar' + (r.span.error ? ' error' : ''), title: fmtMs(r.span.durationMs) });
      bar.style.left = r.offsetPct.toFixed(3) + '%';
      bar.style.width = Math.min(r.widthPct, 100 - r.offsetPct).toFixed(3) + '%';
      const name = h('span', { class: 'wf-name', title: String(r.span.service) + ' ' + String(r.span.name) }, h('b', null, String(r.span.service)), ' ', String(r.span.name));
      name.style.paddingLeft = (r.depth * 0.9).toFixed(1) + 'rem';
      return h('div', { class: 'wf-row' + (r.span.error ? ' error' : '') }, name, h('span', { class: 'wf-track' }, bar), h('span', { class: 'wf-dur' }, fmtMs(r.span.durationMs)));
    }));
}
