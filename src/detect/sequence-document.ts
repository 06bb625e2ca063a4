import { SequenceSchema, type Sequence } from '../model/sequence.js';

/**
 * What one parsed JSON file of a `json-sequences/` folder is: sequences, a manifest that lists
 * other files (possibly with inline sequences too), or something that is not a sequence (with
 * the reason it is skipped). Pure: the loader (sequence-files.ts) does the reading and following.
 *
 * The shapes are those of the RenderX repository's real files (docs/detection.md, "Declared
 * sequence files"): MusicalConductor's own `{id, name, movements: [{name, beats: [{beat, event,
 * handler, kind}]}]}`, the orchestration variants (`number`/`name` instead of `beat`/`event`, no
 * `id`, `handler: {name, scope, kind}`, `handlers: [{script}]`, a `{$schema, musicalSequence}`
 * wrapper) and `index.json` manifests (`sequences: [{file, handlersPath}]` or bare names).
 */
export interface ManifestEntry {
  /** Path as listed, relative to the manifest's folder, with `/` separators. */
  file: string;
  /** The npm package the listed sequence's handlers come from, when the manifest says. */
  handlersPath?: string;
}

export type SequenceDocument =
  | { kind: 'sequences'; sequences: Sequence[] }
  | { kind: 'manifest'; entries: ManifestEntry[]; sequences: Sequence[] }
  | { kind: 'skip'; reason: string };

export const SKIP_PACKAGE_JSON = 'npm package manifest (package.json), not a sequence';
export const SKIP_TSCONFIG = 'TypeScript configuration (compilerOptions), not a sequence';
export const SKIP_WORKFLOW = 'step/phase workflow (steps or phases, no movements), not a sequence';
export const SKIP_NOT_SEQUENCE = 'no movements, musicalSequence or sequences field, not a sequence';
export const SKIP_EMPTY_MANIFEST = 'sequences list is empty';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/** A beat number as written (a non-negative integer, or such a number in a string). */
function beatNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

class ShapeError extends Error {}

/** A Windows path (`node_modules\@scope\pkg\x.test.js`) with `/` separators; other paths unchanged. */
export function slashPath(path: string): string {
  return path.replace(/\\/g, '/');
}

function handlerOf(beat: Json): { name: string | undefined; kind: string | undefined } {
  const h = beat['handler'];
  if (typeof h === 'string') return { name: text(h), kind: undefined };
  if (isObject(h)) return { name: text(h['name']), kind: text(h['kind']) };
  // Script workflows list what a beat runs; the first entry stands for the beat.
  const list = beat['handlers'];
  if (Array.isArray(list) && isObject(list[0])) return { name: text(list[0]['name']) ?? text(list[0]['script']), kind: text(list[0]['kind']) };
  return { name: undefined, kind: undefined };
}

function normaliseBeat(beat: unknown, position: number, where: string): Json {
  if (!isObject(beat)) throw new ShapeError(`${where}: expected a beat object`);
  const { name: handler, kind: handlerKind } = handlerOf(beat);
  if (handler === undefined) throw new ShapeError(`${where}: no handler (handler, handler.name, handlers[0].name or handlers[0].script)`);
  const out: Json = { ...beat };
  out['beat'] = beatNumber(beat['beat']) ?? beatNumber(beat['number']) ?? position;
  // MusicalConductor keys a beat by its event; files without one name the beat instead.
  out['event'] = text(beat['event']) ?? text(beat['name']) ?? text(beat['id']) ?? handler;
  out['handler'] = handler;
  const kind = text(beat['kind']) ?? handlerKind;
  if (kind === undefined) delete out['kind'];
  else out['kind'] = kind;
  const testFile = text(beat['testFile']);
  if (testFile === undefined) delete out['testFile'];
  else out['testFile'] = slashPath(testFile);
  return out;
}

function normaliseSequence(seq: unknown, where: string): Sequence {
  const at = (field: string): string => (where === '' ? field : `${where}.${field}`);
  if (!isObject(seq)) throw new ShapeError(`${where === '' ? '(root)' : where}: expected a sequence object`);
  const id = text(seq['id']) ?? text(seq['sequenceId']) ?? text(seq['name']) ?? text(seq['title']);
  if (id === undefined) throw new ShapeError(`${where === '' ? '(root)' : where}: no id, sequenceId, name or title`);
  const movements = seq['movements'];
  if (!Array.isArray(movements) || movements.length === 0) throw new ShapeError(`${at('movements')}: expected a non-empty array of movements`);
  const out: Json = { ...seq, id, name: text(seq['name']) ?? text(seq['id']) ?? text(seq['sequenceId']) ?? id };
  out['movements'] = movements.map((m, mi) => {
    const mWhere = at(`movements.${String(mi)}`);
    if (!isObject(m)) throw new ShapeError(`${mWhere}: expected a movement object`);
    const beats = m['beats'];
    if (!Array.isArray(beats)) throw new ShapeError(`${mWhere}.beats: expected an array of beats`);
    return {
      ...m,
      name: text(m['name']) ?? text(m['title']) ?? text(m['id']) ?? `movement ${String(mi + 1)}`,
      beats: beats.map((b, bi) => normaliseBeat(b, bi + 1, `${mWhere}.beats.${String(bi)}`)),
    };
  });
  const parsed = SequenceSchema.safeParse(out);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ShapeError(`${at(issue.path.map((p) => String(p)).join('.')) || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

function notSequenceReason(doc: Json): string {
  if (isObject(doc['compilerOptions'])) return SKIP_TSCONFIG;
  if (typeof doc['name'] === 'string' && (isObject(doc['dependencies']) || isObject(doc['devDependencies']) || isObject(doc['scripts']))) return SKIP_PACKAGE_JSON;
  if (Array.isArray(doc['steps']) || Array.isArray(doc['phases'])) return SKIP_WORKFLOW;
  return SKIP_NOT_SEQUENCE;
}

/** A manifest's `sequences` list: file references (`{file}` or a bare name) and inline sequences. */
function readList(list: unknown[]): SequenceDocument {
  if (list.length === 0) return { kind: 'skip', reason: SKIP_EMPTY_MANIFEST };
  const entries: ManifestEntry[] = [];
  const sequences: Sequence[] = [];
  list.forEach((item, i) => {
    const where = `sequences.${String(i)}`;
    if (typeof item === 'string' && item.trim() !== '') {
      // slo-dashboard's index lists names ("dashboard.load") of files next to it.
      const file = slashPath(item.trim());
      entries.push({ file: file.endsWith('.json') ? file : `${file}.json` });
    } else if (isObject(item) && typeof item['file'] === 'string' && item['file'].trim() !== '') {
      const handlersPath = text(item['handlersPath']);
      entries.push({ file: slashPath(item['file'].trim()), ...(handlersPath !== undefined ? { handlersPath } : {}) });
    } else if (isObject(item) && (item['movements'] !== undefined || isObject(item['musicalSequence']))) {
      sequences.push(normaliseSequence(isObject(item['musicalSequence']) ? item['musicalSequence'] : item, where));
    } else {
      throw new ShapeError(`${where}: neither a file reference (file or a name) nor a sequence (movements)`);
    }
  });
  return entries.length > 0 ? { kind: 'manifest', entries, sequences } : { kind: 'sequences', sequences };
}

/** Classifies and normalises one parsed JSON document. Never throws: a bad shape is a skip reason. */
export function readSequenceDocument(json: unknown): SequenceDocument {
  try {
    if (Array.isArray(json)) {
      if (json.length === 0) return { kind: 'skip', reason: 'empty array, not a sequence' };
      return { kind: 'sequences', sequences: json.map((item, i) => normaliseSequence(isObject(item) && isObject(item['musicalSequence']) ? item['musicalSequence'] : item, String(i))) };
    }
    if (!isObject(json)) return { kind: 'skip', reason: `${json === null ? 'null' : typeof json}, not a sequence` };
    if (isObject(json['musicalSequence'])) return { kind: 'sequences', sequences: [normaliseSequence(json['musicalSequence'], 'musicalSequence')] };
    if (json['movements'] !== undefined) return { kind: 'sequences', sequences: [normaliseSequence(json, '')] };
    if (Array.isArray(json['sequences'])) return readList(json['sequences']);
    return { kind: 'skip', reason: notSequenceReason(json) };
  } catch (err) {
    if (err instanceof ShapeError) return { kind: 'skip', reason: err.message };
    throw err;
  }
}
