import { h, fill } from './dom.js';
import { clock, fmtMs, learningText } from './format.js';

// The heatmap: one row per endpoint/handler, one cell per slice. Only closed slices are
// coloured: the slice still filling has few samples and would often look red.

export function level(ratio) {
  if (!(ratio > 0)) return 'lvl0';
  if (ratio > 4) return 'lvl4';
  if (ratio > 2) return 'lvl3';
  if (ratio > 1.5) return 'lvl2';
  if (ratio > 1.25) return 'lvl1';
  return 'lvl0';
}

/** The class of one cell: 'partial' while open, '' when empty, else a level (+ ' err'). */
export function cellClass(cell, baselineP95Ms) {
  if (!cell.closed) return 'partial';
  if (!(cell.count > 0)) return '';
  const base = cell.baselineP95Ms || baselineP95Ms || 0;
  const lvl = base > 0 ? level(cell.p95Ms / base) : 'lvl0';
  return lvl + (cell.errors > 0 ? ' err' : '');
}

/**
 * Cells from the live window of GET /api/v1/handlers: its newest slice is the one being filled
 * (or just closed, the page cannot tell), so it is shown as open.
 */
export function cellsFromWindow(slices) {
  const list = Array.isArray(slices) ? slices : [];
  return list.map((s, i) => ({ startMs: s.startMs, p95Ms: s.p95Ms, count: s.count, errors: s.errors, closed: i < list.length - 1 }));
}

/** Cells from a series (only closed buckets are returned by /api/v1/series). */
export function cellsFromSeries(series) {
  const band = new Map((series.baseline || []).map((b) => [b.t, (b.p95LowMs + b.p95HighMs) / 2]));
  return (series.points || []).map((p) => ({ startMs: p.t, p95Ms: p.p95Ms ?? 0, count: p.requests, errors: p.errors, closed: true, baselineP95Ms: band.get(p.t) }));
}

/**
 * The reference a row's cells are compared with when the series has no learned band: the median
 * p95 of its closed, non-empty cells (what is typical for it in this range).
 */
export function typicalP95(cells) {
  const v = cells.filter((c) => c.closed && c.count > 0 && !(c.baselineP95Ms > 0)).map((c) => c.p95Ms).sort((a, b) => a - b);
  return v.length === 0 ? undefined : v[Math.floor((v.length - 1) / 2)];
}

export function renderHeatmap(root, rows, onSelect) {
  if (rows.length === 0) {
    fill(root, h('p', { class: 'empty' }, 'No data in this range yet.'));
    return;
  }
  fill(root, rows.map((r) => {
    const cells = r.cells.map((c) => {
      const cls = cellClass(c, r.baselineP95Ms);
      const title = clock(c.startMs) + (c.closed ? '' : ' (open)') + ' p95 ' + fmtMs(c.p95Ms) + ' n=' + (c.count || 0) + (c.errors ? ' errors=' + c.errors : '');
      return h('span', { class: 'cell ' + cls, title });
    });
    const learning = learningText(r.learning);
    return h('div', { class: 'row' + (r.anomalous ? ' anomalous' : ''), dataset: { service: r.service, handler: r.name }, onclick: () => onSelect(r) },
      h('span', { class: 'label', title: r.name + ' · ' + r.service + (r.baselineP95Ms ? ' · baseline p95 ' + fmtMs(r.baselineP95Ms) : '') },
        h('b', null, r.name), ' ', r.service, learning ? h('span', { class: 'learning' }, learning) : null),
      h('span', { class: 'figure', title: 'p95 in the latest closed slice' }, fmtMs(r.p95Ms)),
      cells);
  }));
}
