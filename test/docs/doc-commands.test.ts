import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';
import { CONTRIB_COMPONENTS } from '../deploy/collector-components.js';
import { docCommands, docYamlBlocks, fencedBlocks, shellCommands, type DocBlock, type DocCommand } from './doc-commands.js';

/**
 * Every shell command of README.md and docs/*.md (the ```sh blocks) is run here, checked, or
 * listed as skipped with the reason, and every YAML example is parsed by what reads it. A
 * command that no rule below knows fails the first test: a new doc command needs a runner or a
 * written reason.
 *
 * - run: the command as written, through bash, from the repository root or a scratch directory.
 *   The only changes are the environment: listening ports 0 (`SELF_HEALING_*__PORT=0`), state in
 *   the scratch directory, an admin token, and for curl the address of the sidecar started by
 *   `npm start` instead of its default :8787 (port 0 is never 8787).
 * - check: what can be verified without the thing the command needs (a cluster, minutes of CPU).
 * - skip: cannot run here; the reason says why.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const TOKEN = 'doc-commands-admin-token';

type Kind = 'run' | 'check' | 'skip';
interface Rule {
  match: RegExp;
  kind: Kind;
  why: string;
  exec?: (cmd: string) => Promise<void>;
}

const scratch = mkdtempSync(join(tmpdir(), 'sh-doc-'));
const processes: ChildProcess[] = [];
let adminUrl: string | undefined;

afterAll(async () => {
  for (const p of processes) await stopGroup(p);
  rmSync(scratch, { recursive: true, force: true });
});

/** The environment doc commands run with: ports 0, state in scratch, an admin token. */
function docEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SELF_HEALING_RECEIVE__GRPC__PORT: '0',
    SELF_HEALING_RECEIVE__HTTP__PORT: '0',
    SELF_HEALING_ADMIN__PORT: '0',
    SELF_HEALING_STORE__PATH: join(scratch, `state-${processes.length}.db`),
    SELF_HEALING_ADMIN_TOKEN: TOKEN,
    ...extra,
  };
}

async function stopGroup(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  try {
    process.kill(-p.pid!, 'SIGTERM');
  } catch {
    return;
  }
  await exited;
}

/**
 * Starts a serve command in its own process group and waits for the "self-healing started" log
 * line; returns the admin URL it printed. Fails with the output when the process ends first.
 */
async function startServe(cmd: string, cwd: string): Promise<{ admin: string; child: ChildProcess; output: () => string }> {
  const child = spawn('bash', ['-c', cmd], { cwd, env: docEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const admin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`"${cmd}" did not start in time:\n${out}`)), 240_000);
    const look = (): void => {
      const line = out.split('\n').find((l) => l.includes('"self-healing started"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { admin: string }).admin);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`"${cmd}" exited with ${code} before starting:\n${out}`));
    });
  });
  return { admin, child, output: () => out };
}

/** A serve command: starts, answers /readyz, logs no error, and shuts down cleanly on SIGTERM. */
async function serveAndStop(cmd: string, cwd: string, keep = false): Promise<void> {
  const s = await startServe(cmd, cwd);
  const ready = await fetch(`${s.admin}/readyz`);
  expect(ready.status, s.output()).toBe(200);
  expect(s.output()).not.toMatch(/"level":"error"/);
  if (keep) {
    adminUrl = s.admin;
    return;
  }
  const code = new Promise<number | null>((r) => s.child.once('exit', (c) => r(c)));
  process.kill(-s.child.pid!, 'SIGTERM');
  expect(await code).toBe(0);
}

/** A scratch directory where `dist/` and `test/` resolve to the repository's, for relative paths. */
function scratchDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  return dir;
}

function yamlBlockAbove(cmd: DocCommand, marker: string): string {
  const blocks = fencedBlocks(cmd.file, readFileSync(join(ROOT, cmd.file), 'utf8'));
  const block = blocks.filter((b) => b.lang === 'yaml' && b.line < cmd.line && b.text.includes(marker)).at(-1);
  if (!block) throw new Error(`${cmd.file}:${cmd.line}: no yaml block with "${marker}" above the command`);
  return block.text;
}

/** Set by the classification so the sidecar.yaml runner can find its yaml block. */
let current: DocCommand | undefined;

const RULES: Rule[] = [
  { match: /^npm ci$/, kind: 'skip', why: 'reinstalls the shared node_modules; .ci/run runs it first in CI' },
  { match: /^npm test$/, kind: 'skip', why: 'the command this test is part of (.ci/run runs it)' },
  {
    match: /^npm run demo$/,
    kind: 'check',
    why: 'the demo (two minutes of CPU) is run by test/e2e/demo.test.ts; here: the script exists and runs `self-healing demo`',
    exec: async () => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts['demo']).toMatch(/dist\/src\/main\.js demo$/);
      expect(readFileSync(join(ROOT, 'test/e2e/demo.test.ts'), 'utf8')).toContain("'demo'");
    },
  },
  {
    // Builds, then serves; kept running for the curl examples.
    match: /^npm start$/,
    kind: 'run',
    why: 'builds and serves from the repository root',
    exec: (cmd) => serveAndStop(cmd, ROOT, true),
  },
  {
    match: /^export OTEL_EXPORTER_OTLP_(ENDPOINT|PROTOCOL)=/,
    kind: 'check',
    why: 'the variables an app sets: test/e2e/readme-endpoints.test.ts runs an SDK app with exactly these (on its own ports); here: the ports are the receivers\' defaults per protocol',
    exec: async (cmd) => {
      const defaults = ConfigSchema.parse({}).receive;
      const endpoint = /^export OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:(\d+)$/.exec(cmd);
      if (endpoint) expect([defaults.http.port, defaults.grpc.port]).toContain(Number(endpoint[1]));
      else expect(cmd).toBe('export OTEL_EXPORTER_OTLP_PROTOCOL=grpc');
    },
  },
  {
    match: /^node dist\/src\/main\.js serve --config sidecar\.yaml$/,
    kind: 'run',
    why: 'the sidecar.yaml above it, with /path/to/app replaced by a real git repository',
    exec: async (cmd) => {
      const dir = scratchDir('config-example');
      const app = join(scratch, 'app');
      mkdirSync(join(app, 'sequences'), { recursive: true });
      await run('git', ['init', '-q', app]);
      writeFileSync(join(dir, 'sidecar.yaml'), yamlBlockAbove(current!, 'heal:').replaceAll('/path/to/app', app));
      await serveAndStop(cmd, dir);
    },
  },
  {
    match: /^node dist\/src\/main\.js serve --set /,
    kind: 'run',
    why: 'serve with the spans sent to Jaeger\'s mapped port (nothing listens there: export failures are counted, not fatal)',
    exec: (cmd) => serveAndStop(cmd, scratchDir(`serve-${processes.length}`)),
  },
  {
    match: /^node dist\/src\/main\.js analyze /,
    kind: 'run',
    why: 'offline analysis of a fixture in the repository',
    exec: async (cmd) => {
      const { stdout } = await run('bash', ['-c', cmd], { cwd: ROOT, env: docEnv(), timeout: 120_000 });
      if (cmd.includes('--json')) expect((JSON.parse(stdout) as { input: { beats: number } }).input.beats).toBeGreaterThan(0);
      else expect(stdout).toMatch(/\d+ beats from /);
    },
  },
  {
    match: /^curl /,
    kind: 'run',
    why: 'against the sidecar `npm start` started (its admin address instead of :8787)',
    exec: async (cmd) => {
      expect(adminUrl, 'npm start runs before the curl examples (README.md comes first)').toBeDefined();
      const real = cmd.replace('http://127.0.0.1:8787', adminUrl!);
      const { stdout } = await run('bash', ['-c', `${real} --silent --show-error --fail`], { env: docEnv(), timeout: 30_000 });
      expect(JSON.parse(stdout)).toBeTypeOf('object');
    },
  },
  { match: /^grpcurl /, kind: 'skip', why: 'grpcurl is not installed here (no Debian package); test/emit/events-grpc.test.ts makes the same Subscribe call with the token through @grpc/grpc-js' },
  { match: /^docker (run|build) /, kind: 'skip', why: 'no container engine here (the Docker CLI has no daemon); test/deploy/dockerfile.test.ts checks the Dockerfile' },
  {
    match: /^kubectl apply -k (\S+)$/,
    kind: 'check',
    why: 'applying needs a cluster; here: kubectl kustomize renders the same directory (test/deploy/manifests.test.ts validates the objects)',
    exec: async (cmd) => {
      const dir = /^kubectl apply -k (\S+)$/.exec(cmd)![1]!;
      expect(existsSync(join(ROOT, dir, 'kustomization.yaml'))).toBe(true);
      const kubectl = await run('kubectl', ['version', '--client'], { timeout: 30_000 }).then(() => true, () => false);
      if (!kubectl) return; // test/deploy/manifests.test.ts renders it with the built-in renderer
      const { stdout } = await run('kubectl', ['kustomize', dir], { cwd: ROOT, timeout: 60_000 });
      expect(stdout).toMatch(/^kind: /m);
    },
  },
  {
    match: /^kubectl create secret generic /,
    kind: 'check',
    why: 'creating needs a cluster; here: the same command with --dry-run=client -o yaml builds the Secret',
    exec: async (cmd) => {
      const kubectl = await run('kubectl', ['version', '--client'], { timeout: 30_000 }).then(() => true, () => false);
      if (!kubectl) return;
      const { stdout } = await run('bash', ['-c', `${cmd} --dry-run=client -o yaml`], { env: docEnv({ GITHUB_TOKEN: 'ghp_example' }), timeout: 30_000 });
      const secret = parse(stdout) as { kind: string; data: { token: string } };
      expect(secret.kind).toBe('Secret');
      expect(Buffer.from(secret.data.token, 'base64').toString().length).toBeGreaterThan(8);
    },
  },
  {
    match: /^npm run (bench[:\w-]*)/,
    kind: 'check',
    why: 'a benchmark (minutes of CPU; tests never time things): the npm script exists',
    exec: async (cmd) => {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      expect(pkg.scripts[/^npm run (bench[:\w-]*)/.exec(cmd)![1]!]).toBeDefined();
    },
  },
  {
    match: /^(\w+=\S+ )*(npx tsx|node) (dist\/)?test\/bench\/[\w/-]+\.(ts|js)/,
    kind: 'check',
    why: 'a benchmark (minutes of CPU; tests never time things): its source exists',
    exec: async (cmd) => {
      const m = /(?:npx tsx|node) (?:dist\/)?(test\/bench\/[\w/-]+)\.(?:ts|js)/.exec(cmd)!;
      expect(existsSync(join(ROOT, `${m[1]}.ts`)), m[1]).toBe(true);
    },
  },
];

function ruleFor(cmd: DocCommand): Rule | undefined {
  return RULES.find((r) => r.match.test(cmd.command));
}

const commands = docCommands(ROOT);

describe('shell commands in README.md and docs/', () => {
  it('finds the commands, and every one has a rule (run, check, or skip with a reason)', () => {
    expect(commands.length).toBeGreaterThan(20);
    const unknown = commands.filter((c) => ruleFor(c) === undefined).map((c) => `${c.file}:${c.line}: ${c.command}`);
    expect(unknown).toEqual([]);
    for (const r of RULES) expect(r.why.length, String(r.match)).toBeGreaterThan(20);
    // Every rule is used, so the list stays the docs' list.
    for (const r of RULES) expect(commands.some((c) => r.match.test(c.command)), String(r.match)).toBe(true);
  });

  it('runs or checks each command that can be run or checked here', async () => {
    const done: string[] = [];
    for (const cmd of commands) {
      const rule = ruleFor(cmd)!;
      if (rule.kind === 'skip') continue;
      current = cmd;
      try {
        await rule.exec!(cmd.command);
      } catch (err) {
        throw new Error(`${cmd.file}:${cmd.line}: ${cmd.command}\n${(err as Error).message}`, { cause: err });
      }
      done.push(cmd.command);
    }
    expect(done.length).toBeGreaterThan(15);
  }, 600_000);
});

describe('shell command extraction', () => {
  it('joins continuation lines, drops comments, splits &&', () => {
    const block: DocBlock = { file: 'x.md', line: 10, lang: 'sh', text: 'npm ci && npm start   # go\n# only a comment\n\ndocker run -p 1:1 \\\n  image:1 "a # b"' };
    expect(shellCommands(block)).toEqual([
      { file: 'x.md', line: 10, command: 'npm ci' },
      { file: 'x.md', line: 10, command: 'npm start' },
      { file: 'x.md', line: 13, command: 'docker run -p 1:1 image:1 "a # b"' },
    ]);
  });
});

describe('YAML examples in README.md and docs/', () => {
  const blocks = docYamlBlocks(ROOT);
  const configKeys = new Set(Object.keys(ConfigSchema.shape));
  const collectorKinds = new Set(['receivers', 'processors', 'exporters', 'extensions', 'service']);

  it('parses each one as what reads it: the sidecar configuration, a collector configuration, or a Prometheus rule', () => {
    expect(blocks.length).toBeGreaterThan(3);
    for (const b of blocks) {
      const where = `${b.file}:${b.line}`;
      const doc = parse(b.text) as unknown;
      const keys = Array.isArray(doc) ? [] : Object.keys(doc as object);
      if (keys.length > 0 && keys.every((k) => configKeys.has(k))) {
        const r = ConfigSchema.safeParse(doc);
        expect(r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), where).toBe('');
      } else if (keys.length > 0 && keys.every((k) => collectorKinds.has(k))) {
        const cfg = doc as Record<string, Record<string, unknown>>;
        for (const kind of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
          for (const id of Object.keys(cfg[kind] ?? {})) expect(CONTRIB_COMPONENTS[kind] as readonly string[], `${where} ${kind} ${id}`).toContain(id.split('/')[0]);
        }
      } else if (Array.isArray(doc)) {
        for (const rule of doc as Array<{ alert?: string; expr?: string }>) expect(rule.alert && rule.expr, where).toBeTruthy();
      } else {
        throw new Error(`${where}: a YAML example no check knows (keys ${keys.join(', ')})`);
      }
    }
  });
});
