import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

const SQLITE_MAGIC = 'SQLite format 3\0';

export interface StoreFailure {
  operation: string;
  code: string;
  message: string;
}

/** Counts store errors by operation and code (wired to a Prometheus counter by emit/). */
export type StoreErrorCounter = (operation: string, code: string) => void;

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** The first 16 bytes of a file, or the error code that stopped reading them. */
function readHeader(path: string): string | { error: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { error: errorCode(err) };
  }
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the SQLite store can keep what the sidecar hands it. SQLite hides several failures from
 * the open connection: a deleted file keeps taking writes (into an unlinked inode, lost on
 * restart), and a file overwritten underneath is still served from the page cache and the WAL.
 * So readiness looks at the file itself (present, same inode, SQLite header, readable by a fresh
 * connection) and at the outcome of the latest write, which catches a full disk or a read-only
 * file.
 */
export class StoreHealth {
  private lastFailure: StoreFailure | undefined;
  private failureCount = 0;
  private readonly inode: number | undefined;

  constructor(
    private readonly path: string,
    private readonly countError: StoreErrorCounter = () => {},
    /** A tiny real write (see userVersionWriteProbe); catches a store that opened read-only. */
    private readonly writeProbe?: () => void,
  ) {
    this.inode = path === ':memory:' ? undefined : statSync(path).ino;
  }

  /** How many store writes have failed since start (monotonic; callers compare before and after). */
  get failures(): number {
    return this.failureCount;
  }

  recordFailure(operation: string, err: unknown): void {
    const code = errorCode(err);
    this.failureCount++;
    this.lastFailure = { operation, code, message: err instanceof Error ? err.message : String(err) };
    this.countError(operation, code);
  }

  /** A write went through: the store takes writes again. */
  recordSuccess(): void {
    this.lastFailure = undefined;
  }

  /** Why the store is not healthy now; empty when it is. Cheap enough for every /readyz. */
  reasons(): string[] {
    const out: string[] = [];
    if (this.inode !== undefined) {
      const fileProblem = this.fileProblem();
      if (fileProblem !== undefined) {
        out.push(fileProblem);
        this.countError('probe', 'FILE');
      }
    }
    if (this.writeProbe) {
      try {
        this.writeProbe();
      } catch (err) {
        // Not recorded as the last write failure: a probe that works again must not hide one.
        this.countError('probe', errorCode(err));
        out.push(`store: cannot write (${errorCode(err)}: ${err instanceof Error ? err.message : String(err)})`);
      }
    }
    if (this.lastFailure) out.push(`store: last write failed (${this.lastFailure.operation}: ${this.lastFailure.code}: ${this.lastFailure.message})`);
    return out;
  }

  private fileProblem(): string | undefined {
    let ino: number;
    try {
      ino = statSync(this.path).ino;
    } catch (err) {
      return `store: database file ${this.path} is missing (${errorCode(err)}); writes go to a deleted file and are lost on restart`;
    }
    if (ino !== this.inode) return `store: database file ${this.path} was replaced while open`;
    const header = readHeader(this.path);
    if (typeof header !== 'string') return `store: database file ${this.path} is unreadable (${header.error})`;
    // A file shorter than a header is a fresh database whose first page is still in the WAL.
    if (header.length === 16 && header !== SQLITE_MAGIC) return `store: database file ${this.path} is corrupted (not a SQLite header)`;
    try {
      const probe = new Database(this.path, { readonly: true, fileMustExist: true });
      try {
        probe.prepare('SELECT count(*) FROM sqlite_master').get();
      } finally {
        probe.close();
      }
    } catch (err) {
      return `store: database file ${this.path} cannot be read (${errorCode(err)}: ${(err as Error).message})`;
    }
    return undefined;
  }
}

/**
 * Rewrites the database's user_version with its own value: one real write transaction that
 * touches no table and leaves nothing behind. SQLite opens a file it may not write (read-only
 * mount, immutable file) read-only without saying so; this write is where that shows.
 */
export function userVersionWriteProbe(db: Database.Database): () => void {
  return () => {
    const v = db.pragma('user_version', { simple: true }) as number;
    db.pragma(`user_version = ${Number(v)}`);
  };
}
