import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One shell command as the docs give it, with where it is written. */
export interface DocCommand {
  file: string;
  line: number;
  command: string;
}

/** One fenced block, with its info string (`sh`, `yaml`, ...) and first content line. */
export interface DocBlock {
  file: string;
  line: number;
  lang: string;
  text: string;
}

/** README.md and every docs/*.md, relative to the repository root. */
export function docFiles(root: string): string[] {
  return ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
}

/** Every fenced code block (``` only; the docs use no ~~~ fences). */
export function fencedBlocks(file: string, markdown: string): DocBlock[] {
  const out: DocBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
    out.push({ file, line: i + 2, lang: open[1]!, text: body.join('\n') });
    i = j;
  }
  return out;
}

/** Drops a trailing ` # comment` that is not inside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

/**
 * The commands of a shell block: continuation lines joined, comments dropped, and `a && b`
 * split into two commands (each is classified and run on its own).
 */
export function shellCommands(block: DocBlock): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = stripComment(lines[i]!);
    while (text.endsWith('\\') && i + 1 < lines.length) text = `${text.slice(0, -1).trimEnd()} ${stripComment(lines[++i]!).trim()}`;
    if (text.trim() === '') continue;
    for (const part of text.split(/\s+&&\s+/)) out.push({ file: block.file, line: block.line + start, command: part.trim() });
  }
  return out;
}

/** Every shell command (```sh blocks) of README.md and docs/*.md. */
export function docCommands(root: string): DocCommand[] {
  return docFiles(root).flatMap((f) =>
    fencedBlocks(f, readFileSync(join(root, f), 'utf8'))
      .filter((b) => b.lang === 'sh')
      .flatMap(shellCommands),
  );
}

/** Every ```yaml block of README.md and docs/*.md. */
export function docYamlBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((f) => fencedBlocks(f, readFileSync(join(root, f), 'utf8')).filter((b) => b.lang === 'yaml'));
}
