/**
 * Structured logs on stderr (stdout stays free for command output): one JSON object per line by
 * default, or one readable line per record for terminals (`logFormat: pretty`). Values that look
 * like credentials are masked, so a token passed by mistake never reaches a log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'json' | 'pretty';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };
const SECRET_KEY = /token|secret|password|authorization|api[-_]?key/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message };
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) out[k] = redact(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

/** A field value for the pretty format: bare when it is a plain word, JSON otherwise. */
function prettyValue(v: unknown): string {
  if (typeof v === 'string' && /^[\w.:/@+-]+$/.test(v)) return v;
  return JSON.stringify(v) ?? String(v);
}

/** One record as a terminal line: time, level, message, then key=value pairs. */
export function formatPretty(record: Record<string, unknown>): string {
  const { time, level, msg, ...fields } = record;
  const pairs = Object.entries(fields).map(([k, v]) => `${k}=${prettyValue(v)}`);
  // Control characters in a message (from telemetry text) must not move the cursor or forge lines.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const text = String(msg).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${text}${pairs.length > 0 ? ` ${pairs.join(' ')}` : ''}\n`;
}

export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => process.stderr.write(line),
  format: LogFormat = 'json',
): Logger {
  const threshold = ORDER[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < threshold) return;
    const record = { time: new Date().toISOString(), level: lvl, msg, ...redact({ ...base, ...fields }) };
    write(format === 'pretty' ? formatPretty(record) : `${JSON.stringify(record)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }, write, format),
  };
}
