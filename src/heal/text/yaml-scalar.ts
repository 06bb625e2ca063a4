import { isDeepStrictEqual } from 'node:util';
import { isScalar, parseAllDocuments, Scalar, stringify, type Document } from 'yaml';

/** One scalar to change: document index in the stream and its path inside that document. */
export interface ScalarEdit {
  doc: number;
  path: Array<string | number>;
  value: string;
}

export class YamlEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlEditError';
  }
}

/** The value as a YAML scalar in the original's quoting style, written by the yaml serializer. */
export function renderScalar(value: string, type: Scalar['type']): string {
  const style = type === Scalar.QUOTE_SINGLE || type === Scalar.QUOTE_DOUBLE ? type : Scalar.PLAIN;
  let out = stringify(value, { defaultStringType: style, defaultKeyType: null, lineWidth: 0 }).replace(/\n$/, '');
  // A value the serializer would lay out as a block or over several lines is written double-quoted
  // (escapes keep it on one line), so it fits where the old scalar was.
  if (out.includes('\n')) out = stringify(value, { defaultStringType: Scalar.QUOTE_DOUBLE, doubleQuotedAsJSON: true, lineWidth: 0 }).replace(/\n$/, '');
  return out;
}

function documents(text: string): Document[] {
  return parseAllDocuments(text) as Document[];
}

/**
 * Replaces scalars in a YAML stream, keeping everything else byte for byte (comments, layout).
 * Each new scalar is written by the yaml serializer; the result is parsed again and must equal the
 * original with exactly these values changed, or YamlEditError is thrown: no value can add keys,
 * documents or anything else to the manifest.
 */
export function replaceScalars(text: string, edits: ScalarEdit[]): string {
  const before = documents(text);
  const splices: Array<{ start: number; end: number; text: string }> = [];
  for (const edit of edits) {
    const doc = before[edit.doc];
    const node = doc?.getIn(edit.path, true);
    if (!isScalar(node) || !node.range) throw new YamlEditError(`no scalar at document ${edit.doc} ${edit.path.join('.')}`);
    splices.push({ start: node.range[0], end: node.range[1], text: renderScalar(edit.value, node.type) });
  }
  let out = text;
  for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end);

  const after = documents(out);
  if (after.length !== before.length || after.some((d) => d.errors.length > 0)) throw new YamlEditError('the edited manifest does not parse to the same documents');
  before.forEach((doc, i) => {
    const expected = doc.toJS() as unknown;
    for (const e of edits.filter((x) => x.doc === i)) setIn(expected, e.path, e.value);
    if (!isDeepStrictEqual(after[i]!.toJS(), expected)) throw new YamlEditError(`document ${i} would change beyond the intended values`);
  });
  return out;
}

function setIn(target: unknown, path: Array<string | number>, value: unknown): void {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}
