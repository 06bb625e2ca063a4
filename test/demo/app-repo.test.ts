import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtureRepo, FIXTURE_BUG, FIXTURE_SEQUENCE, projectNodeModules, writeAppRepo } from '../../src/demo/app-repo.js';
import * as reexported from '../fixtures/app-repo.js';

const run = promisify(execFile);
const git = async (dir: string, ...args: string[]): Promise<string> => (await run('git', args, { cwd: dir })).stdout.trim();

describe('writeAppRepo', () => {
  let parent: string;
  let dir: string;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'demo-repo-'));
    dir = join(parent, 'nested', 'app');
    await writeAppRepo(dir);
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('creates a git repository with the two tagged releases on main', async () => {
    expect(await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
    expect((await git(dir, 'tag')).split('\n')).toEqual(['v1.0.0', 'v1.1.0']);
    expect(await git(dir, 'status', '--porcelain')).toBe('');
    expect(await git(dir, 'log', '--format=%s')).toBe('createComponent: take the name from the component descriptor\nInitial canvas component app');
  });

  it('has the null-access bug where FIXTURE_BUG says, and the fixed read in v1.0.0', async () => {
    const lines = readFileSync(join(dir, FIXTURE_BUG.file), 'utf8').split('\n');
    const line = lines[FIXTURE_BUG.line - 1]!;
    expect(line).toBe('  const name = payload.component.name;');
    expect(line.indexOf('name;') + 1).toBe(FIXTURE_BUG.column);
    expect(await git(dir, 'show', `v1.0.0:${FIXTURE_BUG.file}`)).toContain('const name = payload.name;');
  });

  it('links the project dependencies and declares the sequence', () => {
    expect(lstatSync(join(dir, 'node_modules')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(dir, 'node_modules', 'vitest'))).toBe(true);
    expect(projectNodeModules()).toMatch(/node_modules$/);
    const sequence = JSON.parse(readFileSync(join(dir, 'sequences', `${FIXTURE_SEQUENCE}.sequence.json`), 'utf8')) as { movements: Array<{ beats: Array<{ handler: string }> }> };
    expect(sequence.movements.flatMap((m) => m.beats.map((b) => b.handler))).toEqual(['resolveTemplate', 'createComponent', 'renderComponent', 'notifyUi']);
  });
});

describe('createFixtureRepo', () => {
  it('builds the guarded variant in a temp dir and removes it on cleanup', async () => {
    const repo = await createFixtureRepo({ bug: 'none' });
    expect(readFileSync(join(repo.dir, FIXTURE_BUG.file), 'utf8')).toContain('payload.component?.name');
    await repo.cleanup();
    expect(existsSync(repo.dir)).toBe(false);
  });

  it('cleans up and rethrows when the repository cannot be written', async () => {
    const realPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(createFixtureRepo()).rejects.toThrow();
    } finally {
      process.env.PATH = realPath;
    }
  });

  it('is what test/fixtures/app-repo.ts re-exports', () => {
    expect(reexported.createFixtureRepo).toBe(createFixtureRepo);
    expect(reexported.FIXTURE_BUG).toBe(FIXTURE_BUG);
  });
});
