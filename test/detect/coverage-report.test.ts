import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { findCoverage, isAnonymousName, loadCoverageReport, nameFromSource, parseIstanbulJson, parseLcov } from '../../src/detect/coverage-report.js';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('./fixtures/coverage/', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const cartLines = readFileSync(join(fixtures, 'cart.js'), 'utf8').split('\n');
const reader = (file: string): string[] | undefined => (file.endsWith('cart.js') ? cartLines : undefined);

describe('handwritten fixtures', () => {
  it('parses istanbul JSON, resolving anonymous functions bound to names', () => {
    const json: unknown = JSON.parse(readFileSync(join(fixtures, 'coverage-final.json'), 'utf8'));
    const idx = parseIstanbulJson(json, '/repo', reader);
    expect(idx.handlers.get('addItem')).toEqual({ covered: true, hits: 4, file: 'src/cart.js', line: 1 });
    expect(idx.handlers.get('applyDiscount')).toEqual({ covered: false, hits: 0, file: 'src/cart.js', line: 5 });
    expect(idx.handlers.get('clearCart')!.covered).toBe(true);
    expect(idx.handlers.get('checkout')!.covered).toBe(false);
    expect(idx.files.get('src/cart.js')).toEqual({ functions: 4, coveredFunctions: 2 });
  });

  it('leaves unresolvable anonymous functions out of the handler names', () => {
    const json: unknown = JSON.parse(readFileSync(join(fixtures, 'coverage-final.json'), 'utf8'));
    const idx = parseIstanbulJson(json);
    expect(idx.handlers.has('applyDiscount')).toBe(false);
    expect([...idx.handlers.keys()].some(isAnonymousName)).toBe(false);
    expect(idx.files.get('/repo/src/cart.js')!.functions).toBe(4);
  });

  it('parses lcov, both FN forms, the same way', () => {
    const idx = parseLcov(readFileSync(join(fixtures, 'lcov.info'), 'utf8'), '/repo', reader);
    expect(idx.handlers.get('addItem')).toEqual({ covered: true, hits: 4, file: 'src/cart.js', line: 1 });
    expect(idx.handlers.get('applyDiscount')!.covered).toBe(false);
    expect(idx.handlers.get('clearCart')!.covered).toBe(true);
    expect(idx.handlers.get('checkout')!.covered).toBe(false);
  });

  it('rejects JSON that is not istanbul coverage, naming the field', () => {
    expect(() => parseIstanbulJson({ 'a.js': { fnMap: {} } })).toThrow(/a\.js\.f/);
  });

  it('merges functions sharing a name: covered if any one is', () => {
    const idx = parseLcov(['SF:a.js', 'FN:1,run', 'FNDA:0,run', 'end_of_record', 'SF:b.js', 'FN:3,run', 'FNDA:2,run', 'end_of_record', 'SF:c.js', 'FN:9,run', 'FNDA:0,run'].join('\n'));
    expect(idx.handlers.get('run')).toEqual({ covered: true, hits: 2, file: 'b.js', line: 3 });
    expect(idx.files.get('c.js')).toEqual({ functions: 1, coveredFunctions: 0 });
  });

  it('finds qualified handler names by their last segment', () => {
    const idx = parseLcov('SF:a.js\nFN:1,addItem\nFNDA:1,addItem\nend_of_record\n');
    expect(findCoverage(idx, 'CartService.addItem')!.covered).toBe(true);
    expect(findCoverage(idx, 'cart#addItem')).toBeDefined();
    expect(findCoverage(idx, 'removeItem')).toBeUndefined();
  });

  it('names functions from their source line', () => {
    expect(nameFromSource('export const f = (a) => a', 17)).toBe('f');
    expect(nameFromSource('  handle: async function (req) {', 10)).toBe('handle');
    expect(nameFromSource('let g = async x => x')).toBe('g');
    expect(nameFromSource('return list.map((x) => x)', 16)).toBeUndefined();
  });

  it('loads by extension or content and names the file on bad JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cov-load-'));
    try {
      writeFileSync(join(dir, 'report'), '{"x.js":{"fnMap":{"0":{"name":"a","line":2}},"f":{"0":1}}}');
      expect(loadCoverageReport(join(dir, 'report'), dir).handlers.get('a')!.covered).toBe(true);
      writeFileSync(join(dir, 'lcov.info'), 'SF:x.js\nFN:2,a\nFNDA:0,a\nend_of_record\n');
      expect(loadCoverageReport(join(dir, 'lcov.info')).handlers.get('a')!.covered).toBe(false);
      writeFileSync(join(dir, 'bad.json'), '{nope');
      expect(() => loadCoverageReport(join(dir, 'bad.json'))).toThrow(/bad\.json: invalid JSON/);
      writeFileSync(join(dir, 'wrong.json'), '[1]');
      expect(() => loadCoverageReport(join(dir, 'wrong.json'))).toThrow(/wrong\.json: not an istanbul/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a real coverage report written by vitest', () => {
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cov-real-'));
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(
      join(dir, 'handlers.js'),
      [
        'export function addItem(cart, item) {',
        '  return [...cart, item];',
        '}',
        '',
        'export function removeItem(cart, id) {',
        '  return cart.filter((i) => i.id !== id);',
        '}',
        '',
        'export const applyDiscount = (total, pct) => total * (1 - pct);',
        '',
        'export const refund = async (order) => order.total;',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'handlers.test.js'),
      "import { test, expect } from 'vitest';\nimport { addItem, applyDiscount } from './handlers.js';\ntest('cart', () => {\n  expect(addItem([], 1)).toEqual([1]);\n  expect(applyDiscount(100, 0.5)).toBe(50);\n});\n",
    );
    writeFileSync(
      join(dir, 'vitest.config.mjs'),
      "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ root: import.meta.dirname, test: { include: ['*.test.js'], coverage: { provider: 'v8', include: ['handlers.js'], reportsDirectory: 'coverage' } } });\n",
    );
    // The child must not think it runs inside this vitest worker.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    await run(join(repo, 'node_modules/.bin/vitest'), ['run', '-c', 'vitest.config.mjs', '--coverage', '--coverage.reporter=json', '--coverage.reporter=lcov'], { cwd: dir, env, timeout: 120_000 });
  }, 180_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('parses coverage-final.json: named functions and const-bound arrows', () => {
    const idx = loadCoverageReport(join(dir, 'coverage/coverage-final.json'), dir);
    expect(idx.handlers.get('addItem')!.covered).toBe(true);
    expect(idx.handlers.get('removeItem')!.covered).toBe(false);
    expect(idx.handlers.get('applyDiscount')!.covered).toBe(true);
    expect(idx.handlers.get('refund')).toMatchObject({ covered: false, file: 'handlers.js', line: 11 });
  });

  it('parses lcov.info to the same verdicts', () => {
    const idx = loadCoverageReport(join(dir, 'coverage/lcov.info'), dir);
    expect(idx.handlers.get('addItem')!.covered).toBe(true);
    expect(idx.handlers.get('removeItem')!.covered).toBe(false);
    expect(idx.handlers.get('applyDiscount')!.covered).toBe(true);
    expect(idx.handlers.get('refund')!.covered).toBe(false);
  });
});
