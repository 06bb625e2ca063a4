import ts from 'typescript';
import { EditSession, finishEdits } from './edit-session.js';
import { readFixFacts } from './facts.js';
import { markdownInline } from '../text/markdown.js';
import { parseSource } from './handler-source.js';
import { parseFrameLocations, resolveInRepo, type RepoLocation } from './stack-location.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';

/** What the runtime error says was missing. */
export type NullAccess =
  | { kind: 'read'; property: string }
  | { kind: 'call'; callee: string }
  | { kind: 'iterate'; expression: string | undefined };

/** Recognises V8's null/undefined access messages (current and pre-Node-16 wording). */
export function classifyNullAccess(message: string): NullAccess | undefined {
  const read =
    /Cannot read propert(?:y|ies) of (?:undefined|null) \(reading '([^']+)'\)/.exec(message) ??
    /Cannot read property '([^']+)' of (?:undefined|null)/.exec(message);
  if (read?.[1] !== undefined) return { kind: 'read', property: read[1] };
  const call = /^(?:\w*Error: )?(\S+) is not a function/.exec(message);
  if (call?.[1] !== undefined) return { kind: 'call', callee: call[1] };
  const iterate = /^(?:\w*Error: )?(\S+) is not iterable/.exec(message);
  if (iterate?.[1] !== undefined) return { kind: 'iterate', expression: iterate[1] === 'undefined' || iterate[1] === 'null' ? undefined : iterate[1] };
  return undefined;
}

export interface GuardEdit {
  text: string;
  line: number;
  before: string;
  after: string;
  /** 'rewrite': the access itself changed; 'early-return': a guard statement was inserted before it. */
  style: 'rewrite' | 'early-return';
}

function isAssignmentTarget(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    (ts.isBinaryExpression(parent) &&
      parent.left === node &&
      parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment) ||
    ((ts.isPrefixUnaryExpression(parent) || ts.isPostfixUnaryExpression(parent)) &&
      (parent.operator === ts.SyntaxKind.PlusPlusToken || parent.operator === ts.SyntaxKind.MinusMinusToken)) ||
    ts.isDeleteExpression(parent)
  );
}

const factory = ts.factory;

/**
 * The whole access chain made optional: `profile.address.city` -> `profile?.address?.city`. The
 * error names only the last property read, but any earlier link may be the missing one next time;
 * guarding one link (`profile?.address.city`) still throws when `address` is missing. The chain
 * stops at calls and other non-access expressions; `this` / `super` are never nullish.
 */
function optionalChain(node: ts.Expression): ts.Expression {
  const q = (): ts.QuestionDotToken => factory.createToken(ts.SyntaxKind.QuestionDotToken);
  const root = (e: ts.Expression): boolean => e.kind === ts.SyntaxKind.ThisKeyword || e.kind === ts.SyntaxKind.SuperKeyword;
  if (ts.isPropertyAccessExpression(node) && !ts.isPrivateIdentifier(node.name)) {
    return root(node.expression) ? node : factory.createPropertyAccessChain(optionalChain(node.expression), q(), node.name);
  }
  if (ts.isElementAccessExpression(node)) {
    return root(node.expression) ? node : factory.createElementAccessChain(optionalChain(node.expression), q(), node.argumentExpression);
  }
  return node;
}

/** The replacement node for a candidate, or undefined when the node does not match the error. */
function rewrite(node: ts.Node, access: NullAccess): ts.Expression | undefined {
  if (access.kind === 'read') {
    if (ts.isPropertyAccessExpression(node) && node.questionDotToken === undefined && node.name.text === access.property && !isAssignmentTarget(node)) {
      return optionalChain(node);
    }
    if (
      ts.isElementAccessExpression(node) &&
      node.questionDotToken === undefined &&
      (ts.isStringLiteral(node.argumentExpression) || ts.isNumericLiteral(node.argumentExpression)) &&
      node.argumentExpression.text === access.property &&
      !isAssignmentTarget(node)
    ) {
      return optionalChain(node);
    }
    return undefined;
  }
  if (access.kind === 'call') {
    if (ts.isCallExpression(node) && node.questionDotToken === undefined && node.expression.getText() === access.callee) {
      return factory.createCallChain(node.expression, factory.createToken(ts.SyntaxKind.QuestionDotToken), node.typeArguments, node.arguments);
    }
    return undefined;
  }
  if (node.parent === undefined) return undefined;
  const matches = (e: ts.Expression): boolean => access.expression === undefined || e.getText() === access.expression;
  if (ts.isSpreadElement(node) && matches(node.expression) && (ts.isArrayLiteralExpression(node.parent) || ts.isCallExpression(node.parent))) {
    return factory.createSpreadElement(
      factory.createParenthesizedExpression(factory.createBinaryExpression(node.expression, ts.SyntaxKind.QuestionQuestionToken, factory.createArrayLiteralExpression([]))),
    );
  }
  if (ts.isForOfStatement(node.parent) && node.parent.expression === node && ts.isExpression(node) && matches(node)) {
    return factory.createBinaryExpression(node, ts.SyntaxKind.QuestionQuestionToken, factory.createArrayLiteralExpression([]));
  }
  return undefined;
}

/** Position that identifies where V8 reports the failing access (the property name, the call, ...). */
function reportedPosition(node: ts.Node): number {
  if (ts.isPropertyAccessExpression(node)) return node.name.getStart();
  if (ts.isElementAccessExpression(node)) return node.argumentExpression.getStart();
  return node.getStart();
}

/**
 * Rewrites the access that failed at `location` so a missing value short-circuits instead of
 * throwing: `a.b.c` -> `a.b?.c`, `a[0]` -> `a?.[0]`, `f.g()` -> `f.g?.()`, `for (x of xs)` ->
 * `for (x of xs ?? [])`, `[...xs]` -> `[...(xs ?? [])]`. When the value read is stored and then
 * dereferenced again in a function that returns nothing, an early `if (a.b == null) return;` is
 * inserted before the statement instead (see earlyReturnGuard). The node is found in the AST on the reported
 * line (nearest lines after it when the location was mapped from compiled output), the replacement
 * is built with the compiler's factory and printed for that node only, so the rest of the file keeps
 * its text.
 */
export function applyGuard(file: string, text: string, location: Pick<RepoLocation, 'line' | 'column' | 'mapped'>, access: NullAccess): GuardEdit | undefined {
  const sf = parseSource(file, text);
  const candidates: Array<{ node: ts.Node; replacement: ts.Expression; line: number; column: number }> = [];
  const visit = (node: ts.Node): void => {
    const replacement = rewrite(node, access);
    if (replacement !== undefined) {
      const pos = sf.getLineAndCharacterOfPosition(reportedPosition(node));
      candidates.push({ node, replacement, line: pos.line + 1, column: pos.character + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const window = location.mapped ? 10 : 0;
  const near = candidates
    .filter((c) => Math.abs(c.line - location.line) <= window)
    .sort(
      (a, b) =>
        Math.abs(a.line - location.line) - Math.abs(b.line - location.line) ||
        Math.abs(a.column - (location.column ?? a.column)) - Math.abs(b.column - (location.column ?? b.column)),
    );
  const chosen = near[0];
  if (chosen === undefined) return undefined;
  const printer = ts.createPrinter({ removeComments: false });
  const early = earlyReturnGuard(sf, chosen.node, printer);
  if (early !== undefined) {
    return { text: text.slice(0, early.insertAt) + early.text + text.slice(early.insertAt), line: chosen.line, before: chosen.node.getText(sf), after: early.guard, style: 'early-return' };
  }
  const printed = printer.printNode(ts.EmitHint.Unspecified, chosen.replacement, sf);
  const start = chosen.node.getStart(sf);
  const end = chosen.node.getEnd();
  return { text: text.slice(0, start) + printed + text.slice(end), line: chosen.line, before: chosen.node.getText(sf), after: printed, style: 'rewrite' };
}

type FunctionLike = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration;

function enclosingFunction(node: ts.Node): FunctionLike | undefined {
  for (let n: ts.Node | undefined = node.parent; n !== undefined; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n)) return n;
  }
  return undefined;
}

/** True when the function never returns a value, so a bare `return;` keeps its contract. */
function returnsNothing(fn: FunctionLike): boolean {
  if (fn.body === undefined || !ts.isBlock(fn.body)) return false;
  if (fn.type !== undefined && fn.type.kind !== ts.SyntaxKind.VoidKeyword && !/^Promise<void>$/.test(fn.type.getText())) return false;
  let valued = false;
  const visit = (n: ts.Node): void => {
    if (ts.isReturnStatement(n) && n.expression !== undefined) valued = true;
    if (!ts.isFunctionLike(n)) ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn.body, visit);
  return !valued;
}

/** Whether `name` is dereferenced without `?.` after `from` inside `scope`. */
function dereferencedLater(scope: ts.Node, name: string, from: number): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (
      (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n) || ts.isCallExpression(n)) &&
      n.questionDotToken === undefined &&
      ts.isIdentifier(n.expression) &&
      n.expression.text === name &&
      n.getStart() > from
    ) {
      found = true;
      return;
    }
    ts.forEachChild(n, visit);
  };
  visit(scope);
  return found;
}

/**
 * When the value read is stored (`const v = a.b.c;`) and then dereferenced again, `?.` would only
 * move the crash; in a function that returns nothing, `if (a.b == null) return;` before the
 * statement is the honest fix. Returns undefined when that shape does not apply.
 */
function earlyReturnGuard(sf: ts.SourceFile, node: ts.Node, printer: ts.Printer): { insertAt: number; text: string; guard: string } | undefined {
  if (!ts.isPropertyAccessExpression(node) && !ts.isElementAccessExpression(node)) return undefined;
  const decl = node.parent;
  if (!ts.isVariableDeclaration(decl) || decl.initializer !== node || !ts.isIdentifier(decl.name)) return undefined;
  const statement = decl.parent.parent;
  const fn = enclosingFunction(node);
  if (!ts.isVariableStatement(statement) || fn === undefined || fn.body === undefined || !returnsNothing(fn)) return undefined;
  if (!dereferencedLater(fn.body, decl.name.text, statement.getEnd())) return undefined;
  const f = ts.factory;
  const guard = f.createIfStatement(
    f.createBinaryExpression(optionalChain(node.expression), ts.SyntaxKind.EqualsEqualsToken, f.createNull()),
    f.createBlock([f.createReturnStatement()], false),
  );
  // the printer lays the block out on several lines with its own indent; one line fits any style
  const printed = printer.printNode(ts.EmitHint.Unspecified, guard, sf).replace(/\s*\n\s*/g, ' ');
  const insertAt = statement.getStart(sf);
  const lineStart = sf.getPositionOfLineAndCharacter(sf.getLineAndCharacterOfPosition(insertAt).line, 0);
  const indentation = sf.text.slice(lineStart, insertAt);
  return { insertAt, text: printed + '\n' + indentation, guard: printed };
}

function errorText(ctx: FixContext): { message: string; frames: string } | undefined {
  const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
  const message = facts.error?.message;
  if (message === undefined) return undefined;
  return { message, frames: [facts.error?.topFrame ?? '', facts.error?.stacktrace ?? ''].join('\n') };
}

export class GuardStrategy implements FixStrategy {
  readonly kind = 'guard' as const;

  applicable(ctx: FixContext): boolean {
    if (!ctx.diagnosis.recommendedFixes.includes('guard')) return false;
    const error = errorText(ctx);
    return error !== undefined && classifyNullAccess(error.message) !== undefined && parseFrameLocations(error.frames).length > 0;
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const error = errorText(ctx);
    const access = error === undefined ? undefined : classifyNullAccess(error.message);
    if (error === undefined || access === undefined) return undefined;
    const session = new EditSession(ctx.repoDir);
    for (const frame of parseFrameLocations(error.frames)) {
      const location = resolveInRepo(ctx.repoDir, frame);
      if (location === undefined || !/\.[cm]?[jt]sx?$/.test(location.file)) continue;
      const edit = applyGuard(location.file, await session.read(location.file), location, access);
      if (edit === undefined) continue;
      await session.write(location.file, edit.text);
      const handler = ctx.diagnosis.handler ?? ctx.anomaly.handler ?? 'the handler';
      return finishEdits(session, {
        kind: this.kind,
        title: `Guard ${markdownInline(edit.before, 80)} in ${markdownInline(handler, 80)} against a missing value`,
        description: [
          `${markdownInline(error.message)} at ${markdownInline(`${location.file}:${String(edit.line)}`)}${location.mapped ? ' (mapped from compiled output)' : ''}.`,
          edit.style === 'rewrite'
            ? `The access ${markdownInline(edit.before)} becomes ${markdownInline(edit.after)}, so a missing value yields undefined instead of throwing.`
            : `${markdownInline(edit.after)} is inserted before ${markdownInline(edit.before)}: the value is needed later, so the handler returns early when it is missing.`,
        ].join('\n'),
        claims: {},
      });
    }
    return undefined;
  }
}
