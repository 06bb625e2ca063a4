import { IncidentSchema, ExemplarTraceSchema, type ExemplarTrace, type Incident, type IncidentState, type IncidentTimelineEntry, type IncidentView } from '../model/incident.js';
import type { Severity } from '../model/anomaly.js';
import type { SqliteDatabase } from './database.js';

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export interface IncidentQuery {
  states?: IncidentState[];
  severities?: Severity[];
  /** Incidents one of whose services (or ranked root causes) is this one. */
  service?: string;
  /** Case-insensitive text in the id, summary, services or root causes. */
  q?: string;
  /** Incidents active at some time in [fromMs, toMs). */
  fromMs?: number;
  toMs?: number;
  limit: number;
  offset: number;
}

interface IncidentRow {
  id: string;
  body: string;
  acked_by: string | null;
  acked_ms: number | null;
  silenced_until_ms: number | null;
  silence_reason: string | null;
}

/** Words for the timeline when a stored incident changes in a way an operator cares about. */
function changes(prev: Incident | undefined, next: Incident): Array<{ kind: string; text: string }> {
  const out: Array<{ kind: string; text: string }> = [];
  const top = next.rootCauses[0];
  const where = top === undefined ? '' : `; most likely origin ${top.service}${top.operation === undefined ? '' : ` ${top.operation}`}`;
  if (prev === undefined) {
    out.push({ kind: 'opened', text: `opened (${next.severity})${where}` });
    return out;
  }
  const joined = next.anomalyIds.filter((id) => !prev.anomalyIds.includes(id));
  if (joined.length > 0) out.push({ kind: 'anomaly-joined', text: `anomal${joined.length === 1 ? 'y' : 'ies'} joined: ${joined.join(', ')}` });
  if (prev.severity !== next.severity) out.push({ kind: 'severity', text: `severity ${prev.severity} -> ${next.severity}` });
  const prevTop = prev.rootCauses[0];
  if (top !== undefined && (prevTop?.service !== top.service || prevTop.operation !== top.operation)) {
    out.push({ kind: 'root-cause', text: `most likely origin now ${top.service}${top.operation === undefined ? '' : ` ${top.operation}`}: ${top.reason}` });
  }
  if (prev.state !== next.state && next.state === 'resolved') out.push({ kind: 'resolved', text: 'resolved: all its anomalies resolved' });
  return out;
}

function searchText(i: Incident): string {
  const causes = i.rootCauses.map((r) => `${r.service} ${r.operation ?? ''} ${r.reason}`);
  return [i.id, i.summary, ...i.services, ...causes].join('\n').toLowerCase();
}

/**
 * Incidents in SQLite: every change the live tracker makes is written here, so the list, the
 * detail and what operators did (acknowledge, silence) survive a restart. The tracker stays the
 * source of truth for open incidents; this store adds history and operator state.
 */
export class IncidentStore {
  private readonly upsert;
  private readonly selectOne;
  private readonly insertMember;
  private readonly insertService;
  private readonly insertTimeline;
  private readonly selectTimeline;
  private readonly selectOwners;
  private readonly upsertExemplar;
  private readonly selectExemplars;

  constructor(private readonly db: SqliteDatabase) {
    this.upsert = db.prepare(`
      INSERT INTO incidents (id, state, severity, severity_rank, top_score, start_ms, end_ms, updated_ms, search, body)
      VALUES (@id, @state, @severity, @severityRank, @topScore, @startMs, @endMs, @updatedMs, @search, @body)
      ON CONFLICT (id) DO UPDATE SET
        state = excluded.state, severity = excluded.severity, severity_rank = excluded.severity_rank,
        top_score = excluded.top_score, start_ms = MIN(incidents.start_ms, excluded.start_ms), end_ms = excluded.end_ms,
        updated_ms = excluded.updated_ms, search = excluded.search, body = excluded.body`);
    this.selectOne = db.prepare('SELECT id, body, acked_by, acked_ms, silenced_until_ms, silence_reason FROM incidents WHERE id = ?');
    this.insertMember = db.prepare('INSERT OR IGNORE INTO incident_anomalies (anomaly_id, incident_id) VALUES (?, ?)');
    this.insertService = db.prepare('INSERT OR IGNORE INTO incident_services (incident_id, service) VALUES (?, ?)');
    this.insertTimeline = db.prepare('INSERT INTO incident_timeline (incident_id, time_ms, kind, text) VALUES (?, ?, ?, ?)');
    this.selectTimeline = db.prepare('SELECT time_ms, kind, text FROM incident_timeline WHERE incident_id = ? ORDER BY time_ms, id');
    this.selectOwners = db.prepare('SELECT incident_id FROM incident_anomalies WHERE anomaly_id = ? ORDER BY incident_id');
    this.upsertExemplar = db.prepare(
      'INSERT INTO incident_exemplars (incident_id, trace_id, spans) VALUES (?, ?, ?) ON CONFLICT (incident_id, trace_id) DO UPDATE SET spans = excluded.spans',
    );
    this.selectExemplars = db.prepare('SELECT trace_id, spans FROM incident_exemplars WHERE incident_id = ? ORDER BY trace_id');
  }

  /** Writes the incident as the tracker sees it now; acknowledgement and silence are kept. */
  saveIncident(incident: Incident, nowMs: number): void {
    const i = IncidentSchema.parse(incident);
    this.db.transaction(() => {
      const prev = this.incident(i.id);
      this.upsert.run({
        id: i.id,
        state: i.state,
        severity: i.severity,
        severityRank: SEVERITY_RANK[i.severity],
        topScore: i.rootCauses[0]?.score ?? 0,
        startMs: Math.round(i.startMs),
        endMs: Math.round(i.endMs),
        updatedMs: Math.round(nowMs),
        search: searchText(i),
        body: JSON.stringify(i),
      });
      for (const a of i.anomalyIds) this.insertMember.run(a, i.id);
      for (const s of new Set([...i.services, ...i.rootCauses.map((r) => r.service)])) this.insertService.run(i.id, s);
      for (const c of changes(prev, i)) this.insertTimeline.run(i.id, Math.round(nowMs), c.kind, c.text);
    })();
  }

  /** The incident as last saved, without operator state. */
  incident(id: string): Incident | undefined {
    const row = this.selectOne.get(id) as IncidentRow | undefined;
    return row === undefined ? undefined : IncidentSchema.parse(JSON.parse(row.body));
  }

  /** The incident with operator state, as the API serves it. */
  get(id: string, nowMs: number): IncidentView | undefined {
    const row = this.selectOne.get(id) as IncidentRow | undefined;
    return row === undefined ? undefined : toView(row, nowMs);
  }

  /** Best first: open before resolved, then severity, then the top root cause's score, then newest. */
  list(q: IncidentQuery, nowMs: number): { items: IncidentView[]; total: number } {
    const clauses: string[] = [];
    const params: Array<string | number> = [];
    if (q.states !== undefined && q.states.length > 0) {
      clauses.push(`state IN (${q.states.map(() => '?').join(', ')})`);
      params.push(...q.states);
    }
    if (q.severities !== undefined && q.severities.length > 0) {
      clauses.push(`severity IN (${q.severities.map(() => '?').join(', ')})`);
      params.push(...q.severities);
    }
    if (q.service !== undefined) {
      clauses.push('id IN (SELECT incident_id FROM incident_services WHERE service = ?)');
      params.push(q.service);
    }
    if (q.q !== undefined && q.q !== '') {
      // instr, not LIKE: the search text is the user's, with no wildcard meaning.
      clauses.push('instr(search, ?) > 0');
      params.push(q.q.toLowerCase());
    }
    if (q.fromMs !== undefined) {
      clauses.push('end_ms >= ?');
      params.push(q.fromMs);
    }
    if (q.toMs !== undefined) {
      clauses.push('start_ms < ?');
      params.push(q.toMs);
    }
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM incidents ${where}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(
        `SELECT id, body, acked_by, acked_ms, silenced_until_ms, silence_reason FROM incidents ${where}
         ORDER BY (state = 'open') DESC, severity_rank DESC, top_score DESC, start_ms DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...params, q.limit, q.offset) as IncidentRow[];
    return { items: rows.map((r) => toView(r, nowMs)), total };
  }

  /** Open incidents per service they involve (for GET /api/v1/services' `openIncidents`). */
  openCountsByService(): Map<string, number> {
    const rows = this.db
      .prepare("SELECT s.service AS service, COUNT(*) AS n FROM incident_services s JOIN incidents i ON i.id = s.incident_id WHERE i.state = 'open' GROUP BY s.service")
      .all() as Array<{ service: string; n: number }>;
    return new Map(rows.map((r) => [r.service, r.n]));
  }

  acknowledge(id: string, by: string, atMs: number): IncidentView | undefined {
    return this.operate(id, atMs, 'UPDATE incidents SET acked_by = ?, acked_ms = ? WHERE id = ?', [by, Math.round(atMs), id], {
      kind: 'acknowledged',
      text: `acknowledged by ${by}`,
    });
  }

  silence(id: string, untilMs: number, reason: string, atMs: number): IncidentView | undefined {
    return this.operate(
      id,
      atMs,
      'UPDATE incidents SET silenced_until_ms = ?, silence_reason = ? WHERE id = ?',
      [Math.round(untilMs), reason, id],
      { kind: 'silenced', text: `silenced until ${new Date(untilMs).toISOString()}${reason === '' ? '' : `: ${reason}`}` },
    );
  }

  unsilence(id: string, atMs: number): IncidentView | undefined {
    return this.operate(id, atMs, 'UPDATE incidents SET silenced_until_ms = NULL, silence_reason = NULL WHERE id = ?', [id], {
      kind: 'unsilenced',
      text: 'silence removed',
    });
  }

  private operate(id: string, atMs: number, sql: string, params: Array<string | number>, entry: { kind: string; text: string }): IncidentView | undefined {
    return this.db.transaction(() => {
      if (this.db.prepare(sql).run(...params).changes === 0) return undefined;
      this.insertTimeline.run(id, Math.round(atMs), entry.kind, entry.text);
      return this.get(id, atMs);
    })();
  }

  /** When the incident's silence ends, if it is silenced at `nowMs`. */
  silencedUntil(id: string, nowMs: number): number | undefined {
    const row = this.selectOne.get(id) as IncidentRow | undefined;
    const until = row?.silenced_until_ms;
    return until !== null && until !== undefined && until > nowMs ? until : undefined;
  }

  /** Incidents the anomaly was saved as part of. */
  incidentIdsOfAnomaly(anomalyId: string): string[] {
    return (this.selectOwners.all(anomalyId) as Array<{ incident_id: string }>).map((r) => r.incident_id);
  }

  timeline(id: string): IncidentTimelineEntry[] {
    return (this.selectTimeline.all(id) as Array<{ time_ms: number; kind: string; text: string }>).map((r) => ({ t: r.time_ms, kind: r.kind, text: r.text }));
  }

  /** Adds a line to the incident's timeline (e.g. healing skipped because it is silenced). */
  note(id: string, atMs: number, kind: string, text: string): void {
    this.insertTimeline.run(id, Math.round(atMs), kind, text);
  }

  saveExemplar(incidentId: string, trace: ExemplarTrace): void {
    const t = ExemplarTraceSchema.parse(trace);
    this.upsertExemplar.run(incidentId, t.traceId, JSON.stringify(t.spans));
  }

  exemplars(incidentId: string): ExemplarTrace[] {
    const rows = this.selectExemplars.all(incidentId) as Array<{ trace_id: string; spans: string }>;
    return rows.map((r) => ExemplarTraceSchema.parse({ traceId: r.trace_id, spans: JSON.parse(r.spans) }));
  }

  exemplarTraceIds(incidentId: string): string[] {
    return (this.db.prepare('SELECT trace_id FROM incident_exemplars WHERE incident_id = ? ORDER BY trace_id').all(incidentId) as Array<{ trace_id: string }>).map((r) => r.trace_id);
  }

  /**
   * Incidents left open by an earlier process: nobody will update or resolve them, so they are
   * closed at their last activity with a line saying why. A fault still present opens a new one.
   */
  closeInterrupted(keepIds: ReadonlySet<string>, nowMs: number): number {
    const open = this.db.prepare("SELECT id, body FROM incidents WHERE state = 'open'").all() as Array<{ id: string; body: string }>;
    let closed = 0;
    for (const row of open) {
      if (keepIds.has(row.id)) continue;
      const i = IncidentSchema.parse(JSON.parse(row.body));
      this.db.transaction(() => {
        this.db.prepare("UPDATE incidents SET state = 'resolved', body = ?, updated_ms = ? WHERE id = ?").run(JSON.stringify({ ...i, state: 'resolved' }), Math.round(nowMs), row.id);
        this.insertTimeline.run(row.id, Math.round(nowMs), 'interrupted', 'closed at restart: the process that tracked it stopped; a fault still present opens a new incident');
      })();
      closed++;
    }
    return closed;
  }
}

function toView(row: IncidentRow, nowMs: number): IncidentView {
  const i = IncidentSchema.parse(JSON.parse(row.body));
  const silenced = row.silenced_until_ms !== null && row.silenced_until_ms > nowMs;
  return {
    ...i,
    acknowledged: row.acked_by !== null && row.acked_ms !== null ? { by: row.acked_by, atMs: row.acked_ms } : null,
    silencedUntilMs: silenced ? row.silenced_until_ms : null,
    silenceReason: silenced ? (row.silence_reason ?? '') : null,
    impact: i.impact ?? null,
  };
}
