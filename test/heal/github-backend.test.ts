import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployFix } from '../../src/heal/deploy.js';
import { GitHubBackend } from '../../src/heal/github-backend.js';
import { GitHubError } from '../../src/heal/github/errors.js';
import type { Proposal } from '../../src/model/heal.js';
import { HealSchema } from '../../src/config/sections/heal.js';
import { gitBlobSha } from './github/fake-github.js';
import { createHarness, NOW_MS, TOKEN, type Harness } from './github/harness.js';

const BRANCH = 'self-healing/an-1-createcomponent';
const JAEGER = 'http://jaeger.local:16686/';

async function caught(p: Promise<unknown>): Promise<GitHubError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GitHubError);
    return err as GitHubError;
  }
  throw new Error('expected a GitHubError');
}

describe('GitHubBackend', () => {
  let h: Harness;
  let backend: GitHubBackend;

  beforeEach(async () => {
    h = await createHarness();
    backend = h.backend({}, { jaegerUrl: JAEGER });
  });
  afterEach(async () => {
    await h.close();
  });

  describe('propose', () => {
    it('commits the patched files through the git data API and opens a labelled PR', async () => {
      const base = h.fake.refs.get('heads/main')!;
      const baseTree = h.fake.commits.get(base)!.tree;
      const p = await backend.propose(h.input);

      expect(h.fake.sequence()).toEqual([
        'GET /pulls',
        `GET /git/ref/heads/${BRANCH}`,
        'GET /git/ref/heads/main',
        `GET /git/commits/${base}`,
        `GET /git/trees/${baseTree}`,
        'POST /git/blobs',
        'POST /git/blobs',
        'POST /git/trees',
        'POST /git/commits',
        'POST /git/refs',
        'POST /pulls',
        'POST /issues/1/labels',
      ]);
      const req = (method: string, path: string) => h.fake.requests.filter((r) => r.method === method && r.path === path);
      expect(req('GET', '/pulls')[0]!.query.get('head')).toBe(`acme:${BRANCH}`);
      expect(req('GET', '/pulls')[0]!.query.get('state')).toBe('all');

      const blobs = req('POST', '/git/blobs').map((r) => Buffer.from((r.body as { content: string }).content, 'base64').toString('utf8'));
      expect(blobs.sort()).toEqual(['export const a = 2;\n', 'export const fresh = 1;\n']);
      expect(req('POST', '/git/trees')[0]!.body).toEqual({
        base_tree: baseTree,
        tree: [
          { path: 'src/a.ts', mode: '100644', type: 'blob', sha: gitBlobSha('export const a = 2;\n') },
          { path: 'src/gone.ts', mode: '100644', type: 'blob', sha: null },
          { path: 'src/new.ts', mode: '100644', type: 'blob', sha: gitBlobSha('export const fresh = 1;\n') },
        ],
      });
      const commitBody = req('POST', '/git/commits')[0]!.body as { message: string; parents: string[] };
      expect(commitBody.parents).toEqual([base]);
      expect(commitBody.message).toMatch(/^fix\(createComponent\): Make a two\n\n/);
      expect(req('POST', '/git/refs')[0]!.body).toEqual({ ref: `refs/heads/${BRANCH}`, sha: p.headSha });

      // The branch holds the patched tree.
      expect(h.fake.fileAt(BRANCH, 'src/a.ts')).toBe('export const a = 2;\n');
      expect(h.fake.fileAt(BRANCH, 'src/new.ts')).toBe('export const fresh = 1;\n');
      expect(h.fake.fileAt(BRANCH, 'src/gone.ts')).toBeUndefined();
      expect(h.fake.fileAt(BRANCH, 'README.md')).toBe('# app\n');
      expect(h.fake.fileAt('main', 'src/a.ts')).toBe('export const a = 1;\n');

      const pr = req('POST', '/pulls')[0]!.body as { title: string; body: string; head: string; base: string };
      expect(pr.head).toBe(BRANCH);
      expect(pr.base).toBe('main');
      expect(pr.title).toBe('fix(createComponent): Make a two');
      expect(pr.body).toContain('` an-1 `');
      expect(pr.body).toContain('root cause: ` null-access `');
      expect(pr.body).toContain('payload.component is undefined for old clients');
      expect(pr.body).toContain('evidence: ` stack top frame');
      expect(pr.body).toContain('[0af7651916cd43dd8448eb211c80319c](http://jaeger.local:16686/trace/0af7651916cd43dd8448eb211c80319c)');
      expect(pr.body).toContain('4 passed, 0 failed, 1 skipped of 5');
      expect(pr.body).toContain('line coverage: 93.5 %');
      expect(pr.body).toContain('900 ms before, 450 ms after');
      expect(pr.body).toContain('Self-Healing-Job: job-1');
      expect(req('POST', '/issues/1/labels')[0]!.body).toEqual({ labels: ['self-healing', 'fix:guard', 'severity:high'] });

      expect(p).toEqual({
        id: 'github:acme/app#1',
        backend: 'github',
        jobId: 'job-1',
        branch: BRANCH,
        baseBranch: 'main',
        title: 'fix(createComponent): Make a two',
        body: pr.body,
        headSha: h.fake.refs.get(`heads/${BRANCH}`),
        state: 'open',
        number: 1,
        url: 'https://github.example/acme/app/pull/1',
      });
    });

    it('labels an unverified fix and keeps hostile handler text out of the title and body', async () => {
      const hostile = 'createComponent\n\n<img src=x onerror=alert(1)>\u202E';
      const input = {
        ...h.input,
        anomaly: { ...h.input.anomaly, summary: hostile },
        diagnosis: { ...h.input.diagnosis, handler: hostile },
        validation: { ...h.input.validation, proof: { verdict: 'unverified' as const, reason: 'no regression test reproduces the failure', testFiles: [] } },
      };
      await backend.propose(input);
      const pr = h.fake.pulls[0]!;
      // One line, the handler cut to 40 characters; a PR title is plain text on GitHub.
      expect(pr.title).toBe('[unverified] fix(createComponent <img src=x onerror=aler\u2026): Make a two');
      expect(pr.body).toContain('UNVERIFIED: no regression test reproduces the failure');
      expect(pr.body).not.toContain('<img');
      expect(pr.body).not.toContain('\u202E');
      const labels = h.fake.requests.filter((r) => r.method === 'POST' && r.path === '/issues/1/labels')[0]!.body as { labels: string[] };
      expect(labels.labels).toContain('unverified');
    });

    it('is idempotent: a second call finds the PR and creates nothing', async () => {
      const first = await backend.propose(h.input);
      const before = h.fake.requests.length;
      const again = await backend.propose({ ...h.input, jobId: 'job-other' });
      expect(again).toEqual(first);
      expect(h.fake.sequence().slice(before)).toEqual(['GET /pulls']);
      expect(h.fake.pulls).toHaveLength(1);
      expect([...h.fake.refs.keys()]).toEqual(['heads/main', `heads/${BRANCH}`]);
    });

    it('adds labels that an earlier, interrupted run did not get to', async () => {
      h.fake.fault({ method: 'POST', path: /^\/issues\/1\/labels$/, status: 422, body: { message: 'Validation Failed' } });
      await expect(backend.propose(h.input)).rejects.toThrow(GitHubError);
      expect(h.fake.pulls[0]!.labels).toEqual([]);
      const p = await backend.propose(h.input);
      expect(p.number).toBe(1);
      expect(h.fake.pulls[0]!.labels).toEqual(['self-healing', 'fix:guard', 'severity:high']);
    });

    it('reuses a branch left by a run that crashed before opening the PR', async () => {
      h.fake.fault({ method: 'POST', path: /^\/pulls$/, status: 502, times: 4 });
      const err = await caught(backend.propose(h.input));
      expect(err).toMatchObject({ kind: 'server', status: 502, operation: 'open pull request', retryable: true });
      const headSha = h.fake.refs.get(`heads/${BRANCH}`)!;
      const before = h.fake.requests.length;
      const p = await backend.propose(h.input);
      expect(h.fake.sequence().slice(before)).toEqual(['GET /pulls', `GET /git/ref/heads/${BRANCH}`, 'POST /pulls', 'POST /issues/1/labels']);
      expect(p.headSha).toBe(headSha);
    });

    it('treats "Reference already exists" and "A pull request already exists" as the earlier run\'s work', async () => {
      const first = await backend.propose(h.input);
      // A racing run that saw neither the PR nor the branch.
      h.fake.fault({ method: 'GET', path: /^\/pulls$/, status: 200, body: [] });
      h.fake.fault({ method: 'GET', path: new RegExp(`^/git/ref/heads/${BRANCH}$`), status: 404, body: { message: 'Not Found' } });
      const before = h.fake.requests.length;
      const again = await backend.propose(h.input);
      const seq = h.fake.sequence().slice(before);
      expect(seq.filter((s) => s === 'POST /git/refs' || s === 'POST /pulls')).toEqual(['POST /git/refs', 'POST /pulls']);
      expect(seq.slice(-4)).toEqual(['POST /git/refs', `GET /git/ref/heads/${BRANCH}`, 'POST /pulls', 'GET /pulls']);
      expect(again.number).toBe(first.number);
      expect(again.headSha).toBe(first.headSha);
      expect(h.fake.pulls).toHaveLength(1);
    });

    it('refuses to overwrite a file that changed on GitHub since the validated base', async () => {
      h.fake.pushCommit('main', { 'src/a.ts': 'export const a = 10;\n' });
      const err = await caught(backend.propose(h.input));
      expect(err).toMatchObject({ kind: 'conflict', retryable: false, operation: 'commit fix' });
      expect(err.message).toContain('src/a.ts');
      expect(h.fake.refs.has(`heads/${BRANCH}`)).toBe(false);
    });

    it('builds on GitHub\'s newer base when the changed files are the same', async () => {
      h.fake.pushCommit('main', { 'README.md': '# app v2\n' });
      const p = await backend.propose(h.input);
      expect(h.fake.commits.get(p.headSha)!.parents).toEqual([h.fake.refs.get('heads/main')]);
      expect(h.fake.fileAt(BRANCH, 'README.md')).toBe('# app v2\n');
      expect(h.fake.fileAt(BRANCH, 'src/a.ts')).toBe('export const a = 2;\n');
    });

    it('lists evidence traces without links when no Jaeger URL is configured', async () => {
      await h.backend().propose(h.input);
      const body = (h.fake.requests.find((r) => r.method === 'POST' && r.path === '/pulls')!.body as { body: string }).body;
      expect(body).toContain('- `0af7651916cd43dd8448eb211c80319c`');
      expect(body).not.toContain('/trace/');
    });

    it('reports a missing base branch and a patch that does not apply', async () => {
      const err = await caught(h.backend({ baseBranch: 'release' }).propose(h.input));
      expect(err).toMatchObject({ kind: 'not-found', operation: 'read base branch' });
      await expect(backend.propose({ ...h.input, fix: { ...h.input.fix, diff: 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-no\n+yes\n' } })).rejects.toThrow(/git apply failed/);
    });
  });

  describe('checks', () => {
    let p: Proposal;
    beforeEach(async () => {
      p = await backend.propose(h.input);
    });

    it('counts no statuses and no check runs as success', async () => {
      const before = h.fake.requests.length;
      expect(await backend.checks(p)).toBe('success');
      expect(h.fake.sequence().slice(before)).toEqual([`GET /commits/${p.headSha}/status`, `GET /commits/${p.headSha}/check-runs`]);
    });

    it('goes from pending to success, and any failure wins', async () => {
      h.fake.statuses.set(p.headSha, [{ state: 'pending', context: 'ci/build' }]);
      h.fake.checkRuns.set(p.headSha, [{ name: 'test', status: 'in_progress', conclusion: null }]);
      expect(await backend.checks(p)).toBe('pending');
      h.fake.statuses.set(p.headSha, [{ state: 'success', context: 'ci/build' }]);
      expect(await backend.checks(p)).toBe('pending');
      h.fake.checkRuns.set(p.headSha, [
        { name: 'test', status: 'completed', conclusion: 'success' },
        { name: 'lint', status: 'completed', conclusion: 'skipped' },
      ]);
      expect(await backend.checks(p)).toBe('success');
      h.fake.checkRuns.set(p.headSha, [{ name: 'test', status: 'completed', conclusion: 'failure' }]);
      expect(await backend.checks(p)).toBe('failure');
      h.fake.checkRuns.set(p.headSha, []);
      h.fake.statuses.set(p.headSha, [{ state: 'error', context: 'ci/build' }, { state: 'pending', context: 'ci/other' }]);
      expect(await backend.checks(p)).toBe('failure');
    });

    it('polls pending checks for up to checksWaitMs when configured', async () => {
      const b = h.backend({ checksWaitMs: 60_000, checksPollMs: 20_000 });
      h.fake.checkRuns.set(p.headSha, [{ name: 'test', status: 'queued', conclusion: null }]);
      h.onSleep = () => {
        if (h.sleeps.length === 2) h.fake.checkRuns.set(p.headSha, [{ name: 'test', status: 'completed', conclusion: 'neutral' }]);
      };
      expect(await b.checks(p)).toBe('success');
      expect(h.sleeps).toEqual([20_000, 20_000]);

      h.sleeps.length = 0;
      h.onSleep = undefined;
      h.fake.checkRuns.set(p.headSha, [{ name: 'test', status: 'queued', conclusion: null }]);
      const b2 = h.backend({ checksWaitMs: 50_000, checksPollMs: 20_000 });
      expect(await b2.checks(p)).toBe('pending');
      expect(h.sleeps).toEqual([20_000, 20_000, 10_000]);
    });
  });

  describe('merge', () => {
    it('merges with the sha guard, once; a re-run reports the existing merge', async () => {
      const p = await backend.propose(h.input);
      const before = h.fake.requests.length;
      const m = await backend.merge(p);
      expect(h.fake.sequence().slice(before)).toEqual(['GET /pulls/1', 'PUT /pulls/1/merge']);
      expect(h.fake.requests.at(-1)!.body).toEqual({ merge_method: 'merge', sha: p.headSha, commit_title: `Merge ${BRANCH}: ${p.title}` });
      expect(m).toEqual({ merged: true, mergeSha: h.fake.refs.get('heads/main'), alreadyMerged: false });
      expect(h.fake.fileAt('main', 'src/a.ts')).toBe('export const a = 2;\n');

      expect(await backend.merge(p)).toEqual({ merged: true, mergeSha: m.mergeSha, alreadyMerged: true });
      expect(h.fake.sequence().filter((s) => s === 'PUT /pulls/1/merge')).toHaveLength(1);
      // Found again by propose: now merged.
      expect(await backend.propose(h.input)).toMatchObject({ state: 'merged', mergeSha: m.mergeSha });
    });

    it('uses the configured merge method', async () => {
      const b = h.backend({ mergeMethod: 'squash' });
      const p = await b.propose(h.input);
      const m = await b.merge(p);
      expect((h.fake.requests.at(-1)!.body as { merge_method: string }).merge_method).toBe('squash');
      expect(h.fake.commits.get(m.mergeSha!)!.parents).toHaveLength(1);
    });

    it('does not merge a head that moved since validation', async () => {
      const p = await backend.propose(h.input);
      h.fake.pushCommit(BRANCH, { 'src/a.ts': 'export const a = 3;\n' });
      const m = await backend.merge(p);
      expect(m).toMatchObject({ merged: false, alreadyMerged: false });
      expect(m.reason).toMatch(/head branch changed since validation: Head branch was modified/);
      expect(h.fake.fileAt('main', 'src/a.ts')).toBe('export const a = 1;\n');
    });

    it('reports a merge that happened between the read and the merge call', async () => {
      const p = await backend.propose(h.input);
      const head = h.fake.refs.get(`heads/${BRANCH}`)!;
      h.fake.fault({
        method: 'PUT',
        path: /^\/pulls\/1\/merge$/,
        status: 405,
        body: { message: 'Pull Request is not mergeable' },
        // Another worker merged it just before our call arrived.
        effect: () => Object.assign(h.fake.pulls[0]!, { state: 'closed', merged_at: '2026-01-01T00:00:00Z', merge_commit_sha: head }),
      });
      const before = h.fake.requests.length;
      expect(await backend.merge(p)).toEqual({ merged: true, mergeSha: head, alreadyMerged: true });
      expect(h.fake.sequence().slice(before)).toEqual(['GET /pulls/1', 'PUT /pulls/1/merge', 'GET /pulls/1']);
    });

    it('reports a PR GitHub will not merge', async () => {
      const p = await backend.propose(h.input);
      h.fake.fault({ method: 'PUT', path: /^\/pulls\/1\/merge$/, status: 405, body: { message: 'Pull Request is not mergeable' } });
      expect(await backend.merge(p)).toEqual({ merged: false, alreadyMerged: false, reason: 'not mergeable: Pull Request is not mergeable' });
      h.fake.fault({ method: 'PUT', path: /^\/pulls\/1\/merge$/, status: 403, body: { message: 'Resource not accessible by integration' } });
      await expect(backend.merge(p)).rejects.toMatchObject({ kind: 'auth', status: 403, operation: 'merge pull request' });
    });

    it('leaves a closed PR alone', async () => {
      const p = await backend.propose(h.input);
      h.fake.pulls[0]!.state = 'closed';
      expect(await backend.merge(p)).toEqual({ merged: false, alreadyMerged: false, reason: 'pull request is closed' });
      expect(await backend.propose(h.input)).toMatchObject({ state: 'closed' });
    });

    it('triggers the configured workflow and deployment after a fresh merge only', async () => {
      const b = h.backend({ deployTrigger: { workflow: 'deploy.yml', inputs: { target: 'prod' }, environment: 'production' } });
      const p = await b.propose(h.input);
      const m = await b.merge(p);
      expect(h.fake.sequence().slice(-2)).toEqual(['POST /actions/workflows/deploy.yml/dispatches', 'POST /deployments']);
      expect(h.fake.dispatches).toEqual([{ workflow: 'deploy.yml', ref: 'main', inputs: { target: 'prod' } }]);
      expect(h.fake.deployments).toEqual([{ id: 1, ref: m.mergeSha, environment: 'production' }]);
      expect(m.reason).toBe('workflow deploy.yml dispatched; deployment 1 created in production');
      await b.merge(p);
      expect(h.fake.dispatches).toHaveLength(1);
      expect(h.fake.deployments).toHaveLength(1);
    });

    it('reports a failed deployment trigger without failing the merge', async () => {
      const b = h.backend({ deployTrigger: { workflow: 'deploy.yml', ref: 'release', inputs: {} } });
      const p = await b.propose(h.input);
      h.fake.fault({ method: 'POST', path: /dispatches$/, status: 404, body: { message: 'Not Found' } });
      const m = await b.merge(p);
      expect(m.merged).toBe(true);
      expect(m.reason).toMatch(/^deployment trigger failed: GitHub dispatch deploy workflow failed \(404\): not-found/);
    });

    it('is what deployFix drives in auto mode', async () => {
      const policy = HealSchema.parse({ policy: { githubMode: 'auto', autoMerge: { guard: ['high'] } } }).policy;
      const outcome = await deployFix(backend, h.input, policy, () => NOW_MS);
      expect(outcome).toMatchObject({ decision: 'merge', backend: 'github', checks: 'success', merge: { merged: true }, proposal: { state: 'merged' } });
      const dry = await deployFix(backend, h.input, HealSchema.parse({}).policy, () => NOW_MS);
      expect(dry.decision).toBe('dry-run');
    });
  });

  describe('revert', () => {
    it('opens a PR that restores the pre-merge files on top of the current base', async () => {
      const p = await backend.propose(h.input);
      const m = await backend.merge(p);
      const merged = { ...p, state: 'merged' as const, mergeSha: m.mergeSha! };
      h.fake.pushCommit('main', { 'README.md': '# app, later\n' });
      const r = await backend.revert(merged, 'p95 got worse after the fix');
      const revertBranch = 'self-healing/revert-an-1-createcomponent';
      expect(r).toMatchObject({ branch: revertBranch, baseBranch: 'main', state: 'open', number: 2, revertOf: p.id, jobId: 'job-1', title: `Revert "${p.title}"` });
      expect(r.body).toContain('p95 got worse after the fix');
      expect(r.body).toContain(`merge ${m.mergeSha}`);
      const tree = h.fake.requests.filter((x) => x.method === 'POST' && x.path === '/git/trees').at(-1)!.body as { tree: unknown[] };
      expect(tree.tree).toEqual([
        { path: 'src/a.ts', mode: '100644', type: 'blob', sha: gitBlobSha('export const a = 1;\n') },
        { path: 'src/gone.ts', mode: '100644', type: 'blob', sha: gitBlobSha('export const gone = true;\n') },
        { path: 'src/new.ts', mode: '100644', type: 'blob', sha: null },
      ]);
      expect(h.fake.fileAt(revertBranch, 'README.md')).toBe('# app, later\n');
      expect(h.fake.pulls[1]!.labels).toEqual(['self-healing', 'revert']);

      expect(await backend.revert(merged, 'again')).toEqual(r);
      expect(h.fake.pulls).toHaveLength(2);
      const rm = await backend.merge(r);
      expect(rm.merged).toBe(true);
      expect(h.fake.fileAt('main', 'src/a.ts')).toBe('export const a = 1;\n');
      expect(h.fake.fileAt('main', 'src/new.ts')).toBeUndefined();
      expect(h.fake.fileAt('main', 'src/gone.ts')).toBe('export const gone = true;\n');
      expect(h.fake.fileAt('main', 'README.md')).toBe('# app, later\n');
    });

    it('reads the merge sha from GitHub when the proposal lacks it, and refuses unmerged ones', async () => {
      const p = await backend.propose(h.input);
      await expect(backend.revert(p, 'x')).rejects.toThrow(/never merged/);
      await backend.merge(p);
      const r = await backend.revert(p, 'worse');
      expect(r.revertOf).toBe(p.id);
      // The base tip is the merge itself: its tree is reused, not read again.
      expect(h.fake.fileAt(r.branch, 'src/a.ts')).toBe('export const a = 1;\n');
    });

    it('leaves a file changed again after the merge to a human', async () => {
      const p = await backend.propose(h.input);
      const m = await backend.merge(p);
      h.fake.pushCommit('main', { 'src/a.ts': 'export const a = 5;\n' });
      const err = await caught(backend.revert({ ...p, mergeSha: m.mergeSha! }, 'worse'));
      expect(err).toMatchObject({ kind: 'conflict', operation: 'revert' });
      expect(err.message).toContain('src/a.ts');
      h.fake.pushCommit('main', { 'src/a.ts': 'export const a = 1;\n', 'src/new.ts': null, 'src/gone.ts': 'export const gone = true;\n' });
      await expect(backend.revert({ ...p, mergeSha: m.mergeSha! }, 'worse')).rejects.toThrow(/already has the content/);
    });
  });

  describe('errors and rate limits', () => {
    it('waits out a 403 secondary rate limit with retry-after, then succeeds', async () => {
      h.fake.fault({ method: 'GET', path: /^\/pulls$/, status: 403, headers: { 'retry-after': '7' }, body: { message: 'You have exceeded a secondary rate limit.' } });
      const retries: unknown[] = [];
      const p = await h.backend({}, { onRetry: (info) => retries.push(info) }).propose(h.input);
      expect(p.number).toBe(1);
      expect(h.sleeps).toEqual([7_000]);
      expect(retries).toEqual([{ operation: 'find pull request', attempt: 1, waitMs: 7_000, status: 403 }]);
      expect(h.fake.sequence().slice(0, 2)).toEqual(['GET /pulls', 'GET /pulls']);
    });

    it('waits until x-ratelimit-reset when the quota is used up', async () => {
      const reset = Math.floor(NOW_MS / 1000) + 30;
      h.fake.fault({ method: 'GET', path: /^\/pulls$/, status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded' } });
      await backend.propose(h.input);
      expect(h.sleeps).toEqual([reset * 1000 - NOW_MS + 1000]);
    });

    it('gives up at once when the reset is beyond the longest wait, saying how long to wait', async () => {
      const reset = Math.floor(NOW_MS / 1000) + 3600;
      h.fake.fault({ method: 'GET', path: /^\/pulls$/, status: 429, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } });
      const err = await caught(backend.propose(h.input));
      expect(err).toMatchObject({ kind: 'rate-limited', status: 429, retryable: true, retryAfterMs: 3_601_000 });
      expect(h.sleeps).toEqual([]);
    });

    it('retries 5xx with backoff and fails with a typed error when they persist', async () => {
      h.fake.fault({ method: 'GET', path: /^\/pulls$/, status: 500, times: 10, body: { message: 'Server Error' } });
      const err = await caught(backend.propose(h.input));
      expect(err).toMatchObject({ kind: 'server', status: 500, operation: 'find pull request', retryable: true, githubMessage: 'Server Error' });
      expect(err.message).toBe('GitHub find pull request failed (500): server - Server Error');
      expect(h.fake.sequence()).toEqual(['GET /pulls', 'GET /pulls', 'GET /pulls', 'GET /pulls']);
      expect(h.sleeps).toEqual([10, 20, 40]);
    });

    it('does not retry 404 and 422', async () => {
      const p = await backend.propose(h.input);
      const notFound = await caught(backend.merge({ ...p, number: 99 }));
      expect(notFound).toMatchObject({ kind: 'not-found', status: 404, operation: 'read pull request', retryable: false });
      h.fake.fault({ method: 'POST', path: /^\/git\/trees$/, status: 422, body: { message: 'Validation Failed', errors: [{ message: 'tree.path contains a malformed path component' }] } });
      const invalid = await caught(h.backend().propose({ ...h.input, anomaly: { ...h.input.anomaly, id: 'an-2' } }));
      expect(invalid).toMatchObject({ kind: 'validation', status: 422, operation: 'create tree', retryable: false });
      expect(invalid.githubMessage).toBe('Validation Failed: tree.path contains a malformed path component');
      expect(h.sleeps).toEqual([]);
      await expect(backend.merge({ ...p, number: undefined } as Proposal)).rejects.toThrow(/has no pull request number/);
    });

    it('passes on failures other than "not found" when looking for refs, and other 422s when creating them', async () => {
      h.fake.fault({ method: 'GET', path: new RegExp(`^/git/ref/heads/${BRANCH}$`), status: 503, times: 4 });
      expect(await caught(backend.propose(h.input))).toMatchObject({ kind: 'server', status: 503, operation: 'read branch ref' });
      h.fake.fault({ method: 'POST', path: /^\/git\/refs$/, status: 422, body: { message: 'Reference update failed' } });
      expect(await caught(backend.propose(h.input))).toMatchObject({ kind: 'validation', operation: 'create branch', githubMessage: 'Reference update failed' });
      expect(h.fake.refs.has(`heads/${BRANCH}`)).toBe(false);
    });

    it('reports bad credentials as an auth error without retrying', async () => {
      const err = await caught(h.backend({}, { token: 'ghp_wrongwrongwrongwrongwrongwrong1234' }).propose(h.input));
      expect(err).toMatchObject({ kind: 'auth', status: 401, retryable: false, githubMessage: 'Bad credentials' });
      expect(err.message).not.toContain('wrongwrong');
      expect(h.fake.requests).toHaveLength(1);
    });

    it('retries a refused connection a bounded number of times', async () => {
      const port = await new Promise<number>((resolve) => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
          const free = (s.address() as AddressInfo).port;
          s.close(() => resolve(free));
        });
      });
      const b = h.backend({ apiUrl: `http://127.0.0.1:${port}`, maxRetries: 2 });
      const err = await caught(b.checks({ headSha: 'abc' } as Proposal));
      expect(err).toMatchObject({ kind: 'network', status: undefined, operation: 'read commit status', retryable: true });
      expect(err.message).toMatch(/ECONNREFUSED|fetch failed/);
      expect(h.sleeps).toEqual([10, 20]);
    });

    it('never lets the token leave the Authorization header', async () => {
      h.fake.fault({ method: 'POST', path: /^\/pulls$/, status: 422, body: { message: `Validation Failed for token ${TOKEN}` } });
      const err = await caught(backend.propose(h.input));
      expect(err.message).not.toContain(TOKEN);
      expect(err.githubMessage).toBe('Validation Failed for token [redacted]');
      expect(JSON.stringify(err)).not.toContain(TOKEN);
      expect(String(err.stack)).not.toContain(TOKEN);
      const p = await backend.propose(h.input);
      await backend.checks(p);
      await backend.merge(p);
      await backend.revert({ ...p, mergeSha: h.fake.pulls[0]!.merge_commit_sha! }, 'worse');
      expect(h.fake.requests.length).toBeGreaterThan(20);
      for (const r of h.fake.requests) {
        expect(r.headers.authorization).toBe(`token ${TOKEN}`);
        const { authorization: _auth, ...rest } = r.headers;
        expect(JSON.stringify(rest)).not.toContain(TOKEN);
        expect(r.rawBody).not.toContain(TOKEN);
        expect(r.query.toString()).not.toContain(TOKEN);
      }
      expect(JSON.stringify(p)).not.toContain(TOKEN);
    });
  });
});
