import { readFileSync } from 'node:fs';
import type { ForwardConfig } from '../config/sections/forward.js';

export class ForwardHeadersError extends Error {}

/** A header name as HTTP/2 and gRPC metadata accept it (RFC 9110 token, lower-cased on use). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses headers in the OTEL_EXPORTER_OTLP_HEADERS format: "name=value,name2=value2", values
 * percent-encoded (the OTLP exporter spec refers to the W3C Baggage encoding; "+" stays a plus).
 * Line breaks count as separators too, so a file may hold one header a line.
 */
export function parseHeaderList(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/[,\r\n]/)) {
    const item = raw.trim();
    if (item === '' || item.startsWith('#')) continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ForwardHeadersError(`${where}: expected name=value, got an entry without '=' (entry ${Object.keys(out).length + 1})`);
    const name = item.slice(0, eq).trim();
    if (!HEADER_NAME.test(name)) throw new ForwardHeadersError(`${where}: '${name.slice(0, 60)}' is not a valid header name`);
    let value: string;
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new ForwardHeadersError(`${where}: the value of '${name}' has a bad percent-encoding`);
    }
    if (/[\r\n\0]/.test(value)) throw new ForwardHeadersError(`${where}: the value of '${name}' holds a control character`);
    out[name] = value;
  }
  return out;
}

/**
 * The headers sent downstream: forward.headers, then forward.headersFile, then the variable named
 * by forward.headersEnv (later wins per name). Secrets belong in the file or variable, so they
 * never appear in the configuration file or in `config --print`.
 */
export function resolveForwardHeaders(config: Pick<ForwardConfig, 'headers' | 'headersEnv' | 'headersFile'>, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = { ...config.headers };
  if (config.headersFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(config.headersFile, 'utf8');
    } catch (err) {
      throw new ForwardHeadersError(`forward.headersFile: cannot read ${config.headersFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    Object.assign(out, parseHeaderList(text, `forward.headersFile (${config.headersFile})`));
  }
  if (config.headersEnv !== undefined) {
    const text = env[config.headersEnv];
    if (text !== undefined) Object.assign(out, parseHeaderList(text, `forward.headersEnv (${config.headersEnv})`));
  }
  return out;
}
