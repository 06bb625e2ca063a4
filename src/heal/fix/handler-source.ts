import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { glob } from 'tinyglobby';
import ts from 'typescript';

/** Where an exported handler is defined. */
export interface HandlerSource {
  /** Repository-relative path with forward slashes. */
  file: string;
  exportName: string;
  declaration: 'function' | 'const';
  async: boolean;
  /** Number of declared parameters (a rest parameter counts as one). */
  parameters: number;
}

const IGNORE = ['**/node_modules/**', '**/dist/**', '**/*.d.ts', '**/*.test.*', '**/*.spec.*', '**/coverage/**'];

export function parseSource(file: string, text: string): ts.SourceFile {
  const kind = file.endsWith('x') ? (file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.JSX) : file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
}

function hasExport(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function isAsyncFn(fn: ts.SignatureDeclaration): boolean {
  return ts.canHaveModifiers(fn) && (ts.getModifiers(fn) ?? []).some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
}

export interface ExportedHandler {
  declaration: 'function' | 'const';
  /** The function declaration, or the variable declaration whose initializer is the function. */
  node: ts.FunctionDeclaration | ts.VariableDeclaration;
  fn: ts.SignatureDeclaration | undefined;
  statement: ts.Statement;
}

function localDeclaration(sf: ts.SourceFile, name: string): ExportedHandler | undefined {
  for (const statement of sf.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name?.text === name && statement.body !== undefined) {
      return { declaration: 'function', node: statement, fn: statement, statement };
    }
    if (ts.isVariableStatement(statement)) {
      for (const decl of statement.declarationList.declarations) {
        if (ts.isIdentifier(decl.name) && decl.name.text === name) {
          const init = decl.initializer;
          const fn = init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : undefined;
          return { declaration: 'const', node: decl, fn, statement };
        }
      }
    }
  }
  return undefined;
}

/** Finds `export function name`, `export const name = ...` or a local declaration exported by `export { name }`. */
export function findExportedHandler(sf: ts.SourceFile, name: string): ExportedHandler | undefined {
  const local = localDeclaration(sf, name);
  if (local === undefined) return undefined;
  if (hasExport(local.statement)) return local;
  const reExported = sf.statements.some(
    (s) =>
      ts.isExportDeclaration(s) &&
      s.moduleSpecifier === undefined &&
      s.exportClause !== undefined &&
      ts.isNamedExports(s.exportClause) &&
      s.exportClause.elements.some((e) => e.name.text === name && (e.propertyName === undefined || e.propertyName.text === name)),
  );
  return reExported ? local : undefined;
}

function preference(file: string, handler: string): number {
  const stem = basename(file).replace(/\.[^.]+$/, '');
  return (stem === handler ? 0 : 2) + (/\.[cm]?tsx?$/.test(file) ? 0 : 1);
}

/** Searches the handler globs for the file exporting `handler`; best match by file name, then TS over JS. */
export async function findHandlerSource(repoDir: string, globs: string[], handler: string): Promise<HandlerSource | undefined> {
  const files = await glob(globs, { cwd: repoDir, ignore: IGNORE, onlyFiles: true });
  files.sort((a, b) => preference(a, handler) - preference(b, handler) || a.localeCompare(b));
  for (const file of files) {
    const text = await readFile(join(repoDir, file), 'utf8');
    if (!text.includes(handler)) continue;
    const found = findExportedHandler(parseSource(file, text), handler);
    if (found === undefined) continue;
    return {
      file,
      exportName: handler,
      declaration: found.declaration,
      async: found.fn !== undefined && isAsyncFn(found.fn),
      parameters: found.fn?.parameters.length ?? 1,
    };
  }
  return undefined;
}
