import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigMap, PersistentVolumeClaim, Service, type IContainer } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';
import { configFields } from '../../src/config/reference.js';
import { isLoopbackHost } from '../../src/web/admin-access-from-config.js';
import { DEPLOY_DIR, kubectlKustomize, renderKustomization, type K8sObject } from './kustomize.js';

const OVERLAYS = readdirSync(DEPLOY_DIR).filter((d) => d !== 'base');
const defaults = ConfigSchema.parse({});
const CONFIG_ENV_VARS = new Set(configFields().map((f) => f.env));
/** Variables read directly by components (secrets, standard OTel ones), not config paths. */
const KNOWN_ENV = new Set([defaults.heal.repository.github?.tokenEnv ?? 'GITHUB_TOKEN', defaults.receive.auth.tokenEnv, 'OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT']);

function validate(o: K8sObject): void {
  switch (`${o.apiVersion}/${o.kind}`) {
    case 'apps/v1/Deployment':
      new Deployment(o as never).validate();
      break;
    case 'v1/Service':
      new Service(o as never).validate();
      break;
    case 'v1/ConfigMap':
      new ConfigMap(o as never).validate();
      break;
    case 'v1/PersistentVolumeClaim':
      new PersistentVolumeClaim(o as never).validate();
      break;
    default:
      throw new Error(`no schema check for ${o.apiVersion}/${o.kind}`);
  }
}

function sidecarContainer(objects: K8sObject[]): IContainer {
  const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
  const c = deployment.spec!.template.spec!.containers.find((x) => x.name === 'self-healing');
  if (!c) throw new Error('no self-healing container');
  return c;
}

function sidecarConfig(objects: K8sObject[]) {
  const cm = objects.find((o) => o.kind === 'ConfigMap') as unknown as ConfigMap;
  return ConfigSchema.parse(parse(cm.data!['sidecar.yaml']!));
}

describe.each(OVERLAYS)('deploy/kubernetes/%s', (overlay) => {
  const objects = renderKustomization(join(DEPLOY_DIR, overlay));

  it('renders objects that pass the Kubernetes OpenAPI schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const o of objects) expect(() => validate(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });

  it('matches what kustomize itself renders, when kubectl is installed', () => {
    const real = kubectlKustomize(join(DEPLOY_DIR, overlay));
    if (!real) return; // the built-in renderer above is then the only one available
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    expect(real.map(key).sort()).toEqual(objects.map(key).sort());
    for (const o of real) expect(o).toEqual(objects.find((x) => key(x) === key(o)));
  });

  it('ships a sidecar configuration the schema accepts, with ports matching the container', () => {
    const cfg = sidecarConfig(objects);
    const ports = Object.fromEntries((sidecarContainer(objects).ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ 'otlp-grpc': cfg.receive.grpc.port, 'otlp-http': cfg.receive.http.port, admin: cfg.admin.port });
    expect(cfg.store.path.startsWith('/var/lib/self-healing/')).toBe(true);
  });

  it('probes health and readiness on the admin port', () => {
    const c = sidecarContainer(objects);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe?.httpGet?.port).toBe('admin');
  });

  it('runs non-root, read-only, without privilege escalation, with limits', () => {
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    expect(deployment.spec!.template.spec!.securityContext?.runAsNonRoot).toBe(true);
    const c = sidecarContainer(objects);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(c.resources?.limits?.memory).toBeDefined();
    expect(c.resources?.requests?.cpu).toBeDefined();
    expect(deployment.spec!.template.metadata?.annotations?.['prometheus.io/port']).toBe(String(sidecarConfig(objects).admin.port));
  });

  it('uses only environment variables the sidecar reads, and the GitHub token from a Secret', () => {
    for (const e of sidecarContainer(objects).env ?? []) {
      expect(CONFIG_ENV_VARS.has(e.name) || KNOWN_ENV.has(e.name), e.name).toBe(true);
    }
    const token = sidecarContainer(objects).env?.find((e) => e.name === 'GITHUB_TOKEN');
    expect(token?.valueFrom?.secretKeyRef?.key).toBe('token');
    expect(token?.value).toBeUndefined();
  });

  it('binds admin beyond loopback only with an admin token from a required Secret', () => {
    const cfg = sidecarConfig(objects);
    if (isLoopbackHost(cfg.admin.host)) return;
    const tokenFile = cfg.admin.auth.tokenFile;
    expect(tokenFile, 'admin.auth.tokenFile').toBeDefined();
    const mount = (sidecarContainer(objects).volumeMounts ?? []).find((m) => m.mountPath === dirname(tokenFile!));
    expect(mount, `a volume mounted at ${dirname(tokenFile!)}`).toBeDefined();
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as Deployment;
    const volume = deployment.spec!.template.spec!.volumes?.find((v) => v.name === mount!.name);
    expect(volume?.secret?.secretName).toBeTruthy();
    expect(volume?.secret?.optional ?? false).toBe(false);
  });

  it('binds receivers beyond localhost only together with auth', () => {
    const cfg = sidecarConfig(objects);
    const wide = [cfg.receive.grpc.host, cfg.receive.http.host].some((h) => h !== '127.0.0.1' && h !== 'localhost');
    if (wide) expect(cfg.receive.auth.tokenFile ?? cfg.receive.tls.enabled).toBeTruthy();
    else expect(overlay).toBe('sidecar');
  });
});

describe('manifest validation', () => {
  it('rejects an object that breaks the schema', () => {
    const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ image: 1 }] } } } };
    expect(() => validate(broken as unknown as K8sObject)).toThrow();
  });
});
