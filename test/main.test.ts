import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../src/main.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('self-healing CLI', () => {
  it('prints usage and exits 2 without a command', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('Commands:');
    expect(r.out).toContain('config');
    expect((await run(['--help'])).code).toBe(0);
  });

  it('prints the version with --version, -V and version', async () => {
    const { VERSION } = await import('../src/version.js');
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V', 'version']) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toBe(`self-healing ${VERSION} (node ${process.versions.node})\n`);
    }
  });

  it('rejects unknown commands', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown command "frobnicate"');
  });

  it('config --print shows the effective configuration as YAML, with overrides', async () => {
    const r = await run(['config', '--print', '--set', 'admin.port=9999']);
    expect(r.code).toBe(0);
    const printed = parse(r.out) as { admin: { port: number }; receive: { http: { port: number } } };
    expect(printed.admin.port).toBe(9999);
    expect(printed.receive.http.port).toBe(4318);
    const json = JSON.parse((await run(['config', '--json'])).out) as { serviceName: string };
    expect(json.serviceName).toBeTypeOf('string');
  });

  it('exits 78 naming the field on a bad configuration', async () => {
    const r = await run(['config', '--set', 'receive.grpc.port=70000']);
    expect(r.code).toBe(78);
    expect(r.err).toContain('receive.grpc.port: Too big');
  });

  it('exits 2 with usage on a bad flag', async () => {
    const r = await run(['config', '--nope']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: self-healing config');
  });

  it('prints the configuration reference', async () => {
    const r = await run(['config', '--reference']);
    expect(r.out).toContain('| `receive.http.port` |');
  });
});
