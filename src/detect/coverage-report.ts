import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Test coverage of the application repository, reduced to what the coverage detector asks:
 * "is there a test that executes the function named like this handler?". Read from istanbul's
 * coverage-final.json (what vitest / jest / nyc write with the `json` reporter) or from lcov.info.
 */
export interface CoverageEntry {
  covered: boolean;
  /** Times the function ran under test (summed when several functions share the name). */
  hits: number;
  /** Repository-relative when a repoRoot was given (or the path was already relative). */
  file: string;
  line: number;
}

export interface FileCoverage {
  functions: number;
  coveredFunctions: number;
}

export interface CoverageIndex {
  /** Function name -> coverage. Anonymous functions whose name could not be resolved are left out. */
  handlers: Map<string, CoverageEntry>;
  files: Map<string, FileCoverage>;
}

/** Reads a source file's lines, or undefined when it is not available. */
export type SourceReader = (file: string) => string[] | undefined;

const IDENT = '[A-Za-z_$][\\w$]*';
// `const name = (`, `name: async function`, `name = x =>`: the name a function value is bound to.
const BOUND_BEFORE = new RegExp(`(${IDENT})\\s*[:=]\\s*(?:async\\s+)?(?:function\\b\\s*\\*?\\s*)?$`);
const BOUND_IN_LINE = new RegExp(`(?:const|let|var)\\s+(${IDENT})\\s*=\\s*(?:async\\s+)?(?:function\\b|\\(|${IDENT}\\s*=>)`);

export function isAnonymousName(name: string): boolean {
  return name === '' || /^\(anonymous_\d+\)$/.test(name) || name === '<anonymous>';
}

/**
 * Name an anonymous function from its source line: istanbul calls `const f = () => {}`
 * "(anonymous_N)", but the line says it is `f`. With a column, only the text before the function
 * is looked at; without (lcov), the first binding on the line.
 */
export function nameFromSource(line: string, column?: number): string | undefined {
  if (column !== undefined) {
    const m = BOUND_BEFORE.exec(line.slice(0, column));
    if (m) return m[1];
  }
  const m = BOUND_IN_LINE.exec(line);
  return m ? m[1] : undefined;
}

function fsReader(): SourceReader {
  const cache = new Map<string, string[] | undefined>();
  return (file) => {
    if (!cache.has(file)) cache.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : undefined);
    return cache.get(file);
  };
}

function displayPath(file: string, repoRoot: string | undefined): string {
  if (repoRoot === undefined || !isAbsolute(file)) return file;
  const rel = relative(repoRoot, file);
  return rel.startsWith('..') ? file : rel;
}

function sourcePath(file: string, repoRoot: string | undefined): string {
  return isAbsolute(file) || repoRoot === undefined ? file : resolve(repoRoot, file);
}

class IndexBuilder {
  readonly index: CoverageIndex = { handlers: new Map(), files: new Map() };

  add(name: string, file: string, line: number, hits: number): void {
    const fc = this.index.files.get(file) ?? { functions: 0, coveredFunctions: 0 };
    fc.functions++;
    if (hits > 0) fc.coveredFunctions++;
    this.index.files.set(file, fc);
    if (isAnonymousName(name)) return;
    const prev = this.index.handlers.get(name);
    if (prev === undefined) {
      this.index.handlers.set(name, { covered: hits > 0, hits, file, line });
      return;
    }
    // Same name in several places: covered if any is; point at the covered one.
    prev.hits += hits;
    if (!prev.covered && hits > 0) {
      prev.covered = true;
      prev.file = file;
      prev.line = line;
    }
  }
}

const PositionSchema = z.object({ line: z.number(), column: z.number().nullable().optional() });
const FnSchema = z.object({
  name: z.string(),
  decl: z.object({ start: PositionSchema }).optional(),
  loc: z.object({ start: PositionSchema }).optional(),
  line: z.number().optional(),
});
const IstanbulFileSchema = z.object({
  path: z.string().optional(),
  fnMap: z.record(z.string(), FnSchema),
  f: z.record(z.string(), z.number()),
});
const IstanbulSchema = z.record(z.string(), IstanbulFileSchema);

/**
 * Parses istanbul's coverage-final.json. `readSource` (default: the file system, only when
 * `repoRoot` is given) resolves anonymous names from the declaring line.
 */
export function parseIstanbulJson(json: unknown, repoRoot?: string, readSource?: SourceReader): CoverageIndex {
  const parsed = IstanbulSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`not an istanbul coverage-final.json: ${issue.path.join('.')}: ${issue.message}`);
  }
  const reader = readSource ?? (repoRoot !== undefined ? fsReader() : undefined);
  const b = new IndexBuilder();
  for (const [key, fileCov] of Object.entries(parsed.data)) {
    const abs = fileCov.path ?? key;
    const file = displayPath(abs, repoRoot);
    for (const [id, fn] of Object.entries(fileCov.fnMap)) {
      const start = fn.decl?.start ?? fn.loc?.start;
      const line = start?.line ?? fn.line ?? 0;
      let name = fn.name;
      if (isAnonymousName(name) && reader !== undefined && line > 0) {
        const text = reader(sourcePath(abs, repoRoot))?.[line - 1];
        const resolved = text === undefined ? undefined : nameFromSource(text, start?.column ?? undefined);
        if (resolved !== undefined) name = resolved;
      }
      b.add(name, file, line, fileCov.f[id] ?? 0);
    }
  }
  return b.index;
}

/**
 * Parses lcov.info (SF / FN / FNDA / end_of_record). Both `FN:<line>,<name>` and the lcov 2
 * `FN:<line>,<end line>,<name>` forms are read.
 */
export function parseLcov(text: string, repoRoot?: string, readSource?: SourceReader): CoverageIndex {
  const reader = readSource ?? (repoRoot !== undefined ? fsReader() : undefined);
  const b = new IndexBuilder();
  let file = '';
  let fns = new Map<string, number>();
  let hits = new Map<string, number>();
  const flush = (): void => {
    for (const [name, line] of fns) {
      let resolved = name;
      if (isAnonymousName(name) && reader !== undefined) {
        const src = reader(sourcePath(file, repoRoot))?.[line - 1];
        resolved = (src === undefined ? undefined : nameFromSource(src)) ?? name;
      }
      b.add(resolved, displayPath(file, repoRoot), line, hits.get(name) ?? 0);
    }
    fns = new Map();
    hits = new Map();
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('SF:')) file = line.slice(3);
    else if (line.startsWith('FN:')) {
      const parts = line.slice(3).split(',');
      const name = parts.slice(parts.length >= 3 && /^\d+$/.test(parts[1]!) ? 2 : 1).join(',');
      fns.set(name, Number(parts[0]));
    } else if (line.startsWith('FNDA:')) {
      const rest = line.slice(5);
      const comma = rest.indexOf(',');
      const name = rest.slice(comma + 1);
      hits.set(name, (hits.get(name) ?? 0) + Number(rest.slice(0, comma)));
    } else if (line === 'end_of_record') flush();
  }
  if (fns.size > 0) flush();
  return b.index;
}

/**
 * Loads coverage-final.json or lcov.info, chosen by extension, else by content. Relative lcov
 * paths are resolved against `repoRoot` (default: the current directory).
 */
export function loadCoverageReport(path: string, repoRoot?: string): CoverageIndex {
  const text = readFileSync(path, 'utf8');
  const root = repoRoot ?? process.cwd();
  const isJson = path.endsWith('.json') || (!path.endsWith('.info') && text.trimStart().startsWith('{'));
  if (!isJson) return parseLcov(text, root);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: invalid JSON: ${(err as Error).message}`);
  }
  try {
    return parseIstanbulJson(json, root);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/**
 * Finds a handler in the index: exact name first, then the last segment of a qualified name
 * (`CartService.addItem`, `cart#addItem`, `cart/addItem` -> `addItem`), because coverage tools
 * name methods without their class.
 */
export function findCoverage(index: CoverageIndex, handler: string): CoverageEntry | undefined {
  const exact = index.handlers.get(handler);
  if (exact !== undefined) return exact;
  const m = /[.#:/]([^.#:/]+)$/.exec(handler);
  return m ? index.handlers.get(m[1]!) : undefined;
}
