import { z } from 'zod';
import type { AdminAccess } from './admin-access.js';
import { isSecureRequest } from './admin-access.js';
import { sessionCookie } from './admin-session.js';
import { sendJson, type AdminServer } from './admin-server.js';
import { NO_BODY, readJsonBodyOrAnswer } from './api.js';

const SignInBodySchema = z.strictObject({ token: z.string().min(1).max(4096) });

export const SIGNIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>self-healing: sign in</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/signin.css">
</head>
<body>
<main>
<h1>self&#8209;healing</h1>
<form id="signin">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
  <button type="submit">Sign in</button>
  <p id="error" role="alert"></p>
</form>
</main>
<script src="/signin.js"></script>
</body>
</html>
`;

// The page posts JSON, like every state-changing admin request, so the CSRF rule has no exception.
export const SIGNIN_JS = `
'use strict';
const form = document.getElementById('signin');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const error = document.getElementById('error');
  error.textContent = '';
  const r = await fetch('/api/v1/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: document.getElementById('token').value }),
  });
  if (!r.ok) { error.textContent = r.status === 401 ? 'That token is not right.' : 'Sign-in failed (' + r.status + ').'; return; }
  const next = new URLSearchParams(location.search).get('next') || '/';
  // Only a path on this server: never "//host" or "/\\\\host", which browsers treat as another origin.
  location.assign(/^\\/(?![\\/\\\\])/.test(next) ? next : '/');
});
`;

export const SIGNIN_CSS = `body{font:15px system-ui,sans-serif;background:#0f1419;color:#e6e6e6;display:flex;justify-content:center;margin-top:15vh}
form{display:flex;flex-direction:column;gap:.6em;min-width:18em}input,button{font:inherit;padding:.5em}#error{color:#ff6b6b;min-height:1.2em}`;

const ASSETS: Array<[string, string, string]> = [
  ['/signin', SIGNIN_HTML, 'text/html; charset=utf-8'],
  ['/signin.js', SIGNIN_JS, 'text/javascript; charset=utf-8'],
  ['/signin.css', SIGNIN_CSS, 'text/css; charset=utf-8'],
];

/**
 * GET /signin (+ its script and style), POST /api/v1/session {token} which sets the dashboard's
 * session cookie, and DELETE /api/v1/session which clears it.
 */
export function registerSignInRoutes(admin: AdminServer, access: AdminAccess): void {
  for (const [path, body, type] of ASSETS) {
    const bytes = Buffer.from(body);
    admin.addRoute(
      'GET',
      path,
      (_req, res) => {
        res.writeHead(200, {
          'content-type': type,
          'content-length': bytes.length,
          'cache-control': 'no-cache',
          'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
          'x-frame-options': 'DENY',
          'x-content-type-options': 'nosniff',
        });
        res.end(bytes);
      },
      'signin',
    );
  }

  admin.addRoute(
    'POST',
    '/api/v1/session',
    async (req, res) => {
      if (!access.authEnabled || access.sessions === undefined) {
        sendJson(res, 409, { error: 'no admin token is configured: the admin server is open' });
        return;
      }
      const body = await readJsonBodyOrAnswer(req, res);
      if (body === NO_BODY) return;
      const parsed = SignInBodySchema.safeParse(body);
      if (!parsed.success || !access.tokenMatches(parsed.data.token)) {
        sendJson(res, 401, { error: 'missing or invalid admin token' });
        return;
      }
      res.setHeader('set-cookie', sessionCookie(access.sessions.issue(), access.sessions.maxAgeSeconds, isSecureRequest(req)));
      sendJson(res, 200, { signedIn: true, expiresInSeconds: access.sessions.maxAgeSeconds });
    },
    'signin',
  );

  admin.addRoute(
    'DELETE',
    '/api/v1/session',
    (req, res) => {
      res.setHeader('set-cookie', sessionCookie('', 0, isSecureRequest(req)));
      sendJson(res, 200, { signedIn: false });
    },
    'signin',
  );
}
