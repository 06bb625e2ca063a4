import type { HealConfig } from '../config/sections/heal.js';
import type { MergeResult, Proposal } from '../model/heal.js';
import { describeFix, fixTrailers, type DeploymentBackend, type ProposeInput } from './deploy.js';
import { commitMessage, commitSubject } from './text/commit-message.js';
import { markdownBody } from './text/markdown.js';
import { branchName, revertBranchName } from './text/ref-name.js';
import type { Git } from './git.js';
import { GitHubClient, type GitHubClientOptions, type Sleep } from './github/client.js';
import { GitHubError } from './github/errors.js';
import { patchToFileChanges, type FileChange } from './github/patch-files.js';
import { JOB_TRAILER, REVERTS_TRAILER, pullRequestBody, trailer } from './github/pr-body.js';

export type GitHubRepositoryConfig = NonNullable<HealConfig['repository']['github']>;

export interface GitHubBackendOptions {
  github: GitHubRepositoryConfig;
  /** Already resolved (see resolveGitHubToken); only ever sent in the Authorization header. */
  token: string;
  /** The local clone: patches are applied here to get full file contents. */
  git: Git;
  /** emit.jaegerUrl: evidence trace ids in PR bodies become links when set. */
  jaegerUrl?: string;
  fetch?: typeof globalThis.fetch;
  sleep?: Sleep;
  nowMs?: () => number;
  /** First backoff for network errors and 5xx (default 1 s, doubled per retry). */
  retryBaseDelayMs?: number;
  /** Told about each retried request (for logs/metrics); carries no request details. */
  onRetry?: GitHubClientOptions['onRetry'];
}

/** The fields of a GitHub pull request this backend reads. */
interface PullRequestData {
  number: number;
  state: string;
  title: string;
  body: string | null;
  html_url: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { ref: string; sha: string };
  base: { ref: string };
  labels?: Array<{ name?: string } | string>;
}

interface TreeEntry {
  mode: string;
  sha: string;
}

type TreeMode = '100644' | '100755' | '040000' | '160000' | '120000';

/**
 * Deployment through GitHub: branches and commits are made with the git data API (no push from
 * the local clone, so no git credentials are needed), pull requests through the REST API.
 * GitHub itself is the record: every method looks for what an earlier (crashed) run left behind
 * - the pull request for the branch, the branch ref, the merge - before creating anything.
 */
export class GitHubBackend implements DeploymentBackend {
  readonly name = 'github' as const;
  readonly client: GitHubClient;
  private readonly owner: string;
  private readonly repo: string;
  private readonly sleep: Sleep;
  private readonly now: () => number;

  constructor(private readonly opts: GitHubBackendOptions) {
    this.owner = opts.github.owner;
    this.repo = opts.github.repo;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.nowMs ?? Date.now;
    this.client = new GitHubClient({
      apiUrl: opts.github.apiUrl,
      token: opts.token,
      retry: { maxRetries: opts.github.maxRetries, maxWaitMs: opts.github.maxRetryWaitMs, baseDelayMs: opts.retryBaseDelayMs ?? 1_000 },
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.sleep ? { sleep: opts.sleep } : {}),
      ...(opts.nowMs ? { nowMs: opts.nowMs } : {}),
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    });
  }

  private get base(): string {
    return this.opts.github.baseBranch;
  }

  private get repoParams(): { owner: string; repo: string } {
    return { owner: this.owner, repo: this.repo };
  }

  private toProposal(pr: PullRequestData, fallbackJobId: string, revertOf?: string): Proposal {
    const merged = pr.merged_at !== null && pr.merged_at !== undefined;
    const p: Proposal = {
      id: `github:${this.owner}/${this.repo}#${pr.number}`,
      backend: 'github',
      jobId: trailer(pr.body, JOB_TRAILER) ?? fallbackJobId,
      branch: pr.head.ref,
      baseBranch: pr.base.ref,
      title: pr.title,
      body: pr.body ?? '',
      headSha: pr.head.sha,
      state: merged ? 'merged' : pr.state === 'closed' ? 'closed' : 'open',
      number: pr.number,
      url: pr.html_url,
    };
    if (merged && pr.merge_commit_sha) p.mergeSha = pr.merge_commit_sha;
    const reverts = revertOf ?? trailer(pr.body, REVERTS_TRAILER);
    if (reverts) p.revertOf = reverts;
    return p;
  }

  /** The newest pull request (any state) whose head is `branch` in this repository. */
  private async findPullRequest(branch: string): Promise<PullRequestData | undefined> {
    const { data } = await this.client.call('find pull request', (o) =>
      o.rest.pulls.list({ ...this.repoParams, head: `${this.owner}:${branch}`, state: 'all', per_page: 10 }),
    );
    return (data as PullRequestData[]).find((pr) => pr.head.ref === branch);
  }

  private async refSha(branch: string): Promise<string | undefined> {
    const found = await this.client.find('read branch ref', (o) => o.rest.git.getRef({ ...this.repoParams, ref: `heads/${branch}` }));
    return found?.data.object.sha;
  }

  private async commit(sha: string): Promise<{ tree: string; parents: string[] }> {
    const { data } = await this.client.call('read commit', (o) => o.rest.git.getCommit({ ...this.repoParams, commit_sha: sha }));
    return { tree: data.tree.sha, parents: data.parents.map((p) => p.sha) };
  }

  /** path -> blob entry of a whole tree (files, symlinks and submodules; directories are implied). */
  private async treeEntries(treeSha: string): Promise<Map<string, TreeEntry>> {
    const { data } = await this.client.call('read tree', (o) => o.rest.git.getTree({ ...this.repoParams, tree_sha: treeSha, recursive: 'true' }));
    if (data.truncated) throw new GitHubError('read tree', undefined, 'unknown', 'tree listing truncated by GitHub (repository too large to compare)', false);
    const out = new Map<string, TreeEntry>();
    for (const e of data.tree) if (e.type !== 'tree' && e.path && e.sha && e.mode) out.set(e.path, { mode: e.mode, sha: e.sha });
    return out;
  }

  /** Creates refs/heads/<branch> at `sha`; an existing ref (an earlier run) is kept and returned. */
  private async createBranch(branch: string, sha: string): Promise<string> {
    try {
      await this.client.call('create branch', (o) => o.rest.git.createRef({ ...this.repoParams, ref: `refs/heads/${branch}`, sha }));
      return sha;
    } catch (err) {
      if (err instanceof GitHubError && err.kind === 'validation' && /already exists/i.test(err.githubMessage)) {
        const existing = await this.refSha(branch);
        if (existing) return existing;
      }
      throw err;
    }
  }

  /** Opens the pull request; "already exists" (a race with an earlier run) returns that one. */
  private async openPullRequest(branch: string, title: string, body: string): Promise<PullRequestData> {
    try {
      const { data } = await this.client.call('open pull request', (o) =>
        o.rest.pulls.create({ ...this.repoParams, head: branch, base: this.base, title, body }),
      );
      return data as PullRequestData;
    } catch (err) {
      if (err instanceof GitHubError && err.kind === 'validation' && /already exists/i.test(err.githubMessage)) {
        const existing = await this.findPullRequest(branch);
        if (existing) return existing;
      }
      throw err;
    }
  }

  /** Adds the labels the PR lacks (GitHub creates unknown labels on the fly). */
  private async ensureLabels(pr: PullRequestData, labels: string[]): Promise<void> {
    const have = new Set((pr.labels ?? []).map((l) => (typeof l === 'string' ? l : l.name ?? '')));
    const missing = [...new Set(labels)].filter((l) => !have.has(l));
    if (missing.length === 0) return;
    await this.client.call('add labels', (o) => o.rest.issues.addLabels({ ...this.repoParams, issue_number: pr.number, labels: missing }));
  }

  /** One commit on top of `parent` whose tree is the parent's with `entries` replaced. */
  private async commitTree(
    parentSha: string,
    baseTree: string,
    entries: Array<{ path: string; mode: string; sha: string | null }>,
    message: string,
  ): Promise<string> {
    const { data: tree } = await this.client.call('create tree', (o) =>
      o.rest.git.createTree({
        ...this.repoParams,
        base_tree: baseTree,
        tree: entries.map((e) => ({ path: e.path, mode: e.mode as TreeMode, type: e.mode === '160000' ? ('commit' as const) : ('blob' as const), sha: e.sha })),
      }),
    );
    const { data: commit } = await this.client.call('create commit', (o) =>
      o.rest.git.createCommit({ ...this.repoParams, message, tree: tree.sha, parents: [parentSha] }),
    );
    return commit.sha;
  }

  /**
   * The fix as one commit on GitHub's base branch. Refuses when GitHub's copy of a changed file
   * differs from the one the patch was validated against: the fix would silently undo that change.
   */
  private async commitFix(input: ProposeInput, changes: FileChange[], message: string): Promise<string> {
    const baseSha = await this.refSha(this.base);
    if (!baseSha) throw new GitHubError('read base branch', 404, 'not-found', `base branch ${this.base} does not exist`, false);
    const baseCommit = await this.commit(baseSha);
    const upstream = await this.treeEntries(baseCommit.tree);
    const moved = changes.filter((c) => upstream.get(c.path)?.sha !== c.oldSha).map((c) => c.path);
    if (moved.length > 0) {
      throw new GitHubError(
        'commit fix',
        undefined,
        'conflict',
        `${moved.join(', ')} changed on ${this.base} since the local ${input.baseBranch} the fix was validated on`,
        false,
      );
    }
    const entries: Array<{ path: string; mode: string; sha: string | null }> = [];
    for (const c of changes) {
      if (c.contentBase64 === undefined) {
        entries.push({ path: c.path, mode: c.mode, sha: null });
        continue;
      }
      const { data: blob } = await this.client.call('create blob', (o) =>
        o.rest.git.createBlob({ ...this.repoParams, content: c.contentBase64!, encoding: 'base64' }),
      );
      entries.push({ path: c.path, mode: c.mode, sha: blob.sha });
    }
    return this.commitTree(baseSha, baseCommit.tree, entries, message);
  }

  private labelsFor(kind: string, severity: string): string[] {
    return [...this.opts.github.labels, `fix:${kind}`, `severity:${severity}`];
  }

  async propose(input: ProposeInput): Promise<Proposal> {
    const branch = branchName(input.anomaly.id, input.diagnosis.handler ?? input.anomaly.handler);
    const labels = this.labelsFor(input.fix.kind, input.diagnosis.impact.severity);
    if (input.validation.proof?.verdict === 'unverified') labels.push('unverified');
    const existing = await this.findPullRequest(branch);
    if (existing) {
      if (existing.state === 'open') await this.ensureLabels(existing, labels);
      return this.toProposal(existing, input.jobId);
    }
    const described = describeFix(input);
    const title = commitSubject(described.title);
    // A crash after the ref was created but before the PR was opened leaves the branch behind.
    if (!(await this.refSha(branch))) {
      const changes = await patchToFileChanges(this.opts.git, input.baseBranch, input.fix.diff);
      if (changes.length === 0) throw new GitHubError('commit fix', undefined, 'validation', 'the patch changes no file', false);
      const sha = await this.commitFix(input, changes, commitMessage(title, described.body, fixTrailers(input)));
      await this.createBranch(branch, sha);
    }
    const pr = await this.openPullRequest(branch, title, pullRequestBody(input, this.opts.jaegerUrl));
    await this.ensureLabels(pr, labels);
    return this.toProposal(pr, input.jobId);
  }

  /**
   * Combined commit status plus check runs of the proposal's head commit. Any failure wins, then
   * anything still running; a commit with no statuses and no check runs counts as success (a
   * repository without CI has nothing to wait for). With github.checksWaitMs set, polls until the
   * checks settle or the wait is over.
   */
  async checks(p: Proposal): Promise<'pending' | 'success' | 'failure'> {
    const deadline = this.now() + this.opts.github.checksWaitMs;
    while (true) {
      const state = await this.readChecks(p.headSha);
      if (state !== 'pending' || this.now() >= deadline) return state;
      await this.sleep(Math.min(this.opts.github.checksPollMs, Math.max(1, deadline - this.now())));
    }
  }

  private async readChecks(sha: string): Promise<'pending' | 'success' | 'failure'> {
    const { data: status } = await this.client.call('read commit status', (o) =>
      o.rest.repos.getCombinedStatusForRef({ ...this.repoParams, ref: sha, per_page: 100 }),
    );
    const { data: runs } = await this.client.call('list check runs', (o) =>
      o.rest.checks.listForRef({ ...this.repoParams, ref: sha, per_page: 100 }),
    );
    const states: Array<'pending' | 'success' | 'failure'> = [];
    // An empty combined status reports 'pending'; only real statuses count.
    if (status.total_count > 0 || status.statuses.length > 0) {
      states.push(status.state === 'success' ? 'success' : status.state === 'pending' ? 'pending' : 'failure');
    }
    for (const run of runs.check_runs) {
      if (run.status !== 'completed') states.push('pending');
      else states.push(['success', 'neutral', 'skipped'].includes(run.conclusion ?? '') ? 'success' : 'failure');
    }
    if (states.includes('failure')) return 'failure';
    if (states.includes('pending')) return 'pending';
    return 'success';
  }

  private async getPullRequest(p: Proposal): Promise<PullRequestData> {
    if (p.number === undefined) throw new GitHubError('read pull request', undefined, 'not-found', `proposal ${p.branch} has no pull request number`, false);
    const { data } = await this.client.call('read pull request', (o) => o.rest.pulls.get({ ...this.repoParams, pull_number: p.number! }));
    return data as PullRequestData;
  }

  async merge(p: Proposal): Promise<MergeResult> {
    const pr = await this.getPullRequest(p);
    if (pr.merged_at && pr.merge_commit_sha) return { merged: true, mergeSha: pr.merge_commit_sha, alreadyMerged: true };
    if (pr.state === 'closed') return { merged: false, alreadyMerged: false, reason: 'pull request is closed' };
    let mergeSha: string;
    try {
      const { data } = await this.client.call('merge pull request', (o) =>
        o.rest.pulls.merge({
          ...this.repoParams,
          pull_number: pr.number,
          merge_method: this.opts.github.mergeMethod,
          // Only the commit that was validated may be merged.
          sha: p.headSha,
          commit_title: commitSubject(`Merge ${p.branch}: ${p.title}`),
        }),
      );
      mergeSha = data.sha;
    } catch (err) {
      if (err instanceof GitHubError && (err.kind === 'not-mergeable' || err.kind === 'conflict')) {
        // Someone (or an earlier run) may have merged it in between.
        const again = await this.getPullRequest(p);
        if (again.merged_at && again.merge_commit_sha) return { merged: true, mergeSha: again.merge_commit_sha, alreadyMerged: true };
        const why = err.kind === 'conflict' ? 'head branch changed since validation' : 'not mergeable';
        return { merged: false, alreadyMerged: false, reason: `${why}: ${err.githubMessage}` };
      }
      throw err;
    }
    const triggered = await this.triggerDeployment(mergeSha);
    return { merged: true, mergeSha, alreadyMerged: false, ...(triggered ? { reason: triggered } : {}) };
  }

  /**
   * Fires the configured deployment once, after a fresh merge. A failure here does not undo or
   * fail the merge: it is reported in the merge result's reason.
   */
  private async triggerDeployment(mergeSha: string): Promise<string | undefined> {
    const trigger = this.opts.github.deployTrigger;
    if (!trigger) return undefined;
    const done: string[] = [];
    try {
      if (trigger.workflow) {
        const workflow = trigger.workflow;
        await this.client.call('dispatch deploy workflow', (o) =>
          o.rest.actions.createWorkflowDispatch({ ...this.repoParams, workflow_id: workflow, ref: trigger.ref ?? this.base, inputs: trigger.inputs }),
        );
        done.push(`workflow ${workflow} dispatched`);
      }
      if (trigger.environment) {
        const environment = trigger.environment;
        const { data } = await this.client.call('create deployment', (o) =>
          o.rest.repos.createDeployment({
            ...this.repoParams,
            ref: mergeSha,
            environment,
            auto_merge: false,
            // The PR's checks already passed; the merge commit's own checks have not run yet.
            required_contexts: [],
            description: 'self-healing fix',
          }),
        );
        done.push('id' in data ? `deployment ${data.id} created in ${environment}` : `deployment to ${environment} not created: ${data.message ?? 'no reason given'}`);
      }
    } catch (err) {
      done.push(`deployment trigger failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    return done.join('; ');
  }

  /**
   * A revert pull request: one commit on the current base that puts every file the merge changed
   * back to its content in the merge's first parent. A file changed again on the base since the
   * merge is a conflict left to a human (a file-level three-way check, no line merging).
   */
  async revert(p: Proposal, reason: string): Promise<Proposal> {
    let mergeSha = p.mergeSha;
    if (!mergeSha && p.number !== undefined) {
      const pr = await this.getPullRequest(p);
      if (pr.merged_at && pr.merge_commit_sha) mergeSha = pr.merge_commit_sha;
    }
    if (!mergeSha) throw new Error(`proposal ${p.branch} was never merged; nothing to revert`);
    const branch = revertBranchName(p.branch);
    const existing = await this.findPullRequest(branch);
    if (existing) return this.toProposal(existing, p.jobId, p.id);
    const title = commitSubject(`Revert "${p.title}"`);
    const body = markdownBody(`${reason}\n\nReverts #${p.number ?? '?'} (${p.branch}, merge ${mergeSha}).\n\n${JOB_TRAILER}: ${p.jobId}\n${REVERTS_TRAILER}: ${p.id}`);
    if (!(await this.refSha(branch))) {
      const headSha = await this.refSha(this.base);
      if (!headSha) throw new GitHubError('read base branch', 404, 'not-found', `base branch ${this.base} does not exist`, false);
      const merge = await this.commit(mergeSha);
      if (merge.parents.length === 0) throw new GitHubError('revert', undefined, 'validation', `merge ${mergeSha} has no parent`, false);
      const head = headSha === mergeSha ? merge : await this.commit(headSha);
      const before = await this.treeEntries((await this.commit(merge.parents[0]!)).tree);
      const after = await this.treeEntries(merge.tree);
      const current = headSha === mergeSha ? after : await this.treeEntries(head.tree);
      const entries: Array<{ path: string; mode: string; sha: string | null }> = [];
      const conflicts: string[] = [];
      for (const path of new Set([...before.keys(), ...after.keys()])) {
        const b = before.get(path);
        const a = after.get(path);
        if (b?.sha === a?.sha && b?.mode === a?.mode) continue;
        const c = current.get(path);
        if (c?.sha !== a?.sha) {
          if (c?.sha !== b?.sha) conflicts.push(path);
          continue;
        }
        entries.push(b ? { path, mode: b.mode, sha: b.sha } : { path, mode: a!.mode, sha: null });
      }
      if (conflicts.length > 0) {
        throw new GitHubError('revert', undefined, 'conflict', `${conflicts.join(', ')} changed on ${this.base} after the merge; revert by hand`, false);
      }
      if (entries.length === 0) throw new GitHubError('revert', undefined, 'validation', `${this.base} already has the content from before merge ${mergeSha}`, false);
      const sha = await this.commitTree(headSha, head.tree, entries, commitMessage(title, body));
      await this.createBranch(branch, sha);
    }
    const pr = await this.openPullRequest(branch, title, body);
    await this.ensureLabels(pr, [...this.opts.github.labels, 'revert']);
    return this.toProposal(pr, p.jobId, p.id);
  }
}
