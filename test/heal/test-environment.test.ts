import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.js';
import { Git } from '../../src/heal/git.js';
import { testEnvironment } from '../../src/heal/test-environment.js';
import { validateFix } from '../../src/heal/validate.js';
import { diffFor, initRepo } from './fixtures/git-repo.js';

/** What the sidecar's own environment may hold in production: none of it may reach patched code. */
const SIDECAR_SECRETS = {
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20otlp-secret',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  GITHUB_TOKEN: 'ghp_secret',
  GH_TOKEN: 'gh_secret',
  SELF_HEALING_AUTH_TOKEN: 'receiver-secret',
  SELF_HEALING_ADMIN_TOKEN: 'admin-secret',
  NODE_AUTH_TOKEN: 'npm-secret',
  NODE_OPTIONS: '--max-old-space-size=256',
  NODE_SECRET_KEY: 'node-prefixed-secret',
  DATABASE_PASSWORD: 'db-secret',
  GOOGLE_APPLICATION_CREDENTIALS: '/var/run/gcp.json',
  AZURE_CLIENT_SECRET: 'az',
};

describe('testEnvironment (allow-list)', () => {
  const heal = (passEnv: string[] = []) => ConfigSchema.parse({ heal: { validation: { passEnv } } }).heal;

  it('passes the base names, LC_* and NODE_* and nothing else', () => {
    const env = testEnvironment(heal(), {
      ...SIDECAR_SECRETS,
      PATH: '/usr/bin',
      HOME: '/home/app',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
      CI: 'true',
      TMPDIR: '/tmp',
      NODE_ENV: 'test',
      NODE_EXTRA_CA_CERTS: '/etc/ca.pem',
      RANDOM_SETTING: 'x',
    });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/app', LANG: 'C.UTF-8', LC_ALL: 'C', TZ: 'UTC', CI: 'true', TMPDIR: '/tmp', NODE_ENV: 'test', NODE_EXTRA_CA_CERTS: '/etc/ca.pem' });
  });

  it("adds the repository's own settings from heal.validation.passEnv, exact names and prefixes", () => {
    const env = testEnvironment(heal(['DATABASE_URL', 'MYAPP_*', 'NODE_OPTIONS']), { DATABASE_URL: 'postgres://localhost/t', MYAPP_A: '1', MYAPP_B: '2', MYAPPX: 'no', NODE_OPTIONS: '--x' });
    expect(env).toEqual({ DATABASE_URL: 'postgres://localhost/t', MYAPP_A: '1', MYAPP_B: '2', NODE_OPTIONS: '--x' });
  });

  it("never passes the sidecar's own secrets, even when listed", () => {
    const h = ConfigSchema.parse({ heal: { validation: { passEnv: ['GITHUB_TOKEN', 'MY_GH', 'RECV'] }, repository: { github: { owner: 'o', repo: 'r', tokenEnv: 'MY_GH' } } } }).heal;
    const env = testEnvironment(h, { GITHUB_TOKEN: 'a', MY_GH: 'b', RECV: 'c', PATH: '/bin' }, ['RECV']);
    expect(env).toEqual({ PATH: '/bin' });
  });

  it('rejects a passEnv entry that is not a variable name', () => {
    expect(() => ConfigSchema.parse({ heal: { validation: { passEnv: ['A B'] } } })).toThrow(/variable name/);
    // A bare "*" would pass everything: not a name, not a prefix.
    expect(() => ConfigSchema.parse({ heal: { validation: { passEnv: ['*'] } } })).toThrow(/variable name/);
  });
});

describe('the test command of a real validation sees only the allow-listed environment', { timeout: 120_000 }, () => {
  let repo: { dir: string; cleanup(): void };
  let work: string;
  beforeAll(() => {
    repo = initRepo({ 'lib.mjs': 'export const x = 1;\n' });
    work = mkdtempSync(join(tmpdir(), 'heal-env-'));
  });
  afterAll(() => {
    repo.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs `env` in the worktree: secrets absent, base names and passEnv present', async () => {
    const dump = join(work, 'env.txt');
    const heal = ConfigSchema.parse({ heal: { repository: { testCommand: 'env > "$ENV_DUMP"', testTimeoutMs: 60_000 }, validation: { passEnv: ['ENV_DUMP', 'MYAPP_*'] } } }).heal;
    const diff = diffFor(repo.dir, 'main', { 'lib.mjs': 'export const x = 2;\n' });
    await validateFix({
      git: new Git(repo.dir, work),
      heal,
      fix: { kind: 'guard', title: 't', description: 'd', diff, files: ['lib.mjs'], claims: {} },
      baseRef: 'main',
      env: { ...SIDECAR_SECRETS, ENV_DUMP: dump, MYAPP_MODE: 'test', NODE_ENV: 'test', PATH: process.env.PATH ?? '/usr/bin' },
      secretEnv: ['SELF_HEALING_ADMIN_TOKEN'],
    });
    const seen = Object.fromEntries(
      readFileSync(dump, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const name of Object.keys(SIDECAR_SECRETS)) expect(seen[name], name).toBeUndefined();
    for (const value of Object.values(SIDECAR_SECRETS)) expect(readFileSync(dump, 'utf8')).not.toContain(value);
    expect(seen).toMatchObject({ MYAPP_MODE: 'test', NODE_ENV: 'test', CI: '1' });
    expect(seen['PATH']).toBeDefined();
  });
});
