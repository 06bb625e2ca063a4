import { h, svg, fill } from './dom.js';
import { fmtMs, fmtPct, fmtRate } from './format.js';

// The service map: services as boxes in columns by call depth (callers left of callees), calls as
// arrows labelled with rate, error rate and the client/server gap. Own layout: the graphs here
// have a handful of services, so a layered layout is enough and needs no graph library.

/** One edge in the figures the page uses, from either shape of /api/v1/service-graph. */
export function normaliseEdge(e) {
  const calls = Number(e.calls) || 0;
  const errors = Number(e.errors) || 0;
  return {
    caller: String(e.caller),
    callee: String(e.callee),
    calls,
    errors,
    ratePerSec: typeof e.ratePerSec === 'number' ? e.ratePerSec : typeof e.callsPerMinute === 'number' ? e.callsPerMinute / 60 : NaN,
    errorRate: typeof e.errorRate === 'number' ? e.errorRate : calls > 0 ? errors / calls : 0,
    gapMs: typeof e.gapP95Ms === 'number' ? e.gapP95Ms : typeof e.gapP50Ms === 'number' ? e.gapP50Ms : NaN,
    gapLabel: typeof e.gapP95Ms === 'number' ? 'gap p95' : 'gap p50',
    anomalous: e.anomalous === true,
  };
}

/**
 * Column (depth) and row of every service: depth is the longest call path from a service nobody
 * calls, over the calls left once the edges that close a cycle are set aside.
 */
export function layoutServices(names, edges) {
  const out = new Map(names.map((n) => [n, []]));
  const called = new Set();
  for (const e of edges) {
    if (e.caller === e.callee || !out.has(e.caller) || !out.has(e.callee)) continue;
    out.get(e.caller).push(e.callee);
    called.add(e.callee);
  }
  const mark = new Map();
  const back = new Set();
  const visit = (n) => {
    mark.set(n, 1);
    for (const c of out.get(n)) {
      if (mark.get(c) === 1) back.add(n + '\u0000' + c);
      else if (!mark.has(c)) visit(c);
    }
    mark.set(n, 2);
  };
  const sorted = [...names].sort();
  for (const n of [...sorted.filter((n) => !called.has(n)), ...sorted]) if (!mark.has(n)) visit(n);
  const depth = new Map(names.map((n) => [n, 0]));
  for (let pass = 0; pass < names.length; pass++) {
    let changed = false;
    for (const [caller, callees] of out) {
      for (const callee of callees) {
        if (back.has(caller + '\u0000' + callee)) continue;
        const d = depth.get(caller) + 1;
        if (d > depth.get(callee)) {
          depth.set(callee, d);
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  const columns = [];
  for (const n of sorted) {
    const d = depth.get(n) ?? 0;
    (columns[d] ||= []).push(n);
  }
  const pos = new Map();
  columns.forEach((col, c) => (col || []).forEach((n, r) => pos.set(n, { col: c, row: r })));
  return { pos, columns: columns.length, rows: Math.max(1, ...columns.map((c) => (c ? c.length : 0))) };
}

const BOX_W = 124;
const BOX_H = 36;
const COL_GAP = 140;
const ROW_GAP = 34;

function shorten(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '\u2026' : s;
}

/**
 * Draws the map. `anomalous` is a Set of service names to highlight besides those the graph
 * marks; `selected` the service in view; `onSelect(name)` opens a service.
 */
export function renderServiceMap(root, graph, opts) {
  const edges = (graph.edges || []).map(normaliseEdge);
  const names = new Set(opts.services || []);
  for (const s of graph.services || []) names.add(String(s.name));
  for (const e of edges) {
    names.add(e.caller);
    names.add(e.callee);
  }
  if (names.size === 0) {
    fill(root, h('p', { class: 'empty' }, 'No services seen yet.'));
    return;
  }
  // Root causes of open incidents stand out; other services with open anomalies are marked as
  // affected (a slow dependency makes its callers slow too). Without an incident, the graph's
  // own flags are the best guess.
  const hot = new Set(opts.anomalous || []);
  const affected = new Set(opts.affected || []);
  const haveRootCauses = hot.size > 0;
  for (const s of graph.services || []) if (s.anomalous) (haveRootCauses ? affected : hot).add(String(s.name));
  const list = [...names];
  const { pos, columns, rows } = layoutServices(list, edges);
  const width = columns * BOX_W + (columns - 1) * COL_GAP + 20;
  const height = rows * BOX_H + (rows - 1) * ROW_GAP + 40;
  const at = (n) => {
    const p = pos.get(n);
    return { x: 10 + p.col * (BOX_W + COL_GAP), y: 20 + p.row * (BOX_H + ROW_GAP) };
  };
  const defs = svg('defs', null,
    svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })),
    svg('marker', { id: 'arrow-hot', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead hot' })));
  const edgeEls = edges.filter((e) => e.caller !== e.callee).map((e) => {
    const a = at(e.caller);
    const b = at(e.callee);
    const forward = b.x > a.x;
    const x1 = forward ? a.x + BOX_W : a.x + BOX_W / 2;
    const y1 = forward ? a.y + BOX_H / 2 : a.y + BOX_H;
    const x2 = forward ? b.x - 2 : b.x + BOX_W / 2;
    const y2 = forward ? b.y + BOX_H / 2 : b.y - 2;
    const mx = (x1 + x2) / 2;
    const d = forward ? `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}` : `M${x1},${y1} C${x1 + 60},${y1 + 40} ${x2 + 60},${y2 - 40} ${x2},${y2}`;
    const hotEdge = e.anomalous || (hot.has(e.callee) && e.errorRate > 0.05);
    const label = fmtRate(e.ratePerSec) + ' · ' + fmtPct(e.errorRate) + ' err';
    const gap = Number.isFinite(e.gapMs) ? e.gapLabel + ' ' + fmtMs(e.gapMs) : '';
    return svg('g', { class: 'edge' + (e.anomalous ? ' anomalous' : hotEdge ? ' suspect' : ''), dataset: { caller: e.caller, callee: e.callee } },
      svg('title', null, `${e.caller} \u2192 ${e.callee}: ${e.calls} calls, ${e.errors} errors${gap ? ', ' + gap : ''}`),
      svg('path', { d, 'marker-end': e.anomalous ? 'url(#arrow-hot)' : 'url(#arrow)' }),
      svg('text', { x: mx, y: Math.min(y1, y2) - 8, 'text-anchor': 'middle', class: 'edge-label' }, label),
      gap ? svg('text', { x: mx, y: Math.max(y1, y2) + 14, 'text-anchor': 'middle', class: 'edge-label gap' }, gap) : null);
  });
  const nodeEls = list.map((n) => {
    const p = at(n);
    const open = () => opts.onSelect(n);
    return svg('g', { class: 'node' + (hot.has(n) ? ' anomalous' : affected.has(n) ? ' affected' : '') + (n === opts.selected ? ' selected' : ''), dataset: { service: n }, role: 'button', tabindex: 0, 'aria-label': 'service ' + n, onclick: open, onkeydown: (ev) => { if (ev.key === 'Enter') open(); } },
      svg('title', null, n + (hot.has(n) ? ' (anomalous: root cause of an open incident)' : affected.has(n) ? ' (has open anomalies)' : '')),
      svg('rect', { x: p.x, y: p.y, width: BOX_W, height: BOX_H, rx: 6 }),
      svg('text', { x: p.x + BOX_W / 2, y: p.y + BOX_H / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, shorten(n, 15)));
  });
  fill(root, svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'service map' }, defs, edgeEls, nodeEls));
}
