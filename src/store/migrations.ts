import type { Migration } from './database.js';

/**
 * Tables of the core pipeline: anomalies, their diagnoses, the durable event log that feeds the
 * event stream, and operator feedback. Nested data lives in JSON columns; the columns the API
 * filters on (state, type, service, handler, time) are real columns with indexes.
 */
export const coreMigrations: Migration[] = [
  {
    module: 'core',
    version: 1,
    description: 'anomalies, diagnoses, events, anomaly feedback',
    sql: `
      CREATE TABLE anomalies (
        id TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        type TEXT NOT NULL,
        subtype TEXT NOT NULL,
        severity TEXT NOT NULL,
        confidence REAL NOT NULL,
        state TEXT NOT NULL,
        service TEXT NOT NULL,
        handler TEXT,
        sequence TEXT,
        window_start_ms INTEGER NOT NULL,
        window_end_ms INTEGER NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        resolved_ms INTEGER,
        summary TEXT NOT NULL,
        observed TEXT NOT NULL,
        expected TEXT NOT NULL,
        details TEXT NOT NULL,
        exemplars TEXT NOT NULL
      );
      CREATE INDEX anomalies_state ON anomalies (state, last_seen_ms);
      CREATE INDEX anomalies_service ON anomalies (service, last_seen_ms);
      CREATE INDEX anomalies_handler ON anomalies (handler, last_seen_ms);
      CREATE INDEX anomalies_time ON anomalies (last_seen_ms);
      CREATE INDEX anomalies_key ON anomalies (key);

      CREATE TABLE diagnoses (
        id TEXT PRIMARY KEY,
        anomaly_id TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        service TEXT NOT NULL,
        handler TEXT,
        root_cause TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX diagnoses_anomaly ON diagnoses (anomaly_id, created_ms);

      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        anomaly_id TEXT,
        diagnosis_id TEXT,
        payload TEXT NOT NULL
      );
      CREATE INDEX events_anomaly ON events (anomaly_id);

      CREATE TABLE anomaly_feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        anomaly_id TEXT NOT NULL,
        verdict TEXT NOT NULL,
        note TEXT NOT NULL,
        created_ms INTEGER NOT NULL
      );
      CREATE INDEX anomaly_feedback_anomaly ON anomaly_feedback (anomaly_id);
    `,
  },
  // Incidents (issue 10/14): the live tracker's incidents, their anomalies, a timeline of what
  // changed, the exemplar traces' spans, and the operator's acknowledgement and silence. The
  // ranking columns (state, severity_rank, top_score, start_ms) are real columns so the list is
  // sorted best first in SQL; `search` is the lower-cased text the `q` filter looks in.
  {
    module: 'core',
    version: 2,
    description: 'incidents, incident anomalies, services, timeline, exemplar spans, acknowledge and silence',
    sql: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        top_score REAL NOT NULL,
        start_ms INTEGER NOT NULL,
        end_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        search TEXT NOT NULL,
        body TEXT NOT NULL,
        acked_by TEXT,
        acked_ms INTEGER,
        silenced_until_ms INTEGER,
        silence_reason TEXT
      );
      CREATE INDEX incidents_rank ON incidents (state, severity_rank, top_score, start_ms);
      CREATE INDEX incidents_end ON incidents (end_ms);

      CREATE TABLE incident_anomalies (
        anomaly_id TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        PRIMARY KEY (anomaly_id, incident_id)
      );
      CREATE INDEX incident_anomalies_incident ON incident_anomalies (incident_id);

      CREATE TABLE incident_services (
        incident_id TEXT NOT NULL,
        service TEXT NOT NULL,
        PRIMARY KEY (incident_id, service)
      );
      CREATE INDEX incident_services_service ON incident_services (service);

      CREATE TABLE incident_timeline (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
      );
      CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, time_ms);

      CREATE TABLE incident_exemplars (
        incident_id TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        spans TEXT NOT NULL,
        PRIMARY KEY (incident_id, trace_id)
      );
    `,
  },
];
