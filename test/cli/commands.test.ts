import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/main.js';
import { encodeTraceRequestJsonText, type TestSpan } from '../bench/otlp/encode-request.js';
import { seededRandom, lognormal } from '../detect/beat-factory.js';
import { openDatabase } from '../../src/store/database.js';
import { AnomalyStore, coreMigrations } from '../../src/store/anomaly-store.js';
import { healMigrations } from '../../src/heal/migrations.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const hex = (n: number, bytes: number) => n.toString(16).padStart(bytes * 2, '0');

/** OTLP/JSON lines: one request per slice for 70 slices, resolveTemplate 4x slower from slice 55. */
function regressionFile(dir: string): string {
  const rand = seededRandom(5);
  const t0 = 1_764_000_000_000;
  const lines: string[] = [];
  let id = 1;
  for (let slice = 0; slice < 70; slice++) {
    const spans: TestSpan[] = [];
    for (let k = 0; k < 25; k++) {
      const startMs = t0 + slice * 1000 + k * 39;
      const root = id++;
      const durations = [lognormal(rand, 10, 0.2) * (slice >= 55 ? 4 : 1), lognormal(rand, 3, 0.2)];
      const handlers = ['resolveTemplate', 'createComponent'];
      let offset = 0;
      for (let h = 0; h < 2; h++) {
        const start = BigInt(Math.round((startMs + offset) * 1e6));
        spans.push({
          traceId: hex(root, 16),
          spanId: hex(id++, 8),
          name: handlers[h]!,
          startNs: start,
          endNs: start + BigInt(Math.round(durations[h]! * 1e6)),
          attributes: { 'beat.sequence': 'canvas-component-create', 'beat.movement': 'create', 'beat.number': h + 1, 'beat.handler': handlers[h]!, 'beat.event': `canvas:${h}` },
        });
        offset += durations[h]!;
      }
    }
    lines.push(encodeTraceRequestJsonText([{ resource: { 'service.name': 'canvas-app', 'service.version': '1.1.0' }, spans }]));
  }
  const path = join(dir, 'traces.jsonl');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('CLI commands', () => {
  let dir: string;
  let traces: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sh-cli-'));
    traces = regressionFile(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ingest reads OTLP/JSON and conductor logs and counts beats per handler', async () => {
    const log = join(dir, 'conductor.log');
    writeFileSync(
      log,
      [
        '2026-11-25T10:00:00.000Z 🎼 Sequence: canvas-component-create started',
        '2026-11-25T10:00:00.010Z Beat 1: canvas:component:resolve-template - Duration: 8.00ms - Handler: resolveTemplate (CanvasComponentPlugin)',
        '2026-11-25T10:00:00.020Z Beat 2: canvas:component:create - Duration: 2.50ms - Handler: createComponent (CanvasComponentPlugin)',
      ].join('\n'),
    );
    const r = await run(['ingest', '--json', traces, log]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { summary: { files: number; beats: number }; handlers: Array<{ service: string; handler: string; beats: number; meanMs: number }> };
    expect(report.summary.files).toBe(2);
    expect(report.summary.beats).toBe(70 * 25 * 2 + 2);
    const fromLog = report.handlers.find((h) => h.service !== 'canvas-app' && h.handler === 'resolveTemplate');
    expect(fromLog).toMatchObject({ beats: 1, meanMs: 8 });
    const table = await run(['ingest', traces]);
    expect(table.out).toMatch(/resolveTemplate\s+1750\s+0/);
  });

  it('ingest without files is a usage error; unreadable files are reported', async () => {
    expect((await run(['ingest'])).code).toBe(2);
    const r = await run(['ingest', join(dir, 'missing.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing.json');
  });

  it('analyze finds the regression offline at data time, as JSON and as a table', async () => {
    const sets = ['--set', 'detect.sliceMs=1000', '--set', 'detect.windowSlices=6', '--set', 'detect.minSamples=20'];
    const r = await run(['analyze', '--json', ...sets, traces]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { anomalies: Array<{ type: string; handler?: string; firstSeenMs: number }>; incidents: unknown };
    expect(Array.isArray(report.incidents)).toBe(true);
    const perf = report.anomalies.filter((a) => a.type === 'performance');
    expect(perf.map((a) => a.handler)).toContain('resolveTemplate');
    expect(perf.find((a) => a.handler === 'resolveTemplate')!.firstSeenMs).toBeGreaterThanOrEqual(1_764_000_000_000 + 55_000);
    expect(report.anomalies.some((a) => a.type === 'performance' && a.handler === 'createComponent')).toBe(false);
    const table = await run(['analyze', ...sets, traces]);
    expect(table.out).toContain('resolveTemplate');
    expect(table.out).toContain('3500 beats');
  });

  it('jobs lists an empty queue and validates --state', async () => {
    const db = join(dir, 'jobs.db');
    const r = await run(['jobs', '--set', `store.path=${db}`]);
    expect(r.code).toBe(0);
    expect((await run(['jobs', '--json', '--set', `store.path=${db}`])).out.trim()).toBe('[]');
    expect((await run(['jobs', '--state', 'bogus', '--set', `store.path=${db}`])).code).toBe(2);
  });

  it('heal explains what is missing', async () => {
    const db = join(dir, 'heal.db');
    const missing = await run(['heal', 'diag-nope', '--set', `store.path=${db}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no diagnosis diag-nope');
    expect((await run(['heal', '--set', `store.path=${db}`])).code).toBe(2);
    // A stored diagnosis without a configured repository: healing cannot run.
    const handle = openDatabase(db, [...coreMigrations, ...healMigrations]);
    const store = new AnomalyStore(handle);
    const anomaly = {
      id: 'an-1', key: 'k', type: 'performance', subtype: 'latency-regression', severity: 'high', confidence: 0.9, state: 'open',
      service: 'canvas-app', handler: 'resolveTemplate', windowStartMs: 0, windowEndMs: 1, firstSeenMs: 0, lastSeenMs: 1,
      summary: 's', observed: {}, expected: {}, details: {}, exemplars: [],
    } as const;
    store.saveAnomaly({ ...anomaly, observed: {}, expected: {}, details: {}, exemplars: [] });
    store.saveDiagnosis({
      id: 'diag-1', anomalyId: 'an-1', createdMs: 1, service: 'canvas-app', handler: 'resolveTemplate',
      rootCause: { cause: 'self-time-regression', description: 'd', score: 0.8, evidence: [] }, hypotheses: [],
      affected: { handlers: ['resolveTemplate'], sequences: [], services: ['canvas-app'] },
      impact: { trafficShare: 0.5, affectedRuns: 3, affectedCorrelationIds: 0, severity: 'high' },
      recommendedFixes: ['regression-test'], suspects: [], context: {},
    });
    handle.close();
    const noRepo = await run(['heal', 'diag-1', '--set', `store.path=${db}`]);
    expect(noRepo.code).toBe(1);
    expect(noRepo.err).toContain('heal.repository.path');
  });

  it('serve runs until SIGTERM and then shuts down cleanly with exit 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', 'serve', '--set', 'receive.grpc.port=0', '--set', 'receive.http.port=0', '--set', 'admin.port=0',
        '--set', `store.path=${join(dir, 'serve.db')}`, '--set', 'emit.otlp.enabled=false', '--set', 'logLevel=warn'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 45_000);
      child.stderr.on('data', () => {
        const m = /dashboard (http:\/\/\S+)\//.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr).toContain('SIGTERM, shutting down');
  });
});
