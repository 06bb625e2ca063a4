import type { TestCounts } from '../model/heal.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

function count(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : 0;
}

function lastLineMatching(lines: string[], re: RegExp): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i]!)) return lines[i];
  return undefined;
}

function vitest(lines: string[]): TestCounts | undefined {
  // "      Tests  3 passed | 1 failed | 2 skipped (6)"
  const line = lastLineMatching(lines, /^\s*Tests\s+\d+\s+\w+.*\(\d+\)\s*$/);
  if (!line) return undefined;
  const passed = count(line, /(\d+) passed/);
  const failed = count(line, /(\d+) failed/);
  const skipped = count(line, /(\d+) skipped/) + count(line, /(\d+) todo/);
  const total = count(line, /\((\d+)\)\s*$/);
  return { runner: 'vitest', passed, failed, skipped, total };
}

function jest(lines: string[]): TestCounts | undefined {
  // "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
  const line = lastLineMatching(lines, /^\s*Tests:\s+.*\d+ total/);
  if (!line) return undefined;
  return {
    runner: 'jest',
    passed: count(line, /(\d+) passed/),
    failed: count(line, /(\d+) failed/),
    skipped: count(line, /(\d+) skipped/) + count(line, /(\d+) todo/),
    total: count(line, /(\d+) total/),
  };
}

function nodeTest(text: string): TestCounts | undefined {
  // TAP ("# pass 3") and spec ("ℹ pass 3") reporters both end with these summary lines.
  const prefix = '^(?:#|ℹ)\\s+';
  const tests = new RegExp(prefix + 'tests (\\d+)\\s*$', 'm');
  if (!tests.test(text)) return undefined;
  const get = (name: string): number => count(text, new RegExp(prefix + name + ' (\\d+)\\s*$', 'm'));
  return {
    runner: 'node-test',
    passed: get('pass'),
    failed: get('fail') + get('cancelled'),
    skipped: get('skipped') + get('todo'),
    total: get('tests'),
  };
}

function mocha(text: string): TestCounts | undefined {
  // "  3 passing (20ms)" / "  1 failing" / "  2 pending"
  const passing = /^\s*(\d+) passing\b/m.exec(text);
  if (!passing) return undefined;
  const passed = Number(passing[1]);
  const failed = count(text, /^\s*(\d+) failing\b/m);
  const skipped = count(text, /^\s*(\d+) pending\b/m);
  return { runner: 'mocha', passed, failed, skipped, total: passed + failed + skipped };
}

/**
 * Reads pass/fail/skip counts from the summary a test runner prints (vitest, jest, node:test,
 * mocha). Returns runner 'unknown' with zero counts when no summary is recognised.
 */
export function parseTestOutput(output: string): TestCounts {
  const text = output.replace(ANSI, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  return (
    vitest(lines) ??
    jest(lines) ??
    nodeTest(text) ??
    mocha(text) ?? { runner: 'unknown', passed: 0, failed: 0, skipped: 0, total: 0 }
  );
}
