import { MAX_BEAT_INPUT_LENGTH } from '../model/beat.js';

/** Options of the optional handler-input capture (`beat.input`); capture is off unless given. */
export interface CaptureInputOptions {
  /** Longest JSON kept, in UTF-16 code units; at most (and by default) 512, what the sidecar keeps. */
  maxLength?: number;
  /**
   * Called for every leaf (string, number, boolean, null) with its dotted path (`user.email`,
   * `items.0.price`); the value returned is written instead, `undefined` leaves the leaf out.
   */
  redact?: (path: string, value: unknown) => unknown;
  /**
   * What to capture for a call, for apps whose conductor handlers unpack the data before calling
   * their own functions: given the handler's name and its two arguments (`data`, the conductor's
   * handler context), returns that function's input. By default `data` itself.
   */
  select?: (handler: string, data: unknown, context: unknown) => unknown;
}

/**
 * Keys the conductor adds to the data every handler receives (BeatExecutor, SequenceOrchestrator,
 * CallbackRegistry): not the app's input, and some hold live objects.
 */
const CONDUCTOR_KEYS = new Set([
  '_musicalContext',
  '_timestamp',
  '_eventBus',
  '_baton',
  '__mc_correlation_id__',
  'instanceId',
  'symphonyName',
  'resourceId',
  'conflictResult',
  'sequenceHash',
]);

const MAX_DEPTH = 8;

function copy(value: unknown, path: string, depth: number, seen: Set<object>, redact: CaptureInputOptions['redact']): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    const v = typeof value === 'number' && !Number.isFinite(value) ? null : value;
    return redact === undefined ? v : redact(path, v);
  }
  if (typeof value !== 'object' || depth >= MAX_DEPTH || seen.has(value)) return undefined;
  seen.add(value);
  try {
    const prefix = path === '' ? '' : `${path}.`;
    if (Array.isArray(value)) return value.map((item, i) => copy(item, `${prefix}${i}`, depth + 1, seen, redact) ?? null);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (depth === 0 && CONDUCTOR_KEYS.has(key)) continue;
      const c = copy(item, `${prefix}${key}`, depth + 1, seen, redact);
      if (c !== undefined) out[key] = c;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * The handler's input as JSON for `beat.input`, after redaction, or undefined when it does not
 * fit `maxLength` (a cut JSON could not be replayed, so nothing is sent rather than a prefix).
 * Functions, symbols, cycles and anything deeper than 8 levels are left out.
 */
export function captureInput(data: unknown, options: CaptureInputOptions, call?: { handler: string; context: unknown }): string | undefined {
  const max = Math.min(options.maxLength ?? MAX_BEAT_INPUT_LENGTH, MAX_BEAT_INPUT_LENGTH);
  let json: string | undefined;
  try {
    const input = options.select === undefined || call === undefined ? data : options.select(call.handler, data, call.context);
    json = JSON.stringify(copy(input, '', 0, new Set(), options.redact));
  } catch {
    return undefined; // a select or redact callback that throws, or a BigInt it returned
  }
  return json !== undefined && json.length <= max ? json : undefined;
}
