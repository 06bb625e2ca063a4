import { h, fill } from './dom.js';
import { fmtMs, fmtPct, fmtRate, stamp } from './format.js';

// RED over time with uPlot (the global from /assets/uplot.js): request rate, error rate and
// p50/p95/p99 with the learned p95 band; deploys and anomaly/incident spans drawn on the canvas.

const COLORS = { rate: '#58a6ff', errors: '#ff7b72', p50: '#7ee787', p95: '#ffa657', p99: '#d2a8ff', band: 'rgba(139,152,165,0.22)', deploy: '#58a6ff', anomaly: 'rgba(218,54,51,0.13)', incident: 'rgba(255,166,87,0.9)', axis: '#8b98a5', grid: '#262f3a' };

/** Column arrays for uPlot (x in seconds) from a series reply; the band follows the latest baseline at or before each point. */
export function seriesColumns(series) {
  const points = series.points || [];
  const baseline = [...(series.baseline || [])].sort((a, b) => a.t - b.t);
  const cols = { x: [], rate: [], errors: [], p50: [], p95: [], p99: [], lo: [], hi: [] };
  let bi = -1;
  for (const p of points) {
    while (bi + 1 < baseline.length && baseline[bi + 1].t <= p.t) bi++;
    const b = bi >= 0 ? baseline[bi] : undefined;
    cols.x.push(p.t / 1000);
    cols.rate.push(p.ratePerSec ?? null);
    cols.errors.push(p.requests > 0 ? (p.errorRate ?? p.errors / p.requests) * 100 : null);
    cols.p50.push(p.p50Ms ?? null);
    cols.p95.push(p.p95Ms ?? null);
    cols.p99.push(p.p99Ms ?? null);
    cols.lo.push(b ? b.p95LowMs : null);
    cols.hi.push(b ? b.p95HighMs : null);
  }
  return cols;
}

/** [start, end] spans of marks with overlapping ones merged; an open mark runs to `openEnd`. */
export function mergeSpans(marks, openEnd) {
  const spans = marks.map((m) => [m.t, m.endT ?? openEnd]).filter(([a, b]) => b >= a).sort((x, y) => x[0] - y[0]);
  const out = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else out.push([s[0], s[1]]);
  }
  return out;
}

/** Draws deploy lines and anomaly/incident spans behind the series. */
function markerPlugin(state) {
  return {
    hooks: {
      drawClear: [(u) => {
        const { ctx, bbox } = u;
        const maxT = u.scales.x.max * 1000;
        ctx.save();
        // Anomalies shade the plot; incidents are a strip along its top. Overlaps are merged
        // first, so five anomalies at once are not five layers of colour.
        for (const [kind, top, height] of [['anomaly', bbox.top, bbox.height], ['incident', bbox.top, 5 * devicePixelRatio]]) {
          ctx.fillStyle = kind === 'incident' ? COLORS.incident : COLORS.anomaly;
          for (const [t0, t1] of mergeSpans(state.marks.filter((m) => m.kind === kind), maxT)) {
            const left = Math.max(bbox.left, u.valToPos(t0 / 1000, 'x', true));
            const right = Math.min(bbox.left + bbox.width, Math.max(u.valToPos(t1 / 1000, 'x', true), left + 2));
            if (right > left) ctx.fillRect(left, top, right - left, height);
          }
        }
        ctx.restore();
      }],
      draw: [(u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.strokeStyle = COLORS.deploy;
        ctx.fillStyle = COLORS.deploy;
        ctx.setLineDash([4, 3]);
        ctx.font = (10 * devicePixelRatio) + 'px system-ui, sans-serif';
        for (const d of state.deploys) {
          const x = u.valToPos(d.t / 1000, 'x', true);
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
          // Canvas text is drawn, never parsed: the version string is safe here.
          ctx.fillText(String(d.version).slice(0, 24), x + 3, bbox.top + 10 * devicePixelRatio);
        }
        ctx.restore();
      }],
    },
  };
}

function axes(format) {
  return [
    { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid } },
    { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, size: 70, values: (_u, vals) => vals.map(format) },
  ];
}

const DEFS = {
  rate: { series: [{ label: 'req/s', stroke: COLORS.rate, fill: 'rgba(88,166,255,0.12)', value: (_u, v) => fmtRate(v) }], cols: ['rate'], format: (v) => (v == null ? '' : String(+v.toFixed(2))) },
  errors: { series: [{ label: 'errors', stroke: COLORS.errors, fill: 'rgba(255,123,114,0.12)', value: (_u, v) => (v == null ? '-' : fmtPct(v / 100)) }], cols: ['errors'], format: (v) => (v == null ? '' : +v.toFixed(2) + '%') },
  latency: {
    series: [
      { label: 'baseline p95 low', stroke: 'transparent', points: { show: false }, value: (_u, v) => fmtMs(v) },
      { label: 'baseline p95 high', stroke: 'transparent', points: { show: false }, value: (_u, v) => fmtMs(v) },
      { label: 'p50', stroke: COLORS.p50, value: (_u, v) => fmtMs(v) },
      { label: 'p95', stroke: COLORS.p95, width: 2, value: (_u, v) => fmtMs(v) },
      { label: 'p99', stroke: COLORS.p99, value: (_u, v) => fmtMs(v) },
    ],
    cols: ['lo', 'hi', 'p50', 'p95', 'p99'],
    bands: [{ series: [2, 1], fill: COLORS.band }],
    format: (v) => (v == null ? '' : +v.toPrecision(3) + ' ms'),
  },
};

export class RedCharts {
  constructor(els) {
    /** { rate, errors, latency } container elements */
    this.els = els;
    this.plots = {};
    this.state = { marks: [], deploys: [] };
    addEventListener('resize', () => {
      for (const [name, u] of Object.entries(this.plots)) u.setSize({ width: this.width(this.els[name]), height: u.height });
    });
  }

  width(el) {
    return Math.max(300, el.clientWidth - 4);
  }

  /** Shows one series reply; false when uPlot is missing (the caller shows a notice). */
  show(series, fromMs, toMs) {
    if (typeof uPlot !== 'function') return false;
    const cols = seriesColumns(series);
    this.state.marks = series.marks || [];
    this.state.deploys = series.deploys || [];
    // The x scale always spans the whole chosen range, with or without data at its ends.
    this.range = { min: fromMs / 1000, max: toMs / 1000 };
    for (const [name, def] of Object.entries(DEFS)) {
      const data = [cols.x, ...def.cols.map((c) => cols[c])];
      const u = this.plots[name];
      if (u) {
        u.setData(data);
        continue;
      }
      const el = this.els[name];
      const opts = {
        width: this.width(el),
        height: name === 'latency' ? 200 : 130,
        title: el.dataset.title,
        // Rates, error rates and latencies read from zero, so a small wiggle does not look like a cliff.
        scales: { x: { time: true, range: () => [this.range.min, this.range.max] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        series: [{ value: (_u, v) => (v == null ? '-' : stamp(v * 1000)) }, ...def.series.map((s) => ({ width: 1, spanGaps: false, ...s }))],
        axes: axes(def.format),
        cursor: { sync: { key: 'red' } },
        plugins: [markerPlugin(this.state)],
        ...(def.bands ? { bands: def.bands } : {}),
      };
      fill(el);
      this.plots[name] = new uPlot(opts, data, el);
    }
    for (const u of Object.values(this.plots)) u.redraw(false);
    return true;
  }

  clear() {
    for (const u of Object.values(this.plots)) u.destroy();
    this.plots = {};
  }
}

/** The list of deploys and anomaly/incident spans under the charts (text, so it can be read and clicked). */
export function renderMarkers(list, series, onIncident) {
  const items = [];
  for (const d of series.deploys || []) items.push({ t: d.t, el: h('li', { class: 'deploy' }, h('span', { class: 'tag' }, 'deploy'), ' ', String(d.version), ' · ', stamp(d.t)) });
  for (const m of series.marks || []) {
    const when = stamp(m.t) + (m.endT ? ' \u2013 ' + stamp(m.endT) : ' \u2013 now');
    const label = h('span', { class: 'tag ' + m.kind }, m.kind);
    const sev = m.severity ? h('span', { class: 'sev ' + m.severity }, m.severity) : null;
    const body = m.kind === 'incident' ? h('button', { type: 'button', class: 'linklike', onclick: () => onIncident(String(m.id)) }, String(m.id)) : String(m.id || '');
    items.push({ t: m.t, el: h('li', { class: 'mark' }, label, ' ', sev, ' ', body, ' · ', when) });
  }
  items.sort((a, b) => b.t - a.t);
  fill(list, items.slice(0, 20).map((i) => i.el));
}
