import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Name of the dashboard's session cookie. */
export const SESSION_COOKIE = 'sh_admin_session';
const VERSION = 's1';
const MAC_CHARS = 43; // base64url of a SHA-256 MAC

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** Whether two secrets are equal, in constant time. */
export function sameSecret(a: string, b: string): boolean {
  // Hash both sides to equal lengths so the comparison neither throws nor leaks the length.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Issues and checks dashboard session values: "s1.<issuedMs>.<HMAC(key, s1.issuedMs)>", where the
 * key is derived from the admin token. The cookie never carries the token itself; rotating the
 * token ends every session, and a session expires after ttlMs.
 */
export class AdminSessions {
  private readonly key: Buffer;

  constructor(
    token: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.key = createHmac('sha256', token).update('self-healing admin session key', 'utf8').digest();
  }

  issue(): string {
    const issued = String(this.now());
    return `${VERSION}.${issued}.${mac(this.key, `${VERSION}.${issued}`)}`;
  }

  verify(value: string | undefined): boolean {
    if (value === undefined) return false;
    const parts = value.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || !/^\d{1,15}$/.test(parts[1]!) || parts[2]!.length !== MAC_CHARS) return false;
    const issued = Number(parts[1]);
    const age = this.now() - issued;
    // A small skew allowance for a clock step between issue and check; never a future session.
    if (age < -60_000 || age > this.ttlMs) return false;
    return timingSafeEqual(Buffer.from(parts[2]!), Buffer.from(mac(this.key, `${VERSION}.${parts[1]!}`)));
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }
}

/** The value of one cookie from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie value for a session (or, with value '', for signing out). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${value === '' ? 0 : maxAgeSeconds}`];
  if (secure) attrs.push('Secure');
  return attrs.join('; ');
}
