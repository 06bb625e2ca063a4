import type { Config } from '../config/index.js';

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another self-healing, a collector or Jaeger on the same port?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface has that address',
};

/** Which setting chose this port, so the message can say what to change. */
function settingFor(port: number, config: Config): string | undefined {
  if (config.receive.grpc.enabled && port === config.receive.grpc.port) return 'receive.grpc.port';
  if (config.receive.http.enabled && port === config.receive.http.port) return 'receive.http.port';
  if (config.admin.enabled && port === config.admin.port) return 'admin.port';
  return undefined;
}

/**
 * A start-up failure to listen, said in one line: which address, why, and the setting to change;
 * undefined for any other error. grpc-js wraps the socket error in its own message, so the code
 * and address are read from the text as well as from the error's fields.
 */
export function describeListenError(err: unknown, config: Config): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const fields = err as Error & { code?: unknown; address?: unknown; port?: unknown };
  const text = err.message;
  const code = typeof fields.code === 'string' && fields.code in REASONS ? fields.code : Object.keys(REASONS).find((c) => text.includes(c));
  if (code === undefined) return undefined;
  let address = typeof fields.address === 'string' && typeof fields.port === 'number' ? `${fields.address}:${fields.port}` : undefined;
  address ??= /(\[[0-9a-f:.]+\]|[\w.-]+):(\d+)\]?\s*$/i.exec(text.replace(/\]$/, ''))?.slice(1, 3).join(':');
  const port = address === undefined ? NaN : Number(address.slice(address.lastIndexOf(':') + 1));
  const setting = Number.isFinite(port) ? settingFor(port, config) : undefined;
  const hint = setting === undefined ? '' : `; choose another port with --set ${setting}=<port>`;
  return `cannot listen on ${address ?? 'the configured address'}: ${REASONS[code]}${hint}`;
}
