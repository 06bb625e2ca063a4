/**
 * `self-healing serve` as a user runs it, for the end-to-end benchmark: a child process of the
 * compiled CLI with the default configuration except that every port is 0 on loopback (the
 * ports are read from the start-up log line) and the store lives in a temp directory.
 * Also the /proc readers shared by every target: CPU of all threads and RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux we run on). */
const CLK_TCK = 100;

/** CPU-seconds (user + system, every thread) the process used so far. */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size in MiB. */
export function procRssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  // Compiled, this file is in dist/test/bench/otlp: dist has no package.json, so this is the checkout.
  return dir;
}

export interface ServeProcess {
  pid: number;
  /** The process itself (the overload bench watches for its exit). */
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
  adminUrl: string;
  /** Sums of the sidecar's Prometheus counters and gauges we report. */
  scrape(): Promise<ServeScrape>;
  stop(): Promise<void>;
}

export interface ServeScrape {
  spansReceived: number;
  /** OTLP log records taken (self_healing_log_records_received_total, all protocols). */
  logRecordsReceived: number;
  /** prom-client's event-loop delay percentiles (monitorEventLoopDelay), reset by every scrape. */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  heapUsedMiB: number;
  /** Memory outside the V8 heap that V8 tracks (ArrayBuffers: typed arrays, request bodies). */
  externalMiB: number;
  /** Every self_healing_*dropped* / *evicted* / *capped* / *refused* counter, for the budget report. */
  dropped: Record<string, number>;
  text: string;
}

export function httpGet(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function startServe(nodeArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const root = repoRoot();
  // BENCH_SERVE_MAIN runs another build's CLI (before/after comparisons of one change).
  const main = process.env.BENCH_SERVE_MAIN ?? join(root, 'dist', 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'sh-bench-serve-'));
  writeFileSync(join(dir, 'self-healing.yaml'), 'receive:\n  grpc:\n    port: 0\n  http:\n    port: 0\nadmin:\n  port: 0\n');
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, main, 'serve', '-c', 'self-healing.yaml'], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The logger writes JSON lines to stderr; keep the tail for an error message.
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const started = await new Promise<{ grpc: string; http: string; admin: string }>((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.includes('self-healing started')) continue;
        child.stderr!.off('data', onData);
        resolve(JSON.parse(line) as { grpc: string; http: string; admin: string });
        return;
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before it started: ${stderr}`)));
  });
  const port = (hostPort: string): number => Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
  const adminUrl = started.admin;
  return {
    pid: child.pid!,
    child,
    grpcPort: port(started.grpc),
    httpPort: port(started.http),
    adminUrl,
    async scrape() {
      const { body: text } = await httpGet(`${adminUrl}/metrics`);
      const dropped: Record<string, number> = {};
      for (const line of text.split('\n')) {
        const m = /^(self_healing_\w*(?:dropped|evicted|capped|refused)\w*)(?:\{[^}]*\})? (\S+)$/.exec(line);
        if (m) dropped[m[1]!] = (dropped[m[1]!] ?? 0) + Number(m[2]);
      }
      return {
        spansReceived: metric(text, 'self_healing_spans_received_total'),
        logRecordsReceived: metric(text, 'self_healing_log_records_received_total'),
        loopP50Ms: metric(text, 'nodejs_eventloop_lag_p50_seconds') * 1000,
        loopP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
        loopMaxMs: metric(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
        heapUsedMiB: metric(text, 'nodejs_heap_size_used_bytes') / 1048576,
        externalMiB: metric(text, 'nodejs_external_memory_bytes') / 1048576,
        dropped,
        text,
      };
    },
    stop() {
      return new Promise<void>((resolve) => {
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        // A child killed by a signal (an abort on heap exhaustion) has a null exitCode: check both.
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      });
    },
  };
}
