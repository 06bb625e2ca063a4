import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { loadSequenceFiles } from '../../detect/sequence-files.js';
import { canonicalJson, capturedCalls, type CapturedCall } from './captured-inputs.js';
import { EditSession, finishEdits } from './edit-session.js';
import { bareHandlerName, handlerIdentifier, readFixFacts, type FixFacts } from './facts.js';
import { jsonLiteral, lineComments, quote } from '../text/code-literal.js';
import { markdownInline } from '../text/markdown.js';
import { findHandlerSource, type HandlerSource } from './handler-source.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';

/** The latency budget is the baseline p95 with this much headroom for slower test machines. */
export const LATENCY_HEADROOM = 1.5;
/** Latency is judged on the median of this many calls, so one slow call does not fail the test. */
export const LATENCY_RUNS = 5;
const MAX_CASES = 3;

/** error: the failing input must not throw; latency: stay within budget; coverage: an untested handler gets a first test. */
type Mode = 'error' | 'latency' | 'coverage';

function modeOf(ctx: FixContext, facts: FixFacts): Mode | undefined {
  if (ctx.anomaly.type === 'error' || facts.error?.message !== undefined) return 'error';
  if (ctx.anomaly.type === 'performance' && facts.baseline.p95Ms !== undefined) return 'latency';
  if (ctx.anomaly.type === 'coverage') return 'coverage';
  return undefined;
}

export function latencyBudgetMs(p95Ms: number): number {
  return Math.max(1, Math.ceil(p95Ms * LATENCY_HEADROOM));
}

/** Distinct calls, at most `max`, keeping order (failed calls come first). */
function distinctCalls(calls: CapturedCall[], max: number): CapturedCall[] {
  const seen = new Set<string>();
  const out: CapturedCall[] = [];
  for (const call of calls) {
    const key = canonicalJson(call.args);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(call);
    if (out.length === max) break;
  }
  return out;
}

/** The most frequent input, for the latency case (it is what production mostly runs). */
function mostFrequent(calls: CapturedCall[]): CapturedCall | undefined {
  const counts = new Map<string, { call: CapturedCall; n: number }>();
  for (const call of calls) {
    const key = canonicalJson(call.args);
    const entry = counts.get(key) ?? { call, n: 0 };
    entry.n++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.n - a.n)[0]?.call;
}

/**
 * The testFile a sequence declares for the handler, as a path inside the repository, if any. The
 * sequence loader reads every real shape (manifests, orchestration variants) and normalises Windows
 * paths; a declared file inside node_modules (an installed package's own tests) or outside the
 * repository is no place for a new test, so it does not count.
 */
async function declaredTestFile(repoDir: string, globs: string[], handler: string): Promise<string | undefined> {
  const { sequences } = await loadSequenceFiles(globs, repoDir);
  for (const sequence of sequences) {
    for (const movement of sequence.movements) {
      for (const beat of movement.beats) {
        if (bareHandlerName(beat.handler) !== handler || beat.testFile === undefined) continue;
        const inside = relative(repoDir, resolve(repoDir, beat.testFile)).split(sep).join('/');
        if (inside === '' || inside.startsWith('../') || isAbsolute(inside) || inside.split('/').includes('node_modules')) continue;
        return inside;
      }
    }
  }
  return undefined;
}

async function testDirectory(repoDir: string, declared: string | undefined, source: HandlerSource): Promise<string> {
  if (declared !== undefined) return posix.dirname(declared);
  for (const dir of ['test', 'tests', '__tests__']) if (existsSync(join(repoDir, dir))) return dir;
  return posix.dirname(source.file);
}

/** Import suffix used by the repository's existing tests: '.js' (ESM NodeNext), '.ts' or none. */
async function importSuffix(repoDir: string, dir: string): Promise<string> {
  const abs = join(repoDir, dir);
  if (!existsSync(abs)) return '.js';
  for (const name of (await readdir(abs)).filter((n) => /\.test\.[cm]?[jt]sx?$/.test(n)).sort()) {
    const text = await readFile(join(abs, name), 'utf8');
    const spec = /from\s+['"](\.{1,2}\/[^'"]+)['"]/.exec(text)?.[1];
    if (spec === undefined) continue;
    const ext = /\.(?:[cm]?[jt]sx?)$/.exec(spec)?.[0];
    return ext ?? '';
  }
  return '.js';
}

function usesVitest(repoDir: string): boolean {
  if (['vitest.config.ts', 'vitest.config.js', 'vitest.config.mts', 'vitest.config.mjs'].some((f) => existsSync(join(repoDir, f)))) return true;
  try {
    return readFileSync(join(repoDir, 'package.json'), 'utf8').includes('vitest');
  } catch {
    return false;
  }
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line, i) => (i === 0 ? line : pad + line))
    .join('\n');
}

export interface RegressionTestSpec {
  handler: string;
  importPath: string;
  typescript: boolean;
  mode: Mode;
  cases: CapturedCall[];
  header: string[];
  budgetMs?: number;
  baselineP95Ms?: number;
}

/** Kept here for existing importers; the one implementation lives in src/heal/text/code-literal.ts. */
export { quote };

/** Source text of the generated vitest file. */
export function renderRegressionTest(spec: RegressionTestSpec): string {
  const h = spec.handler;
  const argsExpr = (call: CapturedCall): string => {
    const literal = indent(jsonLiteral(call.args), 4);
    return spec.typescript ? `${literal} as unknown as Parameters<typeof ${h}>` : literal;
  };
  // Header text carries production data (error messages): every line break of it becomes its own
  // comment line, so nothing from telemetry can end the comment and run as code.
  const header = lineComments(spec.header);
  const lines: string[] = [...header, `import { describe, expect, it } from 'vitest';`, `import { ${h} } from ${quote(spec.importPath)};`, ''];
  lines.push(`describe(${quote(`${h} regression (self-healing)`)}, () => {`);
  spec.cases.forEach((call, i) => {
    const source = call.traceId !== undefined ? `trace ${call.traceId}` : `captured sample ${String(i + 1)}`;
    if (spec.mode !== 'latency') {
      const title = spec.mode === 'error' ? `does not throw for the input of ${source}` : `handles the input of ${source} without throwing`;
      lines.push(
        `  it(${quote(title)}, async () => {`,
        `    const args = ${argsExpr(call)};`,
        `    let thrown: unknown;`,
        `    try {`,
        `      await ${h}(...args);`,
        `    } catch (err) {`,
        `      thrown = err;`,
        `    }`,
        `    expect(thrown).toBeUndefined();`,
        `  });`,
      );
    } else {
      lines.push(
        `  it(${quote(`stays within ${String(spec.budgetMs)} ms (baseline p95 ${String(spec.baselineP95Ms)} ms) for the input of ${source}`)}, async () => {`,
        `    const args = ${argsExpr(call)};`,
        `    const durations: number[] = [];`,
        `    for (let run = 0; run < ${String(LATENCY_RUNS)}; run++) {`,
        `      const start = performance.now();`,
        `      await ${h}(...args);`,
        `      durations.push(performance.now() - start);`,
        `    }`,
        `    durations.sort((a, b) => a - b);`,
        `    expect(durations[${String(Math.floor(LATENCY_RUNS / 2))}]).toBeLessThanOrEqual(${String(spec.budgetMs)});`,
        `  });`,
      );
    }
  });
  lines.push('});', '');
  const text = lines.join('\n');
  return spec.typescript ? text : text.replace(/let thrown: unknown;/g, 'let thrown;').replace(/const durations: number\[\] = \[\];/g, 'const durations = [];');
}

async function freeName(session: EditSession, dir: string, handler: string, ext: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = posix.join(dir, `${handler}.regression${n === 1 ? '' : '-' + String(n)}.test.${ext}`);
    if (!session.exists(name)) return name;
  }
}

/**
 * A vitest file that calls the real handler with inputs captured in production: for errors it
 * asserts the failing input no longer throws (it fails until the guard or another fix lands), for
 * latency it asserts the median duration stays within the baseline p95 budget.
 */
export class RegressionTestStrategy implements FixStrategy {
  readonly kind = 'regression-test' as const;

  applicable(ctx: FixContext): boolean {
    if (!ctx.diagnosis.recommendedFixes.includes('regression-test')) return false;
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    if (facts.handler === undefined || modeOf(ctx, facts) === undefined) return false;
    return capturedCalls(ctx.beats, facts.handler, facts.sampleInputs).length > 0 && usesVitest(ctx.repoDir);
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    const mode = modeOf(ctx, facts);
    // The name is written into the test as an identifier: only a plain one qualifies.
    const handler = facts.handler === undefined ? undefined : handlerIdentifier(facts.handler);
    if (handler === undefined || facts.handler === undefined || mode === undefined) return undefined;
    const source = await findHandlerSource(ctx.repoDir, ctx.heal.repository.handlerGlobs, handler);
    if (source === undefined) return undefined;
    const calls = capturedCalls(ctx.beats, facts.handler, facts.sampleInputs);
    const failing = calls.filter((c) => c.failed);
    const succeeded = calls.filter((c) => !c.failed);
    const cases =
      mode === 'error'
        ? distinctCalls(failing.length > 0 ? failing : calls, MAX_CASES)
        : mode === 'coverage'
          ? distinctCalls(succeeded, MAX_CASES)
          : [mostFrequent(calls)].filter((c) => c !== undefined);
    if (cases.length === 0) return undefined;

    const session = new EditSession(ctx.repoDir);
    const declared = await declaredTestFile(ctx.repoDir, ctx.heal.repository.sequenceGlobs, handler);
    const dir = await testDirectory(ctx.repoDir, declared, source);
    const typescript = /\.[cm]?tsx?$/.test(source.file);
    const testFile = await freeName(session, dir, handler, typescript ? 'ts' : 'js');
    const suffix = await importSuffix(ctx.repoDir, dir);
    let importPath = posix.relative(dir, source.file).replace(/\.[cm]?[jt]sx?$/, suffix);
    if (!importPath.startsWith('.')) importPath = './' + importPath;

    const p95 = facts.baseline.p95Ms;
    const budgetMs = mode === 'latency' && p95 !== undefined ? latencyBudgetMs(p95) : undefined;
    const header =
      mode === 'coverage'
        ? [
            `Test generated by self-healing for diagnosis ${ctx.diagnosis.id}: ${handler} had no test.`,
            'Inputs are rebuilt from the beat.input.* attributes of successful production beats.',
            'Expected: the handler accepts them without throwing.',
          ]
        : mode === 'error'
        ? [
            `Regression test generated by self-healing for diagnosis ${ctx.diagnosis.id}.`,
            `Production error: ${facts.error?.type ?? 'Error'}: ${facts.error?.message ?? ''}`.trimEnd(),
            'Inputs are rebuilt from the beat.input.* attributes of the failing beats.',
            'Expected: the handler does not throw; it fails until the guard fix is applied.',
          ]
        : [
            `Regression test generated by self-healing for diagnosis ${ctx.diagnosis.id}.`,
            `Latency budget ${String(budgetMs)} ms = baseline p95 ${String(p95)} ms x ${String(LATENCY_HEADROOM)}, judged on the median of ${String(LATENCY_RUNS)} calls.`,
            'Input: the most frequent production input (beat.input.* attributes).',
          ];
    await session.write(
      testFile,
      renderRegressionTest({ handler, importPath, typescript, mode, cases, header, budgetMs, baselineP95Ms: p95 }),
    );
    return finishEdits(session, {
      kind: this.kind,
      title:
        mode === 'coverage' ? `Test for untested handler ${handler} from production inputs` : `Regression test for ${handler} from production ${mode === 'error' ? 'failures' : 'latency'}`,
      description:
        mode === 'coverage'
          ? `Calls ${handler} (${markdownInline(source.file)}) with ${String(cases.length)} input(s) captured from successful production beats; it had no test before.`
          : mode === 'error'
          ? `Calls ${handler} (${markdownInline(source.file)}) with ${String(cases.length)} input(s) captured from failing production beats and asserts it does not throw.`
          : `Calls ${handler} (${markdownInline(source.file)}) with its most frequent production input and asserts the median of ${String(LATENCY_RUNS)} calls stays within ${String(budgetMs)} ms.`,
      claims: { testFiles: [testFile], ...(budgetMs !== undefined ? { latencyBudgetMs: budgetMs } : {}) },
    });
  }
}
