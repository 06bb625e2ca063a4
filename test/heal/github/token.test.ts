import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveGitHubToken } from '../../../src/heal/github/token.js';

describe('resolveGitHubToken', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-token-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the environment variable named by tokenEnv', () => {
    expect(resolveGitHubToken({ tokenEnv: 'MY_TOKEN' }, { MY_TOKEN: ' ghp_value \n' })).toBe('ghp_value');
  });

  it('prefers tokenFile and trims it', () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'ghp_from_file\n');
    expect(resolveGitHubToken({ tokenEnv: 'MY_TOKEN', tokenFile: file }, { MY_TOKEN: 'ghp_env' })).toBe('ghp_from_file');
  });

  it('names where it looked, never a value', () => {
    expect(() => resolveGitHubToken({ tokenEnv: 'MY_TOKEN' }, {})).toThrow('set the MY_TOKEN environment variable');
    expect(() => resolveGitHubToken({ tokenEnv: 'MY_TOKEN' }, { MY_TOKEN: '  ' })).toThrow(/GitHub token missing/);
    expect(() => resolveGitHubToken({ tokenEnv: 'T', tokenFile: join(dir, 'absent') })).toThrow(/cannot be read \(ENOENT\)/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => resolveGitHubToken({ tokenEnv: 'T', tokenFile: empty })).toThrow(/is empty/);
    expect(() =>
      resolveGitHubToken({ tokenEnv: 'T', tokenFile: 'x' }, {}, () => {
        throw new Error('secret-content');
      }),
    ).toThrow('GitHub token file x cannot be read (unreadable)');
  });
});
