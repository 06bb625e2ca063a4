/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Field names that hold secrets themselves (not the name of a variable or file holding one). */
const SECRET_KEY = /(token|secret|passw(or)?d|api[-_]?key|credential|authori[sz]ation|cookie|private[-_]?key)/i;
/** ...Env and ...File fields name where a secret lives; they are not secrets. */
const REFERENCE_KEY = /(Env|File|Path)$/;
/** Maps whose every value may be a secret (forward.headers, HTTP header maps). */
const HEADERS_KEY = /headers$/i;

function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  let changed = false;
  if (url.username !== '' || url.password !== '') {
    url.username = 'redacted';
    url.password = '';
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_KEY.test(name) || /^(sig|signature|key|auth)$/i.test(name)) {
      url.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}

function redactValue(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') {
    if (key !== undefined && SECRET_KEY.test(key) && !REFERENCE_KEY.test(key)) return REDACTED;
    return redactUrl(value);
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, undefined));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    const allSecret = key !== undefined && HEADERS_KEY.test(key);
    for (const [k, v] of Object.entries(value)) out[k] = allSecret && typeof v === 'string' ? REDACTED : redactValue(v, k);
    return out;
  }
  return value;
}

/**
 * A copy of a configuration safe to print: header maps, secret-named fields and URL userinfo (and
 * secret-named query parameters) are replaced. Names of variables and files that hold secrets
 * (tokenEnv, tokenFile, ...) stay, so the output still says where a secret comes from.
 */
export function redactConfig<T>(config: T): T {
  return redactValue(config, undefined) as T;
}
