import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { ENV_PREFIX } from './env-prefix.js';
import { closestEnvName, unknownEnvNames } from './env-names.js';
import { OtelEnvError, readOtelEnv } from './otel-env.js';

/** A configuration problem, already phrased for the user: which field, what is wrong. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  /** Path of a YAML (or JSON) file, lowest precedence. */
  file?: string;
  /** Environment, usually process.env. */
  env?: Record<string, string | undefined>;
  /** `path=value` overrides from `--set`, highest precedence. */
  sets?: string[];
}

export { ENV_PREFIX };

type Tree = Record<string, unknown>;

function isTree(v: unknown): v is Tree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Scalars from env and flags are strings; read them as YAML so "4318" is a number, "true" a boolean, "[a,b]" a list. */
function parseScalar(raw: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(raw);
  } catch {
    return raw;
  }
  if (value === null || value === undefined) return raw;
  // "a: b" or ":memory:" read as YAML is a mapping; only an explicit {...} is meant as one.
  if (typeof value === 'object' && !Array.isArray(value) && !raw.trim().startsWith('{')) return raw;
  return value;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (!isTree(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isTree(cur) && isTree(v) ? deepMerge(cur, v) : v;
  }
  return out;
}

function readFileLayer(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`, []);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(err as Error).message}`, []);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError(`config file ${file} must contain a mapping at the top level`, []);
  return parsed;
}

/** Environment layer: standard OTEL_* variables first, then SELF_HEALING_* which are more specific. */
function envLayer(env: Record<string, string | undefined>): Tree {
  const tree: Tree = {};
  let otel;
  try {
    otel = readOtelEnv(env);
  } catch (err) {
    if (err instanceof OtelEnvError) throw new ConfigError(`invalid environment: ${err.message}`, [err.message]);
    throw err;
  }
  if (otel.serviceName !== undefined) tree.serviceName = otel.serviceName;
  if (otel.logLevel !== undefined) tree.logLevel = otel.logLevel;
  if (otel.endpoint !== undefined) setPath(tree, ['emit', 'otlp', 'endpoint'], otel.endpoint);
  if (otel.protocol !== undefined) setPath(tree, ['emit', 'otlp', 'protocol'], otel.protocol);
  if (otel.disabled) setPath(tree, ['emit', 'otlp', 'enabled'], false);
  if (otel.resourceAttributes !== undefined) setPath(tree, ['emit', 'resourceAttributes'], otel.resourceAttributes);
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length);
    // Secrets such as SELF_HEALING_AUTH_TOKEN are read by the components that use them, not config.
    if (!rest.includes('__') && !KNOWN_TOP_LEVEL.has(camel(rest))) continue;
    setPath(tree, rest.split('__').map(camel), parseScalar(raw));
  }
  return tree;
}

/** Values of the `...Env` fields (receive.auth.tokenEnv, heal.github.tokenEnv, ...): names of secrets. */
function secretEnvNames(node: unknown, out = new Set<string>()): Set<string> {
  if (!isTree(node)) return out;
  for (const [k, v] of Object.entries(node)) {
    if (k.endsWith('Env') && typeof v === 'string') out.add(v);
    else secretEnvNames(v, out);
  }
  return out;
}

const KNOWN_TOP_LEVEL = new Set(Object.keys(ConfigSchema.shape));

function setsLayer(sets: string[]): Tree {
  const tree: Tree = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set ${s}: expected path=value, e.g. receive.http.port=4318`, []);
    setPath(tree, s.slice(0, eq).split('.'), parseScalar(s.slice(eq + 1)));
  }
  return tree;
}

export function formatIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path}: ${issue.message}`;
  });
}

/** Builds the effective configuration: defaults < file < environment < --set flags. */
export function loadConfig(sources: ConfigSources = {}): Config {
  let tree: Tree = {};
  if (sources.file) tree = deepMerge(tree, readFileLayer(sources.file));
  if (sources.env) tree = deepMerge(tree, envLayer(sources.env));
  if (sources.sets) tree = deepMerge(tree, setsLayer(sources.sets));
  const result = ConfigSchema.safeParse(tree);
  if (!result.success) {
    const problems = formatIssues(result.error.issues);
    const where = sources.file ? ` (file ${sources.file}, environment and flags)` : '';
    throw new ConfigError(`invalid configuration${where}:\n  ${problems.join('\n  ')}`, problems);
  }
  if (sources.env) {
    // The default secret names stay allowed when the configuration points elsewhere.
    const secrets = secretEnvNames(result.data, secretEnvNames(ConfigSchema.parse({})));
    const unknown = unknownEnvNames(sources.env, secrets);
    if (unknown.length > 0) {
      const problems = unknown.map((name) => `${name}: not a setting; did you mean ${closestEnvName(name)}?`);
      throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`, problems);
    }
  }
  return result.data;
}
