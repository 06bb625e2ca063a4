import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTestFile } from '../../src/detect/test-file-location.js';

let dir = '';
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'test-file-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveTestFile', () => {
  it('keeps repository paths, with / separators', () => {
    expect(resolveTestFile('test\\unit\\a.test.ts', dir)).toBe('test/unit/a.test.ts');
    expect(resolveTestFile('./test/a.test.ts', dir)).toBe('test/a.test.ts');
    expect(resolveTestFile('C:\\repo\\a.test.ts', dir)).toBe('C:/repo/a.test.ts');
  });

  it('resolves a scoped node_modules path in the repository to the installed folder', () => {
    mkdirSync(join(dir, 'node_modules/@scope/pkg/tests'), { recursive: true });
    expect(resolveTestFile('node_modules\\@scope\\pkg\\tests\\x.test.js', dir)).toBe('node_modules/@scope/pkg/tests/x.test.js');
  });

  it('follows a workspace symlink to the package source', () => {
    mkdirSync(join(dir, 'packages/pkg/tests'), { recursive: true });
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(join(dir, 'packages/pkg'), join(dir, 'node_modules/pkg'));
    expect(resolveTestFile('node_modules\\pkg\\tests\\x.test.js', dir)).toBe('packages/pkg/tests/x.test.js');
  });

  it('finds the package in a node_modules above the repository (hoisted), as an absolute path', () => {
    mkdirSync(join(dir, 'node_modules/@scope/pkg'), { recursive: true });
    mkdirSync(join(dir, 'apps/web'), { recursive: true });
    expect(resolveTestFile('node_modules/@scope/pkg/__tests__/y.spec.ts', join(dir, 'apps/web'))).toBe(join(dir, 'node_modules/@scope/pkg/__tests__/y.spec.ts'));
  });

  it('leaves a package that is not installed, or a malformed one, as written', () => {
    expect(resolveTestFile('node_modules\\@scope\\missing\\x.test.js', dir)).toBe('node_modules/@scope/missing/x.test.js');
    expect(resolveTestFile('node_modules\\..\\x.test.js', dir)).toBe('node_modules/../x.test.js');
    expect(resolveTestFile('node_modules/', dir)).toBe('node_modules/');
  });
});
