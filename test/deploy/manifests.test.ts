import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigMap, PersistentVolumeClaim, Service, type IContainer } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { parse } from 'yaml';
import { ConfigSchema } from '../../src/config/schema.js';
import { clusterRole } from '../../src/diagnose/cluster-role.js';
import { configFields } from '../../src/config/reference.js';
import { isLoopbackHost } from '../../src/web/admin-access-from-config.js';
import { DEPLOY_DIR, kubectlKustomize, renderKustomization, type K8sObject } from './kustomize.js';
import { PINNED_COLLECTOR } from './collector-components.js';

/** Folders that other shapes include; every other folder is a deployable shape. */
const PARTS = new Set(['base', 'collector']);
const OVERLAYS = readdirSync(DEPLOY_DIR).filter((d) => !PARTS.has(d));
const defaults = ConfigSchema.parse({});
const CONFIG_ENV_VARS = new Set(configFields().map((f) => f.env));
/** Variables read directly by components (secrets, standard OTel ones), not config paths. */
const KNOWN_ENV = new Set([defaults.heal.repository.github?.tokenEnv ?? 'GITHUB_TOKEN', defaults.receive.auth.tokenEnv, 'OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'HOME']);

function validate(o: K8sObject): void {
  switch (`${o.apiVersion}/${o.kind}`) {
    case 'apps/v1/Deployment':
      new Deployment(o as never).validate();
      break;
    case 'apps/v1/StatefulSet':
      new StatefulSet(o as never).validate();
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

type Workload = Deployment | StatefulSet;

/** The Deployment or StatefulSet whose pod runs the sidecar (as a container or a native sidecar). */
function sidecarWorkload(objects: K8sObject[]): Workload {
  const w = objects.find((o) => {
    if (o.kind !== 'Deployment' && o.kind !== 'StatefulSet') return false;
    const spec = (o as unknown as Workload).spec!.template.spec!;
    return [...spec.containers, ...(spec.initContainers ?? [])].some((c) => c.name === 'self-healing');
  });
  if (!w) throw new Error('no workload runs the self-healing container');
  return w as unknown as Workload;
}

function sidecarContainer(objects: K8sObject[]): IContainer {
  const spec = sidecarWorkload(objects).spec!.template.spec!;
  return [...spec.containers, ...(spec.initContainers ?? [])].find((x) => x.name === 'self-healing')!;
}

/**
 * The sidecar's configuration as a pod parses it. A StatefulSet pod also gets its own name as
 * cluster.instance (SELF_HEALING_CLUSTER__INSTANCE from the downward API): pod 0's is used.
 */
function sidecarConfig(objects: K8sObject[], pod = 0) {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'self-healing-config') as unknown as ConfigMap;
  const input = parse(cm.data!['sidecar.yaml']!) as { cluster?: Record<string, unknown> };
  const set = objects.find((o) => o.kind === 'StatefulSet') as unknown as StatefulSet | undefined;
  const fromPod = sidecarContainer(objects).env?.some((e) => e.name === 'SELF_HEALING_CLUSTER__INSTANCE' && e.valueFrom?.fieldRef?.fieldPath === 'metadata.name');
  if (set && fromPod) input.cluster = { ...input.cluster, instance: `${set.metadata!.name}-${pod}` };
  return ConfigSchema.parse(input);
}

describe.each(OVERLAYS)('deploy/kubernetes/%s', (overlay) => {
  const objects = renderKustomization(join(DEPLOY_DIR, overlay));

  it('renders objects that pass the Kubernetes OpenAPI schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(2);
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
    const deployment = sidecarWorkload(objects);
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
    const volume = sidecarWorkload(objects).spec!.template.spec!.volumes?.find((v) => v.name === mount!.name);
    expect(volume?.secret?.secretName).toBeTruthy();
    expect(volume?.secret?.optional ?? false).toBe(false);
  });

  it('clones the application repository healing works on, with the token from a Secret, never in the arguments', () => {
    const cfg = sidecarConfig(objects);
    expect(cfg.heal.repository.path, 'every shape heals a repository').toBeTruthy();
    const pod = sidecarWorkload(objects).spec!.template.spec!;
    const clone = (pod.initContainers ?? []).find((c) => c.name === 'clone-repository');
    expect(clone, 'an init container clones it: the state volume starts empty').toBeDefined();
    expect(clone!.restartPolicy).toBeUndefined();
    const env = Object.fromEntries((clone!.env ?? []).map((e) => [e.name, e]));
    expect(env['REPO_DIR']?.value).toBe(cfg.heal.repository.path);
    expect(env['GITHUB_TOKEN']?.valueFrom?.secretKeyRef?.key).toBe('token');
    expect(env['GITHUB_TOKEN']?.value).toBeUndefined();
    const argv = JSON.stringify([...(clone!.command ?? []), ...(clone!.args ?? [])]);
    expect(argv).toContain('clone');
    expect(argv).not.toMatch(/ghp_|x-access-token:[^"]*@|https:\/\/[^/"]*@/);
    // The clone lands on the volume the sidecar keeps its state (and the repository path) on.
    const cloneState = (clone!.volumeMounts ?? []).find((m) => cfg.heal.repository.path!.startsWith(`${m.mountPath}/`));
    const sidecarState = (sidecarContainer(objects).volumeMounts ?? []).find((m) => cfg.heal.repository.path!.startsWith(`${m.mountPath}/`));
    expect(cloneState?.name).toBeDefined();
    expect(cloneState?.name).toBe(sidecarState?.name);
  });

  it('binds receivers beyond localhost only together with auth', () => {
    const cfg = sidecarConfig(objects);
    const wide = [cfg.receive.grpc.host, cfg.receive.http.host].some((h) => h !== '127.0.0.1' && h !== 'localhost');
    if (wide) expect(cfg.receive.auth.tokenFile ?? cfg.receive.tls.enabled).toBeTruthy();
    else expect(overlay).toBe('sidecar');
  });
});

describe('deploy/kubernetes/sidecar: the sidecar in the application pod', () => {
  const objects = renderKustomization(join(DEPLOY_DIR, 'sidecar'));
  const pod = sidecarWorkload(objects).spec!.template.spec!;

  it('is a native sidecar that starts (and passes its startup probe) before the app', () => {
    expect(pod.containers.map((c) => c.name)).toEqual(['app']);
    const names = (pod.initContainers ?? []).map((c) => c.name);
    expect(names).toEqual(['clone-repository', 'self-healing']);
    const sidecar = sidecarContainer(objects);
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.startupProbe?.httpGet?.path).toBe('/healthz');
  });

  it('keeps state per pod, so the app may run several replicas', () => {
    const state = pod.volumes!.find((v) => v.name === 'state')!;
    expect(state.emptyDir).toBeDefined();
    expect(objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    const d = sidecarWorkload(objects) as Deployment;
    expect(d.spec!.replicas).toBeGreaterThan(1);
    expect((d.spec as { strategy?: { type?: string } }).strategy?.type).not.toBe('Recreate');
  });

  it('points the app at the sidecar with the SDK default protocol', () => {
    const app = pod.containers[0]!;
    const env = Object.fromEntries((app.env ?? []).map((e) => [e.name, e.value]));
    expect(env['OTEL_EXPORTER_OTLP_ENDPOINT']).toBe(`http://localhost:${sidecarConfig(objects).receive.http.port}`);
    expect(env['OTEL_EXPORTER_OTLP_PROTOCOL']).toBeUndefined();
  });
});

describe.each(['collector-fed', 'scaled-out'])('deploy/kubernetes/%s: the collector in front', (overlay) => {
  const objects = renderKustomization(join(DEPLOY_DIR, overlay));

  it('ships the collector Deployment, its Service and its configuration', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['Deployment/otel-collector', 'Service/otel-collector', 'ConfigMap/otel-collector-config']));
    const collector = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'otel-collector') as unknown as Deployment;
    const c = collector.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe(`otel/opentelemetry-collector-contrib:${PINNED_COLLECTOR}`);
    const token = c.env?.find((e) => e.name === 'SELF_HEALING_AUTH_TOKEN');
    expect(token?.valueFrom?.secretKeyRef).toBeDefined();
  });

  it('hard-codes no namespace', () => {
    for (const o of objects) expect((o.metadata as { namespace?: string }).namespace, `${o.kind}/${o.metadata.name}`).toBeUndefined();
    expect(JSON.stringify(objects)).not.toMatch(/\.default\.svc|namespace: default/);
  });
});

describe('deploy/kubernetes/scaled-out', () => {
  const objects = renderKustomization(join(DEPLOY_DIR, 'scaled-out'));

  it('runs N sidecar instances, each with its own state volume, behind a headless Service', () => {
    const set = objects.find((o) => o.kind === 'StatefulSet') as unknown as StatefulSet;
    expect(set.spec!.replicas).toBeGreaterThan(1);
    expect(set.spec!.serviceName).toBe('self-healing-headless');
    expect(set.spec!.volumeClaimTemplates?.map((t) => t.metadata?.name)).toEqual(['state']);
    const headless = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'self-healing-headless') as unknown as Service;
    expect(headless.spec!.clusterIP).toBe('None');
  });

  it('names one peer per replica, reachable by pod DNS name, and gives each pod its own instance name', () => {
    const set = objects.find((o) => o.kind === 'StatefulSet') as unknown as StatefulSet;
    const config = sidecarConfig(objects);
    const names = Array.from({ length: set.spec!.replicas! }, (_, i) => `${set.metadata!.name}-${i}`);
    expect(config.cluster.peers.map((p) => p.name)).toEqual(names);
    for (const p of config.cluster.peers) {
      const host = new URL(p.url).hostname;
      expect(host).toBe(`${p.name}.${set.spec!.serviceName}`);
      expect(new URL(p.url).port).toBe(String(config.admin.port));
      // The correlator's requests carry the peer's name in Host: each admin server must accept it.
      expect(config.admin.allowedHosts).toContain(host);
    }
    const instance = sidecarContainer(objects).env?.find((e) => e.name === 'SELF_HEALING_CLUSTER__INSTANCE');
    expect(instance?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    // Every pod parses the shared configuration with its own name: one correlator, the rest members.
    const roles = names.map((_, i) => clusterRole(sidecarConfig(objects, i).cluster).role);
    expect(roles).toEqual(['correlator', ...names.slice(1).map(() => 'member')]);
  });
});

describe('manifest validation', () => {
  it('rejects an object that breaks the schema', () => {
    const broken = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ image: 1 }] } } } };
    expect(() => validate(broken as unknown as K8sObject)).toThrow();
  });
});
