// Number and time formatting shared by the page's views.

export function fmtMs(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  if (v >= 10_000) return (v / 1000).toFixed(1) + ' s';
  return (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)) + ' ms';
}

export function fmtRate(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  return (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)) + '/s';
}

export function fmtPct(ratio) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '-';
  const p = ratio * 100;
  return (p === 0 ? '0' : p < 0.1 ? '<0.1' : p < 10 ? p.toFixed(1) : p.toFixed(0)) + '%';
}

export function fmtCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '-';
  return n >= 1e6 ? (n / 1e6).toFixed(1) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(0) + 'k' : String(Math.round(n));
}

export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60 ? ' ' + (s % 60) + 's' : '');
  if (s < 86400) return Math.floor(s / 3600) + 'h' + (Math.floor(s / 60) % 60 ? ' ' + (Math.floor(s / 60) % 60) + 'm' : '');
  return Math.floor(s / 86400) + 'd ' + (Math.floor(s / 3600) % 24) + 'h';
}

export function ago(ms, now = Date.now()) {
  return duration(now - ms) + ' ago';
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

export function stamp(ms) {
  const d = new Date(ms);
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString([], { hour12: false, hour: '2-digit', minute: '2-digit' });
}

/** "learning 4/10" for a key still learning its baseline, '' once it is baselined. */
export function learningText(learning) {
  if (learning && typeof learning === 'object' && Number.isFinite(learning.done) && Number.isFinite(learning.needed)) {
    return 'learning ' + learning.done + '/' + learning.needed;
  }
  if (typeof learning === 'string' && learning !== '' && learning !== 'baselined') return learning;
  return '';
}
