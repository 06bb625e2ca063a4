import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

interface Kustomization {
  resources?: string[];
  patches?: Array<{ path: string }>;
  labels?: Array<{ pairs: Record<string, string> }>;
}

function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function isTree(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isTree(out[k]) && isTree(v) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/**
 * A small renderer for the subset of kustomize this repository uses (resources, labels, strategic
 * merge patches on maps), so the manifests can be checked where no kustomize binary exists.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const k = readObjects(join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  let objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = resolve(dir, r);
    objects.push(...(statSync(p).isDirectory() ? renderKustomization(p) : readObjects(p)));
  }
  for (const { path } of k.patches ?? []) {
    for (const patch of readObjects(resolve(dir, path))) {
      objects = objects.map((o) =>
        o.kind === patch.kind && o.metadata.name === patch.metadata.name ? (merge(o, patch) as K8sObject) : o,
      );
    }
  }
  for (const { pairs } of k.labels ?? []) {
    for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...pairs };
  }
  return objects;
}

/** `kubectl kustomize` output when kubectl is installed, else undefined. */
export function kubectlKustomize(dir: string): K8sObject[] | undefined {
  const candidates = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'];
  const bin = candidates.find((c) => existsSync(c));
  if (!bin) return undefined;
  try {
    const out = execFileSync(bin, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
  } catch {
    return undefined;
  }
}

export const DEPLOY_DIR = resolve(dirname(new URL(import.meta.url).pathname), '../../deploy/kubernetes');
