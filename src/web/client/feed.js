import { h, fill } from './dom.js';
import { clock } from './format.js';

// The activity feed. Live events repeat: an open anomaly is "updated" at every evaluation. One
// line per subject and kind is kept for repeats; it counts them and shows the latest text.

/** What an event is about: an anomaly, an incident, a healing job, or nothing in particular. */
export function subjectOf(e) {
  const p = e.payload || {};
  if (String(e.kind).startsWith('incident.')) return 'incident:' + (p.id || '');
  return e.anomalyId ? 'anomaly:' + e.anomalyId : p.jobId ? 'job:' + p.jobId : '';
}

/** Kinds that say "still the same": collapse them whatever their text. */
const REPEATING = /\.updated$/;

export function describeEvent(kind, p) {
  p = p || {};
  const r = p.result || {};
  switch (kind) {
    case 'anomaly.opened': case 'anomaly.updated': return p.summary || '';
    case 'anomaly.resolved': return 'resolved: ' + (p.summary || '');
    case 'incident.opened': case 'incident.updated': case 'incident.resolved': {
      const rc = (p.rootCauses || [])[0];
      return (p.summary || '') + (rc ? ' (root cause: ' + rc.service + (rc.operation ? ' ' + rc.operation : '') + ')' : '');
    }
    case 'incident.acknowledged': return 'acknowledged' + (p.acknowledged && p.acknowledged.by ? ' by ' + p.acknowledged.by : '');
    case 'incident.silenced': return p.silencedUntilMs ? 'silenced until ' + clock(p.silencedUntilMs) : 'silenced';
    case 'incident.unsilenced': return 'silence lifted';
    case 'diagnosis.created': return p.rootCause ? p.rootCause.cause + ': ' + p.rootCause.description : '';
    case 'fix.generated': return Array.isArray(r) && r[0] ? r[0].kind + ': ' + r[0].title : '';
    case 'validation.completed': {
      const v = (r.results || [])[r.chosen ?? 0];
      return p.passed === false ? 'failed: ' + (p.reason || '') : v && v.tests ? 'passed: tests ' + v.tests.passed + ' passed, ' + v.tests.failed + ' failed' : 'passed';
    }
    case 'deployment.completed': return r.merge && r.merge.merged ? 'merged ' + ((r.proposal && r.proposal.branch) || '') + ' as ' + String(r.merge.mergeSha || '').slice(0, 10) : (r.decision || '') + ': ' + (r.reason || '');
    case 'learning.completed': return 'verdict ' + (r.verdict || '?');
    case 'job.failed': case 'job.parked': case 'job.held': return p.reason || p.error || '';
    default: return '';
  }
}

export class FeedModel {
  constructor(max = 60) {
    this.max = max;
    /** Newest first: { key, kind, subject, text, firstMs, lastMs, count } */
    this.entries = [];
  }

  /** Adds one event (the SSE data object); returns the entry it landed in. */
  add(e) {
    const kind = String(e.kind);
    const subject = subjectOf(e);
    const text = describeEvent(kind, e.payload).slice(0, 220);
    const key = kind + '\u0000' + subject + (REPEATING.test(kind) || subject !== '' ? '' : '\u0000' + text);
    const at = this.entries.findIndex((x) => x.key === key);
    const timeMs = Number(e.timeMs) || Date.now();
    let entry;
    if (at >= 0 && (REPEATING.test(kind) || this.entries[at].text === text)) {
      entry = this.entries[at];
      this.entries.splice(at, 1);
      entry.count++;
      entry.lastMs = Math.max(entry.lastMs, timeMs);
      entry.text = text;
    } else {
      entry = { key, kind, subject, text, firstMs: timeMs, lastMs: timeMs, count: 1 };
    }
    this.entries.unshift(entry);
    if (this.entries.length > this.max) this.entries.length = this.max;
    return entry;
  }
}

export function renderFeed(list, model) {
  fill(list, model.entries.map((x) => h('li', { class: 'k-' + x.kind.split('.')[0], dataset: { kind: x.kind } },
    h('time', { datetime: new Date(x.lastMs).toISOString() }, clock(x.lastMs)),
    h('span', null,
      h('span', { class: 'kind' }, x.kind),
      x.count > 1 ? h('span', { class: 'count', title: x.count + ' times since ' + clock(x.firstMs) }, '\u00d7' + x.count) : null,
      ' ', x.text))));
}
