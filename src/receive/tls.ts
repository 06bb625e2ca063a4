import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import type { ReceiveConfig } from '../config/sections/receive.js';

/** PEM material for the receivers, read once at start-up. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  requireClientCert: boolean;
}

export class TlsConfigError extends Error {}

function readPem(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`receive.tls.${field}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Reads the configured files; undefined when TLS is off. */
export function loadTlsMaterial(tls: ReceiveConfig['tls']): TlsMaterial | undefined {
  if (!tls.enabled) return undefined;
  if (tls.certFile === undefined || tls.keyFile === undefined) throw new TlsConfigError('receive.tls: certFile and keyFile are required');
  if (tls.requireClientCert && tls.caFile === undefined) throw new TlsConfigError('receive.tls: caFile is required for requireClientCert');
  return {
    cert: readPem('certFile', tls.certFile),
    key: readPem('keyFile', tls.keyFile),
    ca: tls.caFile === undefined ? undefined : readPem('caFile', tls.caFile),
    requireClientCert: tls.requireClientCert,
  };
}

/** Options for node:https createServer. */
export function httpsServerOptions(m: TlsMaterial): { cert: Buffer; key: Buffer; ca?: Buffer; requestCert: boolean; rejectUnauthorized: boolean } {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.ca === undefined ? {} : { ca: m.ca }),
    requestCert: m.requireClientCert,
    rejectUnauthorized: m.requireClientCert,
  };
}

/** gRPC server credentials: insecure without material, TLS (optionally mutual) with it. */
export function grpcServerCredentials(m: TlsMaterial | undefined): ServerCredentials {
  if (m === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(m.ca ?? null, [{ cert_chain: m.cert, private_key: m.key }], m.requireClientCert);
}
