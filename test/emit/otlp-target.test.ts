import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { emitTarget } from '../../src/emit/otlp-target.js';

const target = (...sets: string[]) => emitTarget(loadConfig({ sets }));

describe('emitTarget', () => {
  it('exports nothing by default: no endpoint means no export, and no feedback loop', () => {
    expect(target()).toEqual({ kind: 'off', reason: 'no emit.otlp.endpoint configured', warn: false });
    expect(target('emit.otlp.enabled=false', 'emit.otlp.endpoint=http://jaeger:4318')).toMatchObject({ kind: 'off', warn: false });
  });

  it('appends /v1/traces for http/protobuf and uses the endpoint as is for grpc', () => {
    expect(target('emit.otlp.endpoint=http://jaeger:4318')).toEqual({ kind: 'export', protocol: 'http/protobuf', url: 'http://jaeger:4318/v1/traces' });
    expect(target('emit.otlp.endpoint=http://jaeger:4318/v1/traces')).toMatchObject({ url: 'http://jaeger:4318/v1/traces' });
    expect(target('emit.otlp.endpoint=http://jaeger:4317', 'emit.otlp.protocol=grpc')).toEqual({ kind: 'export', protocol: 'grpc', url: 'http://jaeger:4317/' });
  });

  it("refuses the sidecar's own receivers, on loopback or its bind address, but not the same port elsewhere", () => {
    for (const endpoint of ['http://127.0.0.1:4317', 'http://localhost:4318', 'http://[::1]:4318', 'http://0.0.0.0:4317']) {
      const t = target(`emit.otlp.endpoint=${endpoint}`);
      expect(t).toMatchObject({ kind: 'off', warn: true });
      expect(t.kind === 'off' && t.reason).toContain("sidecar's own receivers");
    }
    expect(target('emit.otlp.endpoint=http://10.1.2.3:4317', 'receive.grpc.host=10.1.2.3')).toMatchObject({ kind: 'off', warn: true });
    expect(target('emit.otlp.endpoint=http://jaeger:4317')).toMatchObject({ kind: 'export' });
    expect(target('emit.otlp.endpoint=http://127.0.0.1:14317')).toMatchObject({ kind: 'export' });
    // A disabled receiver's port is free for Jaeger on the same host.
    expect(target('emit.otlp.endpoint=http://127.0.0.1:4317', 'receive.grpc.enabled=false')).toMatchObject({ kind: 'export' });
  });
});
