import type { LogLevel } from '../emit/logger.js';

/**
 * The standard OpenTelemetry SDK variables the sidecar honours for what it emits itself
 * (specification: "Environment Variable Specification" of opentelemetry-specification). They map
 * onto config paths, below the more specific SELF_HEALING_* variables.
 */
export interface OtelEnvSettings {
  serviceName?: string;
  logLevel?: LogLevel;
  endpoint?: string;
  protocol?: string;
  disabled?: boolean;
  resourceAttributes?: Record<string, string>;
}

export class OtelEnvError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'OtelEnvError';
  }
}

/** OTEL_LOG_LEVEL values (case-insensitive) onto the sidecar's levels. */
const LOG_LEVELS: Record<string, LogLevel> = {
  none: 'silent',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  verbose: 'debug',
  all: 'debug',
};

/**
 * OTEL_RESOURCE_ATTRIBUTES: comma-separated key=value pairs, percent-encoded (W3C Baggage
 * octets). A pair without "=" or with an empty key makes the whole value invalid.
 */
export function parseResourceAttributes(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw.trim() === '') return out;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') throw new OtelEnvError('OTEL_RESOURCE_ATTRIBUTES', `"${pair.trim()}" is not key=value`);
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new OtelEnvError('OTEL_RESOURCE_ATTRIBUTES', `the value of "${key}" is not valid percent-encoding`);
    }
    out[decodeURIComponent(key)] = value;
  }
  return out;
}

function flag(raw: string | undefined): boolean {
  return raw !== undefined && raw.trim().toLowerCase() === 'true';
}

export function readOtelEnv(env: Record<string, string | undefined>): OtelEnvSettings {
  const out: OtelEnvSettings = {};
  const attrs = env.OTEL_RESOURCE_ATTRIBUTES;
  if (attrs !== undefined) {
    const parsed = parseResourceAttributes(attrs);
    const { 'service.name': fromAttrs, ...rest } = parsed;
    if (fromAttrs !== undefined && fromAttrs !== '') out.serviceName = fromAttrs;
    if (Object.keys(rest).length > 0) out.resourceAttributes = rest;
  }
  // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES (specification).
  if (env.OTEL_SERVICE_NAME) out.serviceName = env.OTEL_SERVICE_NAME;
  const level = env.OTEL_LOG_LEVEL?.trim().toLowerCase();
  if (level) {
    const mapped = LOG_LEVELS[level];
    if (mapped === undefined) throw new OtelEnvError('OTEL_LOG_LEVEL', `"${env.OTEL_LOG_LEVEL}" is not one of ${Object.keys(LOG_LEVELS).join(', ')}`);
    out.logLevel = mapped;
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (endpoint) out.endpoint = endpoint;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol) out.protocol = protocol.trim();
  if (flag(env.OTEL_SDK_DISABLED) || env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') out.disabled = true;
  return out;
}
