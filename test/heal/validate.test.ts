import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import type { HealConfig } from '../../src/config/sections/heal.js';
import { Git } from '../../src/heal/git.js';
import {
  checkMarkdown,
  lineCoverageFromIstanbul,
  lineCoverageFromLcov,
  perfCommandFor,
  readCoverage,
  runCommand,
  testEnvironment,
  validateFix,
} from '../../src/heal/validate.js';
import type { GeneratedFix } from '../../src/model/heal.js';
import { diffFor, initRepo, sh } from './fixtures/git-repo.js';

const TEST_COMMAND =
  'mkdir -p coverage && node --test --experimental-test-coverage --test-reporter=lcov --test-reporter-destination=coverage/lcov.info --test-reporter=tap --test-reporter-destination=stdout test/';

const LIB = `export function label(name) {
  return name.trim();
}
export function sleepy() {
  return 1;
}
`;
const TEST = `import test from 'node:test';
import assert from 'node:assert';
import { label, sleepy } from '../lib.mjs';
test('label trims', () => assert.equal(label(' a '), 'a'));
test('sleepy', () => assert.equal(sleepy(), 1));
`;
const SLEEP_2S = 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);';

function healConfig(over: Partial<HealConfig['validation']> = {}, repo: Partial<HealConfig['repository']> = {}): HealConfig {
  const heal = ConfigSchema.parse({}).heal;
  return {
    ...heal,
    validation: { ...heal.validation, ...over },
    repository: { ...heal.repository, testCommand: TEST_COMMAND, coverageReport: 'coverage/lcov.info', testTimeoutMs: 120_000, ...repo },
  };
}

function fix(diff: string, files: string[], claims: GeneratedFix['claims'] = {}): GeneratedFix {
  return { kind: 'guard', title: 't', description: 'd', diff, files, claims };
}

describe('validateFix (real git, real node --test)', { timeout: 180_000 }, () => {
  let repo: { dir: string; cleanup(): void };
  let git: Git;
  let work: string;
  beforeAll(() => {
    repo = initRepo({ 'lib.mjs': LIB, 'test/lib.test.mjs': TEST, 'docs/README.md': '# Lib\n\nSee [the code](../lib.mjs).\n' });
    work = mkdtempSync(join(tmpdir(), 'heal-work-'));
    git = new Git(repo.dir, work);
  });
  afterAll(() => {
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('passes a good patch, with counts and coverage from the real run, in a worktree only', async () => {
    const diff = diffFor(repo.dir, 'main', {
      'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()"),
      'test/guard.test.mjs': "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('guards undefined', () => assert.equal(label(undefined), ''));\n",
    });
    const r = await validateFix({ git, heal: healConfig({ minLineCoverage: 50 }), fix: fix(diff, ['lib.mjs', 'test/guard.test.mjs']), baseRef: 'main' });
    expect(r.reasons).toEqual([]);
    expect(r).toMatchObject({ passed: true, patchApplied: true, exitCode: 0, timedOut: false, baseSha: sh(repo.dir, ['rev-parse', 'main']).trim() });
    expect(r.tests).toEqual({ runner: 'node-test', passed: 3, failed: 0, skipped: 0, total: 3 });
    expect(r.coverage).toMatchObject({ format: 'lcov', threshold: 50, passed: true });
    expect(r.coverage!.linePct).toBeGreaterThan(50);
    expect(r.outputTail).toContain('# pass 3');
    // The user's checkout is untouched and no worktree is left behind.
    expect(readFileSync(join(repo.dir, 'lib.mjs'), 'utf8')).toBe(LIB);
    expect(existsSync(join(repo.dir, 'test/guard.test.mjs'))).toBe(false);
    expect(sh(repo.dir, ['status', '--porcelain'])).toBe('');
    expect(sh(repo.dir, ['worktree', 'list']).trim().split('\n')).toHaveLength(1);
  });

  it('proves a code fix: its regression test fails on the base and passes with the patch', async () => {
    const guardTest = "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('guards undefined', () => assert.equal(label(undefined), ''));\n";
    const diff = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()"), 'test/guard.test.mjs': guardTest });
    const heal = healConfig({}, { testCommand: 'node --test' });
    const r = await validateFix({ git, heal, fix: fix(diff, ['lib.mjs', 'test/guard.test.mjs'], { testFiles: ['test/guard.test.mjs'] }), baseRef: 'main' });
    expect(r.passed).toBe(true);
    expect(r.proof).toMatchObject({ verdict: 'proven', testFiles: ['test/guard.test.mjs'], base: { failed: 1, passed: 0 }, patch: { passed: 1, failed: 0, exitCode: 0 } });
    expect(r.proof!.base!.exitCode).not.toBe(0);

    // The same code change without its test: proposed at most, as unverified.
    const bare = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()") });
    const u = await validateFix({ git, heal, fix: fix(bare, ['lib.mjs']), baseRef: 'main' });
    expect(u.passed).toBe(true);
    expect(u.proof).toMatchObject({ verdict: 'unverified', testFiles: [] });
    expect(u.proof!.reason).toContain('no regression test');

    // A "regression test" that already passes on the base reproduces nothing.
    const passing = "import test from 'node:test';\nimport assert from 'node:assert';\nimport { label } from '../lib.mjs';\ntest('trims', () => assert.equal(label(' b '), 'b'));\n";
    const weak = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()"), 'test/weak.test.mjs': passing });
    const w = await validateFix({ git, heal, fix: fix(weak, ['lib.mjs', 'test/weak.test.mjs']), baseRef: 'main' });
    expect(w.proof).toMatchObject({ verdict: 'unverified', testFiles: ['test/weak.test.mjs'] });
    expect(w.proof!.reason).toContain('passes on the base');

    // A change with no code in it needs no proof.
    const docs = diffFor(repo.dir, 'main', { 'docs/README.md': '# Lib\n\nMore.\n' });
    const d = await validateFix({ git, heal, fix: { ...fix(docs, ['docs/README.md']), kind: 'documentation' }, baseRef: 'main' });
    expect(d.proof).toMatchObject({ verdict: 'not-needed' });
  });

  it('fails a run in which no test ran ("0 passed of 0" proves nothing)', async () => {
    const diff = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', "(name ?? '').trim()") });
    const r = await validateFix({ git, heal: healConfig({}, { testCommand: 'echo all good' }), fix: fix(diff, ['lib.mjs']), baseRef: 'main' });
    expect(r.exitCode).toBe(0);
    expect(r.passed).toBe(false);
    expect(r.tests).toMatchObject({ total: 0 });
    expect(r.reasons).toContain('no test ran (or no test summary was recognised in the output)');
    expect(r.proof).toBeUndefined();
  });

  it('fails a patch that breaks a test, with the reason', async () => {
    const diff = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('name.trim()', 'name') });
    const r = await validateFix({ git, heal: healConfig(), fix: fix(diff, ['lib.mjs']), baseRef: 'main' });
    expect(r.passed).toBe(false);
    expect(r.tests).toMatchObject({ passed: 1, failed: 1, total: 2 });
    expect(r.exitCode).toBe(1);
    expect(r.reasons).toContain('1 test(s) failed');
  });

  it('fails a patch that does not apply', async () => {
    const r = await validateFix({ git, heal: healConfig(), fix: fix('diff --git a/nope b/nope\n--- a/nope\n+++ b/nope\n@@ -1 +1 @@\n-x\n+y\n', ['nope']), baseRef: 'main' });
    expect(r).toMatchObject({ passed: false, patchApplied: false });
    expect(r.reasons[0]).toMatch(/^patch does not apply/);
  });

  it('checks coverage against the threshold and can require a report', async () => {
    const diff = diffFor(repo.dir, 'main', { 'unused.mjs': 'export function f() {\n  const a = 1;\n  return a;\n}\n', 'test/unused.test.mjs': "import test from 'node:test';\nimport '../unused.mjs';\ntest('loads', () => {});\n" });
    const low = await validateFix({ git, heal: healConfig({ minLineCoverage: 100 }), fix: fix(diff, ['unused.mjs']), baseRef: 'main' });
    expect(low.passed).toBe(false);
    expect(low.coverage!.passed).toBe(false);
    expect(low.reasons.join()).toMatch(/line coverage .* is below 100 %/);
    const missing = await validateFix({
      git,
      heal: healConfig({ requireCoverage: true }, { coverageReport: 'nowhere/coverage-final.json', testCommand: 'node --test test/' }),
      fix: fix(diff, ['unused.mjs']),
      baseRef: 'main',
    });
    expect(missing.reasons).toEqual(['no coverage report at nowhere/coverage-final.json']);
  });

  it('checks changed Markdown', async () => {
    const diff = diffFor(repo.dir, 'main', { 'docs/README.md': '# Lib\n\n### Skipped level\n\nSee [gone](./gone.md).\n' });
    const r = await validateFix({ git, heal: healConfig(), fix: fix(diff, ['docs/README.md']), baseRef: 'main' });
    expect(r.passed).toBe(false);
    expect(r.docs[0]!.problems).toEqual(['line 3: heading level jumps from 1 to 3', 'line 5: link target ./gone.md does not exist']);
  });

  it('compares the claimed tests before and after the fix', async () => {
    const perfTest = "import test from 'node:test';\nimport { sleepy } from '../lib.mjs';\ntest('sleepy is fast', () => { sleepy(); });\n";
    // Make the base slow in a side branch and fix it.
    const wt = await git.addWorktree('main');
    writeFileSync(join(wt.dir, 'lib.mjs'), LIB.replace('return 1;', `${SLEEP_2S}\n  return 1;`));
    const slowSha = await git.commitAll(wt.dir, 'slow sleepy');
    await wt.remove();
    sh(repo.dir, ['branch', 'slow', slowSha]);
    const faster = diffFor(repo.dir, 'slow', { 'lib.mjs': LIB, 'test/perf.test.mjs': perfTest });
    const good = await validateFix({ git, heal: healConfig(), fix: fix(faster, ['lib.mjs', 'test/perf.test.mjs'], { testFiles: ['test/perf.test.mjs'], latencyBudgetMs: 5 }), baseRef: 'slow' });
    expect(good.reasons).toEqual([]);
    expect(good.performance).toMatchObject({ testFiles: ['test/perf.test.mjs'], budgetMs: 5, passed: true });
    expect(good.performance!.afterMs).toBeLessThan(good.performance!.beforeMs);

    const slower = diffFor(repo.dir, 'main', { 'lib.mjs': LIB.replace('return 1;', `${SLEEP_2S}\n  return 1;`), 'test/perf.test.mjs': perfTest });
    const bad = await validateFix({ git, heal: healConfig(), fix: fix(slower, ['lib.mjs'], { testFiles: ['test/perf.test.mjs'], latencyBudgetMs: 5 }), baseRef: 'main' });
    expect(bad.passed).toBe(false);
    expect(bad.reasons[0]).toMatch(/^claimed tests got slower/);
    // Without a latency claim the same slower change is judged by its test results only.
    const untimed = await validateFix({ git, heal: healConfig(), fix: fix(slower, ['lib.mjs'], { testFiles: ['test/perf.test.mjs'] }), baseRef: 'main' });
    expect(untimed.performance).toBeUndefined();
    expect(untimed.passed).toBe(true);
  });
});

/** Waits (bounded) until the process has exited; true when it is gone. */
async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return false;
}

describe('runCommand', () => {
  it('kills the whole process group on timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heal-cmd-'));
    try {
      const r = await runCommand(`node -e "setInterval(() => {}, 1000)" & echo $! > child.pid; wait`, { cwd: dir, timeoutMs: 1_500, maxOutputBytes: 1000 });
      expect(r.timedOut).toBe(true);
      expect(await gone(Number(readFileSync(join(dir, 'child.pid'), 'utf8')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kills what a finished command left running in the background', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heal-cmd-'));
    try {
      const r = await runCommand(`node -e "setInterval(() => {}, 1000)" > /dev/null 2>&1 & echo $! > child.pid`, { cwd: dir, timeoutMs: 30_000, maxOutputBytes: 1000 });
      expect(r.timedOut).toBe(false);
      expect(await gone(Number(readFileSync(join(dir, 'child.pid'), 'utf8')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives the test command no secrets of the sidecar', async () => {
    const heal = ConfigSchema.parse({
      heal: { repository: { github: { owner: 'o', repo: 'r', tokenEnv: 'MY_GH' } }, fix: { llm: { baseUrl: 'http://x', model: 'm', apiKeyEnv: 'MY_LLM' } } },
    }).heal;
    const env = testEnvironment(heal, { MY_GH: 'ghp_1', MY_LLM: 'sk-2', GITHUB_TOKEN: 'ghp_3', SELF_HEALING_AUTH_TOKEN: 't4', PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin' });
    const r = await runCommand('echo "[$MY_GH][$PATH]"', { cwd: tmpdir(), timeoutMs: 10_000, maxOutputBytes: 1000, env });
    expect(r.output.trim()).toBe('[][/bin]');
  });

  it('also hides the secrets named by the caller, such as a custom receive.auth.tokenEnv', () => {
    const heal = ConfigSchema.parse({}).heal;
    const env = testEnvironment(heal, { RECEIVER_TOKEN: 's3cret', PATH: '/bin' }, ['RECEIVER_TOKEN']);
    expect(env).toEqual({ PATH: '/bin' });
    const listed = ConfigSchema.parse({ heal: { validation: { passEnv: ['RECEIVER_TOKEN'] } } }).heal;
    expect(testEnvironment(listed, { RECEIVER_TOKEN: 's3cret' })).toEqual({ RECEIVER_TOKEN: 's3cret' });
  });

  it('keeps only the tail of long output and reports the exit code', async () => {
    const r = await runCommand(`node -e "for (let i = 0; i < 5000; i++) console.log('line ' + i); console.error('END'); process.exit(3)"`, {
      cwd: tmpdir(),
      timeoutMs: 60_000,
      maxOutputBytes: 1_000,
    });
    expect(r.exitCode).toBe(3);
    expect(r.output.length).toBeLessThanOrEqual(1_000);
    expect(r.output).toContain('END');
    expect(r.output).not.toContain('line 0\n');
  });
});

describe('coverage readers', () => {
  it('computes line coverage from istanbul statement maps, one vote per line', () => {
    const report = {
      '/a.ts': {
        statementMap: { '0': { start: { line: 1 } }, '1': { start: { line: 1 } }, '2': { start: { line: 2 } }, '3': { start: { line: 3 } } },
        s: { '0': 0, '1': 4, '2': 0, '3': 1 },
      },
      '/b.ts': { notIstanbul: true },
    };
    expect(lineCoverageFromIstanbul(report)).toEqual({ covered: 2, total: 3 });
    expect(lineCoverageFromLcov('SF:a\nLF:10\nLH:7\nend_of_record\nSF:b\nLF:10\nLH:3\n')).toEqual({ covered: 10, total: 20 });
  });

  it('finds summary, final and lcov reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heal-cov-'));
    try {
      expect(await readCoverage(dir, 'coverage/coverage-final.json')).toBeUndefined();
      mkdirSync(join(dir, 'coverage'));
      writeFileSync(join(dir, 'coverage/lcov.info'), 'LF:4\nLH:3\n');
      expect(await readCoverage(dir, 'coverage/coverage-final.json')).toEqual({ format: 'lcov', linePct: 75 });
      writeFileSync(join(dir, 'coverage/coverage-final.json'), JSON.stringify({ '/a.ts': { statementMap: { '0': { start: { line: 1 } } }, s: { '0': 1 } } }));
      expect(await readCoverage(dir, 'coverage/coverage-final.json')).toEqual({ format: 'istanbul-final', linePct: 100 });
      writeFileSync(join(dir, 'coverage/coverage-summary.json'), JSON.stringify({ total: { lines: { total: 10, covered: 9, pct: 90 } } }));
      expect(await readCoverage(dir, 'coverage/coverage-summary.json')).toEqual({ format: 'istanbul-summary', linePct: 90 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('checkMarkdown', () => {
  const exists = (p: string): boolean => ['docs/other.md', 'src/a.ts'].includes(p);
  it('accepts well-formed headings and resolving links', () => {
    const md = '# Title\n\n## Part one\n\nSee [other](other.md#x), [code](../src/a.ts), [web](https://example.com), [here](#part-one).\n\n```\n#not-a-heading [x](missing.md)\n```\n';
    expect(checkMarkdown('docs/guide.md', md, exists)).toEqual({ file: 'docs/guide.md', problems: [], passed: true });
  });
  it('reports malformed headings, skipped levels, dead links and anchors', () => {
    const md = '#Title\n\n## \n\n#### Deep\n\n[a](missing.md) [b](#nowhere) `[c](inline.md)`\n';
    expect(checkMarkdown('docs/guide.md', md, exists).problems).toEqual([
      'line 1: heading needs a space after #',
      'line 3: empty heading',
      'line 5: heading level jumps from 2 to 4',
      'line 7: link target missing.md does not exist',
      'line 7: no heading for anchor #nowhere',
    ]);
  });
});

describe('perfCommandFor', () => {
  const repo = ConfigSchema.parse({}).heal.repository;
  it('appends quoted files or fills {files}', () => {
    expect(perfCommandFor({ ...repo, testCommand: 'npx vitest run' }, ["test/a b.test.ts", "it's.ts"])).toBe(`npx vitest run 'test/a b.test.ts' 'it'\\''s.ts'`);
    expect(perfCommandFor({ ...repo, perfCommand: 'npx vitest run {files} --reporter=dot' }, ['t.ts'])).toBe(`npx vitest run 't.ts' --reporter=dot`);
    expect(perfCommandFor({ ...repo, perfCommand: 'node --test' }, ['t.ts'])).toBe(`node --test 't.ts'`);
  });
});
