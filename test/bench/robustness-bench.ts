/**
 * Robustness benchmark (not a test: it prints figures). Runs `serve` as shipped (compiled, default
 * configuration, store in a temp dir) under the container image's heap cap and measures what
 * hostile or careless clients do to it:
 *   1. 40 connections that each declare a 16 MiB body and send it slowly: peak RSS and how many
 *      were refused (receive.maxConcurrentBodyBytes);
 *   2. one valid 16 MiB protobuf request (~270 k spans): how many /healthz answers arrived while it
 *      was processed, and the slowest of them;
 *   3. 12 MB of empty objects and 5 M nested arrays as OTLP/JSON: the answers, and whether the
 *      process lived.
 * Run: npm run build && node dist/test/bench/robustness-bench.js
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bigTraceRequest } from '../receive/fixtures/big-request.js';

const MIB = 1024 * 1024;
const main = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function post(port: number, body: Buffer, type: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/traces', method: 'POST', headers: { 'content-type': type } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main_(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'robustness-bench-'));
  const child = spawn(process.execPath, ['--max-old-space-size=256', main, 'serve', '--set', 'receive.grpc.port=0', '--set', 'receive.http.port=0', '--set', 'admin.port=0',
    '--set', `store.path=${join(dir, 's.db')}`, '--set', 'emit.otlp.enabled=false', '--set', 'logLevel=info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let exit: number | null | undefined;
  child.on('exit', (code) => (exit = code));
  const { http, admin } = await new Promise<{ http: number; admin: string }>((resolve) => {
    let out = '';
    const read = (d: Buffer): void => {
      out += d.toString();
      const m = /"http":"127\.0\.0\.1:(\d+)".*"admin":"(http:[^"]+)"/.exec(out);
      if (m) resolve({ http: Number(m[1]), admin: m[2]! });
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
  });
  const pid = child.pid!;
  console.log(`serve (default config, --max-old-space-size=256): idle RSS ${(await rssMiB(pid)).toFixed(0)} MiB`);

  // 1. 40 slow 16 MiB uploads.
  let peak = 0;
  const sockets: Socket[] = [];
  const answers: string[] = [];
  for (let i = 0; i < 40; i++) {
    const s = connect(http, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => answers.push(d.toString('latin1').split('\r\n')[0]!));
    s.write(`POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${16 * MIB}\r\n\r\n`);
    sockets.push(s);
  }
  const chunk = Buffer.alloc(MIB, 0x0a);
  for (let round = 0; round < 8; round++) {
    for (const s of sockets) if (!s.destroyed) s.write(chunk);
    await new Promise((r) => setTimeout(r, 250));
    peak = Math.max(peak, await rssMiB(pid));
  }
  for (const s of sockets) s.destroy();
  console.log(`40 uploads declaring 16 MiB, 8 MiB sent each: peak RSS ${peak.toFixed(0)} MiB, ${answers.filter((a) => a.includes('503')).length} refused with 503`);

  // 2. One valid 16 MiB request with /healthz polled meanwhile.
  const big = bigTraceRequest(16 * MIB);
  let done = false;
  const t0 = Date.now();
  const answer = post(http, big.body, 'application/x-protobuf').finally(() => (done = true));
  let healthAnswers = 0;
  let slowest = 0;
  while (!done) {
    const t = Date.now();
    await (await fetch(`${admin}/healthz`)).text();
    slowest = Math.max(slowest, Date.now() - t);
    if (!done) healthAnswers++;
  }
  const res = await answer;
  console.log(`16 MiB protobuf request (${big.spans} spans): ${res.status} after ${Date.now() - t0} ms; /healthz answered ${healthAnswers} times meanwhile, slowest ${slowest} ms; RSS ${(await rssMiB(pid)).toFixed(0)} MiB`);

  // 3. Hostile JSON.
  const objects = Buffer.concat([Buffer.from('{"resourceSpans":[],"padding":['), Buffer.alloc(4_000_000 * 3 - 1, '{},'), Buffer.from(']}')]);
  const nested = Buffer.concat([Buffer.from('{"resourceSpans":[],"deep":'), Buffer.alloc(5_000_000, '['), Buffer.alloc(5_000_000, ']'), Buffer.from('}')]);
  for (const [name, body] of [['12 MB of empty objects', objects], ['5 M nested arrays', nested]] as const) {
    const r = await post(http, body, 'application/json').catch((err: Error) => ({ status: 0, text: err.message }));
    console.log(`${name}: ${r.status} ${r.text.slice(0, 100)}; alive: ${exit === undefined}`);
  }
  console.log(`final RSS ${(await rssMiB(pid)).toFixed(0)} MiB`);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  for (const line of metrics.split('\n')) if (/^self_healing_receive_refusals_total|^nodejs_heap_size_used_bytes/.test(line)) console.log(line);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dir, { recursive: true, force: true });
}

await main_();
