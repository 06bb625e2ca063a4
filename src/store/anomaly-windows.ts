import type { SqliteDatabase } from './database.js';

/** An anomaly as a span of time on a chart. */
export interface AnomalyWindow {
  id: string;
  service: string;
  handler: string | null;
  severity: string;
  state: string;
  firstSeenMs: number;
  resolvedMs: number | null;
  /** The caller of an edge anomaly (details.caller), if any. */
  caller: string | null;
}

interface Row {
  id: string;
  service: string;
  handler: string | null;
  severity: string;
  state: string;
  first_seen_ms: number;
  resolved_ms: number | null;
  caller: string | null;
}

/** Most anomalies one query returns, the newest (a chart cannot show more marks than that anyway). */
export const MAX_WINDOWS = 500;

/**
 * Read-only views of the anomalies table for the charts: which anomalies overlapped a time range
 * (optionally of one service and handler), and how many are open per service.
 */
export class AnomalyWindows {
  constructor(private readonly db: SqliteDatabase) {}

  /** Anomalies that were open at some time in [fromMs, toMs), oldest first. */
  between(fromMs: number, toMs: number, filter: { service?: string; handler?: string } = {}): AnomalyWindow[] {
    const where = ['first_seen_ms < ?', '(resolved_ms IS NULL OR resolved_ms >= ?)'];
    const args: unknown[] = [toMs, fromMs];
    if (filter.service !== undefined) {
      where.push('service = ?');
      args.push(filter.service);
    }
    if (filter.handler !== undefined) {
      where.push('handler = ?');
      args.push(filter.handler);
    }
    return this.query(where, args);
  }

  private query(where: string[], args: unknown[]): AnomalyWindow[] {
    const rows = this.db
      .prepare(
        `SELECT id, service, handler, severity, state, first_seen_ms, resolved_ms, json_extract(details, '$.caller') AS caller
         FROM anomalies WHERE ${where.join(' AND ')} ORDER BY first_seen_ms DESC LIMIT ${MAX_WINDOWS}`,
      )
      .all(...args) as Row[];
    // The newest MAX_WINDOWS, handed out oldest first.
    rows.reverse();
    return rows.map((r) => ({
      id: r.id,
      service: r.service,
      handler: r.handler,
      severity: r.severity,
      state: r.state,
      firstSeenMs: r.first_seen_ms,
      resolvedMs: r.resolved_ms,
      caller: typeof r.caller === 'string' ? r.caller : null,
    }));
  }

  /** Anomalies open now (not resolved), oldest first. */
  open(): AnomalyWindow[] {
    return this.query(["state != 'resolved'"], []);
  }

  /** Open (not resolved) anomalies per service. */
  openCounts(): Map<string, number> {
    const rows = this.db.prepare("SELECT service, COUNT(*) AS n FROM anomalies WHERE state != 'resolved' GROUP BY service").all() as Array<{ service: string; n: number }>;
    return new Map(rows.map((r) => [r.service, r.n]));
  }
}
