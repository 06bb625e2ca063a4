import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSequenceFiles, skippedLine } from '../../src/detect/sequence-files.js';

const one = (name: string, handler = 'h'): object => ({ id: `P.${name}`, name, movements: [{ name: 'm', beats: [{ beat: 1, event: 'e', handler, custom: 'kept' }] }] });

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'seq-files-'));
  mkdirSync(join(dir, 'sequences/nested'), { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (path: string, json: unknown): void => writeFileSync(join(dir, path), typeof json === 'string' ? json : JSON.stringify(json));

describe('loadSequenceFiles', () => {
  it('loads single, array and { sequences } files matched by globs, first name wins and duplicates are counted', async () => {
    write('sequences/a.json', one('checkout'));
    write('sequences/nested/b.json', [one('search'), one('signup')]);
    write('sequences/nested/c.json', { sequences: [one('checkout', 'other')] });
    write('sequences/ignored.txt', 'x');
    const load = await loadSequenceFiles(['sequences/**/*.json'], dir);
    expect(load.sequences.map((s) => s.name)).toEqual(['checkout', 'search', 'signup']);
    expect(load.sequences[0]!.movements[0]!.beats[0]!.handler).toBe('h');
    expect((load.sequences[0]!.movements[0]!.beats[0] as Record<string, unknown>).custom).toBe('kept');
    expect(load.files.map((f) => [f.file.slice(dir.length + 1), f.status, f.sequences, f.duplicates])).toEqual([
      ['sequences/a.json', 'loaded', 1, 0],
      ['sequences/nested/b.json', 'loaded', 2, 0],
      ['sequences/nested/c.json', 'loaded', 0, 1],
    ]);
    expect(load.skipped).toEqual([]);
  });

  it('returns nothing for no globs or no matches', async () => {
    expect(await loadSequenceFiles([], dir)).toEqual({ sequences: [], files: [], skipped: [] });
    expect((await loadSequenceFiles(['nothing/*.json'], dir)).files).toEqual([]);
  });

  it('skips bad files with the reason and loads the others', async () => {
    write('sequences/a.json', one('checkout'));
    write('sequences/broken.json', '{ "id": ');
    write('sequences/package.json', { name: 'pkg', version: '1.0.0', scripts: {} });
    const bad = one('x') as { movements: Array<{ beats: Array<Record<string, unknown>> }> };
    delete bad.movements[0]!.beats[0]!.handler;
    write('sequences/no-handler.json', bad);
    const load = await loadSequenceFiles(['sequences/*.json'], dir);
    expect(load.sequences.map((s) => s.name)).toEqual(['checkout']);
    expect(load.skipped.map((s) => [s.file.slice(dir.length + 1), s.reason.replace(/:.*$/s, ':...')])).toEqual([
      ['sequences/broken.json', 'invalid JSON:...'],
      ['sequences/no-handler.json', 'movements.0.beats.0:...'],
      ['sequences/package.json', 'npm package manifest (package.json), not a sequence'],
    ]);
    expect(skippedLine(dir, load.skipped[2]!)).toBe('sequence file skipped: sequences/package.json: npm package manifest (package.json), not a sequence');
  });

  it('reads a file that starts with a byte order mark', async () => {
    write('sequences/bom.json', `\uFEFF${JSON.stringify(one('bom'))}`);
    expect((await loadSequenceFiles(['sequences/*.json'], dir)).sequences.map((s) => s.name)).toEqual(['bom']);
  });

  it('follows index.json manifests once each, through cycles, and names missing listed files', async () => {
    write('sequences/nested/create.json', one('create'));
    write('sequences/nested/dashboard.load.json', one('dashboard.load'));
    // Only the top manifest is matched by the glob: everything else is reached by following it.
    write('sequences/index.json', { version: '1.0.0', sequences: [{ file: 'nested/index.json' }, { file: 'index.json' }] });
    write('sequences/nested/index.json', { sequences: [{ file: 'create.json', handlersPath: '@x/y' }, 'dashboard.load', 'gone', { file: '../index.json' }] });
    const load = await loadSequenceFiles(['sequences/index.json'], dir);
    expect(load.sequences.map((s) => s.name)).toEqual(['create', 'dashboard.load']);
    expect(load.files.map((f) => [f.file.slice(dir.length + 1), f.status])).toEqual([
      ['sequences/index.json', 'manifest'],
      ['sequences/nested/index.json', 'manifest'],
      ['sequences/nested/create.json', 'loaded'],
      ['sequences/nested/dashboard.load.json', 'loaded'],
      ['sequences/nested/gone.json', 'skipped'],
    ]);
    expect(load.skipped).toEqual([{ file: join(dir, 'sequences/nested/gone.json'), reason: 'listed in sequences/nested/index.json but not found' }]);
    // Matched by the glob and listed by the manifest: still loaded once.
    const both = await loadSequenceFiles(['sequences/**/*.json'], dir);
    expect(both.files.filter((f) => f.file.endsWith('create.json'))).toHaveLength(1);
    expect(both.sequences.map((s) => s.name).sort()).toEqual(['create', 'dashboard.load']);
  });

  it("resolves Windows node_modules testFile paths to the installed package's real folder", async () => {
    mkdirSync(join(dir, 'packages/canvas/__tests__'), { recursive: true });
    mkdirSync(join(dir, 'node_modules/@renderx-plugins'), { recursive: true });
    symlinkSync(join(dir, 'packages/canvas'), join(dir, 'node_modules/@renderx-plugins/canvas-component'));
    write('sequences/a.json', {
      id: 'a',
      name: 'a',
      movements: [
        {
          name: 'm',
          beats: [
            { beat: 1, event: 'e', handler: 'h', testFile: 'node_modules\\@renderx-plugins\\canvas-component\\__tests__\\x.spec.ts' },
            { beat: 2, event: 'e2', handler: 'h2', testFile: 'test\\h2.test.ts' },
          ],
        },
      ],
    });
    const load = await loadSequenceFiles(['sequences/*.json'], dir, { repoRoot: dir });
    expect(load.sequences[0]!.movements[0]!.beats.map((b) => b.testFile)).toEqual(['packages/canvas/__tests__/x.spec.ts', 'test/h2.test.ts']);
  });
});
