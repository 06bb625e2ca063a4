import type { BeatError } from '../model/beat.js';

/**
 * Error fingerprints: "the same error" across requests, users and records. The fingerprint
 * hashes the exception type, the message with its variable parts replaced by placeholders, and
 * the first stack frame in application code, so "User 123 not found" and "User 456 not found"
 * thrown from the same line share one fingerprint.
 */

const URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]+/gi;
const UUID_RE = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const QUOTED_RE = /"[^"\n]*"|'[^'\n]*'|`[^`\n]*`/g;
const EMAIL_RE = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
// Hex ids: 0x-prefixed, or 8+ hex digits that contain at least one digit (so plain words pass).
const HEX_RE = /\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi;
const NUMBER_RE = /[-+]?\d+(?:[.,:]\d+)*(?:e[-+]?\d+)?/gi;
const SPACE_RE = /\s+/g;

/** Replaces the variable parts of an error message with placeholders. */
export function normaliseMessage(message: string): string {
  return message
    .replace(URL_RE, '<url>')
    .replace(UUID_RE, '<uuid>')
    .replace(QUOTED_RE, '<str>')
    .replace(EMAIL_RE, '<email>')
    .replace(HEX_RE, '<hex>')
    .replace(NUMBER_RE, '<n>')
    .replace(SPACE_RE, ' ')
    .trim();
}

// "    at fn (/app/src/x.ts:10:5)", "    at /app/src/x.ts:10:5", "fn@/app/src/x.js:10:5"
const V8_FRAME_RE = /^\s*at\s+(?:(.*?)\s+\()?(.+?):(\d+)(?::\d+)?\)?\s*$/;
const AT_SIGN_FRAME_RE = /^\s*([^@\s]*)@(.+?):(\d+)(?::\d+)?\s*$/;

function isLibraryFrame(location: string): boolean {
  return (
    location.includes('node_modules') ||
    location.startsWith('node:') ||
    location.startsWith('internal/') ||
    location === 'native' ||
    location === '<anonymous>'
  );
}

/**
 * The first stack frame in application code as "function (file:line)" or "file:line" (columns
 * dropped, so reformatting a line does not change the fingerprint); '' when there is none.
 */
export function topFrame(stacktrace: string): string {
  if (stacktrace === '') return '';
  const lines = stacktrace.split('\n');
  for (const line of lines) {
    const m = V8_FRAME_RE.exec(line) ?? AT_SIGN_FRAME_RE.exec(line);
    if (m === null) continue;
    const fn = m[1] ?? '';
    const location = m[2]!;
    if (isLibraryFrame(location)) continue;
    const where = `${location}:${m[3]!}`;
    return fn === '' ? where : `${fn} (${where})`;
  }
  return '';
}

/** A short, stable hex hash (two 32-bit FNV-1a variants, 16 hex digits). */
export function shortHash(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

export function errorFingerprint(type: string, message: string, frame: string): string {
  return shortHash(`${type}\n${normaliseMessage(message)}\n${frame}`);
}

/** Bounded memo: the same error tends to repeat many times in a burst. */
const memo = new Map<string, BeatError>();
const MEMO_MAX = 2048;

/** Builds a BeatError (top frame and fingerprint derived); returns a fresh object every call. */
export function buildBeatError(type: string, message: string, stacktrace: string): BeatError {
  const key = `${type}\u0000${message}\u0000${stacktrace}`;
  let known = memo.get(key);
  if (known === undefined) {
    const frame = topFrame(stacktrace);
    known = { type, message, topFrame: frame, stacktrace, fingerprint: errorFingerprint(type, message, frame) };
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(key, known);
  }
  return { type: known.type, message: known.message, topFrame: known.topFrame, stacktrace: known.stacktrace, fingerprint: known.fingerprint };
}
