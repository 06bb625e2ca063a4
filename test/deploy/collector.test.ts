import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';
import { CONTRIB_COMPONENTS, PINNED_COLLECTOR } from './collector-components.js';
import { DEPLOY_DIR, renderKustomization } from './kustomize.js';

interface Exporter {
  endpoint?: string;
  tls?: { insecure?: boolean };
  auth?: { authenticator?: string };
  routing_key?: string;
  protocol?: { otlp?: Exporter };
  resolver?: { dns?: { hostname?: string; port?: number } };
}
interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, Exporter>;
  extensions: Record<string, { headers?: Array<{ key: string; value?: string }> }>;
  service: { extensions: string[]; pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const typeOf = (id: string) => id.split('/')[0]!;
const defaults = ConfigSchema.parse({});

/** The configuration a shape's collector runs: the ConfigMap rendered by kustomize. */
function renderedConfig(overlay: string): string {
  const cm = renderKustomization(join(DEPLOY_DIR, overlay)).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'otel-collector-config');
  return (cm as unknown as { data: Record<string, string> }).data['config.yaml']!;
}

const CONFIGS: Array<[string, string]> = [
  ['otel-collector.yaml', read('otel-collector.yaml')],
  ['deploy/kubernetes/scaled-out/otel-collector-lb.yaml', read('deploy/kubernetes/scaled-out/otel-collector-lb.yaml')],
];

describe('the collector configurations ship as written', () => {
  it('collector-fed runs otel-collector.yaml and scaled-out runs otel-collector-lb.yaml, unchanged', () => {
    expect(renderedConfig('collector-fed')).toBe(CONFIGS[0]![1]);
    expect(renderedConfig('scaled-out')).toBe(CONFIGS[1]![1]);
  });

  it('names the pinned release in each file', () => {
    for (const [, text] of CONFIGS) expect(text).toContain(`v${PINNED_COLLECTOR}`);
  });
});

describe.each(CONFIGS)('%s', (_name, text) => {
  const cfg = parse(text) as CollectorConfig;
  const toSidecar = Object.entries(cfg.service.pipelines).find(([, p]) => p.exporters.some((e) => e.endsWith('/self-healing')))!;
  const sidecarExporterId = toSidecar[1].exporters.find((e) => e.endsWith('/self-healing'))!;
  const sidecarExporter = cfg.exporters[sidecarExporterId]!;
  const otlpSettings = typeOf(sidecarExporterId) === 'load_balancing' ? sidecarExporter.protocol!.otlp! : sidecarExporter;

  it(`uses only current component names of otelcol-contrib v${PINNED_COLLECTOR}`, () => {
    for (const kind of ['receivers', 'processors', 'exporters', 'extensions'] as const) {
      for (const id of Object.keys(cfg[kind])) expect(CONTRIB_COMPONENTS[kind] as readonly string[], `${kind} ${id}`).toContain(typeOf(id));
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

  it('authenticates to the sidecar with a header over the in-cluster connection (bearertokenauth needs TLS)', () => {
    const authenticator = otlpSettings.auth?.authenticator ?? '';
    expect(typeOf(authenticator)).toBe('headers_setter');
    expect(cfg.service.extensions).toContain(authenticator);
    expect(cfg.extensions[authenticator]!.headers).toEqual([{ key: 'authorization', value: 'Bearer ${env:SELF_HEALING_AUTH_TOKEN}' }]);
    if (otlpSettings.tls?.insecure === true) expect(JSON.stringify(cfg)).not.toContain('bearertokenauth');
  });

  it('sends to the sidecar on its default gRPC port, by a name relative to the namespace', () => {
    const endpoint = sidecarExporter.endpoint ?? `${sidecarExporter.resolver!.dns!.hostname}:${sidecarExporter.resolver!.dns!.port}`;
    expect(Number(endpoint.split(':').at(-1))).toBe(defaults.receive.grpc.port);
    expect(endpoint).not.toMatch(/\.svc|\.default/);
  });

  it('feeds the sidecar every application span, and none of its own', () => {
    const [, pipeline] = toSidecar;
    expect(pipeline.processors[0]).toBe('memory_limiter');
    expect(pipeline.processors.at(-1)).toBe('batch');
    const filters = pipeline.processors.filter((p) => typeOf(p) === 'filter').map((p) => JSON.stringify(cfg.processors[p]));
    expect(filters).toHaveLength(1);
    expect(filters[0]).toContain(`resource.attributes[\\"service.name\\"] == \\"${defaults.serviceName}\\"`);
    // Child spans without code.function (auto-instrumented handlers) must pass.
    expect(filters[0]).not.toMatch(/code\.function|parent_span_id/);
    const toJaeger = Object.values(cfg.service.pipelines).find((p) => p.exporters.some((e) => e.endsWith('/jaeger')));
    expect(toJaeger?.processors.some((p) => typeOf(p) === 'filter')).toBe(false);
  });

  if (typeOf(sidecarExporterId) === 'load_balancing') {
    it('routes by service across the sidecar instances of the headless Service', () => {
      expect(sidecarExporter.routing_key).toBe('service');
      expect(sidecarExporter.resolver?.dns?.hostname).toBe('self-healing-headless');
    });
  }
});
