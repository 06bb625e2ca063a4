import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthConfigError, bearerCheckFromConfig, createBearerCheck, loadAuthToken } from '../../src/receive/auth.js';
import { ConfigSchema } from '../../src/config/schema.js';

describe('auth', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('is off when neither env var nor file is set', () => {
    expect(loadAuthToken({ tokenEnv: 'X_TOKEN' }, {})).toBeUndefined();
    expect(createBearerCheck(undefined)).toBeUndefined();
    expect(bearerCheckFromConfig(ConfigSchema.parse({}).receive, {})).toBeUndefined();
  });

  it('reads the token from the env var named in config, trimmed', () => {
    expect(loadAuthToken({ tokenEnv: 'X_TOKEN' }, { X_TOKEN: ' s3cret\n' })).toBe('s3cret');
    expect(() => loadAuthToken({ tokenEnv: 'X_TOKEN' }, { X_TOKEN: '  ' })).toThrow(AuthConfigError);
  });

  it('prefers the token file and reports unreadable or empty files without the token', () => {
    const dir = mkdtempSync(join(tmpdir(), 'auth-'));
    dirs.push(dir);
    const file = join(dir, 'token');
    writeFileSync(file, 'from-file\n');
    expect(loadAuthToken({ tokenEnv: 'X_TOKEN', tokenFile: file }, { X_TOKEN: 'from-env' })).toBe('from-file');
    writeFileSync(file, '\n');
    expect(() => loadAuthToken({ tokenEnv: 'X', tokenFile: file }, {})).toThrow(/is empty/);
    expect(() => loadAuthToken({ tokenEnv: 'X', tokenFile: join(dir, 'missing') }, {})).toThrow(/ENOENT/);
  });

  it('accepts exactly the bearer token, case-insensitive scheme', () => {
    const check = createBearerCheck('abc123')!;
    expect(check('Bearer abc123')).toBe(true);
    expect(check('bearer abc123')).toBe(true);
    expect(check('BEARER  abc123 ')).toBe(true);
    expect(check('Bearer abc1234')).toBe(false);
    expect(check('Bearer abc12')).toBe(false);
    expect(check('Basic abc123')).toBe(false);
    expect(check('abc123')).toBe(false);
    expect(check('')).toBe(false);
    expect(check(undefined)).toBe(false);
  });

  it('never puts the token in an error message', () => {
    try {
      loadAuthToken({ tokenEnv: 'X_TOKEN' }, { X_TOKEN: '' });
    } catch (err) {
      expect((err as Error).message).toContain('X_TOKEN');
    }
    const cfg = ConfigSchema.parse({ receive: { auth: { tokenEnv: 'MY_TOK' } } }).receive;
    expect(bearerCheckFromConfig(cfg, { MY_TOK: 'zzz' })!('Bearer zzz')).toBe(true);
  });
});
