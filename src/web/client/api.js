// Calls to the sidecar's HTTP API. Endpoints that an older sidecar may not have answer 404
// "no route": the views then show what is missing instead of failing.

export class ApiError extends Error {
  constructor(path, status, message) {
    super(path + ' -> ' + status + (message ? ': ' + message : ''));
    this.status = status;
    this.missingRoute = status === 404 && typeof message === 'string' && message.startsWith('no route');
  }
}

async function request(path, init) {
  const r = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init && init.headers) } });
  // The session expired or the token changed: back to the sign-in page.
  if (r.status === 401) {
    location.assign('/signin?next=' + encodeURIComponent(location.pathname));
    throw new ApiError(path, 401, 'sign in');
  }
  let body;
  try {
    body = await r.json();
  } catch {
    body = undefined;
  }
  if (!r.ok) throw new ApiError(path, r.status, body && typeof body.error === 'string' ? body.error : '');
  return { body, headers: r.headers };
}

export async function getJson(path) {
  return (await request(path)).body;
}

/** The body and X-Total-Count (undefined when the server does not page). */
export async function getPage(path) {
  const { body, headers } = await request(path);
  const total = headers.get('x-total-count');
  return { body, total: total === null ? undefined : Number(total) };
}

/** JSON POST/DELETE: the admin server's CSRF rule wants a JSON content type on state changes. */
export async function sendJson(method, path, payload) {
  return (await request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload ?? {}) })).body;
}

/** "?a=1&b=x" from the defined, non-empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s === '' ? '' : '?' + s;
}

export const listOf = (x, key) => (Array.isArray(x) ? x : (x && (x[key] || x.items)) || []);
