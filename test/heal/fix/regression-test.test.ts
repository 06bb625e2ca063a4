import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GuardStrategy } from '../../../src/heal/fix/guard.js';
import { latencyBudgetMs, RegressionTestStrategy, renderRegressionTest } from '../../../src/heal/fix/regression-test.js';
import { checkScript } from '../../../src/heal/fix/syntax-check.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';
import { anomaly, beat, gitStatus, nullAccessContext, sh, withClone } from './fix-context.js';

function npmTest(dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['test'], { cwd: dir, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: stdout + stderr });
    });
  });
}

describe('renderRegressionTest', () => {
  it('renders parseable TypeScript and JavaScript for both modes', () => {
    const base = { handler: 'h', importPath: '../src/h.js', cases: [{ args: [{ a: 1 }], failed: true, traceId: 't1' }], header: ['generated'] };
    const ts = renderRegressionTest({ ...base, typescript: true, mode: 'error' });
    expect(ts).toContain("import { h } from '../src/h.js';");
    expect(ts).toContain('as unknown as Parameters<typeof h>');
    expect(ts).toContain("it('does not throw for the input of trace t1'");
    expect(checkScript('x.test.ts', ts)).toEqual([]);
    const js = renderRegressionTest({ ...base, typescript: false, mode: 'latency', budgetMs: 9, baselineP95Ms: 6 });
    expect(js).not.toContain('Parameters<');
    expect(js).toContain('const durations = [];');
    expect(js).toContain('toBeLessThanOrEqual(9)');
    expect(checkScript('x.test.js', js)).toEqual([]);
  });

  it('keeps production text inside comments and string literals (no code injection)', () => {
    const payload = "await import('node:child_process').then((m) => m.execSync('id > /tmp/pwned'))";
    const ts = renderRegressionTest({
      handler: 'h',
      importPath: '../src/h.js',
      typescript: true,
      mode: 'error',
      cases: [{ args: [{ a: 1 }], failed: true, traceId: "t1'); " + payload + "; it('x" }],
      header: [`Production error: Error: bad sku\n${payload}\r\n${payload}\u2028${payload}`],
    });
    // Every line that mentions the payload is a comment or inside a quoted title.
    for (const line of ts.split('\n').filter((l) => l.includes('execSync'))) {
      expect(line.startsWith('// ') || line.trimStart().startsWith("it('"), line).toBe(true);
    }
    expect(ts).toContain("it('does not throw for the input of trace t1\\'); await import(\\'node:child_process\\')");
    expect(checkScript('x.test.ts', ts)).toEqual([]);
  });

  it('derives the latency budget from the baseline p95 with headroom', () => {
    expect(latencyBudgetMs(6)).toBe(9);
    expect(latencyBudgetMs(0.2)).toBe(1);
  });
});

describe('RegressionTestStrategy on the fixture repository', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('writes a test next to the declared tests that calls the real handler with the failing input', async () => {
    repo = await createFixtureRepo();
    const ctx = nullAccessContext(repo.dir);
    const strategy = new RegressionTestStrategy();
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.files).toEqual(['test/createComponent.regression.test.ts']);
    expect(fix?.claims.testFiles).toEqual(['test/createComponent.regression.test.ts']);
    expect(fix?.diff).toContain('new file mode 100644');
    expect(fix?.diff).toContain("+import { createComponent } from '../src/handlers/createComponent.js';");
    // one distinct failing input (the two failing beats are identical), rebuilt from beat.input.*
    expect(fix?.diff.match(/does not throw for the input/g)).toHaveLength(1);
    expect(fix?.diff).toContain('+          "x": 10,');
    expect(fix?.diff).not.toContain('"component"');
    expect(await gitStatus(repo.dir)).toBe('');
  });

  it('places the test where the real sequence file declares it, in any shape, never inside node_modules', async () => {
    repo = await createFixtureRepo();
    const ctx = nullAccessContext(repo.dir);
    const sequenceFile = join(repo.dir, 'sequences', 'canvas-component-create.sequence.json');
    // An orchestration-style file as RenderX writes them: number/name, handler as an object, a
    // Windows testFile.
    const orchestration = (testFile: string) =>
      JSON.stringify({
        musicalSequence: {
          name: 'Canvas Component Create',
          movements: [{ id: 'create', name: 'Create', beats: [{ number: 1, name: 'canvas:component:create', handler: { name: 'createComponent', kind: 'pure' }, testFile }] }],
        },
      });
    await writeFile(sequenceFile, orchestration('test\\canvas\\createComponent.spec.ts'));
    await sh(repo.dir, 'sh', ['-c', 'mkdir -p test/canvas && git add -A && git commit -qm orchestration']);
    const fix = await new RegressionTestStrategy().generate(ctx);
    expect(fix?.files).toEqual(['test/canvas/createComponent.regression.test.ts']);
    expect(fix?.diff).toContain("+import { createComponent } from '../../src/handlers/createComponent.js';");

    await writeFile(sequenceFile, orchestration('node_modules\\@renderx-plugins\\canvas\\tests\\create.test.js'));
    await sh(repo.dir, 'sh', ['-c', 'git add -A && git commit -qm node-modules-test-file']);
    const fallback = await new RegressionTestStrategy().generate(ctx);
    expect(fallback?.files).toEqual(['test/createComponent.regression.test.ts']);
  });

  it('builds a latency test with the budget claim for a slow handler', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const ctx = {
      ...base,
      anomaly: anomaly({ type: 'performance', subtype: 'latency-regression', handler: 'resolveTemplate', observed: { p95Ms: 40 }, expected: { p95Ms: 6 } }),
      diagnosis: { ...base.diagnosis, handler: 'resolveTemplate', context: { handler: 'CanvasComponentPlugin.resolveTemplate' } },
      beats: [
        beat('resolveTemplate', { 'beat.input': '{"templateId":"card","variant":"dark"}' }),
        beat('resolveTemplate', { 'beat.input': '{"templateId":"card","variant":"dark"}' }),
        beat('resolveTemplate', { 'beat.input': '{"templateId":"list","variant":"light"}' }),
      ],
    };
    const fix = await new RegressionTestStrategy().generate(ctx);
    expect(fix?.claims.latencyBudgetMs).toBe(9);
    expect(fix?.diff).toContain('+        "templateId": "card",');
    expect(fix?.diff).toContain('toBeLessThanOrEqual(9)');
    expect(fix?.description).toContain('median of 5 calls');
  });

  it('is not applicable without inputs, a handler or a vitest setup, and yields nothing for an unknown handler', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const strategy = new RegressionTestStrategy();
    expect(strategy.applicable({ ...base, beats: [] })).toBe(false);
    expect(strategy.applicable({ ...base, diagnosis: { ...base.diagnosis, recommendedFixes: ['guard'] } })).toBe(false);
    const unknown = { ...base, diagnosis: { ...base.diagnosis, handler: 'noSuchHandler', context: { handler: 'noSuchHandler' } }, anomaly: anomaly({ handler: 'noSuchHandler' }) };
    expect(await strategy.generate({ ...unknown, beats: [beat('noSuchHandler', { 'beat.input.a': 1 }, { status: 2 })] })).toBeUndefined();
    const noHandler = { ...base, diagnosis: { ...base.diagnosis, handler: undefined, context: {} }, anomaly: anomaly({ handler: undefined }) };
    expect(strategy.applicable(noHandler)).toBe(false);
  });

  it('gives an untested handler a first test from successful production inputs', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const ctx = {
      ...base,
      anomaly: anomaly({ type: 'coverage', subtype: 'untested-handler', handler: 'notifyUi' }),
      diagnosis: { ...base.diagnosis, handler: 'notifyUi', context: { handler: 'notifyUi', sampleInputs: [{ traceId: 'tn', spanId: 'sn', failed: false, attributes: { 'beat.input.topic': 'created', 'beat.input.componentId': 'cmp-1' } }] } },
      beats: [beat('notifyUi', { 'beat.input.topic': 'bad' }, { status: 2 })],
    };
    const fix = await new RegressionTestStrategy().generate(ctx);
    expect(fix?.title).toBe('Test for untested handler notifyUi from production inputs');
    expect(fix?.files).toEqual(['test/notifyUi.regression.test.ts']);
    expect(fix?.diff).toContain("+  it('handles the input of trace tn without throwing', async () => {");
    expect(fix?.diff).toContain('+        "componentId": "cmp-1"');
    expect(fix?.diff).not.toContain('"bad"');
  });

  it('falls back to the source directory and writes JavaScript for a JavaScript handler', async () => {
    repo = await createFixtureRepo();
    await rm(join(repo.dir, 'vitest.config.ts'));
    await rm(join(repo.dir, 'test'), { recursive: true });
    await writeFile(join(repo.dir, 'sequences/broken.sequence.json'), '{ not json');
    await writeFile(join(repo.dir, 'package.json'), JSON.stringify({ name: 'x', type: 'module', devDependencies: { vitest: '4' } }));
    await writeFile(join(repo.dir, 'src/handlers/formatLabel.js'), 'export function formatLabel(input) {\n  return input.label.text.trim();\n}\n');
    await sh(repo.dir, 'git', ['add', '-A']);
    await sh(repo.dir, 'git', ['commit', '-q', '-m', 'js handler']);
    const base = nullAccessContext(repo.dir);
    const ctx = {
      ...base,
      anomaly: anomaly({ handler: 'formatLabel' }),
      diagnosis: { ...base.diagnosis, handler: 'formatLabel', context: { handler: 'formatLabel', error: { message: "Cannot read properties of undefined (reading 'text')" } } },
      beats: [beat('formatLabel', { 'beat.input.0.id': 'a', 'beat.input.1': 2 }, { status: 2 })],
    };
    const strategy = new RegressionTestStrategy();
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.files).toEqual(['src/handlers/formatLabel.regression.test.js']);
    expect(fix?.diff).toContain("+import { formatLabel } from './formatLabel.js';");
    expect(fix?.diff).toContain('+    let thrown;');
    expect(fix?.diff).not.toContain('Parameters<');
    await writeFile(join(repo.dir, 'package.json'), '{}');
    expect(strategy.applicable(ctx)).toBe(false);
    await rm(join(repo.dir, 'package.json'));
    expect(strategy.applicable(ctx)).toBe(false);
  });

  it('the generated test fails on the buggy code and passes once the guard is applied (real npm test)', async () => {
    repo = await createFixtureRepo({ bug: 'null-access' });
    const ctx = nullAccessContext(repo.dir);
    const testFix = await new RegressionTestStrategy().generate(ctx);
    const guardFix = await new GuardStrategy().generate(ctx);
    expect(testFix).toBeDefined();
    expect(guardFix).toBeDefined();
    const modules = join(repo.dir, 'node_modules');
    await withClone(repo.dir, async (dir) => {
      await sh(dir, 'ln', ['-s', modules, 'node_modules']);
      await sh(dir, 'git', ['apply', '-'], testFix!.diff);
      const before = await npmTest(dir);
      expect(before.code).not.toBe(0);
      expect(before.output).toContain('createComponent.regression.test.ts');
      expect(before.output).toContain("Cannot read properties of undefined (reading 'name')");

      await sh(dir, 'git', ['apply', '-'], guardFix!.diff);
      const after = await npmTest(dir);
      expect(after.output).toMatch(/Test Files\s+.*4 passed/);
      expect(after.code).toBe(0);
      const summary = JSON.parse(await readFile(join(dir, 'coverage/coverage-summary.json'), 'utf8')) as { total: { lines: { pct: number } } };
      expect(summary.total.lines.pct).toBeGreaterThan(0);
    });
  }, 300_000);
});
