import { z } from 'zod';
import { ConfigSchema } from './schema.js';
import { ENV_PREFIX } from './env-prefix.js';

/** One documented configuration field, flattened from the zod schema. */
export interface ConfigField {
  path: string;
  type: string;
  default: unknown;
  description: string;
  env: string;
}

interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

function envName(path: string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__');
}

function describeType(node: JsonSchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (node.anyOf) return node.anyOf.map(describeType).join(' | ');
  const t = Array.isArray(node.type) ? node.type.join(' | ') : (node.type ?? 'any');
  if (t === 'array' && node.items) return `${describeType(node.items)}[]`;
  if (t === 'object' && typeof node.additionalProperties === 'object') return `map of ${describeType(node.additionalProperties)}`;
  const bounds: string[] = [];
  if (node.minimum !== undefined) bounds.push(`>= ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) bounds.push(`> ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER) bounds.push(`<= ${node.maximum}`);
  return bounds.length > 0 ? `${t} (${bounds.join(', ')})` : t;
}

function walk(node: JsonSchemaNode, path: string[], out: ConfigField[]): void {
  if (node.type === 'object' && node.properties) {
    for (const [key, child] of Object.entries(node.properties)) walk(child, [...path, key], out);
    return;
  }
  out.push({
    path: path.join('.'),
    type: describeType(node),
    default: node.default,
    description: node.description ?? '',
    env: envName(path),
  });
}

/** Every leaf field of the configuration, in schema order. */
export function configFields(): ConfigField[] {
  const json = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const out: ConfigField[] = [];
  walk(json, [], out);
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** docs/configuration.md, generated from the schema (a test fails when the file is stale). */
export function configReferenceMarkdown(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `self-healing config --reference`. Do not edit by hand. -->',
    '',
    'Sources, lowest precedence first: built-in defaults, the YAML file given with `--config`,',
    'environment variables, then `--set path=value` flags. Standard OpenTelemetry variables are',
    'honoured for what the sidecar emits itself: `OTEL_SERVICE_NAME` (or `service.name` in',
    '`OTEL_RESOURCE_ATTRIBUTES`) sets `serviceName`, the other `OTEL_RESOURCE_ATTRIBUTES` set',
    '`emit.resourceAttributes`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`',
    'sets `emit.otlp.endpoint`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`',
    'sets `emit.otlp.protocol`, `OTEL_SDK_DISABLED=true` (or `OTEL_TRACES_EXPORTER=none`) turns',
    '`emit.otlp.enabled` off, and `OTEL_LOG_LEVEL` (none, error, warn, info, debug, verbose, all)',
    'sets `logLevel`. Every field can also be set through',
    `its own variable: \`${ENV_PREFIX}\` + the path in upper snake case with \`__\` between levels`,
    '(values are read as YAML scalars, so `8080`, `true` and `[a, b]` work). Unknown fields are errors,',
    `and so is a \`${ENV_PREFIX}*\` variable that sets nothing (the message names the closest valid one),`,
    'except the secret variables the configuration names (`receive.auth.tokenEnv` and the like).',
    '',
    '`self-healing config --print` shows the effective configuration.',
    '',
    '| field | type | default | environment variable | description |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const f of configFields()) {
    const def = f.default === undefined ? '' : `\`${JSON.stringify(f.default)}\``;
    lines.push(`| \`${f.path}\` | ${cell(f.type)} | ${cell(def)} | \`${f.env}\` | ${cell(f.description)} |`);
  }
  lines.push('');
  return lines.join('\n');
}
