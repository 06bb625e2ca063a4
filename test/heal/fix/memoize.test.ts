import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { memoModuleSource, MemoizeStrategy, wrapWithMemo } from '../../../src/heal/fix/memoize.js';
import { checkScript } from '../../../src/heal/fix/syntax-check.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';
import { anomaly, beat, checkDiffsApply, gitStatus, nullAccessContext } from './fix-context.js';

describe('wrapWithMemo', () => {
  it('renames an exported function and exports a memoized const in its place', () => {
    const text = "import { x } from './x.js';\n\nexport function slow(a: number): number {\n  return a * x;\n}\n";
    const edit = wrapWithMemo('s.ts', text, 'slow', './bounded-memo.js', 64);
    expect(edit?.text).toBe(
      "import { x } from './x.js';\nimport { boundedMemo } from './bounded-memo.js';\n\nfunction slowUncached(a: number): number {\n  return a * x;\n}\n\nexport const slow = boundedMemo(slowUncached, 64);\n",
    );
  });

  it('wraps the initializer of an exported const and adds the import at the top without imports', () => {
    const edit = wrapWithMemo('s.ts', 'export const slow = (a: number) => a * 2;\n', 'slow', './bounded-memo.js', 8);
    expect(edit?.text).toBe("import { boundedMemo } from './bounded-memo.js';\n\nexport const slow = boundedMemo((a: number) => a * 2, 8);\n");
  });

  it('leaves generic, overloaded, missing and already memoized handlers alone', () => {
    expect(wrapWithMemo('s.ts', 'export function g<T>(a: T): T { return a; }\n', 'g', './m.js', 8)).toBeUndefined();
    expect(wrapWithMemo('s.ts', 'export function o(a: number): number;\nexport function o(a: number) { return a; }\n', 'o', './m.js', 8)).toBeUndefined();
    expect(wrapWithMemo('s.ts', 'export function other() {}\n', 'slow', './m.js', 8)).toBeUndefined();
    expect(wrapWithMemo('s.ts', "import { boundedMemo } from './m.js';\nexport function slow() {}\n", 'slow', './m.js', 8)).toBeUndefined();
  });
});

describe('memo helper module', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('parses in both flavours and evicts the least recently used entry', async () => {
    expect(checkScript('m.ts', memoModuleSource(true))).toEqual([]);
    expect(checkScript('m.js', memoModuleSource(false))).toEqual([]);
    dir = await mkdtemp(join(tmpdir(), 'heal-memo-'));
    const js = ts.transpileModule(memoModuleSource(true), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    await writeFile(join(dir, 'memo.mjs'), js);
    const mod = (await import(pathToFileURL(join(dir, 'memo.mjs')).href)) as {
      boundedMemo: (fn: (n: number) => number, max: number) => (n: number) => number;
    };
    const calls: number[] = [];
    const memo = mod.boundedMemo((n) => {
      calls.push(n);
      return n * 2;
    }, 2);
    expect([memo(1), memo(2), memo(1), memo(3), memo(2), memo(1)]).toEqual([2, 4, 2, 6, 4, 2]);
    // 1 and 2 cached; 1 touched; 3 evicts 2; 2 evicts 1 again -> recomputed
    expect(calls).toEqual([1, 2, 3, 2, 1]);
  });
});

describe('MemoizeStrategy on the fixture repository', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  const slowContext = (dir: string, inputs: string[]) => {
    const base = nullAccessContext(dir);
    return {
      ...base,
      anomaly: anomaly({ type: 'performance', subtype: 'latency-regression', handler: 'resolveTemplate', observed: { p95Ms: 40 }, expected: { p95Ms: 6 } }),
      diagnosis: { ...base.diagnosis, handler: 'resolveTemplate', recommendedFixes: ['memoize' as const], context: { handler: 'resolveTemplate' } as Record<string, unknown> },
      beats: inputs.map((input) => beat('resolveTemplate', { 'beat.input.templateId': input, 'beat.input.variant': 'dark' }, { durationMs: 40 })),
    };
  };

  it('wraps the pure handler when its inputs repeat and adds the helper module', async () => {
    repo = await createFixtureRepo();
    const ctx = slowContext(repo.dir, ['card', 'card', 'card', 'list', 'card', 'card']);
    const strategy = new MemoizeStrategy();
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.files.sort()).toEqual(['src/handlers/bounded-memo.ts', 'src/handlers/resolveTemplate.ts']);
    expect(fix?.diff).toContain('+export const resolveTemplate = boundedMemo(resolveTemplateUncached, 256);');
    expect(fix?.diff).toContain('+function resolveTemplateUncached(request: TemplateRequest): ResolvedTemplate {');
    expect(fix?.diff).toContain("+import { boundedMemo } from './bounded-memo.js';");
    expect(fix?.description).toContain('67 %');
    expect(fix?.claims.latencyBudgetMs).toBe(6);
    expect(await gitStatus(repo.dir)).toBe('');
    await checkDiffsApply(repo.dir, [fix!.diff]);
  });

  it('is not applicable when inputs are mostly distinct, too few, or the handler is not pure', async () => {
    repo = await createFixtureRepo();
    const strategy = new MemoizeStrategy();
    expect(strategy.applicable(slowContext(repo.dir, ['a', 'b', 'c', 'd', 'e', 'a']))).toBe(false);
    expect(strategy.applicable(slowContext(repo.dir, ['a', 'a']))).toBe(false);
    const impure = slowContext(repo.dir, ['a', 'a', 'a', 'a', 'a']);
    impure.beats = impure.beats.map((b) => ({ ...b, kind: 'stage-crew' as const }));
    expect(strategy.applicable(impure)).toBe(false);
    const measured = slowContext(repo.dir, ['a', 'b']);
    measured.diagnosis = { ...measured.diagnosis, context: { handler: 'resolveTemplate', kind: 'pure', inputRepetition: 0.8 } };
    expect(strategy.applicable(measured)).toBe(true);
    const missing = slowContext(repo.dir, ['a', 'a', 'a', 'a', 'a']);
    missing.diagnosis = { ...missing.diagnosis, handler: 'nowhere', context: { handler: 'nowhere', kind: 'pure' } };
    expect(await strategy.generate(missing)).toBeUndefined();
  });
});
