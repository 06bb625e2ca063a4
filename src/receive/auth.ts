import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ReceiveConfig } from '../config/sections/receive.js';

/** Checks an Authorization header value ("Bearer <token>"); true when it carries the token. */
export type BearerCheck = (authorization: string | undefined) => boolean;

export class AuthConfigError extends Error {}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Reads the expected token: tokenFile wins over the environment variable. Returns undefined when
 * neither is set (auth off). An empty token is a configuration error, not "auth off".
 */
export function loadAuthToken(auth: { tokenEnv: string; tokenFile?: string | undefined }, env: NodeJS.ProcessEnv = process.env, field = 'receive.auth'): string | undefined {
  if (auth.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(auth.tokenFile, 'utf8');
    } catch (err) {
      throw new AuthConfigError(`${field}.tokenFile: cannot read ${auth.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const token = text.trim();
    if (token === '') throw new AuthConfigError(`${field}.tokenFile: ${auth.tokenFile} is empty`);
    return token;
  }
  const fromEnv = env[auth.tokenEnv];
  if (fromEnv === undefined) return undefined;
  const token = fromEnv.trim();
  if (token === '') throw new AuthConfigError(`${field}.tokenEnv: ${auth.tokenEnv} is set but empty`);
  return token;
}

/**
 * Builds the bearer check for a token, or undefined when auth is off. Both sides are hashed to
 * equal-length digests so timingSafeEqual neither throws on length nor leaks it.
 */
export function createBearerCheck(token: string | undefined): BearerCheck | undefined {
  if (token === undefined) return undefined;
  const expected = digest(token);
  return (authorization) => {
    if (authorization === undefined) return false;
    // RFC 7235: the scheme is case-insensitive.
    if (authorization.length < 7 || authorization.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    return timingSafeEqual(digest(authorization.slice(7).trim()), expected);
  };
}

/** loadAuthToken + createBearerCheck for a receive config. */
export function bearerCheckFromConfig(config: ReceiveConfig, env: NodeJS.ProcessEnv = process.env): BearerCheck | undefined {
  return createBearerCheck(loadAuthToken(config.auth, env));
}
