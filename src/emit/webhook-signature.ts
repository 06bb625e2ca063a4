import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-self-healing-signature';

function digest(secret: string, timestampSec: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSec}.${body}`).digest('hex');
}

/**
 * The signature header value for a body sent at `timestampSec`. The timestamp is signed with the
 * body, so a receiver that also bounds the age of `t` rejects replays of old deliveries.
 */
export function signWebhook(secret: string, timestampSec: number, body: string): string {
  return `t=${timestampSec},v1=${digest(secret, timestampSec, body)}`;
}

/** What a receiver does (docs/api.md): recompute, compare in constant time, bound the age. */
export function verifyWebhook(secret: string, header: string, body: string, nowSec: number, toleranceSec = 300): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts['t']);
  const v1 = parts['v1'] ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec || !/^[0-9a-f]{64}$/.test(v1)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(digest(secret, t, body), 'hex'));
}
