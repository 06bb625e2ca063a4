import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

/** One problem found by a syntax check; `line` is 1-based when known. */
export interface SyntaxProblem {
  file: string;
  line?: number;
  message: string;
}

export class SyntaxCheckError extends Error {
  constructor(readonly problems: SyntaxProblem[]) {
    super(
      'syntax check failed: ' +
        problems.map((p) => `${p.file}${p.line === undefined ? '' : ':' + String(p.line)}: ${p.message}`).join('; '),
    );
    this.name = 'SyntaxCheckError';
  }
}

const SCRIPT_EXTENSIONS = /\.(?:[cm]?[jt]sx?)$/;

/** Syntactic (not type) diagnostics of a TypeScript/JavaScript file, via the compiler's parser. */
export function checkScript(file: string, text: string): SyntaxProblem[] {
  const result = ts.transpileModule(text, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, allowJs: true, jsx: ts.JsxEmit.Preserve },
  });
  return (result.diagnostics ?? []).map((d) => {
    const line = d.file !== undefined && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : undefined;
    return { file, line, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
  });
}

export function checkJson(file: string, text: string): SyntaxProblem[] {
  try {
    JSON.parse(text);
    return [];
  } catch (err) {
    return [{ file, message: (err as Error).message }];
  }
}

export function checkYaml(file: string, text: string): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  for (const doc of parseAllDocuments(text)) {
    for (const e of doc.errors) problems.push({ file, line: e.linePos?.[0]?.line, message: e.message });
  }
  return problems;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}(#{1,6})(?:\s|$)/;

/** Splits a Markdown table row into cells, honouring escaped pipes and optional outer pipes. */
export function tableCells(row: string): string[] {
  let body = row.trim();
  if (body.startsWith('|')) body = body.slice(1);
  if (body.endsWith('|') && !body.endsWith('\\|')) body = body.slice(0, -1);
  const cells: string[] = [];
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && body[i + 1] === '|') {
      current += '\\|';
      i++;
    } else if (ch === '|') {
      cells.push(current.trim());
      current = '';
    } else current += ch;
  }
  cells.push(current.trim());
  return cells;
}

const DELIMITER_ROW = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/**
 * Markdown has no syntax errors as such, so this checks the structure a generated edit can break:
 * code fences are closed, heading levels never skip (## to ####), and every table row has as many
 * cells as the table's header.
 */
export function checkMarkdown(file: string, text: string): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const lines = text.split('\n');
  let fence: { marker: string; line: number } | undefined;
  let lastLevel = 0;
  let tableColumns: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      const closing = fenceMatch?.[1];
      if (closing !== undefined && closing[0] === fence.marker[0] && closing.length >= fence.marker.length && line.trim() === closing) {
        fence = undefined;
      }
      continue;
    }
    if (fenceMatch?.[1] !== undefined) {
      fence = { marker: fenceMatch[1], line: i + 1 };
      tableColumns = undefined;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading?.[1] !== undefined) {
      const level = heading[1].length;
      if (lastLevel > 0 && level > lastLevel + 1) {
        problems.push({ file, line: i + 1, message: `heading level ${String(level)} follows level ${String(lastLevel)}` });
      }
      lastLevel = level;
    }
    const next = lines[i + 1];
    if (tableColumns === undefined && line.includes('|') && next !== undefined && DELIMITER_ROW.test(next) && next.includes('-')) {
      tableColumns = tableCells(line).length;
      const delimiterColumns = tableCells(next).length;
      if (delimiterColumns !== tableColumns) {
        problems.push({ file, line: i + 2, message: `table delimiter has ${String(delimiterColumns)} cells, header has ${String(tableColumns)}` });
      }
      i++;
      continue;
    }
    if (tableColumns !== undefined) {
      if (line.trim() === '' || !line.includes('|')) tableColumns = undefined;
      else {
        const cells = tableCells(line).length;
        if (cells !== tableColumns) {
          problems.push({ file, line: i + 1, message: `table row has ${String(cells)} cells, header has ${String(tableColumns)}` });
        }
      }
    }
  }
  if (fence !== undefined) problems.push({ file, line: fence.line, message: 'code fence is never closed' });
  return problems;
}

/** Checks one file by its extension; unknown kinds pass (there is nothing to parse them with). */
export function checkFileSyntax(file: string, text: string): SyntaxProblem[] {
  if (SCRIPT_EXTENSIONS.test(file)) return checkScript(file, text);
  if (file.endsWith('.json')) return checkJson(file, text);
  if (/\.ya?ml$/.test(file)) return checkYaml(file, text);
  if (/\.(?:md|markdown)$/.test(file)) return checkMarkdown(file, text);
  return [];
}

/** Throws SyntaxCheckError listing every problem across the files. */
export function assertSyntax(files: Array<{ file: string; text: string }>): void {
  const problems = files.flatMap((f) => checkFileSyntax(f.file, f.text));
  if (problems.length > 0) throw new SyntaxCheckError(problems);
}
