import { cleanText } from './untrusted-text.js';

// Bidi controls inside a literal or comment reorder what a reviewer sees (CVE-2021-42574,
// "Trojan Source"); in a literal they are written as escapes so the value is kept but visible.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const escapeBidi = (s: string): string => s.replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A single-quoted JavaScript string literal that no input can break out of. */
export function quote(text: string): string {
  const body = text
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `'${escapeBidi(body)}'`;
}

/** A JSON value as a JavaScript expression (JSON is valid JS since ES2019; bidi controls escaped). */
export function jsonLiteral(value: unknown, indent = 2): string {
  return escapeBidi(JSON.stringify(value, null, indent).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`));
}

/** `//` comment lines for telemetry text: each line break starts a new comment; no controls, bounded. */
export function lineComments(lines: string[], maxLength = 500): string[] {
  return lines.flatMap((l) => cleanText(l, { multiline: true, maxLength }).split('\n')).map((l) => (l === '' ? '//' : `// ${l}`));
}

const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for function if import in ' +
    'instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface ' +
    'package private protected public await arguments eval undefined NaN Infinity').split(' '),
);

/** The name when it can be written as a JavaScript identifier in generated code, else undefined. */
export function codeIdentifier(name: string): string | undefined {
  return /^[A-Za-z_$][A-Za-z0-9_$]{0,127}$/.test(name) && !RESERVED.has(name) ? name : undefined;
}
