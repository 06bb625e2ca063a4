import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * One module's schema changes. Modules (store, heal, ...) own their migrations; versions are per
 * module so they can evolve independently in the same database file.
 */
export interface Migration {
  module: string;
  version: number;
  description: string;
  sql: string;
}

/** The store could not be opened; the message names the file and SQLite's (or the OS's) code. */
export class StoreOpenError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const code = (cause as { code?: unknown }).code;
    super(`store.path: cannot open ${path}: ${typeof code === 'string' ? `${code}: ` : ''}${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreOpenError';
  }
}

/** Opens (creating if needed) the SQLite file in WAL mode and applies pending migrations in order. */
export function openDatabase(path: string, migrations: Migration[]): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    // The first statements read the file header: a corrupted or foreign file fails here.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    applyMigrations(db, migrations);
    return db;
  } catch (err) {
    db?.close();
    throw new StoreOpenError(path, err);
  }
}

export function applyMigrations(db: SqliteDatabase, migrations: Migration[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    module TEXT NOT NULL,
    version INTEGER NOT NULL,
    description TEXT NOT NULL,
    applied_ms INTEGER NOT NULL,
    PRIMARY KEY (module, version)
  )`);
  const applied = new Set(
    (db.prepare('SELECT module, version FROM schema_migrations').all() as Array<{ module: string; version: number }>).map(
      (r) => `${r.module}@${r.version}`,
    ),
  );
  const pending = migrations
    .filter((m) => !applied.has(`${m.module}@${m.version}`))
    .sort((a, b) => (a.module === b.module ? a.version - b.version : a.module < b.module ? -1 : 1));
  const record = db.prepare('INSERT INTO schema_migrations (module, version, description, applied_ms) VALUES (?, ?, ?, ?)');
  const run = db.transaction(() => {
    for (const m of pending) {
      db.exec(m.sql);
      record.run(m.module, m.version, m.description, Date.now());
    }
  });
  run();
  return pending.length;
}
