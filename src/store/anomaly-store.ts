import { z } from 'zod';
import type { SqliteDatabase } from './database.js';
import { AnomalySchema, type Anomaly, type AnomalyState, type AnomalyType } from '../model/anomaly.js';
import { DiagnosisSchema, type Diagnosis } from '../model/diagnosis.js';

export { coreMigrations } from './migrations.js';

export type FeedbackVerdict = 'false-positive' | 'true-positive';

export interface AnomalyQuery {
  state?: AnomalyState;
  type?: AnomalyType;
  service?: string;
  handler?: string;
  limit: number;
  offset: number;
}

/** An event as handed to the store; the store assigns its sequence number. */
export interface NewEvent {
  kind: string;
  timeMs: number;
  anomalyId?: string;
  diagnosisId?: string;
  payload: unknown;
}

export interface StoredEvent extends NewEvent {
  seq: number;
}

export interface FeedbackRecord {
  anomalyId: string;
  verdict: FeedbackVerdict;
  note: string;
  createdMs: number;
}

interface AnomalyRow {
  id: string;
  key: string;
  type: string;
  subtype: string;
  severity: string;
  confidence: number;
  state: string;
  service: string;
  handler: string | null;
  sequence: string | null;
  window_start_ms: number;
  window_end_ms: number;
  first_seen_ms: number;
  last_seen_ms: number;
  resolved_ms: number | null;
  summary: string;
  observed: string;
  expected: string;
  details: string;
  exemplars: string;
}

interface EventRow {
  seq: number;
  kind: string;
  time_ms: number;
  anomaly_id: string | null;
  diagnosis_id: string | null;
  payload: string;
}

const FilterSchema = z.object({
  state: z.string().optional(),
  type: z.string().optional(),
  service: z.string().optional(),
  handler: z.string().optional(),
});

/**
 * Persistence of anomalies, diagnoses, the event log and feedback. Everything read back is
 * validated against the model schemas, so a hand-edited or older row fails loudly here rather
 * than deep inside healing.
 */
export class AnomalyStore {
  private readonly upsertAnomaly;
  private readonly selectAnomaly;
  private readonly insertDiagnosis;
  private readonly selectDiagnosis;
  private readonly selectDiagnosesFor;
  private readonly insertEvent;
  private readonly selectEventsSince;
  private readonly insertFeedback;
  private readonly selectFeedback;
  private readonly selectLastSeq;

  constructor(private readonly db: SqliteDatabase) {
    this.upsertAnomaly = db.prepare(`
      INSERT INTO anomalies (id, key, type, subtype, severity, confidence, state, service, handler, sequence,
        window_start_ms, window_end_ms, first_seen_ms, last_seen_ms, resolved_ms, summary, observed, expected,
        details, exemplars)
      VALUES (@id, @key, @type, @subtype, @severity, @confidence, @state, @service, @handler, @sequence,
        @windowStartMs, @windowEndMs, @firstSeenMs, @lastSeenMs, @resolvedMs, @summary, @observed, @expected,
        @details, @exemplars)
      ON CONFLICT (id) DO UPDATE SET
        key = excluded.key, type = excluded.type, subtype = excluded.subtype, severity = excluded.severity,
        confidence = excluded.confidence, state = excluded.state, service = excluded.service,
        handler = excluded.handler, sequence = excluded.sequence, window_start_ms = excluded.window_start_ms,
        window_end_ms = excluded.window_end_ms, first_seen_ms = MIN(anomalies.first_seen_ms, excluded.first_seen_ms),
        last_seen_ms = excluded.last_seen_ms, resolved_ms = excluded.resolved_ms, summary = excluded.summary,
        observed = excluded.observed, expected = excluded.expected, details = excluded.details,
        exemplars = excluded.exemplars`);
    this.selectAnomaly = db.prepare('SELECT * FROM anomalies WHERE id = ?');
    this.insertDiagnosis = db.prepare(`
      INSERT INTO diagnoses (id, anomaly_id, created_ms, service, handler, root_cause, body)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET root_cause = excluded.root_cause, body = excluded.body`);
    this.selectDiagnosis = db.prepare('SELECT body FROM diagnoses WHERE id = ?');
    this.selectDiagnosesFor = db.prepare('SELECT body FROM diagnoses WHERE anomaly_id = ? ORDER BY created_ms DESC, id DESC');
    this.insertEvent = db.prepare(
      'INSERT INTO events (kind, time_ms, anomaly_id, diagnosis_id, payload) VALUES (?, ?, ?, ?, ?)',
    );
    this.selectEventsSince = db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.insertFeedback = db.prepare(
      'INSERT INTO anomaly_feedback (anomaly_id, verdict, note, created_ms) VALUES (?, ?, ?, ?)',
    );
    this.selectFeedback = db.prepare(
      'SELECT anomaly_id, verdict, note, created_ms FROM anomaly_feedback WHERE anomaly_id = ? ORDER BY id',
    );
    this.selectLastSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM events');
  }

  /** Inserts or updates (by id) an anomaly; first_seen never moves later. */
  saveAnomaly(a: Anomaly): void {
    this.upsertAnomaly.run({
      id: a.id,
      key: a.key,
      type: a.type,
      subtype: a.subtype,
      severity: a.severity,
      confidence: a.confidence,
      state: a.state,
      service: a.service,
      handler: a.handler ?? null,
      sequence: a.sequence ?? null,
      windowStartMs: a.windowStartMs,
      windowEndMs: a.windowEndMs,
      firstSeenMs: a.firstSeenMs,
      lastSeenMs: a.lastSeenMs,
      resolvedMs: a.resolvedMs ?? null,
      summary: a.summary,
      observed: JSON.stringify(a.observed),
      expected: JSON.stringify(a.expected),
      details: JSON.stringify(a.details),
      exemplars: JSON.stringify(a.exemplars),
    });
  }

  getAnomaly(id: string): Anomaly | undefined {
    const row = this.selectAnomaly.get(id) as AnomalyRow | undefined;
    return row === undefined ? undefined : rowToAnomaly(row);
  }

  /** Newest first (by last seen). */
  listAnomalies(q: AnomalyQuery): Anomaly[] {
    const { where, params } = buildFilter(q);
    const rows = this.db
      .prepare(`SELECT * FROM anomalies ${where} ORDER BY last_seen_ms DESC, id LIMIT ? OFFSET ?`)
      .all(...params, q.limit, q.offset) as AnomalyRow[];
    return rows.map(rowToAnomaly);
  }

  /** How many anomalies match the filter (ignoring limit/offset), for paging. */
  countAnomalies(q: Omit<AnomalyQuery, 'limit' | 'offset'>): number {
    const { where, params } = buildFilter(q);
    const row = this.db.prepare(`SELECT COUNT(*) AS n FROM anomalies ${where}`).get(...params) as { n: number };
    return row.n;
  }

  saveDiagnosis(d: Diagnosis): void {
    this.insertDiagnosis.run(
      d.id,
      d.anomalyId,
      d.createdMs,
      d.service,
      d.handler ?? null,
      d.rootCause.cause,
      JSON.stringify(d),
    );
  }

  getDiagnosis(id: string): Diagnosis | undefined {
    const row = this.selectDiagnosis.get(id) as { body: string } | undefined;
    return row === undefined ? undefined : DiagnosisSchema.parse(JSON.parse(row.body));
  }

  /** Newest first: the current diagnosis is element 0. */
  diagnosesForAnomaly(anomalyId: string): Diagnosis[] {
    const rows = this.selectDiagnosesFor.all(anomalyId) as Array<{ body: string }>;
    return rows.map((r) => DiagnosisSchema.parse(JSON.parse(r.body)));
  }

  /** Appends to the durable event log and returns the event's sequence number (1, 2, ...). */
  appendEvent(e: NewEvent): number {
    const info = this.insertEvent.run(
      e.kind,
      Math.round(e.timeMs),
      e.anomalyId ?? null,
      e.diagnosisId ?? null,
      JSON.stringify(e.payload ?? null),
    );
    return Number(info.lastInsertRowid);
  }

  /** Events with seq > afterSeq, oldest first, at most `limit`. */
  eventsSince(afterSeq: number, limit: number): StoredEvent[] {
    const rows = this.selectEventsSince.all(afterSeq, limit) as EventRow[];
    return rows.map(rowToEvent);
  }

  /** Highest sequence number written so far (0 for an empty log). */
  lastEventSeq(): number {
    return (this.selectLastSeq.get() as { seq: number }).seq;
  }

  saveFeedback(anomalyId: string, verdict: FeedbackVerdict, note: string, nowMs = Date.now()): void {
    this.insertFeedback.run(anomalyId, verdict, note, Math.round(nowMs));
  }

  feedbackFor(anomalyId: string): FeedbackRecord[] {
    const rows = this.selectFeedback.all(anomalyId) as Array<{
      anomaly_id: string;
      verdict: FeedbackVerdict;
      note: string;
      created_ms: number;
    }>;
    return rows.map((r) => ({ anomalyId: r.anomaly_id, verdict: r.verdict, note: r.note, createdMs: r.created_ms }));
  }
}

function buildFilter(q: Omit<AnomalyQuery, 'limit' | 'offset'>): { where: string; params: string[] } {
  const f = FilterSchema.parse(q);
  const clauses: string[] = [];
  const params: string[] = [];
  for (const [column, value] of [
    ['state', f.state],
    ['type', f.type],
    ['service', f.service],
    ['handler', f.handler],
  ] as const) {
    if (value === undefined) continue;
    clauses.push(`${column} = ?`);
    params.push(value);
  }
  return { where: clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`, params };
}

function rowToAnomaly(r: AnomalyRow): Anomaly {
  return AnomalySchema.parse({
    id: r.id,
    key: r.key,
    type: r.type,
    subtype: r.subtype,
    severity: r.severity,
    confidence: r.confidence,
    state: r.state,
    service: r.service,
    ...(r.handler === null ? {} : { handler: r.handler }),
    ...(r.sequence === null ? {} : { sequence: r.sequence }),
    windowStartMs: r.window_start_ms,
    windowEndMs: r.window_end_ms,
    firstSeenMs: r.first_seen_ms,
    lastSeenMs: r.last_seen_ms,
    ...(r.resolved_ms === null ? {} : { resolvedMs: r.resolved_ms }),
    summary: r.summary,
    observed: JSON.parse(r.observed),
    expected: JSON.parse(r.expected),
    details: JSON.parse(r.details),
    exemplars: JSON.parse(r.exemplars),
  });
}

function rowToEvent(r: EventRow): StoredEvent {
  const e: StoredEvent = { seq: r.seq, kind: r.kind, timeMs: r.time_ms, payload: JSON.parse(r.payload) };
  if (r.anomaly_id !== null) e.anomalyId = r.anomaly_id;
  if (r.diagnosis_id !== null) e.diagnosisId = r.diagnosis_id;
  return e;
}
