import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/emit/logger.js';
import { Sidecar } from '../../src/sidecar.js';
import { openDatabase, StoreOpenError, type SqliteDatabase } from '../../src/store/database.js';
import { coreMigrations } from '../../src/store/anomaly-store.js';
import { PendingChanges } from '../../src/store/pending-changes.js';
import { RetryingHandler } from '../../src/store/retrying-handler.js';
import { StoreHealth } from '../../src/store/store-health.js';
import { seededRandom, traffic } from '../detect/beat-factory.js';

const SLICE = 10_000;
const SPEC = { service: 'shop', handler: 'resolveTemplate', sequence: 'checkout', rate: 20, medianMs: 10, sigma: 0.25, errorRate: 0 };

interface Running {
  sidecar: Sidecar;
  dir: string;
  dbPath: string;
  /** The sidecar's own SQLite connection, to inject a real SQLite failure into it. */
  db: SqliteDatabase;
}

async function start(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'sh-store-health-'));
  const dbPath = join(dir, 'state.db');
  const config = ConfigSchema.parse({
    receive: { grpc: { enabled: false }, http: { enabled: false } },
    admin: { port: 0 },
    emit: { otlp: { enabled: false } },
    store: { path: dbPath },
    heal: { enabled: false },
    detect: { sliceMs: SLICE, windowSlices: 6 },
  });
  const sidecar = await Sidecar.start(config, { manualEvaluation: true, env: {}, logger: createLogger('silent') });
  return { sidecar, dir, dbPath, db: (sidecar as unknown as { db: SqliteDatabase }).db };
}

async function readyz(s: Sidecar): Promise<{ status: number; reasons: string[] }> {
  const res = await fetch(`${s.admin!.url}/readyz`);
  return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
}

async function metric(s: Sidecar, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${s.admin!.url}/metrics`)).text();
  const m = pattern.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Feeds one slice of resolveTemplate traffic (4x slower from slice 60) and evaluates it. */
function feed(s: Sidecar, rand: () => number, t0: number, i: number): void {
  const from = t0 + i * SLICE;
  s.engine.observe(traffic(rand, SPEC, from, from + SLICE, i >= 60 ? 4 : 1));
  s.evaluate(from + SLICE);
}

/**
 * Performance anomalies whose whole change went through: stored, diagnosed, and the diagnosis
 * published in the event log (what SSE and gRPC consumers, and healing, act on).
 */
function diagnosedPerformanceAnomalies(s: Sidecar): number {
  const published = new Set(s.store.eventsSince(0, 100_000).filter((e) => e.kind === 'diagnosis.created').map((e) => e.anomalyId));
  return s.store.listAnomalies({ type: 'performance', limit: 100, offset: 0 }).filter((a) => published.has(a.id) && s.store.diagnosesForAnomaly(a.id).length > 0).length;
}

const immutable = (paths: string[], on: boolean): void => {
  for (const p of paths) if (existsSync(p)) execFileSync('chattr', [on ? '+i' : '-i', p]);
};

describe('store health on a running sidecar with a real SQLite file', { timeout: 60_000 }, () => {
  let running: Running | undefined;
  afterEach(async () => {
    if (!running) return;
    if (process.getuid?.() === 0) immutable([running.dbPath, `${running.dbPath}-wal`, `${running.dbPath}-shm`], false);
    await running.sidecar.stop();
    rmSync(running.dir, { recursive: true, force: true });
    running = undefined;
  });

  it('is ready with a healthy store', async () => {
    running = await start();
    expect(await readyz(running.sidecar)).toEqual({ status: 200, reasons: [] });
  });

  it('turns /readyz to 503 when the database file is deleted while running, and counts it', async () => {
    running = await start();
    unlinkSync(running.dbPath);
    const r = await readyz(running.sidecar);
    expect(r.status).toBe(503);
    expect(r.reasons.join('\n')).toMatch(/database file .*state\.db is missing/);
    expect(await metric(running.sidecar, /self_healing_store_errors_total\{operation="probe",code="FILE"\} (\d+)/)).toBeGreaterThan(0);
  });

  it('turns /readyz to 503 when the database file is corrupted underneath', async () => {
    running = await start();
    running.db.pragma('wal_checkpoint(TRUNCATE)');
    writeFileSync(running.dbPath, randomBytes(statSync(running.dbPath).size));
    const r = await readyz(running.sidecar);
    expect(r.status).toBe(503);
    expect(r.reasons.join('\n')).toMatch(/corrupted \(not a SQLite header\)/);
  });

  it('turns /readyz to 503 when the database file is replaced by another file', async () => {
    running = await start();
    unlinkSync(running.dbPath);
    writeFileSync(running.dbPath, '');
    expect((await readyz(running.sidecar)).reasons.join('\n')).toMatch(/was replaced while open/);
  });

  it.each([
    [
      'a full disk (SQLITE_FULL from a real page limit)',
      'SQLITE_FULL',
      (r: Running) => {
        // Cap the file at its current size and pack every free byte, so the next row needs a page it cannot get.
        r.db.exec('CREATE TABLE IF NOT EXISTS test_filler (x BLOB)');
        r.db.pragma(`max_page_count = ${r.db.pragma('page_count', { simple: true }) as number}`);
        for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
          try {
            for (;;) r.db.prepare('INSERT INTO test_filler VALUES (?)').run(Buffer.alloc(size));
          } catch {
            // Full at this row size: try smaller rows.
          }
        }
      },
      (r: Running) => {
        r.db.pragma('max_page_count = 1073741823');
      },
    ],
    [
      'a read-only database file',
      process.getuid?.() === 0 ? 'SQLITE_IOERR_WRITE' : 'SQLITE_READONLY',
      (r: Running) => {
        // Root writes through file modes, so for root the file is made immutable; otherwise the
        // connection is switched to read-only.
        if (process.getuid?.() === 0) immutable([r.dbPath, `${r.dbPath}-wal`], true);
        else r.db.pragma('query_only = 1');
      },
      (r: Running) => {
        if (process.getuid?.() === 0) immutable([r.dbPath, `${r.dbPath}-wal`], false);
        else r.db.pragma('query_only = 0');
      },
    ],
  ])('with %s: 503 with the reason, errors counted, the anomaly kept and stored once writes work again', async (_name, code, breakStore, repair) => {
    running = await start();
    const s = running.sidecar;
    const rand = seededRandom(7);
    const t0 = Math.floor((Date.now() - 3 * 3600_000) / SLICE) * SLICE;
    for (let i = 0; i < 60; i++) feed(s, rand, t0, i);
    expect(diagnosedPerformanceAnomalies(s)).toBe(0);
    breakStore(running);

    let i = 60;
    while (i < 80 && (await metric(s, /self_healing_store_pending_changes (\d+)/)) === 0) feed(s, rand, t0, i++);
    expect(i, 'the regression produced a change the store refused').toBeLessThan(80);
    const broken = await readyz(s);
    expect(broken.status).toBe(503);
    expect(broken.reasons.join('\n')).toContain(code);
    expect(broken.reasons.join('\n')).toMatch(/anomaly change\(s\) waiting to be stored/);
    expect(await metric(s, new RegExp(`self_healing_store_errors_total\\{operation="\\w+",code="${code}"\\} (\\d+)`))).toBeGreaterThan(0);
    // Part of the change may have fit into free space, but not all of it: nothing is diagnosed yet.
    expect(diagnosedPerformanceAnomalies(s)).toBe(0);

    repair(running);
    feed(s, rand, t0, i++);
    expect(await metric(s, /self_healing_store_pending_changes (\d+)/)).toBe(0);
    expect(await readyz(s)).toEqual({ status: 200, reasons: [] });
    expect(diagnosedPerformanceAnomalies(s)).toBeGreaterThan(0);
    expect(s.store.listAnomalies({ type: 'performance', limit: 10, offset: 0 })[0]!.handler).toBe('resolveTemplate');
  });
});

describe('opening a bad store at start-up', () => {
  it('names the file and the problem for a corrupted file and a path under a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sh-store-open-'));
    try {
      const garbage = join(dir, 'garbage.db');
      writeFileSync(garbage, randomBytes(8192));
      expect(() => openDatabase(garbage, coreMigrations)).toThrow(StoreOpenError);
      expect(() => openDatabase(garbage, coreMigrations)).toThrow(/store\.path: cannot open .*garbage\.db: SQLITE_NOTADB/);
      writeFileSync(join(dir, 'a-file'), 'x');
      expect(() => openDatabase(join(dir, 'a-file', 'state.db'), coreMigrations)).toThrow(/store\.path: cannot open .*a-file\/state\.db: (ENOTDIR|EEXIST)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a store that is read-only from the start', () => {
  it('starts (SQLite opens it read-only) but is not ready, saying it cannot write', async () => {
    const first = await start();
    const { dir, dbPath } = first;
    await first.sidecar.stop();
    const readOnly = process.getuid?.() === 0;
    try {
      // Root writes through file modes: an immutable file is read-only even for root.
      if (readOnly) immutable([dbPath, `${dbPath}-wal`, `${dbPath}-shm`], true);
      const config = ConfigSchema.parse({
        receive: { grpc: { enabled: false }, http: { enabled: false } },
        admin: { port: 0 },
        emit: { otlp: { enabled: false } },
        store: { path: dbPath },
        heal: { enabled: false },
      });
      const sidecar = await Sidecar.start(config, { manualEvaluation: true, env: {}, logger: createLogger('silent') });
      try {
        if (!readOnly) (sidecar as unknown as { db: SqliteDatabase }).db.pragma('query_only = 1');
        const r = await readyz(sidecar);
        expect(r.status).toBe(503);
        expect(r.reasons.join('\n')).toMatch(/store: cannot write \(SQLITE_READONLY/);
        expect(await metric(sidecar, /self_healing_store_errors_total\{operation="probe",code="SQLITE_READONLY"\} (\d+)/)).toBeGreaterThan(0);
      } finally {
        await sidecar.stop();
      }
    } finally {
      if (readOnly) immutable([dbPath, `${dbPath}-wal`, `${dbPath}-shm`], false);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('store health pieces', () => {
  it('keeps pending changes in order, bounded, dropping the oldest', () => {
    const q = new PendingChanges<number>(2);
    expect(q.push(1)).toBeUndefined();
    q.push(2);
    expect(q.push(3)).toBe(1);
    const seen: number[] = [];
    expect(q.retry((n) => (seen.push(n), n !== 3))).toBe(1);
    expect(seen).toEqual([2, 3]);
    expect(q.size).toBe(1);
    expect(q.retry(() => true)).toBe(1);
    expect(q.size).toBe(0);
  });

  it('retries items whose store write failed, in order and before newer ones, and reports drops and errors', () => {
    let failures = 0;
    let storeUp = false;
    const handled: string[] = [];
    const dropped: string[] = [];
    const errors: string[] = [];
    const h = new RetryingHandler<string, string>({
      handle: (item, retry) => {
        handled.push(`${item}${retry ? '(retry)' : ''}`);
        if (item === 'boom') throw new Error('not a store problem');
        if (!storeUp) failures++;
        return item;
      },
      failures: () => failures,
      capacity: 2,
      onDropped: (item) => dropped.push(item),
      onError: (err) => errors.push((err as Error).message),
    });
    expect(h.process(['a', 'b', 'c'])).toEqual(['a']);
    // 'a' failed to store; 'b' and 'c' queued behind it without running; capacity 2 drops 'a'.
    expect(handled).toEqual(['a']);
    expect(dropped).toEqual(['a']);
    expect(h.pending).toBe(2);
    storeUp = true;
    expect(h.process(['boom', 'd'])).toEqual(['b', 'c', 'd']);
    expect(handled.slice(1)).toEqual(['b(retry)', 'c(retry)', 'boom', 'd']);
    expect(errors).toEqual(['not a store problem']);
    expect(h.pending).toBe(0);
  });

  it('reports the last write failure until a write succeeds, and counts each', () => {
    const counted: string[] = [];
    const h = new StoreHealth(':memory:', (op, code) => counted.push(`${op}/${code}`));
    h.recordFailure('saveAnomaly', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    h.recordFailure('appendEvent', 'boom');
    expect(h.failures).toBe(2);
    expect(h.reasons()).toEqual(['store: last write failed (appendEvent: ERROR: boom)']);
    h.recordSuccess();
    expect(h.reasons()).toEqual([]);
    expect(counted).toEqual(['saveAnomaly/SQLITE_FULL', 'appendEvent/ERROR']);
  });
});
