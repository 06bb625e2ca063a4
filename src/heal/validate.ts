import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { HealConfig } from '../config/sections/heal.js';
import type { CoverageCheck, DocCheck, GeneratedFix, PerformanceCheck, Proof, ValidationResult } from '../model/heal.js';
import type { Git } from './git.js';
import { changedCodeFiles, proofTestFiles } from './proof.js';
import { parseTestOutput } from './test-output.js';
import { testEnvironment } from './test-environment.js';

/** Told when a test command's process group starts and ends, so it can be recorded and swept. */
export interface ProcessGroupRecorder {
  started(pgid: number): void;
  ended(pgid: number): void;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Combined stdout + stderr, only the last maxOutputBytes. */
  output: string;
  durationMs: number;
}

/**
 * Runs a shell command in its own process group; on timeout the whole group is killed, so a test
 * runner's workers do not outlive it. Output is kept bounded (the tail matters: summaries are last).
 */
export function runCommand(
  command: string,
  opts: { cwd: string; timeoutMs: number; maxOutputBytes: number; env?: NodeJS.ProcessEnv; processGroup?: ProcessGroupRecorder },
): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    const started = performance.now();
    const child = spawn(command, {
      cwd: opts.cwd,
      shell: true,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(opts.env ?? process.env), CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    // detached: the child leads a new process group whose id is its pid.
    if (child.pid !== undefined) opts.processGroup?.started(child.pid);
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      while (size > opts.maxOutputBytes && chunks.length > 1) size -= chunks.shift()!.length;
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, opts.timeoutMs);
    const finish = (exitCode: number | null, signal: string | null): void => {
      clearTimeout(timer);
      if (child.pid !== undefined) opts.processGroup?.ended(child.pid);
      let output = Buffer.concat(chunks).toString('utf8');
      if (output.length > opts.maxOutputBytes) output = output.slice(-opts.maxOutputBytes);
      resolvePromise({ exitCode, signal, timedOut, output, durationMs: performance.now() - started });
    };
    child.on('error', (err) => {
      keep(Buffer.from(String(err.message)));
      finish(null, null);
    });
    child.on('close', (code, signal) => {
      // Leftover grandchildren of a finished run (a server started in the background, watchers,
      // workers) go too: the worktree they run in is about to be deleted.
      killGroup();
      finish(code, signal);
    });
  });
}

/** Line coverage from an istanbul coverage-final.json: a line counts once, covered if any statement on it ran. */
export function lineCoverageFromIstanbul(report: Record<string, unknown>): { covered: number; total: number } {
  let covered = 0;
  let total = 0;
  for (const file of Object.values(report)) {
    const f = file as { statementMap?: Record<string, { start: { line: number } }>; s?: Record<string, number> };
    if (!f.statementMap || !f.s) continue;
    const lines = new Map<number, boolean>();
    for (const [id, loc] of Object.entries(f.statementMap)) {
      const hit = (f.s[id] ?? 0) > 0;
      lines.set(loc.start.line, (lines.get(loc.start.line) ?? false) || hit);
    }
    for (const hit of lines.values()) {
      total++;
      if (hit) covered++;
    }
  }
  return { covered, total };
}

/** Line coverage from lcov.info (sum of LF / LH records). */
export function lineCoverageFromLcov(text: string): { covered: number; total: number } {
  let covered = 0;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('LF:')) total += Number(line.slice(3));
    else if (line.startsWith('LH:')) covered += Number(line.slice(3));
  }
  return { covered, total };
}

/**
 * Reads the line coverage the test run left in the tree: the configured report first, then
 * coverage-summary.json / coverage-final.json / lcov.info next to it.
 */
export async function readCoverage(dir: string, reportPath: string): Promise<{ format: string; linePct: number } | undefined> {
  const reportDir = dirname(join(dir, reportPath));
  const candidates = [
    join(dir, reportPath),
    join(reportDir, 'coverage-summary.json'),
    join(reportDir, 'coverage-final.json'),
    join(reportDir, 'lcov.info'),
  ];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const text = await readFile(file, 'utf8');
    if (file.endsWith('.info')) {
      const { covered, total } = lineCoverageFromLcov(text);
      return { format: 'lcov', linePct: total === 0 ? 100 : (covered / total) * 100 };
    }
    const json = JSON.parse(text) as Record<string, unknown>;
    const summaryTotal = json['total'] as { lines?: { pct?: number } } | undefined;
    if (summaryTotal?.lines && typeof summaryTotal.lines.pct === 'number') {
      return { format: 'istanbul-summary', linePct: summaryTotal.lines.pct };
    }
    const { covered, total } = lineCoverageFromIstanbul(json);
    return { format: 'istanbul-final', linePct: total === 0 ? 100 : (covered / total) * 100 };
  }
  return undefined;
}

/** GitHub-style anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/**
 * Documentation checks for one Markdown file: headings well-formed (a space after the #s, text,
 * no level skipped) and relative links resolving to files (and same-file anchors to headings).
 */
export function checkMarkdown(file: string, content: string, exists: (relPath: string) => boolean): DocCheck {
  const problems: string[] = [];
  const anchors = new Set<string>();
  let lastLevel = 0;
  let inFence = false;
  const lines = content.split('\n');
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) return;
    const m = /^(#{1,6})(.*)$/.exec(line);
    if (!m) return;
    const level = m[1]!.length;
    const rest = m[2]!;
    if (rest !== '' && !rest.startsWith(' ')) problems.push(`line ${i + 1}: heading needs a space after ${m[1]}`);
    else if (rest.trim() === '') problems.push(`line ${i + 1}: empty heading`);
    else if (lastLevel > 0 && level > lastLevel + 1) problems.push(`line ${i + 1}: heading level jumps from ${lastLevel} to ${level}`);
    if (rest.trim() !== '') anchors.add(anchorOf(rest.replace(/#+\s*$/, '')));
    lastLevel = level;
  });
  inFence = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) return;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, mailto:, ...
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      if (path === '') {
        if (anchor !== undefined && !anchors.has(anchor.toLowerCase())) problems.push(`line ${i + 1}: no heading for anchor #${anchor}`);
        continue;
      }
      const rel = path.startsWith('/') ? path.slice(1) : join(dirname(file), decodeURIComponent(path));
      if (!exists(rel)) problems.push(`line ${i + 1}: link target ${path} does not exist`);
    }
  });
  return { file, problems, passed: problems.length === 0 };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that runs only `files`: heal.repository.perfCommand with {files}, or testCommand + files. */
export function perfCommandFor(repo: HealConfig['repository'], files: string[]): string {
  const quoted = files.map(shellQuote).join(' ');
  if (repo.perfCommand) return repo.perfCommand.includes('{files}') ? repo.perfCommand.replace('{files}', quoted) : `${repo.perfCommand} ${quoted}`;
  return `${repo.testCommand} ${quoted}`;
}

const TAIL_CHARS = 4_000;

export { testEnvironment } from './test-environment.js';

export interface ValidateOptions {
  git: Git;
  heal: HealConfig;
  fix: GeneratedFix;
  /** Branch or commit the patch is made against (heal.repository.baseBranch). */
  baseRef: string;
  env?: NodeJS.ProcessEnv;
  /** Names of other environment variables holding secrets (e.g. receive.auth.tokenEnv), kept from the test command. */
  secretEnv?: readonly string[];
  /** Records each test command's process group in the job, so a sidecar killed mid-run leaves none behind. */
  processGroup?: ProcessGroupRecorder;
}

/** Gives the worktree the repository's node_modules (ignored by git, so not in the worktree). */
async function linkDependencies(repoDir: string, treeDir: string): Promise<void> {
  const source = join(repoDir, 'node_modules');
  const target = join(treeDir, 'node_modules');
  if (existsSync(source) && !existsSync(target)) await symlink(resolve(source), target, 'dir');
}

/** Runs only `files` in a fresh worktree of the base with the whole patch (applyAll) or just those files. */
async function runFiles(opts: ValidateOptions, baseSha: string, files: string[], applyAll: boolean): Promise<CommandResult> {
  const wt = await opts.git.addWorktree(baseSha);
  try {
    await linkDependencies(opts.git.repoDir, wt.dir);
    // Before the fix: the claimed tests alone (they are usually new), against the old code.
    await opts.git.applyPatch(wt.dir, opts.fix.diff, applyAll ? {} : { include: files });
    const repo = opts.heal.repository;
    return await runCommand(perfCommandFor(repo, files), {
      cwd: wt.dir,
      timeoutMs: repo.testTimeoutMs,
      maxOutputBytes: opts.heal.validation.maxOutputBytes,
      env: testEnvironment(opts.heal, { ...process.env, ...opts.env }, opts.secretEnv),
      ...(opts.processGroup ? { processGroup: opts.processGroup } : {}),
    });
  } finally {
    await wt.remove();
  }
}

async function measure(opts: ValidateOptions, baseSha: string, files: string[], applyAll: boolean): Promise<number> {
  return (await runFiles(opts, baseSha, files, applyAll)).durationMs;
}

/**
 * The proof rule: a fix that changes code ships with a regression test that reproduces the
 * production failure. That test runs alone on the base (with only the test files applied) and must
 * fail, then on the patch and must pass with at least one test run. Anything short of that leaves
 * the fix 'unverified': it may be proposed, never merged automatically.
 */
export async function proveFix(opts: ValidateOptions, baseSha: string): Promise<Proof> {
  const code = changedCodeFiles(opts.fix);
  if (code.length === 0) return { verdict: 'not-needed', reason: 'the patch changes no code', testFiles: [] };
  const testFiles = proofTestFiles(opts.fix);
  if (testFiles.length === 0) {
    return { verdict: 'unverified', reason: `no regression test reproduces the failure (no captured input); code changed: ${code.join(', ')}`, testFiles };
  }
  const baseRun = await runFiles(opts, baseSha, testFiles, false);
  const base = { ...parseTestOutput(baseRun.output), exitCode: baseRun.exitCode };
  if (baseRun.timedOut || baseRun.exitCode === 0) {
    return { verdict: 'unverified', reason: baseRun.timedOut ? 'the regression test timed out on the base' : 'the regression test passes on the base: it does not reproduce the failure', testFiles, base };
  }
  const patchRun = await runFiles(opts, baseSha, testFiles, true);
  const patch = { ...parseTestOutput(patchRun.output), exitCode: patchRun.exitCode };
  if (patchRun.exitCode !== 0 || patch.failed > 0 || patch.passed === 0) {
    const why = patch.passed === 0 && patchRun.exitCode === 0 ? 'no test ran' : `exit ${String(patchRun.exitCode ?? patchRun.signal)}, ${patch.failed} failed`;
    return { verdict: 'unverified', reason: `the regression test does not pass with the patch (${why})`, testFiles, base, patch };
  }
  return { verdict: 'proven', reason: `the regression test fails on the base (${base.failed} failed) and passes with the patch (${patch.passed} passed)`, testFiles, base, patch };
}

async function checkPerformance(opts: ValidateOptions, baseSha: string, files: string[]): Promise<PerformanceCheck> {
  const beforeMs = await measure(opts, baseSha, files, false);
  const afterMs = await measure(opts, baseSha, files, true);
  const improvementPct = beforeMs > 0 ? ((beforeMs - afterMs) / beforeMs) * 100 : 0;
  const passed = afterMs <= beforeMs * (1 + opts.heal.validation.perfTolerancePct / 100);
  const check: PerformanceCheck = { testFiles: files, beforeMs, afterMs, improvementPct, passed };
  if (opts.fix.claims.latencyBudgetMs !== undefined) check.budgetMs = opts.fix.claims.latencyBudgetMs;
  return check;
}

/**
 * Validates one fix: apply it in a fresh worktree of the base, run the test command, parse the
 * counts, check coverage, performance (when claimed) and changed Markdown. Never throws for a bad
 * fix - that is a result with passed=false; it throws only when validation itself could not run.
 */
export async function validateFix(opts: ValidateOptions): Promise<ValidationResult> {
  const { git, heal, fix } = opts;
  const repo = heal.repository;
  const reasons: string[] = [];
  // Pin the base: the branch may move while the tests run; the proposal is built on this commit.
  const baseSha = await git.revParse(opts.baseRef);
  const wt = await git.addWorktree(baseSha);
  try {
    try {
      await git.applyPatch(wt.dir, fix.diff);
    } catch (err) {
      return {
        passed: false,
        reasons: [`patch does not apply: ${(err as Error).message}`],
        patchApplied: false,
        baseSha,
        exitCode: null,
        timedOut: false,
        durationMs: 0,
        docs: [],
        outputTail: '',
      };
    }
    await linkDependencies(git.repoDir, wt.dir);
    const run = await runCommand(repo.testCommand, {
      cwd: wt.dir,
      timeoutMs: repo.testTimeoutMs,
      maxOutputBytes: heal.validation.maxOutputBytes,
      env: testEnvironment(heal, { ...process.env, ...opts.env }, opts.secretEnv),
      ...(opts.processGroup ? { processGroup: opts.processGroup } : {}),
    });
    const tests = parseTestOutput(run.output);
    if (run.timedOut) reasons.push(`test command timed out after ${repo.testTimeoutMs} ms`);
    else if (run.exitCode !== 0) reasons.push(`test command exited with ${run.exitCode ?? run.signal}`);
    if (tests.failed > 0) reasons.push(`${tests.failed} test(s) failed`);
    // "0 passed of 0" proves nothing: a run whose summary shows no test (or none we recognise) fails.
    if (!run.timedOut && tests.total === 0 && tests.passed === 0) reasons.push('no test ran (or no test summary was recognised in the output)');

    let coverage: CoverageCheck | undefined;
    const found = await readCoverage(wt.dir, repo.coverageReport);
    const threshold = heal.validation.minLineCoverage;
    if (found) {
      coverage = { ...found, threshold, passed: found.linePct >= threshold };
      if (!coverage.passed) reasons.push(`line coverage ${found.linePct.toFixed(1)} % is below ${threshold} %`);
    } else if (heal.validation.requireCoverage) reasons.push(`no coverage report at ${repo.coverageReport}`);

    const docs: DocCheck[] = [];
    for (const file of fix.files.filter((f) => f.toLowerCase().endsWith('.md'))) {
      const path = join(wt.dir, file);
      if (!existsSync(path)) continue;
      const check = checkMarkdown(file, await readFile(path, 'utf8'), (rel) => existsSync(join(wt.dir, rel)));
      docs.push(check);
      if (!check.passed) reasons.push(`${file}: ${check.problems.join('; ')}`);
    }

    let performance: PerformanceCheck | undefined;
    const claimed = fix.claims.testFiles ?? [];
    // Only a fix that claims a latency budget is held to its tests' timing: test-only and guard
    // fixes are judged by their results, and test wall time on a busy machine is noisy.
    if (claimed.length > 0 && fix.claims.latencyBudgetMs !== undefined && reasons.length === 0) {
      performance = await checkPerformance(opts, baseSha, claimed);
      if (!performance.passed) {
        reasons.push(`claimed tests got slower: ${performance.beforeMs.toFixed(0)} ms -> ${performance.afterMs.toFixed(0)} ms`);
      }
    }

    const result: ValidationResult = {
      passed: reasons.length === 0,
      reasons,
      patchApplied: true,
      baseSha,
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      durationMs: run.durationMs,
      tests,
      docs,
      outputTail: run.output.slice(-TAIL_CHARS),
    };
    if (coverage) result.coverage = coverage;
    if (performance) result.performance = performance;
    if (result.passed) result.proof = await proveFix(opts, baseSha);
    return result;
  } finally {
    await wt.remove();
  }
}
