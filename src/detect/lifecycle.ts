import type { Anomaly, AnomalyChange, Exemplar, Finding, Severity } from '../model/anomaly.js';

export interface LifecycleOptions {
  /** Consecutive evaluations without a finding before an anomaly is resolved. */
  resolveAfter: number;
  /** An ongoing anomaly whose severity did not change is re-emitted every this many evaluations. */
  updateEvery: number;
  /** Cap on exemplars held per anomaly (the model allows at most 10). */
  maxExemplars?: number;
  /** Resolved anomalies remembered (by id) so late feedback can still find them. */
  rememberResolved?: number;
  /**
   * Distinguishes ids minted by different lifecycles (process restarts, replays of the same data
   * into one store). Default: 4 random base-36 characters.
   */
  instanceTag?: string;
}

interface Tracked {
  anomaly: Anomaly;
  clean: number;
  sinceUpdate: number;
}

const MODEL_MAX_EXEMPLARS = 10;
const SEVERITY_ORDER: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/**
 * Turns per-evaluation findings into anomalies. A finding's `key` identifies the problem: while
 * findings keep arriving for it there is exactly one anomaly (opened, then ongoing); after
 * `resolveAfter` consecutive evaluations without a finding it is resolved, and a later finding
 * with the same key opens a new anomaly with a new id.
 */
export class AnomalyLifecycle {
  private readonly active = new Map<string, Tracked>();
  private readonly resolved = new Map<string, Anomaly>();
  private readonly resolveAfter: number;
  private readonly updateEvery: number;
  private readonly maxExemplars: number;
  private readonly rememberResolved: number;
  private counter = 0;
  private readonly instanceTag: string;

  constructor(opts: LifecycleOptions) {
    this.instanceTag = opts.instanceTag ?? Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
    this.resolveAfter = Math.max(1, Math.floor(opts.resolveAfter));
    this.updateEvery = Math.max(1, Math.floor(opts.updateEvery));
    this.maxExemplars = Math.min(MODEL_MAX_EXEMPLARS, Math.max(0, opts.maxExemplars ?? MODEL_MAX_EXEMPLARS));
    this.rememberResolved = Math.max(0, opts.rememberResolved ?? 1000);
  }

  /** Applies one evaluation's findings (all detectors together) at data time nowMs. */
  apply(findings: readonly Finding[], nowMs: number): AnomalyChange[] {
    const changes: AnomalyChange[] = [];
    const seen = new Set<string>();
    for (const f of findings) {
      if (seen.has(f.key)) continue; // two detectors reporting one key: the first one wins
      seen.add(f.key);
      const tracked = this.active.get(f.key);
      if (!tracked) {
        const anomaly: Anomaly = {
          ...f,
          id: this.nextId(nowMs),
          state: 'open',
          firstSeenMs: nowMs,
          lastSeenMs: nowMs,
          exemplars: mergeExemplars([], f.exemplars, this.maxExemplars),
        };
        this.active.set(f.key, { anomaly, clean: 0, sinceUpdate: 0 });
        changes.push({ kind: 'opened', anomaly: snapshot(anomaly) });
        continue;
      }
      const a = tracked.anomaly;
      // Only an escalation (or a change of subtype) is news right away; a milder severity shows at
      // the next periodic update, so a figure hovering at a boundary does not flap.
      const escalated = SEVERITY_ORDER.indexOf(f.severity) > SEVERITY_ORDER.indexOf(a.severity) || f.subtype !== a.subtype;
      a.state = 'ongoing';
      a.subtype = f.subtype;
      a.severity = f.severity;
      a.confidence = f.confidence;
      a.summary = f.summary;
      a.windowStartMs = f.windowStartMs;
      a.windowEndMs = f.windowEndMs;
      a.observed = { ...f.observed };
      a.expected = { ...f.expected };
      a.details = { ...f.details };
      a.lastSeenMs = nowMs;
      a.exemplars = mergeExemplars(a.exemplars, f.exemplars, this.maxExemplars);
      tracked.clean = 0;
      tracked.sinceUpdate++;
      if (escalated || tracked.sinceUpdate >= this.updateEvery) {
        tracked.sinceUpdate = 0;
        changes.push({ kind: 'updated', anomaly: snapshot(a) });
      }
    }
    for (const [key, tracked] of this.active) {
      if (seen.has(key)) continue;
      tracked.clean++;
      if (tracked.clean < this.resolveAfter) continue;
      const a = tracked.anomaly;
      a.state = 'resolved';
      a.resolvedMs = nowMs;
      this.active.delete(key);
      this.remember(a);
      changes.push({ kind: 'resolved', anomaly: snapshot(a) });
    }
    return changes;
  }

  /** Open and ongoing anomalies (copies). */
  openAnomalies(): Anomaly[] {
    return [...this.active.values()].map((t) => snapshot(t.anomaly));
  }

  /** Whether an anomaly with this key is open, and its id. */
  activeId(key: string): string | undefined {
    return this.active.get(key)?.anomaly.id;
  }

  /** Any active or remembered resolved anomaly with this id (a copy). */
  find(id: string): Anomaly | undefined {
    for (const t of this.active.values()) if (t.anomaly.id === id) return snapshot(t.anomaly);
    const r = this.resolved.get(id);
    return r ? snapshot(r) : undefined;
  }

  /** Visits active anomalies without copying (read only). */
  forEachActive(fn: (a: Readonly<Anomaly>) => void): void {
    for (const t of this.active.values()) fn(t.anomaly);
  }

  private remember(a: Anomaly): void {
    if (this.rememberResolved === 0) return;
    this.resolved.set(a.id, a);
    if (this.resolved.size > this.rememberResolved) {
      const oldest = this.resolved.keys().next().value;
      if (oldest !== undefined) this.resolved.delete(oldest);
    }
  }

  private nextId(nowMs: number): string {
    // Data time, an instance tag and a counter: unique within a run and across runs, sortable by
    // time.
    this.counter++;
    return `an_${Math.max(0, Math.floor(nowMs)).toString(36)}_${this.instanceTag}${this.counter.toString(36)}`;
  }
}

/** Newest exemplars first, no duplicate span, at most `cap`. */
export function mergeExemplars(current: readonly Exemplar[], incoming: readonly Exemplar[], cap: number): Exemplar[] {
  const out: Exemplar[] = [];
  const ids = new Set<string>();
  for (const list of [incoming, current]) {
    for (const e of list) {
      if (out.length >= cap) return out;
      const id = `${e.traceId}/${e.spanId}`;
      if (ids.has(id)) continue;
      ids.add(id);
      out.push({ ...e });
    }
  }
  return out;
}

function snapshot(a: Anomaly): Anomaly {
  return {
    ...a,
    observed: { ...a.observed },
    expected: { ...a.expected },
    details: { ...a.details },
    exemplars: a.exemplars.map((e) => ({ ...e })),
  };
}
