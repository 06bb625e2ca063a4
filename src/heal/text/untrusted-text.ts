/**
 * The one rule every context-specific escaper starts from: text that came from telemetry loses the
 * characters that change how the rest of a line is shown or parsed (C0/C1 controls, ANSI escape
 * sequences, bidirectional overrides that reorder what a reviewer reads, zero-width characters) and
 * is cut to a known length. What else a context needs (quoting, fencing) is in that context's module.
 */

// ESC [ ... final byte, and ESC followed by one character: the ANSI sequences a terminal acts on.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;
// C0 controls except TAB and LF, DEL, C1 controls.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// Bidi embeddings/overrides/isolates and marks, zero-width characters and the BOM.
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

export interface CleanOptions {
  /** Keep line breaks (as LF); otherwise every run of whitespace becomes one space. */
  multiline?: boolean;
  /** Longest result in code points; longer text is cut and ends with an ellipsis. */
  maxLength: number;
}

/** Cuts to `max` code points (never inside a surrogate pair), marking the cut with an ellipsis. */
export function bound(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return points.slice(0, Math.max(0, max - 1)).join('') + '\u2026';
}

/** Telemetry text without controls, ANSI sequences and invisible characters, bounded. */
export function cleanText(text: string, opts: CleanOptions): string {
  let out = String(text)
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(ANSI, '')
    .replace(CONTROL, '')
    .replace(INVISIBLE, '');
  out = opts.multiline ? out.replace(/[ \t]+$/gm, '').replace(/\n{3,}/g, '\n\n').trim() : out.replace(/\s+/g, ' ').trim();
  return bound(out, opts.maxLength);
}
