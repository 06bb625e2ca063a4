import { readFile, realpath } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import type { Sequence } from '../model/sequence.js';
import { readSequenceDocument } from './sequence-document.js';
import { resolveTestFile } from './test-file-location.js';

/**
 * Loads declared MusicalConductor sequence files. Every file matched by the globs, and every file
 * an `index.json` manifest lists, is read once (by real path, so manifests that list each other
 * or themselves end); each one is loaded or skipped with a reason, and one bad file never stops
 * the others. Duplicate sequence names keep the first file's (files in sorted path order,
 * a manifest's entries right after the manifest).
 */
export interface SequenceFileOutcome {
  /** As matched or listed (absolute). */
  file: string;
  status: 'loaded' | 'manifest' | 'skipped';
  /** Sequences kept from this file. */
  sequences: number;
  /** Sequences of this file already loaded (same name) from an earlier one. */
  duplicates: number;
  /** Why the file was skipped (status 'skipped'). */
  reason?: string;
}

export interface SequenceLoad {
  sequences: Sequence[];
  files: SequenceFileOutcome[];
  skipped: Array<{ file: string; reason: string }>;
}

export interface SequenceLoadOptions {
  /** Declared `testFile`s are resolved against this repository (default: cwd). */
  repoRoot?: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Reads one file's text (a UTF-8 BOM is dropped: editors on Windows write one). */
async function readText(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export async function loadSequenceFiles(globs: string[], cwd: string, opts: SequenceLoadOptions = {}): Promise<SequenceLoad> {
  const load: SequenceLoad = { sequences: [], files: [], skipped: [] };
  if (globs.length === 0) return load;
  const repoRoot = opts.repoRoot ?? cwd;
  const matched = (await glob(globs, { cwd, absolute: true, onlyFiles: true })).sort();
  const seen = new Set<string>();
  const names = new Set<string>();
  const skip = (outcome: SequenceFileOutcome, reason: string): void => {
    outcome.status = 'skipped';
    outcome.reason = reason;
    load.skipped.push({ file: outcome.file, reason });
  };
  const keep = (outcome: SequenceFileOutcome, sequences: Sequence[]): void => {
    for (const seq of sequences) {
      if (names.has(seq.name)) {
        outcome.duplicates++;
        continue;
      }
      names.add(seq.name);
      outcome.sequences++;
      for (const movement of seq.movements) {
        for (const beat of movement.beats) if (beat.testFile !== undefined) beat.testFile = resolveTestFile(beat.testFile, repoRoot);
      }
      load.sequences.push(seq);
    }
  };
  const visit = async (file: string, listedBy: string | undefined): Promise<void> => {
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      const reason = listedBy === undefined ? 'file not found' : `listed in ${relative(cwd, listedBy) || listedBy} but not found`;
      const outcome: SequenceFileOutcome = { file, status: 'skipped', sequences: 0, duplicates: 0 };
      skip(outcome, reason);
      load.files.push(outcome);
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    const outcome: SequenceFileOutcome = { file, status: 'loaded', sequences: 0, duplicates: 0 };
    load.files.push(outcome);
    let json: unknown;
    try {
      json = JSON.parse(await readText(file));
    } catch (err) {
      skip(outcome, err instanceof SyntaxError ? `invalid JSON: ${err.message}` : `unreadable: ${errorText(err)}`);
      return;
    }
    const doc = readSequenceDocument(json);
    if (doc.kind === 'skip') {
      skip(outcome, doc.reason);
      return;
    }
    keep(outcome, doc.sequences);
    if (doc.kind === 'manifest') {
      outcome.status = 'manifest';
      for (const entry of doc.entries) await visit(resolve(dirname(file), entry.file), file);
    }
  };
  for (const file of matched) await visit(file, undefined);
  return load;
}

/** One line per skipped file, for the sidecar's log and the analyze summary. */
export function skippedLine(cwd: string, s: { file: string; reason: string }): string {
  return `sequence file skipped: ${relative(cwd, s.file) || s.file}: ${s.reason}`;
}
