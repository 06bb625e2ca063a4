import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/database.js';

/** A real SQLite file in a temp dir, with the core tables. */
export function tempStore(): { store: AnomalyStore; db: SqliteDatabase; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sh-emit-'));
  const db = openDatabase(join(dir, 'state.db'), coreMigrations);
  return {
    store: new AnomalyStore(db),
    db,
    dir,
    cleanup: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the condition holds or the deadline passes. */
export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
