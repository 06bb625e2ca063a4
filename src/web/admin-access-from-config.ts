import type { Config } from '../config/index.js';
import { loadAuthToken } from '../receive/auth.js';
import { AdminAccess } from './admin-access.js';

/**
 * The admin token: admin.auth when set, else the receivers' token, else none (auth off). A
 * separate admin token keeps apps that may send telemetry from also reading or steering the sidecar.
 */
export function adminTokenFromConfig(config: Pick<Config, 'admin' | 'receive'>, env: NodeJS.ProcessEnv): string | undefined {
  return loadAuthToken(config.admin.auth, env, 'admin.auth') ?? loadAuthToken(config.receive.auth, env);
}

export function adminAccessFromConfig(config: Pick<Config, 'admin' | 'receive'>, env: NodeJS.ProcessEnv): AdminAccess {
  return new AdminAccess({
    token: adminTokenFromConfig(config, env),
    allowedHosts: config.admin.allowedHosts,
    metricsAuth: config.admin.metricsAuth,
    sessionTtlMs: config.admin.sessionTtlMs,
  });
}

/** Whether a bind address is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
