import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealSchema } from '../../src/config/sections/heal.js';
import { createDeploymentBackend } from '../../src/heal/backend-factory.js';
import { Git } from '../../src/heal/git.js';
import { GitHubBackend } from '../../src/heal/github-backend.js';
import { LocalBackend } from '../../src/heal/local-backend.js';
import { FakeGitHub } from './github/fake-github.js';
import { tempDb, type TempDb } from './fixtures/samples.js';

describe('createDeploymentBackend', () => {
  let t: TempDb;
  let fake: FakeGitHub;
  beforeEach(async () => {
    t = tempDb();
    fake = new FakeGitHub('ghp_factoryTokenValue0123456789abcdef');
    await fake.start();
    fake.seed({ 'a.txt': 'a\n' });
  });
  afterEach(async () => {
    await fake.stop();
    t.close();
  });

  it('is the local backend without a GitHub repository', () => {
    const b = createDeploymentBackend(HealSchema.parse({}), { db: t.db, git: new Git(t.dir) });
    expect(b).toBeInstanceOf(LocalBackend);
    expect(b.name).toBe('local');
  });

  it('is the GitHub backend, authenticated with the token from tokenEnv, when configured', async () => {
    const heal = HealSchema.parse({ repository: { github: { owner: 'acme', repo: 'app', apiUrl: fake.url, tokenEnv: 'FACTORY_TOKEN' } } });
    const b = createDeploymentBackend(heal, {
      db: t.db,
      git: new Git(t.dir),
      jaegerUrl: 'http://j',
      env: { FACTORY_TOKEN: fake.token },
      fetch: globalThis.fetch,
      sleep: async () => undefined,
      nowMs: () => 0,
    });
    expect(b).toBeInstanceOf(GitHubBackend);
    expect(b.name).toBe('github');
    const sha = fake.refs.get('heads/main')!;
    expect(await b.checks({ headSha: sha } as never)).toBe('success');
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual([`token ${fake.token}`, `token ${fake.token}`]);
  });

  it('fails at construction when the token is missing', () => {
    const heal = HealSchema.parse({ repository: { github: { owner: 'acme', repo: 'app' } } });
    expect(() => createDeploymentBackend(heal, { db: t.db, git: new Git(t.dir), env: {} })).toThrow(/set the GITHUB_TOKEN environment variable/);
  });
});
