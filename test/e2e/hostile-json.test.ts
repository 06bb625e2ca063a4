import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beatSpans, encodeTraceRequestJsonText } from '../bench/otlp/encode-request.js';
import { httpSend } from '../receive/harness.js';

const JSON_TYPE = { 'content-type': 'application/json' };

/** `{"resourceSpans":[],"<field>":<value>}` built without a giant JS string of the value. */
function withUnknownField(field: string, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{"resourceSpans":[],"${field}":`), value, Buffer.from('}')]);
}

/**
 * `serve` as shipped, under the container image's heap cap (deploy/Dockerfile), receiving bodies
 * that JSON.parse would turn into hundreds of MB: the process must answer them and live on.
 */
describe('serve under --max-old-space-size=256 and hostile OTLP/JSON', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams;
  let http = 0;
  let admin = '';
  let exited: number | null | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostile-json-'));
    child = spawn(
      process.execPath,
      ['--max-old-space-size=256', '--import', 'tsx', 'src/main.ts', 'serve', '--set', 'receive.grpc.port=0', '--set', 'receive.http.port=0', '--set', 'admin.port=0',
        '--set', `store.path=${join(dir, 'serve.db')}`, '--set', 'emit.otlp.enabled=false'],
      { cwd: process.cwd(), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.on('exit', (code) => (exited = code));
    await new Promise<void>((resolve, reject) => {
      const read = (d: Buffer): void => {
        output += d.toString();
        const started = /"msg":"self-healing started".*"http":"127\.0\.0\.1:(\d+)".*"admin":"(http:[^"]+)"/.exec(output);
        if (started) {
          http = Number(started[1]);
          admin = started[2]!;
          resolve();
        }
      };
      // The logger writes to stderr, the dashboard address to stdout.
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.on('exit', () => reject(new Error(`serve exited early:\n${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (exited === undefined) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    }
    await rm(dir, { recursive: true, force: true });
  });

  async function healthy(): Promise<void> {
    const res = await fetch(`${admin}/healthz`);
    expect(res.status).toBe(200);
  }

  it('answers 12 MB of empty objects in an unknown field with 400, without building them', async () => {
    const objects = Buffer.alloc(4_000_000 * 3 - 1, '{},');
    const body = withUnknownField('padding', Buffer.concat([Buffer.from('['), objects, Buffer.from(']')]));
    expect(body.length).toBeGreaterThan(12_000_000);
    const res = await httpSend(http, body, JSON_TYPE);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).message).toMatch(/more than 2000000 elements/);
    await healthy();
  }, 60_000);

  it('answers 5 M nested arrays with 400', async () => {
    const body = withUnknownField('deep', Buffer.concat([Buffer.alloc(5_000_000, '['), Buffer.alloc(5_000_000, ']')]));
    const res = await httpSend(http, body, JSON_TYPE);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).message).toMatch(/nested deeper than 64 levels/);
    await healthy();
  }, 60_000);

  it('is still alive and accepts a valid request afterwards', async () => {
    const res = await httpSend(http, encodeTraceRequestJsonText([beatSpans(50, 3)]), JSON_TYPE);
    expect(res.status).toBe(200);
    expect(exited, output).toBeUndefined();
    await healthy();
  }, 60_000);
});
