import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { OtelEnvError, parseResourceAttributes, readOtelEnv } from '../../src/config/otel-env.js';
import { closestEnvName } from '../../src/config/env-names.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('OpenTelemetry environment variables', () => {
  it('parses OTEL_RESOURCE_ATTRIBUTES with percent-decoding and rejects pairs without a key', () => {
    expect(parseResourceAttributes('deployment.environment=prod, team=a%2Cb ,x=%E2%9C%93')).toEqual({
      'deployment.environment': 'prod',
      team: 'a,b',
      x: '✓',
    });
    expect(parseResourceAttributes('  ')).toEqual({});
    expect(() => parseResourceAttributes('a=1,oops')).toThrow(OtelEnvError);
    expect(() => parseResourceAttributes('=1')).toThrow(/is not key=value/);
    expect(() => parseResourceAttributes('a=%E2%9')).toThrow(/percent-encoding/);
  });

  it('maps service name, resource attributes, protocol, endpoint, log level and SDK switch onto the config', () => {
    const cfg = loadConfig({
      env: {
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,k8s.namespace.name=shop',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
        OTEL_LOG_LEVEL: 'WARN',
      },
    });
    expect(cfg.serviceName).toBe('from-attrs');
    expect(cfg.emit.resourceAttributes).toEqual({ 'k8s.namespace.name': 'shop' });
    expect(cfg.emit.otlp).toEqual({ enabled: true, endpoint: 'http://collector:4317', protocol: 'grpc' });
    expect(cfg.logLevel).toBe('warn');
    // OTEL_SERVICE_NAME wins over service.name in the attributes; the traces-specific variables win over the generic ones.
    const both = readOtelEnv({
      OTEL_SERVICE_NAME: 'named',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=attr',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    });
    expect(both).toEqual({ serviceName: 'named', protocol: 'http/protobuf' });
    expect(loadConfig({ env: { OTEL_SDK_DISABLED: 'TRUE' } }).emit.otlp.enabled).toBe(false);
    expect(loadConfig({ env: { OTEL_TRACES_EXPORTER: 'none' } }).emit.otlp.enabled).toBe(false);
    expect(loadConfig({ env: { OTEL_SDK_DISABLED: 'false' } }).emit.otlp.enabled).toBe(true);
    expect(loadConfig({ env: { OTEL_LOG_LEVEL: 'none' } }).logLevel).toBe('silent');
    // The more specific SELF_HEALING_* variable wins.
    expect(loadConfig({ env: { OTEL_LOG_LEVEL: 'debug', SELF_HEALING_LOG_LEVEL: 'error' } }).logLevel).toBe('error');
  });

  it('names the variable and the problem for bad values', () => {
    expect(problems({ OTEL_LOG_LEVEL: 'loud' })[0]).toMatch(/^OTEL_LOG_LEVEL: "loud" is not one of none, error/);
    expect(problems({ OTEL_RESOURCE_ATTRIBUTES: 'novalue' })).toEqual(['OTEL_RESOURCE_ATTRIBUTES: "novalue" is not key=value']);
    expect(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })[0]).toMatch(/^emit\.otlp\.protocol: /);
  });
});

describe('unknown SELF_HEALING_* variables', () => {
  it('are an error that names the closest valid variable', () => {
    expect(problems({ SELF_HEALING_DETECT_SLICE_MS: '1000' })).toEqual([
      'SELF_HEALING_DETECT_SLICE_MS: not a setting; did you mean SELF_HEALING_DETECT__SLICE_MS?',
    ]);
    expect(problems({ SELF_HEALING_RECEIVE_HTTP_PORT: '1' })).toEqual([
      'SELF_HEALING_RECEIVE_HTTP_PORT: not a setting; did you mean SELF_HEALING_RECEIVE__HTTP__PORT?',
    ]);
    // A misspelt path below a known section is the schema's unknown field, named as a field.
    expect(problems({ SELF_HEALING_RECEIVE__HTTP__PROT: '1' })).toEqual(['receive.http: unknown field "prot"']);
    expect(closestEnvName('SELF_HEALING_LOGLEVEL')).toBe('SELF_HEALING_LOG_LEVEL');
  });

  it('accept settings, whole sections and the secrets the configuration names', () => {
    const cfg = loadConfig({
      env: {
        SELF_HEALING_DETECT__SLICE_MS: '2000',
        SELF_HEALING_RECEIVE__HTTP: '{port: 5555}',
        SELF_HEALING_AUTH_TOKEN: 'not-config',
        SELF_HEALING_MY_TOKEN: 'also-a-secret',
        SELF_HEALING_RECEIVE__AUTH__TOKEN_ENV: 'SELF_HEALING_MY_TOKEN',
        UNRELATED: 'x',
      },
    });
    expect(cfg.detect.sliceMs).toBe(2000);
    expect(cfg.receive.http.port).toBe(5555);
    expect(JSON.stringify(cfg)).not.toContain('also-a-secret');
  });
});
