import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** A file position named by a stack frame, as written in the trace. */
export interface FrameLocation {
  path: string;
  line: number;
  column?: number;
}

/** A frame position resolved to a file of the repository. */
export interface RepoLocation {
  /** Repository-relative, forward slashes. */
  file: string;
  line: number;
  column?: number;
  /** True when the trace named compiled output (dist/*.js) and the source file was guessed. */
  mapped: boolean;
}

const LOCATION = /(?:file:\/\/)?((?:[A-Za-z]:)?[^\s():]+?\.(?:[cm]?[jt]sx?)):(\d+)(?::(\d+))?/g;

/** All file:line[:column] positions in a top frame or stack trace, in order, skipping node internals and dependencies. */
export function parseFrameLocations(text: string): FrameLocation[] {
  const found: FrameLocation[] = [];
  for (const m of text.matchAll(LOCATION)) {
    const path = m[1]!.replace(/\\/g, '/');
    if (path.includes('/node_modules/') || path.startsWith('node:')) continue;
    found.push({ path, line: Number(m[2]), column: m[3] === undefined ? undefined : Number(m[3]) });
  }
  return found;
}

const COMPILED_DIR = /^(?:dist|build|lib|out)\//;

/** Source files a compiled path may come from: dist/src/x.js -> src/x.ts, dist/x.js -> src/x.ts. */
function sourceCandidates(path: string): string[] {
  if (!COMPILED_DIR.test(path) || !/\.[cm]?js$/.test(path)) return [];
  const inner = path.replace(COMPILED_DIR, '');
  const stems = [inner, 'src/' + inner].map((p) => p.replace(/\.([cm]?)js$/, ''));
  return stems.flatMap((stem) => ['.ts', '.tsx', '.mts', '.cts', '.js'].map((ext) => stem + ext));
}

/**
 * Finds the repository file a frame points at: an absolute path inside the repository is made
 * relative; otherwise the longest path suffix that exists in the repository wins (production runs
 * from another directory). Compiled output under dist/, build/, lib/ or out/ is mapped to the source
 * file by name only; the line is kept and callers search near it, since no source map is read.
 */
export function resolveInRepo(repoDir: string, frame: FrameLocation): RepoLocation | undefined {
  let path = frame.path;
  if (isAbsolute(path) && path.startsWith(repoDir + sep)) path = relative(repoDir, path).split(sep).join('/');
  // A frame path comes from telemetry: ".." must never lead outside the repository.
  const segments = path.split('/').filter((s) => s.length > 0 && s !== '.');
  if (segments.includes('..')) {
    const last = segments.lastIndexOf('..');
    segments.splice(0, last + 1);
  }
  for (let i = 0; i < segments.length; i++) {
    const suffix = segments.slice(i).join('/');
    if (!COMPILED_DIR.test(suffix) && existsSync(join(repoDir, suffix))) {
      return { file: suffix, line: frame.line, column: frame.column, mapped: false };
    }
    const source = sourceCandidates(suffix).find((c) => existsSync(join(repoDir, c)));
    if (source !== undefined) return { file: source, line: frame.line, column: frame.column, mapped: true };
  }
  return undefined;
}
