import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
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
    // Next to a readable file too: analyze exits 1 naming the file and the reason.
    const mixed = await run(['analyze', traces, join(dir, 'missing.json')]);
    expect(mixed.code).toBe(1);
    expect(mixed.err).toMatch(/missing\.json:0: cannot read: ENOENT/);
  });

  it('ingest reads real conductor console output and fails on a file that gives nothing', async () => {
    const capture = join(ROOT, 'test/fixtures/conductor-logs/browser-chrome.log');
    const ok = await run(['ingest', capture]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^1 file\(s\), \d+ line\(s\) read: 42 beats, 0 log records, \d+ line\(s\) ignored, 0 rejected, 0 error\(s\)/);
    expect(ok.out).toContain('resolveTemplate');
    const junk = join(dir, 'junk.log');
    writeFileSync(junk, 'hello\nworld\n');
    const bad = await run(['ingest', capture, junk]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`${junk}:0: nothing could be read from this file; first lines not understood: 1: "hello"; 2: "world"`);
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
    // Times for people: UTC to the second, never raw epoch milliseconds.
    expect(table.out).toMatch(/3500 beats from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(table.out).toContain('FIRST SEEN (UTC)');
    expect(table.out).not.toMatch(/\b1\d{12}\b/);
    // --fail-on for CI: exit 3 when something at least that severe is found, 0 otherwise.
    const worst = report.anomalies.map((a) => (a as unknown as { severity: string }).severity);
    const gate = await run(['analyze', '--fail-on', 'low', ...sets, traces]);
    expect(worst.length).toBeGreaterThan(0);
    expect(gate.code).toBe(3);
    expect(gate.err).toContain('anomalies at or above low found');
    const clean = await run(['analyze', '--fail-on=critical', ...sets, traces]);
    expect(clean.code).toBe(worst.includes('critical') ? 3 : 0);
    const bad = await run(['analyze', '--fail-on', 'sometimes', traces]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--fail-on must be one of low, medium, high, critical, got "sometimes"');
  });

  it('analyze logs one line per skipped sequence file, counts them and still analyzes', async () => {
    const seqDir = mkdtempSync(join(tmpdir(), 'sh-cli-seq-'));
    try {
      writeFileSync(join(seqDir, 'ok.json'), JSON.stringify({ id: 's', name: 's', movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler: 'resolveTemplate' }] }] }));
      writeFileSync(join(seqDir, 'tsconfig.json'), JSON.stringify({ compilerOptions: {} }));
      const sets = ['--set', 'detect.sliceMs=1000', '--set', 'detect.windowSlices=6', '--set', `detect.sequenceFiles=${JSON.stringify([`${seqDir}/*.json`])}`];
      const r = await run(['analyze', '--json', ...sets, traces]);
      expect(r.code).toBe(0);
      expect(r.err.trim().split('\n').filter((l) => l.startsWith('sequence file skipped:'))).toHaveLength(1);
      expect(r.err).toContain('tsconfig.json: TypeScript configuration (compilerOptions), not a sequence');
      expect((JSON.parse(r.out) as { input: { sequenceFilesSkipped: number } }).input.sequenceFilesSkipped).toBe(1);
      expect((await run(['analyze', ...sets, traces])).out).toContain('1 sequence file(s) skipped');
    } finally {
      rmSync(seqDir, { recursive: true, force: true });
    }
  });

  it('analyze and ingest read gzip-compressed OTLP/JSON log files next to the traces', async () => {
    const t0 = 1_764_000_000_000;
    const lines: string[] = [];
    for (let slice = 0; slice < 70; slice++) {
      const records = [];
      for (let k = 0; k < 5; k++) records.push({ timeUnixNano: String((t0 + slice * 1000 + k * 100) * 1e6), severityNumber: 9, body: { stringValue: `rendered component ${slice * 5 + k}` } });
      if (slice >= 60) records.push({ timeUnixNano: String((t0 + slice * 1000 + 700) * 1e6), severityNumber: 17, severityText: 'ERROR', body: { stringValue: `template cache corrupted at entry ${slice}` } });
      lines.push(JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'canvas-app' } }] }, scopeLogs: [{ logRecords: records }] }] }));
    }
    const logs = join(dir, 'logs.jsonl.gz');
    writeFileSync(logs, gzipSync(lines.join('\n')));
    const sets = ['--set', 'detect.sliceMs=1000', '--set', 'detect.windowSlices=6', '--set', 'detect.minSamples=20'];
    const r = await run(['analyze', '--json', ...sets, traces, logs]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { input: { logs: number }; anomalies: Array<{ subtype: string; service: string; details: Record<string, unknown>; firstSeenMs: number }> };
    expect(report.input.logs).toBe(70 * 5 + 10);
    const fresh = report.anomalies.find((a) => a.subtype === 'new-log-template');
    expect(fresh).toMatchObject({ service: 'canvas-app', details: { template: 'template cache corrupted at entry <NUM>' } });
    expect(fresh!.firstSeenMs).toBeGreaterThanOrEqual(t0 + 60_000);
    const table = await run(['ingest', logs]);
    expect(table.out).toContain('360 log records');
    const broken = join(dir, 'broken.jsonl.gz');
    writeFileSync(broken, gzipSync(lines.join('\n')).subarray(0, 40));
    const bad = await run(['ingest', broken]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('broken.jsonl.gz:0: invalid gzip data');
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
        '--set', `store.path=${join(dir, 'serve.db')}`, '--set', 'emit.otlp.enabled=false', '--set', 'logLevel=info'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 45_000);
      child.stderr.on('data', () => {
        const m = /"msg":"dashboard".*"url":"(http:\/\/[^"]+)\/"/.exec(stderr);
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
    // One log format: every stderr line is a JSON record.
    const lines = stderr.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
    expect(lines.map((l) => JSON.parse(l) as { msg: string; signal?: string })).toContainEqual(expect.objectContaining({ msg: 'shutting down', signal: 'SIGTERM' }));
  });

  it('serve says which port is busy and which setting to change, in the chosen log format', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      for (const [setting, other] of [
        ['receive.grpc.port', 'receive.http.port'],
        ['receive.http.port', 'receive.grpc.port'],
      ] as const) {
        const r = await run(['serve', '--set', `${setting}=${busy}`, '--set', `${other}=0`, '--set', 'admin.port=0',
          '--set', `store.path=${join(dir, `busy-${setting}.db`)}`, '--log-format', 'pretty']);
        expect(r.code).toBe(1);
        expect(r.err).toMatch(new RegExp(`ERROR cannot listen on 127\\.0\\.0\\.1:${busy}: the address is already in use .*--set ${setting.replace(/\./g, '\\.')}=<port>`));
        expect(r.err).not.toContain('    at ');
      }
    } finally {
      blocker.close();
    }
  });
});
