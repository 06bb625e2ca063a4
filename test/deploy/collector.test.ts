import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';

/**
 * Component types of the otelcol-contrib distribution v0.136.0 that this configuration may use,
 * taken from opentelemetry-collector-releases distributions/otelcol-contrib/manifest.yaml
 * (otlpreceiver, batchprocessor, memorylimiterprocessor, filterprocessor, otlpexporter,
 * otlphttpexporter, loadbalancingexporter, healthcheckextension, bearertokenauthextension).
 */
const CONTRIB_V0_136 = {
  receivers: ['otlp'],
  processors: ['batch', 'memory_limiter', 'filter', 'transform', 'attributes', 'resource'],
  exporters: ['otlp', 'otlphttp', 'loadbalancing', 'debug'],
  extensions: ['health_check', 'bearertokenauth'],
} as const;

interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, { endpoint?: string }>;
  extensions: Record<string, unknown>;
  service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

const cfg = parse(readFileSync(new URL('../../otel-collector.yaml', import.meta.url), 'utf8')) as CollectorConfig;
const typeOf = (id: string) => id.split('/')[0]!;

describe('otel-collector.yaml', () => {
  it('uses only components that exist in otelcol-contrib', () => {
    for (const kind of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
      for (const id of Object.keys(cfg[kind])) expect(CONTRIB_V0_136[kind] as readonly string[], `${kind} ${id}`).toContain(typeOf(id));
    }
  });

  it('references only defined components in every pipeline', () => {
    for (const [name, p] of Object.entries(cfg.service.pipelines)) {
      for (const r of p.receivers) expect(cfg.receivers, `${name} receiver ${r}`).toHaveProperty([r]);
      for (const r of p.processors) expect(cfg.processors, `${name} processor ${r}`).toHaveProperty([r]);
      for (const r of p.exporters) expect(cfg.exporters, `${name} exporter ${r}`).toHaveProperty([r]);
    }
    for (const e of cfg.service.extensions) expect(cfg.extensions).toHaveProperty([e]);
  });

  it('has a beat pipeline into the sidecar and an everything pipeline into Jaeger', () => {
    const pipelines = Object.values(cfg.service.pipelines);
    const toSidecar = pipelines.find((p) => p.exporters.includes('otlp/self-healing'));
    expect(toSidecar?.processors[0]).toBe('memory_limiter');
    expect(toSidecar?.processors).toContain('filter/beats');
    expect(toSidecar?.processors.at(-1)).toBe('batch');
    const toJaeger = pipelines.find((p) => p.exporters.includes('otlp/jaeger'));
    expect(toJaeger?.processors).not.toContain('filter/beats');
  });

  it('sends to the sidecar on its default gRPC port', () => {
    const defaults = ConfigSchema.parse({});
    const endpoint = cfg.exporters['otlp/self-healing']!.endpoint!;
    expect(Number(endpoint.split(':').at(-1))).toBe(defaults.receive.grpc.port);
  });

  it('keeps the sidecar\u2019s own spans out of the detection pipeline', () => {
    const filter = JSON.stringify(cfg.processors['filter/beats']);
    expect(filter).toContain(`resource.attributes[\\"service.name\\"] == \\"${ConfigSchema.parse({}).serviceName}\\"`);
  });
});
