import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealSchema } from '../../../src/config/sections/heal.js';
import type { ProposeInput } from '../../../src/heal/deploy.js';
import { Git } from '../../../src/heal/git.js';
import { GitHubBackend, type GitHubBackendOptions, type GitHubRepositoryConfig } from '../../../src/heal/github-backend.js';
import { initRepo, sh, writeFiles } from '../fixtures/git-repo.js';
import { passedValidation, sampleAnomaly, sampleDiagnosis } from '../fixtures/samples.js';
import { FakeGitHub } from './fake-github.js';

export const TOKEN = 'ghp_T0pS3cretT0kenValue1234567890abcd';
export const NOW_MS = 1_800_000_000_000;

export const INITIAL_FILES = {
  'src/a.ts': 'export const a = 1;\n',
  'src/gone.ts': 'export const gone = true;\n',
  'README.md': '# app\n',
};

/** The unified diff of writing `files` and deleting `remove` on top of `ref` (made in a scratch worktree). */
export function patchFor(repoDir: string, ref: string, files: Record<string, string>, remove: string[] = []): string {
  const parent = mkdtempSync(join(tmpdir(), 'gh-diff-'));
  const wt = join(parent, 'wt');
  try {
    sh(repoDir, ['worktree', 'add', '--detach', '-q', wt, ref]);
    writeFiles(wt, files);
    for (const f of remove) unlinkSync(join(wt, f));
    sh(wt, ['add', '-A']);
    return sh(wt, ['diff', '--cached', '--binary']);
  } finally {
    sh(repoDir, ['worktree', 'remove', '--force', wt]);
    rmSync(parent, { recursive: true, force: true });
  }
}

export interface Harness {
  fake: FakeGitHub;
  repo: { dir: string; cleanup(): void };
  git: Git;
  sleeps: number[];
  /** The backends' clock: starts at NOW_MS, advanced by every (fake) sleep. */
  clock: { ms: number };
  /** Called after each fake sleep, e.g. to let checks finish meanwhile. */
  onSleep?: (ms: number) => void;
  input: ProposeInput;
  github(overrides?: Partial<GitHubRepositoryConfig>): GitHubRepositoryConfig;
  backend(overrides?: Partial<GitHubRepositoryConfig>, opts?: { jaegerUrl?: string; token?: string; nowMs?: () => number; onRetry?: GitHubBackendOptions['onRetry'] }): GitHubBackend;
  close(): Promise<void>;
}

/** A local clone and a fake GitHub holding the same initial commit, plus a fix input for them. */
export async function createHarness(): Promise<Harness> {
  const fake = new FakeGitHub(TOKEN);
  await fake.start();
  fake.seed(INITIAL_FILES);
  const repo = initRepo(INITIAL_FILES);
  const git = new Git(repo.dir);
  const sleeps: number[] = [];
  const clock = { ms: NOW_MS };
  const diff = patchFor(repo.dir, 'main', { 'src/a.ts': 'export const a = 2;\n', 'src/new.ts': 'export const fresh = 1;\n' }, ['src/gone.ts']);
  const input: ProposeInput = {
    jobId: 'job-1',
    anomaly: sampleAnomaly(),
    diagnosis: sampleDiagnosis(),
    fix: { kind: 'guard', title: 'Make a two', description: 'a must be 2', diff, files: ['src/a.ts', 'src/new.ts', 'src/gone.ts'], claims: {} },
    validation: passedValidation,
    baseBranch: 'main',
  };
  const github = (overrides: Partial<GitHubRepositoryConfig> = {}): GitHubRepositoryConfig => ({
    ...HealSchema.parse({ repository: { github: { owner: 'acme', repo: 'app', apiUrl: fake.url } } }).repository.github!,
    ...overrides,
  });
  const harness: Harness = {
    fake,
    repo,
    git,
    sleeps,
    clock,
    input,
    github,
    backend: (overrides = {}, opts = {}) =>
      new GitHubBackend({
        github: github(overrides),
        token: opts.token ?? TOKEN,
        git,
        ...(opts.jaegerUrl ? { jaegerUrl: opts.jaegerUrl } : {}),
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.ms += ms;
          harness.onSleep?.(ms);
        },
        nowMs: opts.nowMs ?? (() => clock.ms),
        ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
        retryBaseDelayMs: 10,
      }),
    close: async () => {
      await fake.stop();
      repo.cleanup();
    },
  };
  return harness;
}
