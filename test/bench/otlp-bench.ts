/**
 * End-to-end OTLP benchmark of what ships: `self-healing serve` (the compiled CLI, default
 * configuration, ports 0 on loopback, store in a temp dir) fed distinct, realistic traffic
 * (test/bench/otlp/traffic.ts: fresh trace ids, current timestamps, 4 services, sequence runs
 * with parent/child spans, ~2 % failing spans, `--keys` handler keys), beside a no-op node:http
 * and a no-op grpc-js receiver in the same run.
 *
 *   npm run bench                  # build, then the compiled bench
 *   node dist/test/bench/otlp-bench.js [--seconds 5] [--warmup 2] [--rounds 3] [--concurrency 8]
 *        [--spans 512] [--keys 28] [--targets serve-http-protobuf,serve-grpc,...]
 *   node dist/test/bench/otlp-bench.js --soak 600 [--keys 10000]   # RSS over time, HTTP protobuf
 *   node dist/test/bench/otlp-bench.js --targets serve-http-protobuf --cpu-prof-dir /tmp/prof   # profile serve
 *   node dist/test/bench/otlp-bench.js --serve-node-args "--max-old-space-size=256 --max-semi-space-size=4" --serve-env "MALLOC_ARENA_MAX=2 ..."   # as the image runs it (the soak and overload modes do by default)
 *   node dist/test/bench/otlp-bench.js --overload 60 [--http-clients 8] [--grpc-clients 4]  # under the heap cap, PASS/FAIL per target
 *
 * Figures per target: spans per CPU-second of the receiving process (user + system of every
 * thread, from /proc/<pid>/stat over the measured window), peak RSS (/proc/<pid>/status, sampled
 * every 250 ms), and for `serve` the event-loop delay percentiles of the sidecar itself (its
 * /metrics nodejs_eventloop_lag_* gauges: prom-client's monitorEventLoopDelay histogram, reset by
 * the scrape at the start of the window and read by the one at its end) and the slowest /healthz
 * answer seen by a poll every 200 ms. Each round runs every target once, in turn, each in a fresh
 * process; a figure is the median over rounds (a shared 2-core machine swings a single run by
 * up to 1.5x; interleaving spreads slow spells over all targets).
 *
 * OTLP logs: `serve-http-logs` sends protobuf ExportLogsServiceRequests of `--spans` records to
 * /v1/logs (traffic.ts, encoding 'logs'); its figure is log records per CPU-second, counted by
 * self_healing_log_records_received_total. The no-op node:http receiver compares with it too.
 */
import { fork } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { quantile } from '../../src/detect/stats.js';
import type { LoadJob, LoadResult } from './otlp/load.js';
import { httpGet, procCpuSeconds, procRssMiB, startServe, type ServeProcess, type ServeScrape } from './otlp/serve-process.js';
import { DEFAULT_TRAFFIC, type TrafficOptions } from './otlp/traffic.js';
import { execArgv, isType, nextMessage, script } from './otlp/child-process.js';

type Target = 'serve-http-protobuf' | 'serve-http-json' | 'serve-grpc' | 'serve-http-logs' | 'noop-http' | 'noop-grpc';
const ALL_TARGETS: Target[] = ['serve-http-protobuf', 'serve-grpc', 'serve-http-json', 'serve-http-logs', 'noop-http', 'noop-grpc'];

/** What a serve target counts: spans, or log records for the logs target. */
const counted = (target: Target, s: ServeScrape): number => (target === 'serve-http-logs' ? s.logRecordsReceived : s.spansReceived);

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
}

const soakSeconds = Number(flag('soak', '0'));
/** Overload mode: seconds of 8 HTTP + 4 gRPC clients at full speed against one serve under the image's heap cap. */
const overloadSeconds = Number(flag('overload', '0'));
/** Writes a V8 CPU profile of every serve process into this directory (node --cpu-prof). */
const cpuProfDir = flag('cpu-prof-dir', '');
/** The image's NODE_OPTIONS (deploy/Dockerfile): the overload mode's default serve flags. */
const IMAGE_NODE_ARGS = '--max-old-space-size=256 --max-semi-space-size=4';
/**
 * The image's environment for node beyond NODE_OPTIONS (deploy/Dockerfile): glibc's malloc held
 * to two arenas, a fixed mmap threshold and a lower trim threshold (docs/operations.md, Sizing).
 * The overload mode's default; `--serve-env` sets it.
 */
const IMAGE_ENV = 'MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=262144';
/** Environment for serve, `NAME=value` pairs separated by spaces (e.g. IMAGE_ENV). */
const serveEnv: Record<string, string> = Object.fromEntries(
  flag('serve-env', overloadSeconds > 0 || soakSeconds > 0 ? IMAGE_ENV : '')
    .split(' ')
    .filter((a) => a.includes('='))
    .map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
);
/** Node flags for serve; the soak and overload modes run it as the image does (IMAGE_NODE_ARGS) unless told otherwise. */
const serveNodeArgs = flag('serve-node-args', overloadSeconds > 0 || soakSeconds > 0 ? IMAGE_NODE_ARGS : '')
  .split(' ')
  .filter((a) => a !== '');
const seconds = Number(flag('seconds', '5'));
const warmupSeconds = Number(flag('warmup', '2'));
const concurrency = Number(flag('concurrency', '8'));
const rounds = Math.max(1, Number(flag('rounds', '3')));
const targets = flag('targets', ALL_TARGETS.join(',')).split(',') as Target[];
const traffic: TrafficOptions = {
  ...DEFAULT_TRAFFIC,
  spansPerRequest: Number(flag('spans', String(DEFAULT_TRAFFIC.spansPerRequest))),
  keys: Number(flag('keys', soakSeconds > 0 ? '10000' : String(DEFAULT_TRAFFIC.keys))),
};


/** A running receiver: its pid, how many spans it has taken, and how to stop it. */
interface Running {
  pid: number;
  port: number;
  spans(): Promise<number>;
  serve?: ServeProcess;
  stop(): Promise<void>;
}

async function startTarget(target: Target): Promise<Running> {
  if (target.startsWith('serve-')) {
    const serve = await startServe([...serveNodeArgs, ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])], serveEnv);
    return {
      pid: serve.pid,
      port: target === 'serve-grpc' ? serve.grpcPort : serve.httpPort,
      spans: async () => counted(target, await serve.scrape()),
      serve,
      stop: () => serve.stop(),
    };
  }
  const child = fork(script('target'), [target, String(traffic.spansPerRequest)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await nextMessage(child, isType<{ type: 'ready'; port: number }>('ready'));
  return {
    pid: child.pid!,
    port,
    async spans() {
      const reply = nextMessage(child, isType<{ type: 'count'; spans: number }>('count'));
      child.send('count');
      return (await reply).spans;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('exit');
        setTimeout(() => child.kill(), 2000).unref();
      }),
  };
}

interface Row {
  spans: number;
  cpuSeconds: number;
  wallSeconds: number;
  peakRssMiB: number;
  loop?: ServeScrape;
  healthzMaxMs?: number;
  load: LoadResult;
}

/** Samples RSS and (for serve) /healthz latency until stopped. */
function sampler(run: Running): { stop(): { peakRssMiB: number; healthzMaxMs?: number } } {
  let peak = procRssMiB(run.pid);
  const rss = setInterval(() => {
    try {
      peak = Math.max(peak, procRssMiB(run.pid));
    } catch {
      // The process ended; the load reports the errors.
    }
  }, 250);
  let healthzMax = 0;
  let polling = true;
  const poll = async (): Promise<void> => {
    while (polling && run.serve) {
      const t0 = performance.now();
      await httpGet(`${run.serve.adminUrl}/healthz`, 30_000).catch(() => undefined);
      healthzMax = Math.max(healthzMax, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  void poll();
  return {
    stop() {
      clearInterval(rss);
      polling = false;
      return run.serve ? { peakRssMiB: peak, healthzMaxMs: healthzMax } : { peakRssMiB: peak };
    },
  };
}

async function measure(target: Target): Promise<Row> {
  const run = await startTarget(target);
  try {
    const protocol: LoadJob['protocol'] =
      target === 'serve-http-json' ? 'http-json' : target === 'serve-http-logs' ? 'http-logs' : target.endsWith('grpc') ? 'grpc' : 'http';
    const load = fork(script('load'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      let begun: Promise<{ cpu: number; spans: number; at: number; sampling: ReturnType<typeof sampler> }> | undefined;
      load.on('message', (m) => {
        if (m !== 'begin') return;
        begun = (async () => {
          // For serve, run.spans() is a /metrics scrape: it also resets the event-loop histogram.
          return { cpu: procCpuSeconds(run.pid), spans: await run.spans(), at: performance.now(), sampling: sampler(run) };
        })();
      });
      const job: LoadJob = { protocol, port: run.port, warmupSeconds, seconds, concurrency, spansPerRequest: traffic.spansPerRequest, traffic };
      load.send(job);
      const { result } = await nextMessage(load, isType<{ type: 'done'; result: LoadResult }>('done'));
      if (!begun) throw new Error(`${target}: the load never began`);
      const b = await begun;
      const cpu = procCpuSeconds(run.pid) - b.cpu;
      const wall = (performance.now() - b.at) / 1000;
      // One scrape for serve: each scrape resets the event-loop histogram.
      const loop = run.serve ? await run.serve.scrape() : undefined;
      const spans = (loop ? counted(target, loop) : await run.spans()) - b.spans;
      const sampled = b.sampling.stop();
      return { spans, cpuSeconds: cpu, wallSeconds: wall, ...sampled, ...(loop ? { loop } : {}), load: result };
    } finally {
      load.kill();
    }
  } finally {
    await run.stop();
  }
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]): number => quantile(xs, 0.5);

/** The serve environment set by --serve-env, for the headings. */
function envText(): string {
  const pairs = Object.entries(serveEnv).map(([k, v]) => `${k}=${v}`);
  return pairs.length > 0 ? `, env ${pairs.join(' ')}` : '';
}

function header(): string {
  return `${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, node ${process.version}`;
}

async function bench(): Promise<void> {
  console.log(
    `END TO END: self-healing serve (default config) vs no-op receivers; ${traffic.spansPerRequest} spans/request, ${traffic.keys} handler keys over ${traffic.services} services, ` +
      `${concurrency} concurrent, ${warmupSeconds}s warm-up + ${seconds}s per target, ${rounds} interleaved round(s), medians; ${header()}`,
  );
  const runs = new Map<Target, Row[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const row = await measure(target);
      runs.get(target)!.push(row);
      console.log(
        `  round ${round + 1} ${target}: ${fmt(row.spans / row.cpuSeconds)} spans/CPU-s, ${fmt(row.spans / row.wallSeconds)} spans/s, peak RSS ${fmt(row.peakRssMiB)} MiB` +
          (row.loop ? `, loop p99 ${fmt(row.loop.loopP99Ms, 1)} ms, healthz max ${fmt(row.healthzMaxMs ?? 0)} ms` : '') +
          (row.load.errors ? `, ${row.load.errors} errors (${row.load.firstError})` : ''),
      );
    }
  }
  const perCpu = new Map<Target, number>();
  console.log('');
  console.log('| target | spans (logs: records) per CPU-s (min-max) | spans/s | peak RSS MiB | loop delay p50 / p99 / max ms | /healthz max ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const t of targets) {
    const rows = runs.get(t)!;
    const rates = rows.map((r) => r.spans / r.cpuSeconds);
    perCpu.set(t, median(rates));
    const loop = rows.every((r) => r.loop)
      ? `${fmt(median(rows.map((r) => r.loop!.loopP50Ms)), 1)} / ${fmt(median(rows.map((r) => r.loop!.loopP99Ms)), 1)} / ${fmt(median(rows.map((r) => r.loop!.loopMaxMs)), 1)}`
      : '';
    const healthz = rows.every((r) => r.healthzMaxMs !== undefined) ? fmt(median(rows.map((r) => r.healthzMaxMs!))) : '';
    const errors = rows.reduce((a, r) => a + r.load.errors, 0);
    console.log(
      `| ${t} | ${fmt(median(rates))} (${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}) | ${fmt(median(rows.map((r) => r.spans / r.wallSeconds)))} | ${fmt(median(rows.map((r) => r.peakRssMiB)))} | ${loop} | ${healthz} | ${errors} |`,
    );
  }
  console.log('');
  const ratio = (a: Target, b: Target, label: string): void => {
    const ra = perCpu.get(a);
    const rb = perCpu.get(b);
    if (ra && rb) console.log(`${label}: ${((ra / rb) * 100).toFixed(1)} % (spans per CPU-second)`);
  };
  ratio('serve-http-protobuf', 'noop-http', 'serve OTLP/HTTP protobuf vs no-op node:http');
  ratio('serve-http-json', 'noop-http', 'serve OTLP/HTTP JSON vs no-op node:http');
  ratio('serve-grpc', 'noop-grpc', 'serve gRPC vs no-op grpc-js');
  const http = perCpu.get('serve-http-protobuf');
  if (http) console.log(`target >= 1,000,000 spans per CPU-second on OTLP/HTTP protobuf: ${http >= 1e6 ? 'met' : 'NOT met'} (${fmt(http)})`);
  ratio('serve-http-logs', 'noop-http', 'serve OTLP/HTTP logs (records) vs no-op node:http (requests of as many spans)');
  const logs = perCpu.get('serve-http-logs');
  if (logs) console.log(`target >= 1,000,000 log records per CPU-second on OTLP logs: ${logs >= 1e6 ? 'met' : 'NOT met'} (${fmt(logs)})`);
  const g = perCpu.get('serve-grpc');
  const n = perCpu.get('noop-grpc');
  if (g && n) console.log(`target gRPC >= 70 % of no-op grpc-js: ${g / n >= 0.7 ? 'met' : 'NOT met'}`);
  const dropped = runs.get('serve-http-protobuf')?.at(-1)?.loop?.dropped;
  if (dropped && Object.keys(dropped).length > 0) console.log(`budget counters after the last serve-http-protobuf round: ${JSON.stringify(dropped)}`);
}

/** One serve process under HTTP protobuf load for `soakSeconds`, RSS printed every 10 s. */
async function soak(): Promise<void> {
  console.log(
    `SOAK: self-healing serve (default config, node ${serveNodeArgs.join(' ') || '(no flags)'}${envText()}), OTLP/HTTP protobuf, ${traffic.keys} handler keys over ${traffic.services} services, ${concurrency} concurrent, ${soakSeconds}s; ${header()}`,
  );
  const run = await startTarget('serve-http-protobuf');
  const load = fork(script('load'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const samples: Array<{ t: number; rss: number }> = [];
  try {
    const job: LoadJob = { protocol: 'http', port: run.port, warmupSeconds: 0, seconds: soakSeconds, concurrency, spansPerRequest: traffic.spansPerRequest, traffic };
    load.send(job);
    const done = nextMessage(load, isType<{ type: 'done'; result: LoadResult }>('done'));
    const t0 = performance.now();
    let cpu = procCpuSeconds(run.pid);
    let spans = 0;
    let peak = 0;
    console.log('| s | spans (total) | spans per CPU-s (last 10 s) | RSS MiB | heap used MiB | external MiB | loop p99 ms | loop max ms | keys | budget counters |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    const child = run.serve!.child;
    const exited = (): Error | undefined =>
      child.exitCode !== null || child.signalCode !== null
        ? new Error(`serve exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}) after ${fmt((performance.now() - t0) / 1000)} s`)
        : undefined;
    const tick = async (): Promise<void> => {
      const gone = exited();
      if (gone) throw gone;
      const s = await run.serve!.scrape().catch(async (err: unknown) => {
        // A scrape cut off by the process dying: report the exit, not the socket error.
        await new Promise((r) => setTimeout(r, 1000));
        throw exited() ?? err;
      });
      const c = procCpuSeconds(run.pid);
      const rss = procRssMiB(run.pid);
      peak = Math.max(peak, rss);
      const t = (performance.now() - t0) / 1000;
      samples.push({ t, rss });
      const keys = /^self_healing_detect_keys (\S+)$/m.exec(s.text)?.[1] ?? '?';
      console.log(
        `| ${fmt(t)} | ${fmt(s.spansReceived)} | ${fmt((s.spansReceived - spans) / Math.max(1e-9, c - cpu))} | ${fmt(rss)} | ${fmt(s.heapUsedMiB)} | ${fmt(s.externalMiB)} | ${fmt(s.loopP99Ms, 1)} | ${fmt(s.loopMaxMs, 1)} | ${keys} | ${JSON.stringify(s.dropped)} |`,
      );
      cpu = c;
      spans = s.spansReceived;
    };
    let failed: unknown;
    const timer = setInterval(() => {
      tick().catch((err: unknown) => {
        failed ??= err;
        load.kill();
      });
    }, 10_000);
    const { result } = await done.catch((err: unknown) => {
      throw failed ?? err;
    });
    clearInterval(timer);
    await tick();
    const late = samples.filter((s) => s.t >= soakSeconds / 2).map((s) => s.rss);
    console.log('');
    console.log(`peak RSS ${fmt(peak)} MiB; second half RSS ${fmt(Math.min(...late))}-${fmt(Math.max(...late))} MiB; load errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ''}`);
    console.log(`target RSS <= 300 MiB: ${peak <= 300 ? 'met' : 'NOT met'} over ${soakSeconds}s`);
  } finally {
    load.kill();
    await run.stop();
  }
}

/**
 * One serve process under the image's heap cap (IMAGE_NODE_ARGS unless
 * --serve-node-args says otherwise) taking 8 HTTP + 4 gRPC clients (requests in flight) at full
 * speed, far more than it can process, for `overloadSeconds`. Judged on what issue 11 asks: it
 * survives, it pushes back (HTTP 429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE), /healthz answers
 * within 1 s throughout (polled every 200 ms), peak RSS <= 450 MiB, and every span answered with
 * success is counted (spans in 200/OK answers == self_healing_spans_received_total +
 * spans_rejected_total, read after the load stops).
 */
async function overload(): Promise<void> {
  const httpClients = Number(flag('http-clients', '8'));
  const grpcClients = Number(flag('grpc-clients', '4'));
  console.log(
    `OVERLOAD: self-healing serve (default config, node ${serveNodeArgs.join(' ') || '(no flags)'}${envText()}), ${httpClients} HTTP protobuf + ${grpcClients} gRPC requests in flight, ` +
      `${traffic.spansPerRequest} spans/request, ${traffic.keys} handler keys, ${overloadSeconds}s; ${header()}`,
  );
  const run = await startTarget('serve-http-protobuf');
  const serve = run.serve!;
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  const exited = new Promise<void>((resolve) => {
    const child = serve.child;
    child.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      resolve();
    });
  });
  let alive = true;
  void exited.then(() => (alive = false));
  const loads = [
    { protocol: 'http' as const, port: serve.httpPort, concurrency: httpClients },
    { protocol: 'grpc' as const, port: serve.grpcPort, concurrency: grpcClients },
  ].filter((l) => l.concurrency > 0);
  const children = loads.map(() => fork(script('load'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  let peak = procRssMiB(run.pid);
  const rssTimer = setInterval(() => {
    if (alive) peak = Math.max(peak, procRssMiB(run.pid));
  }, 250);
  // /healthz every 200 ms: the slowest answer, and polls that failed or took over 1 s.
  let healthzMax = 0;
  let healthzSlow = 0;
  let healthzFailed = 0;
  let healthzPolls = 0;
  let polling = true;
  const poll = (async () => {
    while (polling && alive) {
      const t0 = performance.now();
      const ok = await httpGet(`${serve.adminUrl}/healthz`, 5_000).then(
        (r) => r.status === 200,
        () => false,
      );
      const ms = performance.now() - t0;
      if (!alive) break;
      healthzPolls++;
      healthzMax = Math.max(healthzMax, ms);
      if (ms > 1000) healthzSlow++;
      if (!ok) healthzFailed++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const results: LoadResult[] = [];
  try {
    const done = children.map((child) => nextMessage(child, isType<{ type: 'done'; result: LoadResult }>('done')));
    loads.forEach((l, i) => {
      const job: LoadJob = { protocol: l.protocol, port: l.port, warmupSeconds: 0, seconds: overloadSeconds, concurrency: l.concurrency, spansPerRequest: traffic.spansPerRequest, traffic };
      children[i]!.send(job);
    });
    const t0 = performance.now();
    const ticker = setInterval(() => {
      if (!alive) return;
      void serve.scrape().then(
        (sc) =>
          console.log(
            `  ${fmt((performance.now() - t0) / 1000)} s: ${fmt(sc.spansReceived)} spans counted, RSS ${fmt(procRssMiB(run.pid))} MiB, heap used ${fmt(sc.heapUsedMiB)} MiB, loop p99 ${fmt(sc.loopP99Ms, 1)} ms, /healthz max so far ${fmt(healthzMax)} ms`,
          ),
        () => undefined,
      );
    }, 10_000);
    for (const d of done) results.push((await d).result);
    clearInterval(ticker);
  } finally {
    polling = false;
    await poll;
    clearInterval(rssTimer);
    for (const c of children) c.kill();
  }
  // Let the last answered requests' spans reach the counters before the final read.
  await new Promise((r) => setTimeout(r, 1000));
  const survived = alive;
  let counted = NaN;
  let rejected = 0;
  let refusalsByReason = '';
  if (survived) {
    const sc = await serve.scrape();
    counted = sc.spansReceived;
    rejected = metricSum(sc.text, 'self_healing_spans_rejected_total');
    refusalsByReason = sc.text
      .split('\n')
      .filter((l) => /^self_healing_\w*refus\w*/.test(l))
      .join('; ');
  }
  await run.stop();
  const ok = results.reduce((a, r) => a + r.okSpans, 0);
  const refused = results.reduce((a, r) => a + r.refused, 0);
  const errors = results.reduce((a, r) => a + r.errors - r.refused, 0);
  const okRequests = results.reduce((a, r) => a + r.requests, 0);
  console.log('');
  loads.forEach((l, i) => {
    const r = results[i]!;
    console.log(
      `  ${l.protocol}: ${fmt(r.requests)} requests answered OK (${fmt(r.okSpans)} spans), ${fmt(r.refused)} pushed back, ${fmt(r.errors - r.refused)} other errors${r.firstError ? ` (first: ${r.firstError})` : ''}`,
    );
  });
  console.log(`  offered ${fmt(okRequests + refused + errors)} requests, ${fmt(okRequests)} accepted; sidecar refusal counters: ${refusalsByReason || '(none read)'}`);
  console.log(
    `  serve ${survived ? 'alive at the end' : `EXITED (code ${String(exitCode)}, signal ${String(exitSignal)})`}; peak RSS ${fmt(peak)} MiB; /healthz ${healthzPolls} polls, max ${fmt(healthzMax)} ms, ${healthzSlow} over 1 s, ${healthzFailed} failed`,
  );
  console.log(`  spans answered OK ${fmt(ok)}; counted by the sidecar ${fmt(counted)} received + ${fmt(rejected)} rejected`);
  const verdict = (name: string, pass: boolean, detail: string): void => console.log(`${pass ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  console.log('');
  verdict('survives', survived, survived ? 'serve was alive after the load' : `serve exited (code ${String(exitCode)}, signal ${String(exitSignal)})`);
  verdict('pushes back', refused > 0, `${fmt(refused)} requests answered 429/503 or RESOURCE_EXHAUSTED/UNAVAILABLE`);
  verdict('/healthz within 1 s throughout', survived && healthzSlow === 0 && healthzFailed === 0 && healthzPolls > 0, `max ${fmt(healthzMax)} ms over ${healthzPolls} polls, ${healthzSlow} slow, ${healthzFailed} failed`);
  verdict('peak RSS <= 450 MiB', peak <= 450, `${fmt(peak)} MiB`);
  verdict('nothing accepted is lost', survived && ok === counted + rejected, `${fmt(ok)} spans answered OK vs ${fmt(counted + rejected)} counted`);
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

(overloadSeconds > 0 ? overload() : soakSeconds > 0 ? soak() : bench()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
