import { randomUUID } from 'node:crypto';
import type { MergeResult, Proposal } from '../model/heal.js';
import type { SqliteDatabase } from '../store/database.js';
import { describeFix, fixTrailers, type DeploymentBackend, type ProposeInput } from './deploy.js';
import { pullRequestBody } from './github/pr-body.js';
import { commitMessage, commitSubject } from './text/commit-message.js';
import { branchName, revertBranchName } from './text/ref-name.js';
import type { Git } from './git.js';

interface PrRow {
  id: string;
  number: number;
  job_id: string;
  backend: 'local' | 'github';
  branch: string;
  base_branch: string;
  title: string;
  body: string;
  head_sha: string;
  state: Proposal['state'];
  url: string | null;
  merge_sha: string | null;
  revert_of: string | null;
}

function toProposal(r: PrRow): Proposal {
  const p: Proposal = {
    id: r.id,
    backend: r.backend,
    jobId: r.job_id,
    branch: r.branch,
    baseBranch: r.base_branch,
    title: r.title,
    body: r.body,
    headSha: r.head_sha,
    state: r.state,
    number: r.number,
  };
  if (r.url !== null) p.url = r.url;
  if (r.merge_sha !== null) p.mergeSha = r.merge_sha;
  if (r.revert_of !== null) p.revertOf = r.revert_of;
  return p;
}

/**
 * The embedded backend: real branches and --no-ff merges in the configured repository, with the
 * "pull request" kept as a row in the prs table. Work happens in temporary worktrees; the base
 * branch ref is advanced with a compare-and-swap update-ref, so a checkout of the base branch
 * keeps its files (git status in it then shows it behind the branch).
 */
export class LocalBackend implements DeploymentBackend {
  readonly name = 'local' as const;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly git: Git,
    private readonly nowMs: () => number = Date.now,
  ) {}

  byBranch(branch: string): Proposal | undefined {
    const row = this.db.prepare('SELECT * FROM prs WHERE branch = ?').get(branch) as PrRow | undefined;
    return row && toProposal(row);
  }

  byId(id: string): Proposal | undefined {
    const row = this.db.prepare('SELECT * FROM prs WHERE id = ?').get(id) as PrRow | undefined;
    return row && toProposal(row);
  }

  list(): Proposal[] {
    return (this.db.prepare('SELECT * FROM prs ORDER BY number').all() as PrRow[]).map(toProposal);
  }

  private insert(p: Omit<Proposal, 'id' | 'number' | 'state'>): Proposal {
    const now = this.nowMs();
    this.db.transaction(() => {
      const { n } = this.db.prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM prs').get() as { n: number };
      this.db
        .prepare(
          `INSERT INTO prs (id, number, job_id, backend, branch, base_branch, title, body, head_sha, state, revert_of, created_ms, updated_ms)
           VALUES (?, ?, ?, 'local', ?, ?, ?, ?, ?, 'open', ?, ?, ?) ON CONFLICT (branch) DO NOTHING`,
        )
        .run(randomUUID(), n, p.jobId, p.branch, p.baseBranch, p.title, p.body, p.headSha, p.revertOf ?? null, now, now);
    })();
    return this.byBranch(p.branch)!;
  }

  /** Commits the patch on a fresh branch from the base; reuses branch and record when they exist. */
  async propose(input: ProposeInput): Promise<Proposal> {
    const branch = branchName(input.anomaly.id, input.diagnosis.handler ?? input.anomaly.handler);
    const existing = this.byBranch(branch);
    if (existing) return existing;
    const described = describeFix(input);
    const message = commitMessage(described.title, described.body, fixTrailers(input));
    const title = commitSubject(described.title);
    // The record is a pull request: the same escaped Markdown body the GitHub backend opens.
    const body = pullRequestBody(input, undefined);
    let headSha: string;
    if (await this.git.branchExists(branch)) {
      // A crash after the branch was created but before the record was written.
      headSha = await this.git.revParse(branch);
    } else {
      // The commit validation tested on, so the branch holds exactly the tree that passed.
      const wt = await this.git.addWorktree(input.validation.baseSha ?? input.baseBranch);
      try {
        await this.git.applyPatch(wt.dir, input.fix.diff);
        headSha = await this.git.commitAll(wt.dir, message);
        await this.git.createBranch(branch, headSha);
      } finally {
        await wt.remove();
      }
    }
    return this.insert({ backend: 'local', jobId: input.jobId, branch, baseBranch: input.baseBranch, title, body, headSha });
  }

  /** Locally the validation stage is the check; the branch must still exist. */
  async checks(p: Proposal): Promise<'pending' | 'success' | 'failure'> {
    return (await this.git.branchExists(p.branch)) ? 'success' : 'failure';
  }

  async merge(p: Proposal): Promise<MergeResult> {
    const current = this.byId(p.id) ?? p;
    if (current.state === 'merged' && current.mergeSha) return { merged: true, mergeSha: current.mergeSha, alreadyMerged: true };
    if (current.state === 'closed') return { merged: false, alreadyMerged: false, reason: 'proposal is closed' };
    const head = await this.git.revParse(current.branch);
    const base = await this.git.revParse(current.baseBranch);
    let mergeSha: string;
    let alreadyMerged = false;
    if (await this.git.isAncestor(head, base)) {
      // Merged by an earlier run that crashed before recording it (or by a human).
      mergeSha = (await this.git.findMergeOf(head, base)) ?? base;
      alreadyMerged = true;
    } else {
      const wt = await this.git.addWorktree(base);
      try {
        mergeSha = await this.git.mergeNoFf(wt.dir, head, commitSubject(`Merge ${current.branch}: ${current.title}`));
        await this.git.updateBranch(current.baseBranch, mergeSha, base);
      } finally {
        await wt.remove();
      }
    }
    const now = this.nowMs();
    this.db.transaction(() => {
      this.db.prepare(`UPDATE prs SET state = 'merged', merge_sha = ?, updated_ms = ? WHERE id = ?`).run(mergeSha, now, current.id);
      if (current.revertOf) this.db.prepare(`UPDATE prs SET state = 'reverted', updated_ms = ? WHERE id = ?`).run(now, current.revertOf);
    })();
    return { merged: true, mergeSha, alreadyMerged };
  }

  /** A branch with `git revert -m 1 <merge>` on top of the base, recorded as a proposal. */
  async revert(p: Proposal, reason: string): Promise<Proposal> {
    const original = this.byId(p.id) ?? p;
    if (!original.mergeSha) throw new Error(`proposal ${original.branch} was never merged; nothing to revert`);
    const branch = revertBranchName(original.branch);
    const existing = this.byBranch(branch);
    if (existing) return existing;
    const title = commitSubject(`Revert "${original.title}"`);
    const message = commitMessage(title, `${reason}\n\nReverts ${original.branch} (merge ${original.mergeSha}).`, [['Self-Healing-Job', original.jobId]]);
    const body = message.slice(message.indexOf('\n\n') + 2).trimEnd();
    let headSha: string;
    if (await this.git.branchExists(branch)) headSha = await this.git.revParse(branch);
    else {
      const wt = await this.git.addWorktree(original.baseBranch);
      try {
        headSha = await this.git.revert(wt.dir, original.mergeSha, { mainline: 1, message });
        await this.git.createBranch(branch, headSha);
      } finally {
        await wt.remove();
      }
    }
    return this.insert({ backend: 'local', jobId: original.jobId, branch, baseBranch: original.baseBranch, title, body, headSha, revertOf: original.id });
  }
}
