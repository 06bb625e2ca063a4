import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminAccess, RouteAccess } from './admin-access.js';
import { applyHttpServerLimits, type HttpServerLimits } from '../receive/server-limits.js';

export type RouteParams = Record<string, string>;
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: RouteParams, url: URL) => void | Promise<void>;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Route {
  method: HttpMethod;
  segments: string[];
  handler: RouteHandler;
  access: RouteAccess;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  /** Called for errors thrown by handlers, after a 500 has been sent. */
  onError?: (err: unknown) => void;
  /** Host, CSRF and token checks; without it every route is open (unit tests of single routes). */
  access?: AdminAccess;
  /** Connection limits (admin.idleTimeoutMs and friends); node's defaults when absent. */
  limits?: HttpServerLimits;
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The admin HTTP server (:8787): health, metrics, HTTP API and dashboard all register routes here.
 * Patterns are literal segments or ":name" parameters, e.g. "/api/v1/anomalies/:id".
 */
export class AdminServer {
  private readonly routes: Route[] = [];
  private readonly server: Server;
  private boundPort = 0;

  constructor(private readonly options: AdminServerOptions) {
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((err: unknown) => {
        // dispatch answers its own errors; this only guards against a bug escaping it.
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
        this.options.onError?.(err);
      });
    });
    this.server.keepAliveTimeout = 5_000;
    if (options.limits !== undefined) applyHttpServerLimits(this.server, options.limits);
  }

  /** Routes need the admin token unless registered with a looser access level. */
  addRoute(method: HttpMethod, pattern: string, handler: RouteHandler, access: RouteAccess = 'token'): void {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler, access });
  }

  /** Every registered route with its access level (for audits and tests of the gate). */
  routeTable(): Array<{ method: HttpMethod; pattern: string; access: RouteAccess }> {
    return this.routes.map((r) => ({ method: r.method, pattern: `/${r.segments.join('/')}`, access: r.access }));
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host}:${this.boundPort}`;
  }

  /** The underlying server, for callers that need upgrade events or connection tracking. */
  get httpServer(): Server {
    return this.server;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Long-lived responses (SSE) would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }

  private match(method: string, path: string): { route: Route; params: RouteParams } | 'method' | undefined {
    const parts = path.split('/').filter(Boolean);
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: RouteParams = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith(':')) params[seg.slice(1)] = decodeURIComponent(part);
        else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return methodMismatch ? 'method' : undefined;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    let found: ReturnType<AdminServer['match']>;
    try {
      // A request target such as "//" or "//[::" is not a valid URL relative to our base.
      url = new URL(req.url ?? '/', 'http://admin.local');
      found = this.match(req.method ?? 'GET', url.pathname);
    } catch {
      sendJson(res, 400, { error: 'malformed path' });
      return;
    }
    // Unknown paths are checked like token routes, so they do not reveal which routes exist.
    const denial = this.options.access?.check(req, url, typeof found === 'object' ? found.route.access : 'token');
    if (denial !== undefined) {
      if (denial.status === 303) {
        res.writeHead(303, { ...denial.headers, 'content-length': 0 });
        res.end();
      } else {
        const text = JSON.stringify({ error: denial.error });
        // The refused request's body is never read: close rather than reuse the connection.
        if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) res.shouldKeepAlive = false;
        res.writeHead(denial.status, { ...denial.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      }
      return;
    }
    if (found === undefined) {
      sendJson(res, 404, { error: `no route for ${url.pathname}` });
      return;
    }
    if (found === 'method') {
      sendJson(res, 405, { error: `method ${req.method} not allowed on ${url.pathname}` });
      return;
    }
    try {
      await found.route.handler(req, res, found.params, url);
    } catch (err) {
      // Details go to the log (onError), not to the client: they may name files or SQL.
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
      this.options.onError?.(err);
    }
  }
}
