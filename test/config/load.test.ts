import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const dirs: string[] = [];
function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sh-config-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.length > 0 ? (err as ConfigError).problems : [(err as Error).message];
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the embedded defaults: loopback receivers on the OTLP ports', () => {
    const cfg = loadConfig();
    expect(cfg.receive.grpc).toMatchObject({ enabled: true, host: '127.0.0.1', port: 4317, flowControlWindow: 1024 * 1024, maxConnections: 1000, idleTimeoutMs: 60_000 });
    expect(cfg.receive.http).toMatchObject({ idleTimeoutMs: 30_000, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, maxConnections: 1000 });
    expect(cfg.receive.maxConcurrentBodyBytes).toBe(64 * 1024 * 1024);
    expect(cfg.receive.http.port).toBe(4318);
    expect(cfg.admin.port).toBe(8787);
    expect(cfg.receive.maxRequestBytes).toBe(16 * 1024 * 1024);
    expect(cfg.serviceName).toBe('self-healing');
  });

  it('layers file < env < flags', () => {
    const file = tempFile('c.yaml', 'receive:\n  http:\n    port: 5000\n  grpc:\n    port: 5001\nadmin:\n  port: 9000\n');
    const cfg = loadConfig({
      file,
      env: { SELF_HEALING_RECEIVE__GRPC__PORT: '6001', SELF_HEALING_ADMIN__PORT: '6002' },
      sets: ['admin.port=7002'],
    });
    expect(cfg.receive.http.port).toBe(5000);
    expect(cfg.receive.grpc.port).toBe(6001);
    expect(cfg.admin.port).toBe(7002);
  });

  it('honours the standard OpenTelemetry variables', () => {
    const cfg = loadConfig({ env: { OTEL_SERVICE_NAME: 'healer', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' } });
    expect(cfg.serviceName).toBe('healer');
    expect(cfg.emit.otlp.endpoint).toBe('http://collector:4317');
    const traces = loadConfig({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4317' },
    });
    expect(traces.emit.otlp.endpoint).toBe('http://b:4317');
  });

  it('reads lists and booleans from env and flags as YAML scalars', () => {
    const cfg = loadConfig({
      env: { SELF_HEALING_DETECT__SEQUENCE_FILES: '[a.json, b.json]', SELF_HEALING_FORWARD__ENABLED: 'true' },
    });
    expect(cfg.detect.sequenceFiles).toEqual(['a.json', 'b.json']);
    expect(cfg.forward.enabled).toBe(true);
  });

  it('keeps strings that merely look like YAML mappings, and reads explicit flow mappings', () => {
    const cfg = loadConfig({ sets: ['store.path=:memory:', 'forward.headers={x-tenant: acme}'] });
    expect(cfg.store.path).toBe(':memory:');
    expect(cfg.forward.headers).toEqual({ 'x-tenant': 'acme' });
    expect(loadConfig({ env: { SELF_HEALING_SERVICE_NAME: 'a: b' } }).serviceName).toBe('a: b');
  });

  it('ignores secrets that share the prefix but are not config paths', () => {
    const cfg = loadConfig({ env: { SELF_HEALING_AUTH_TOKEN: 's3cret' } });
    expect(JSON.stringify(cfg)).not.toContain('s3cret');
  });

  it('names the field and the problem for bad values', () => {
    const problems = problemsOf(() => loadConfig({ sets: ['receive.http.port=abc', 'detect.sliceMs=-1'] }));
    expect(problems).toContain('receive.http.port: Invalid input: expected number, received string');
    expect(problems.some((p) => p.startsWith('detect.sliceMs: Too small'))).toBe(true);
  });

  it('rejects unknown fields by name', () => {
    const file = tempFile('c.yaml', 'receive:\n  htp:\n    port: 1\n');
    expect(problemsOf(() => loadConfig({ file }))).toEqual(['receive: unknown field "htp"']);
  });

  it('checks the receivers\' limits against each other', () => {
    expect(problemsOf(() => loadConfig({ sets: ['receive.maxRequestBytes=2000000', 'receive.maxConcurrentBodyBytes=1000000'] }))).toEqual([
      'receive.maxConcurrentBodyBytes: maxConcurrentBodyBytes must be at least maxRequestBytes, or the largest request could never be read',
    ]);
    expect(problemsOf(() => loadConfig({ sets: ['receive.http.headersTimeoutMs=5000', 'receive.http.requestTimeoutMs=1000'] }))).toEqual([
      'receive.http.headersTimeoutMs: headersTimeoutMs must not exceed requestTimeoutMs',
    ]);
    expect(problemsOf(() => loadConfig({ sets: ['admin.headersTimeoutMs=50000'] }))).toEqual(['admin.headersTimeoutMs: headersTimeoutMs must not exceed requestTimeoutMs']);
  });

  it('checks cross-field rules such as TLS needing a key pair', () => {
    const problems = problemsOf(() => loadConfig({ sets: ['receive.tls.enabled=true'] }));
    expect(problems).toEqual(['receive.tls: certFile and keyFile are required when tls.enabled is true']);
  });

  it('explains unreadable or malformed files', () => {
    expect(() => loadConfig({ file: '/nonexistent/sidecar.yaml' })).toThrow(/cannot read config file \/nonexistent\/sidecar.yaml/);
    const bad = tempFile('bad.yaml', 'receive: [1, 2\n');
    expect(() => loadConfig({ file: bad })).toThrow(/is not valid YAML/);
    const list = tempFile('list.yaml', '- a\n- b\n');
    expect(() => loadConfig({ file: list })).toThrow(/must contain a mapping/);
    const empty = tempFile('empty.yaml', '');
    expect(loadConfig({ file: empty }).admin.port).toBe(8787);
  });

  it('rejects malformed --set flags', () => {
    expect(() => loadConfig({ sets: ['admin.port'] })).toThrow(/expected path=value/);
  });
});
