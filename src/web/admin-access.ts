import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AdminSessions, readCookie, SESSION_COOKIE, sameSecret } from './admin-session.js';

/**
 * Who may call a route:
 * - open: anyone (liveness and readiness probes);
 * - signin: anyone from an allowed Host (the sign-in page and session route);
 * - metrics: the token when admin.metricsAuth is on, else like signin;
 * - token: the admin token, as a Bearer header or a dashboard session cookie.
 */
export type RouteAccess = 'open' | 'signin' | 'metrics' | 'token';

export interface AccessDenial {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

export interface AdminAccessOptions {
  /** The admin token; undefined turns authentication off (Host and CSRF checks stay on). */
  token: string | undefined;
  /** Host names accepted besides loopback names and IP addresses (admin.allowedHosts). */
  allowedHosts: readonly string[];
  /** Whether /metrics needs the token (admin.metricsAuth). */
  metricsAuth: boolean;
  sessionTtlMs: number;
  now?: () => number;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The host name of a Host header value, lower-cased, without port or IPv6 brackets. */
export function hostName(host: string): string | undefined {
  const h = host.trim().toLowerCase();
  if (h === '') return undefined;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    return h.slice(1, end);
  }
  const colon = h.indexOf(':');
  if (colon < 0) return h;
  if (!/^\d{1,5}$/.test(h.slice(colon + 1))) return undefined;
  return h.slice(0, colon);
}

/**
 * Whether a Host header may reach the admin server. DNS rebinding makes a browser send the
 * attacker's own name in Host, so names must be known: loopback names and the configured ones.
 * An IP address cannot come from rebinding (the browser sends the name it resolved), so IP
 * literals pass; a page on another origin still cannot read their answers.
 */
export function isAllowedHost(host: string | undefined, allowed: readonly string[]): boolean {
  if (host === undefined) return false;
  const name = hostName(host);
  if (name === undefined) return false;
  if (isIP(name) !== 0) return true;
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  return allowed.some((a) => a.toLowerCase() === bare);
}

/** Whether a Content-Type header names JSON (application/json with optional parameters). */
export function isJsonContentType(type: string | undefined): boolean {
  if (type === undefined) return false;
  return type.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Whether the request arrived over TLS, directly or (for cookie flags only) via a TLS proxy. */
export function isSecureRequest(req: IncomingMessage): boolean {
  if ((req.socket as TLSSocket).encrypted === true) return true;
  const proto = req.headers['x-forwarded-proto'];
  return (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/**
 * A state-changing request must carry JSON (a cross-site form or text/plain "simple request"
 * cannot, without a CORS preflight we never answer) and, when the browser says where it comes
 * from, come from this origin.
 */
export function csrfProblem(req: IncomingMessage): string | undefined {
  if (!STATE_CHANGING.has(req.method ?? 'GET')) return undefined;
  if (!isJsonContentType(req.headers['content-type'])) return 'state-changing requests must have Content-Type: application/json';
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return 'cross-site request refused';
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return 'cross-origin request refused';
  }
  const scheme = isSecureRequest(req) ? 'https:' : 'http:';
  if (origin === 'null' || parsed.protocol !== scheme || parsed.host !== (req.headers.host ?? '').toLowerCase()) return 'cross-origin request refused';
  return undefined;
}

/** The admin server's gate: Host allow-list, CSRF rules and the token, per route access level. */
export class AdminAccess {
  readonly sessions: AdminSessions | undefined;

  constructor(private readonly options: AdminAccessOptions) {
    this.sessions = options.token === undefined ? undefined : new AdminSessions(options.token, options.sessionTtlMs, options.now);
  }

  get authEnabled(): boolean {
    return this.options.token !== undefined;
  }

  /** Whether a token offered at sign-in is the admin token. */
  tokenMatches(offered: string): boolean {
    return this.options.token !== undefined && sameSecret(offered, this.options.token);
  }

  /** Whether the request carries the token (Bearer) or a valid session cookie; true when auth is off. */
  authenticated(req: IncomingMessage): boolean {
    if (this.options.token === undefined) return true;
    const auth = req.headers.authorization;
    if (auth !== undefined && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return sameSecret(auth.slice(7).trim(), this.options.token);
    return this.sessions!.verify(readCookie(req.headers.cookie, SESSION_COOKIE));
  }

  /** Undefined when the request may go on; else the answer to send. */
  check(req: IncomingMessage, url: URL, access: RouteAccess): AccessDenial | undefined {
    if (access === 'open') return undefined;
    if (!isAllowedHost(req.headers.host, this.options.allowedHosts)) return { status: 403, error: 'host not allowed (admin.allowedHosts)' };
    const csrf = csrfProblem(req);
    if (csrf !== undefined) return { status: csrf.startsWith('state-changing') ? 415 : 403, error: csrf };
    const needsToken = access === 'token' || (access === 'metrics' && this.options.metricsAuth);
    if (!needsToken || this.authenticated(req)) return undefined;
    const wantsPage = (req.method === 'GET' || req.method === 'HEAD') && (req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return { status: 303, error: 'sign in first', headers: { location: `/signin?next=${encodeURIComponent(url.pathname)}` } };
    return { status: 401, error: 'missing or invalid admin token', headers: { 'www-authenticate': 'Bearer realm="self-healing admin"' } };
  }
}
