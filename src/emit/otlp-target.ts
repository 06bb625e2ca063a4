import type { Config } from '../config/index.js';
import { tracesUrl } from './forwarder.js';

/** Where the sidecar's own spans go, or why they go nowhere. */
export type EmitTarget =
  | { kind: 'export'; protocol: 'grpc' | 'http/protobuf'; url: string }
  | { kind: 'off'; reason: string; warn: boolean };

const LOOPBACK_OR_ANY = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?|\[?::\]?|0\.0\.0\.0)$/i;

function defaultPort(url: URL, protocol: string): number {
  if (url.port !== '') return Number(url.port);
  // An OTLP URL without a port means the scheme's port, as the exporters read it.
  if (url.protocol === 'https:') return 443;
  return protocol === 'grpc' && url.protocol !== 'http:' ? 4317 : 80;
}

/**
 * Resolves emit.otlp into an export target. The sidecar never exports to its own receivers: it
 * would then watch its own anomaly spans as an application (a feedback loop seen with the old
 * default endpoint), so such an endpoint turns export off with a warning.
 */
export function emitTarget(config: Pick<Config, 'emit' | 'receive'>): EmitTarget {
  const { otlp } = config.emit;
  if (!otlp.enabled) return { kind: 'off', reason: 'emit.otlp.enabled is false', warn: false };
  if (otlp.endpoint === undefined) return { kind: 'off', reason: 'no emit.otlp.endpoint configured', warn: false };
  const url = new URL(otlp.endpoint);
  const host = url.hostname;
  const sameHost = LOOPBACK_OR_ANY.test(host) || host === config.receive.grpc.host || host === config.receive.http.host;
  if (sameHost) {
    const port = defaultPort(url, otlp.protocol);
    const own =
      (config.receive.grpc.enabled && port === config.receive.grpc.port) || (config.receive.http.enabled && port === config.receive.http.port);
    if (own) {
      return {
        kind: 'off',
        reason: `emit.otlp.endpoint ${url.origin} is one of the sidecar's own receivers; set it to a collector or Jaeger`,
        warn: true,
      };
    }
  }
  if (otlp.protocol === 'grpc') return { kind: 'export', protocol: 'grpc', url: url.href };
  return { kind: 'export', protocol: 'http/protobuf', url: tracesUrl(otlp.endpoint).href };
}
