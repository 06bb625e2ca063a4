import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findExportedHandler, findHandlerSource, parseSource } from '../../../src/heal/fix/handler-source.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';

describe('findExportedHandler', () => {
  it('finds exported functions, consts and locally declared re-exports only', () => {
    const sf = parseSource(
      'a.ts',
      'export async function f(a: number, b: number) { return a + b; }\nexport const g = (x: string) => x;\nconst h = function (y: number) { return y; };\nconst k = 1;\nfunction hidden() {}\nexport { h, k as kk };\n',
    );
    expect(findExportedHandler(sf, 'f')?.declaration).toBe('function');
    expect(findExportedHandler(sf, 'g')?.declaration).toBe('const');
    expect(findExportedHandler(sf, 'h')?.fn).toBeDefined();
    expect(findExportedHandler(sf, 'k')).toBeUndefined();
    expect(findExportedHandler(sf, 'hidden')).toBeUndefined();
    expect(findExportedHandler(sf, 'nothing')).toBeUndefined();
    expect(findExportedHandler(parseSource('c.tsx', 'export const C = () => <div/>;'), 'C')?.declaration).toBe('const');
    expect(findExportedHandler(parseSource('c.jsx', 'export function D() { return <p/>; }'), 'D')?.declaration).toBe('function');
  });
});

describe('findHandlerSource', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('locates handlers through the configured globs, preferring the file named after the handler', async () => {
    repo = await createFixtureRepo();
    const globs = ['src/**/*.ts', 'src/**/*.js'];
    expect(await findHandlerSource(repo.dir, globs, 'createComponent')).toEqual({
      file: 'src/handlers/createComponent.ts',
      exportName: 'createComponent',
      declaration: 'function',
      async: false,
      parameters: 1,
    });
    await writeFile(join(repo.dir, 'src/handlers/index.ts'), "export { createComponent } from './createComponent.js';\nexport const later = async (a: number, b: number) => a + b;\n");
    expect(await findHandlerSource(repo.dir, globs, 'later')).toMatchObject({ file: 'src/handlers/index.ts', declaration: 'const', async: true, parameters: 2 });
    expect(await findHandlerSource(repo.dir, globs, 'subscribeUi')).toMatchObject({ file: 'src/handlers/notifyUi.ts' });
    expect(await findHandlerSource(repo.dir, globs, 'missingHandler')).toBeUndefined();
  });
});
