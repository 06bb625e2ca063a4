import { posix } from 'node:path';
import ts from 'typescript';
import { capturedCalls, repeatRatio } from './captured-inputs.js';
import { EditSession, finishEdits } from './edit-session.js';
import { bareHandlerName, handlerIdentifier, readFixFacts } from './facts.js';
import { findExportedHandler, findHandlerSource, parseSource } from './handler-source.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';

/** Memoizing only pays off when most production inputs were seen before. */
export const MIN_REPEAT_RATIO = 0.5;
/** Below this many captured calls the repeat ratio means little. */
export const MIN_CALLS = 5;
export const MEMO_ENTRIES = 256;
export const MEMO_MODULE = 'bounded-memo';
const MEMO_FN = 'boundedMemo';

/** The helper module added next to the handler (written once, reused by later memoize fixes). */
export function memoModuleSource(typescript: boolean): string {
  const t = (s: string): string => (typescript ? s : '');
  return `// Added by self-healing: a bounded least-recently-used memo for pure handlers.
// Keys are the JSON of the arguments, so only use it for functions of plain data whose result
// depends on nothing else; cached results are shared between callers and must not be mutated.
export function ${MEMO_FN}${t('<A extends unknown[], R>')}(fn${t(': (...args: A) => R')}, maxEntries${t(': number')})${t(': (...args: A) => R')} {
  const cache = new Map${t('<string, R>')}();
  return (...args${t(': A')})${t(': R')} => {
    const key = JSON.stringify(args);
    if (cache.has(key)) {
      const hit = cache.get(key)${t(' as R')};
      cache.delete(key);
      cache.set(key, hit);
      return hit;
    }
    const result = fn(...args);
    cache.set(key, result);
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value${t(' as string')});
    return result;
  };
}
`;
}

export interface MemoEdit {
  text: string;
  uncachedName: string;
}

/**
 * Wraps the exported handler in boundedMemo, using AST positions:
 *   export function f(...) {...}  ->  function fUncached(...) {...}
 *                                     export const f = boundedMemo(fUncached, N);
 *   export const f = (...) => ...  ->  export const f = boundedMemo((...) => ..., N);
 * and adds the helper import after the last import. Overloaded or generic functions are left
 * alone (wrapping would lose their signatures).
 */
export function wrapWithMemo(file: string, text: string, handler: string, importPath: string, maxEntries: number): MemoEdit | undefined {
  const sf = parseSource(file, text);
  const found = findExportedHandler(sf, handler);
  if (found?.fn === undefined || found.fn.typeParameters !== undefined) return undefined;
  const overloads = sf.statements.filter((s) => ts.isFunctionDeclaration(s) && s.name?.text === handler).length;
  if (overloads > 1) return undefined;
  if (sf.statements.some((s) => ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text === importPath)) {
    return undefined;
  }
  const printer = ts.createPrinter();
  const f = ts.factory;
  const uncachedName = `${handler}Uncached`;
  const splices: Array<{ start: number; end: number; text: string }> = [];
  if (found.declaration === 'function' && ts.isFunctionDeclaration(found.node) && found.node.name !== undefined) {
    const exportKeyword = (ts.getModifiers(found.node) ?? []).find((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (exportKeyword !== undefined) splices.push({ start: exportKeyword.getStart(sf), end: exportKeyword.getEnd() + 1, text: '' });
    splices.push({ start: found.node.name.getStart(sf), end: found.node.name.getEnd(), text: uncachedName });
    const wrapper = f.createVariableStatement(
      exportKeyword !== undefined ? [f.createModifier(ts.SyntaxKind.ExportKeyword)] : undefined,
      f.createVariableDeclarationList(
        [
          f.createVariableDeclaration(
            handler,
            undefined,
            undefined,
            f.createCallExpression(f.createIdentifier(MEMO_FN), undefined, [f.createIdentifier(uncachedName), f.createNumericLiteral(maxEntries)]),
          ),
        ],
        ts.NodeFlags.Const,
      ),
    );
    splices.push({ start: found.node.getEnd(), end: found.node.getEnd(), text: '\n\n' + printer.printNode(ts.EmitHint.Unspecified, wrapper, sf) });
  } else if (ts.isVariableDeclaration(found.node) && found.node.initializer !== undefined) {
    const init = found.node.initializer;
    const call = f.createCallExpression(f.createIdentifier(MEMO_FN), undefined, [init, f.createNumericLiteral(maxEntries)]);
    splices.push({ start: init.getStart(sf), end: init.getEnd(), text: printer.printNode(ts.EmitHint.Expression, call, sf) });
  } else return undefined;

  const importDecl = f.createImportDeclaration(
    undefined,
    f.createImportClause(false, undefined, f.createNamedImports([f.createImportSpecifier(false, undefined, f.createIdentifier(MEMO_FN))])),
    f.createStringLiteral(importPath, true),
  );
  const lastImport = [...sf.statements].reverse().find((s) => ts.isImportDeclaration(s));
  const importText = printer.printNode(ts.EmitHint.Unspecified, importDecl, sf);
  splices.push(
    lastImport !== undefined
      ? { start: lastImport.getEnd(), end: lastImport.getEnd(), text: '\n' + importText }
      : { start: 0, end: 0, text: importText + '\n\n' },
  );
  let out = text;
  for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return { text: out, uncachedName };
}

function kindOf(ctx: FixContext, handler: string, declared: string | undefined): string | undefined {
  if (declared !== undefined && declared !== '') return declared;
  return ctx.beats.find((b) => bareHandlerName(b.handler) === handler && b.kind !== '')?.kind;
}

/** Repeat ratio of the captured inputs, or the diagnosis' own figure when too few inputs were captured. */
function measuredRepetition(ctx: FixContext, handler: string): number | undefined {
  const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
  const calls = capturedCalls(ctx.beats, handler, facts.sampleInputs);
  return calls.length >= MIN_CALLS ? repeatRatio(calls) : facts.inputRepetition;
}

/** A pure, slow handler whose production inputs repeat gets a bounded LRU memo around its export. */
export class MemoizeStrategy implements FixStrategy {
  readonly kind = 'memoize' as const;

  applicable(ctx: FixContext): boolean {
    if (!ctx.diagnosis.recommendedFixes.includes('memoize') || ctx.anomaly.type !== 'performance') return false;
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    if (facts.handler === undefined) return false;
    const handler = bareHandlerName(facts.handler);
    if (kindOf(ctx, handler, facts.kind) !== 'pure') return false;
    return (measuredRepetition(ctx, handler) ?? 0) >= MIN_REPEAT_RATIO;
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    const handler = facts.handler === undefined ? undefined : handlerIdentifier(facts.handler);
    if (handler === undefined) return undefined;
    const source = await findHandlerSource(ctx.repoDir, ctx.heal.repository.handlerGlobs, handler);
    if (source === undefined) return undefined;
    const typescript = /\.[cm]?tsx?$/.test(source.file);
    const dir = posix.dirname(source.file);
    const ext = typescript ? '.ts' : '.js';
    const helperFile = posix.join(dir, MEMO_MODULE + ext);
    const session = new EditSession(ctx.repoDir);
    const edit = wrapWithMemo(source.file, await session.read(source.file), handler, `./${MEMO_MODULE}.js`, MEMO_ENTRIES);
    if (edit === undefined) return undefined;
    if (!session.exists(helperFile)) await session.write(helperFile, memoModuleSource(typescript));
    await session.write(source.file, edit.text);
    const ratio = measuredRepetition(ctx, handler) ?? 0;
    return finishEdits(session, {
      kind: this.kind,
      title: `Memoize pure handler ${handler}`,
      description: [
        `${handler} is declared pure and ${String(Math.round(ratio * 100))} % of its production inputs repeat,`,
        `so its export is wrapped in a ${String(MEMO_ENTRIES)}-entry LRU memo (${helperFile}); the original`,
        `function stays available as ${edit.uncachedName}. Observed p95 ${String(facts.observed.p95Ms ?? '?')} ms vs baseline ${String(facts.baseline.p95Ms ?? '?')} ms.`,
      ].join(' '),
      claims: facts.baseline.p95Ms !== undefined ? { latencyBudgetMs: facts.baseline.p95Ms } : {},
    });
  }
}
