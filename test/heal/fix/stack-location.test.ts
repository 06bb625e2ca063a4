import { afterEach, describe, expect, it } from 'vitest';
import { parseFrameLocations, resolveInRepo } from '../../../src/heal/fix/stack-location.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';

describe('parseFrameLocations', () => {
  it('extracts file:line:column from V8 frames, skipping dependencies and node internals', () => {
    const stack = [
      'TypeError: x',
      '    at f (/srv/app/src/a.ts:15:34)',
      '    at file:///srv/app/dist/b.js:3:1',
      '    at g (/srv/app/node_modules/lib/index.js:1:1)',
      '    at node:internal/process/task_queues:95:5',
      '    at h (C:\\app\\src\\c.ts:7)',
    ].join('\n');
    expect(parseFrameLocations(stack)).toEqual([
      { path: '/srv/app/src/a.ts', line: 15, column: 34 },
      { path: '/srv/app/dist/b.js', line: 3, column: 1 },
      { path: 'C:/app/src/c.ts', line: 7, column: undefined },
    ]);
  });
});

describe('resolveInRepo', () => {
  let repo: FixtureRepo | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
  });

  it('maps absolute, foreign and compiled paths onto repository files', async () => {
    repo = await createFixtureRepo();
    const file = 'src/handlers/createComponent.ts';
    expect(resolveInRepo(repo.dir, { path: `${repo.dir}/${file}`, line: 15, column: 34 })).toEqual({ file, line: 15, column: 34, mapped: false });
    expect(resolveInRepo(repo.dir, { path: `/srv/other/${file}`, line: 15 })).toEqual({ file, line: 15, column: undefined, mapped: false });
    expect(resolveInRepo(repo.dir, { path: '/srv/app/dist/src/handlers/createComponent.js', line: 12 })).toEqual({ file, line: 12, column: undefined, mapped: true });
    // ".." in a frame never leads outside the repository: only what follows it is looked up inside.
    expect(resolveInRepo(repo.dir, { path: '../../../../etc/passwd', line: 1 })).toBeUndefined();
    expect(resolveInRepo(repo.dir, { path: `../../x/../${file}`, line: 15 })).toEqual({ file, line: 15, column: undefined, mapped: false });
    expect(resolveInRepo(repo.dir, { path: '/srv/app/build/handlers/createComponent.js', line: 12 })?.file).toBe(file);
    expect(resolveInRepo(repo.dir, { path: '/srv/app/src/missing.ts', line: 1 })).toBeUndefined();
  });
});
