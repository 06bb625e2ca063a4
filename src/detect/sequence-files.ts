import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { SequenceSchema, type Sequence } from '../model/sequence.js';

/**
 * Loads declared MusicalConductor sequence files. A file holds one sequence, an array of them, or
 * `{ "sequences": [...] }`. Every sequence is validated; an error names the file and the field
 * (`checkout.json: movements.0.beats.1.handler: ...`). Duplicate names keep the first file's.
 */
function pathOf(path: PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

function candidates(json: unknown): { items: unknown[]; prefix: string } {
  if (Array.isArray(json)) return { items: json, prefix: '' };
  if (json !== null && typeof json === 'object' && Array.isArray((json as { sequences?: unknown }).sequences)) {
    return { items: (json as { sequences: unknown[] }).sequences, prefix: 'sequences.' };
  }
  return { items: [json], prefix: '' };
}

export function parseSequenceFile(text: string, file: string): Sequence[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: invalid JSON: ${(err as Error).message}`);
  }
  const { items, prefix } = candidates(json);
  const multi = Array.isArray(json) || prefix !== '';
  return items.map((item, i) => {
    const parsed = SequenceSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const where = `${multi ? `${prefix}${i}.` : ''}${pathOf(issue.path)}`;
      throw new Error(`${file}: ${where === '' ? '(root)' : where}: ${issue.message}`);
    }
    return parsed.data;
  });
}

export async function loadSequenceFiles(globs: string[], cwd: string): Promise<Sequence[]> {
  if (globs.length === 0) return [];
  const files = (await glob(globs, { cwd, absolute: true, onlyFiles: true })).sort();
  const out: Sequence[] = [];
  const names = new Set<string>();
  for (const file of files) {
    const text = await readFile(resolve(cwd, file), 'utf8');
    for (const seq of parseSequenceFile(text, file)) {
      if (names.has(seq.name)) continue;
      names.add(seq.name);
      out.push(seq);
    }
  }
  return out;
}
