import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stateful stand-in for the GitHub REST API (the endpoints the GitHub backend uses),
 * listening on 127.0.0.1. Objects get git-compatible blob shas, so trees seeded from the same
 * content as a local repository have the same blob shas as that repository.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  body: unknown;
}

interface TreeEntry {
  mode: string;
  sha: string;
  type: string;
}

export interface FakePull {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  head: { ref: string; sha: string };
  base: { ref: string };
  merged_at: string | null;
  merge_commit_sha: string | null;
  labels: string[];
}

export interface Fault {
  method: string;
  /** Matched against the path after /repos/{owner}/{repo}. */
  path: RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many matching requests get this response (default 1). */
  times?: number;
  /** Runs when the fault fires: state changes made "by someone else" at that moment. */
  effect?: () => void;
}

export function gitBlobSha(content: Buffer | string): string {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  return createHash('sha1').update(`blob ${buf.length}\0`).update(buf).digest('hex');
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly requests: RecordedRequest[] = [];
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, Map<string, TreeEntry>>();
  readonly commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  readonly refs = new Map<string, string>();
  readonly pulls: FakePull[] = [];
  readonly statuses = new Map<string, Array<{ state: string; context: string }>>();
  readonly checkRuns = new Map<string, Array<{ name: string; status: string; conclusion: string | null }>>();
  readonly dispatches: Array<{ workflow: string; ref: string; inputs: unknown }> = [];
  readonly deployments: Array<{ id: number; ref: string; environment: string }> = [];
  private faults: Fault[] = [];
  private server: Server | undefined;
  private counter = 0;
  url = '';

  constructor(
    readonly token: string,
    opts: { owner?: string; repo?: string } = {},
  ) {
    this.owner = opts.owner ?? 'acme';
    this.repo = opts.repo ?? 'app';
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  fault(f: Fault): void {
    this.faults.push({ times: 1, ...f });
  }

  /** "METHOD /path" of every request after /repos/{owner}/{repo}, without query strings. */
  sequence(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  /** Seeds `branch` with one commit holding `files`. */
  seed(files: Record<string, string>, branch = 'main'): string {
    const entries = new Map<string, TreeEntry>();
    for (const [path, content] of Object.entries(files)) {
      const sha = this.putBlob(Buffer.from(content));
      entries.set(path, { mode: '100644', sha, type: 'blob' });
    }
    const tree = this.putTree(entries);
    const commit = this.putCommit(tree, [], 'initial');
    this.refs.set(`heads/${branch}`, commit);
    return commit;
  }

  /** Content of `path` at the tip of `branch` (undefined when absent). */
  fileAt(branch: string, path: string): string | undefined {
    const commit = this.commits.get(this.refs.get(`heads/${branch}`) ?? '');
    const entry = commit && this.trees.get(commit.tree)?.get(path);
    return entry ? this.blobs.get(entry.sha)?.toString('utf8') : undefined;
  }

  /** A commit straight on `branch`, as a human pushing would make. */
  pushCommit(branch: string, files: Record<string, string | null>, message = 'human change'): string {
    const parent = this.refs.get(`heads/${branch}`)!;
    const entries = new Map(this.trees.get(this.commits.get(parent)!.tree)!);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) entries.delete(path);
      else entries.set(path, { mode: '100644', sha: this.putBlob(Buffer.from(content)), type: 'blob' });
    }
    const sha = this.putCommit(this.putTree(entries), [parent], message);
    this.refs.set(`heads/${branch}`, sha);
    return sha;
  }

  private putBlob(content: Buffer): string {
    const sha = gitBlobSha(content);
    this.blobs.set(sha, content);
    return sha;
  }

  private putTree(entries: Map<string, TreeEntry>): string {
    const sorted = [...entries.entries()].sort(([a], [b]) => a.localeCompare(b));
    const sha = sha1(`tree ${JSON.stringify(sorted)}`);
    this.trees.set(sha, new Map(sorted));
    return sha;
  }

  private putCommit(tree: string, parents: string[], message: string): string {
    const sha = sha1(`commit ${tree} ${parents.join(',')} ${message} ${++this.counter}`);
    this.commits.set(sha, { tree, parents, message });
    return sha;
  }

  private pullJson(p: FakePull): Record<string, unknown> {
    return {
      ...p,
      html_url: `https://github.example/${this.owner}/${this.repo}/pull/${p.number}`,
      merged: p.merged_at !== null,
      labels: p.labels.map((name) => ({ name })),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const prefix = `/repos/${this.owner}/${this.repo}`;
    const pathname = decodeURIComponent(url.pathname);
    const path = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : pathname;
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const method = req.method ?? 'GET';
    this.requests.push({ method, path, query: url.searchParams, headers: req.headers, rawBody, body });
    const send = (status: number, data?: unknown, headers: Record<string, string> = {}): void => {
      const text = data === undefined ? '' : JSON.stringify(data);
      res.writeHead(status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), ...headers });
      res.end(text);
    };
    if (req.headers.authorization !== `token ${this.token}`) return send(401, { message: 'Bad credentials' });
    const fault = this.faults.find((f) => f.method === method && f.path.test(path) && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      fault.effect?.();
      return send(fault.status, fault.body ?? { message: `injected ${fault.status}` }, fault.headers);
    }
    try {
      this.route(method, path, url.searchParams, (body ?? {}) as Record<string, unknown>, send);
    } catch (err) {
      send(500, { message: String(err) });
    }
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    b: Record<string, unknown>,
    send: (status: number, data?: unknown, headers?: Record<string, string>) => void,
  ): void {
    let m: RegExpExecArray | null;
    const notFound = (): void => send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });

    if (method === 'GET' && path === '/pulls') {
      const head = query.get('head') ?? '';
      const [, ref] = head.split(':');
      const found = this.pulls.filter((p) => !head || p.head.ref === ref).reverse();
      return send(200, found.map((p) => this.pullJson(p)));
    }
    if (method === 'POST' && path === '/pulls') {
      const head = String(b.head);
      const sha = this.refs.get(`heads/${head}`);
      if (!sha) return send(422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }] });
      if (this.pulls.some((p) => p.head.ref === head && p.state === 'open')) {
        return send(422, { message: 'Validation Failed', errors: [{ message: `A pull request already exists for ${this.owner}:${head}.` }] });
      }
      const pr: FakePull = {
        number: this.pulls.length + 1,
        state: 'open',
        title: String(b.title),
        body: typeof b.body === 'string' ? b.body : null,
        head: { ref: head, sha },
        base: { ref: String(b.base) },
        merged_at: null,
        merge_commit_sha: null,
        labels: [],
      };
      this.pulls.push(pr);
      return send(201, this.pullJson(pr));
    }
    if ((m = /^\/pulls\/(\d+)(\/merge)?$/.exec(path))) {
      const pr = this.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) return notFound();
      if (method === 'GET' && !m[2]) return send(200, this.pullJson(pr));
      if (method === 'PUT' && m[2]) return this.merge(pr, b, send);
    }
    if (method === 'POST' && (m = /^\/issues\/(\d+)\/labels$/.exec(path))) {
      const pr = this.pulls.find((p) => p.number === Number(m![1]));
      if (!pr) return notFound();
      for (const l of b.labels as string[]) if (!pr.labels.includes(l)) pr.labels.push(l);
      return send(200, pr.labels.map((name) => ({ name })));
    }
    if (method === 'GET' && (m = /^\/git\/ref\/(.+)$/.exec(path))) {
      const ref = m[1]!;
      const sha = this.refs.get(ref);
      return sha ? send(200, { ref: `refs/${ref}`, object: { sha, type: 'commit' } }) : notFound();
    }
    if (method === 'POST' && path === '/git/refs') {
      const ref = String(b.ref).replace(/^refs\//, '');
      if (this.refs.has(ref)) return send(422, { message: 'Reference already exists' });
      if (!this.commits.has(String(b.sha))) return send(422, { message: 'Object does not exist' });
      this.refs.set(ref, String(b.sha));
      return send(201, { ref: `refs/${ref}`, object: { sha: b.sha, type: 'commit' } });
    }
    if (method === 'GET' && (m = /^\/git\/commits\/([0-9a-f]+)$/.exec(path))) {
      const c = this.commits.get(m[1]!);
      return c ? send(200, { sha: m[1], message: c.message, tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })) }) : notFound();
    }
    if (method === 'POST' && path === '/git/commits') {
      if (!this.trees.has(String(b.tree))) return send(422, { message: 'Tree not found' });
      const sha = this.putCommit(String(b.tree), b.parents as string[], String(b.message));
      return send(201, { sha, tree: { sha: b.tree }, parents: (b.parents as string[]).map((s) => ({ sha: s })) });
    }
    if (method === 'GET' && (m = /^\/git\/trees\/([0-9a-f]+)$/.exec(path))) {
      const t = this.trees.get(m[1]!);
      if (!t) return notFound();
      return send(200, { sha: m[1], truncated: false, tree: [...t.entries()].map(([p, e]) => ({ path: p, ...e })) });
    }
    if (method === 'POST' && path === '/git/trees') {
      const base = b.base_tree ? this.trees.get(String(b.base_tree)) : new Map<string, TreeEntry>();
      if (!base) return send(422, { message: 'base_tree not found' });
      const entries = new Map(base);
      for (const e of b.tree as Array<{ path: string; mode: string; type: string; sha: string | null }>) {
        if (e.sha === null) entries.delete(e.path);
        else if (!this.blobs.has(e.sha)) return send(422, { message: `blob ${e.sha} not found` });
        else entries.set(e.path, { mode: e.mode, sha: e.sha, type: e.type });
      }
      return send(201, { sha: this.putTree(entries), truncated: false });
    }
    if (method === 'POST' && path === '/git/blobs') {
      const content = Buffer.from(String(b.content), b.encoding === 'base64' ? 'base64' : 'utf8');
      return send(201, { sha: this.putBlob(content) });
    }
    if (method === 'GET' && (m = /^\/commits\/([^/]+)\/status$/.exec(path))) {
      const list = this.statuses.get(m[1]!) ?? [];
      const state = list.some((s) => s.state === 'failure' || s.state === 'error') ? 'failure' : list.some((s) => s.state === 'pending') || list.length === 0 ? 'pending' : 'success';
      return send(200, { state, total_count: list.length, statuses: list, sha: m[1] });
    }
    if (method === 'GET' && (m = /^\/commits\/([^/]+)\/check-runs$/.exec(path))) {
      const runs = this.checkRuns.get(m[1]!) ?? [];
      return send(200, { total_count: runs.length, check_runs: runs });
    }
    if (method === 'POST' && (m = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(path))) {
      this.dispatches.push({ workflow: m[1]!, ref: String(b.ref), inputs: b.inputs });
      return send(204);
    }
    if (method === 'POST' && path === '/deployments') {
      const d = { id: this.deployments.length + 1, ref: String(b.ref), environment: String(b.environment) };
      this.deployments.push(d);
      return send(201, d);
    }
    notFound();
  }

  private merge(pr: FakePull, b: Record<string, unknown>, send: (status: number, data?: unknown) => void): void {
    if (pr.merged_at !== null || pr.state === 'closed') return send(405, { message: 'Pull Request is not mergeable' });
    const headSha = this.refs.get(`heads/${pr.head.ref}`)!;
    if (b.sha !== undefined && b.sha !== headSha) return send(409, { message: 'Head branch was modified. Review and try the merge again.' });
    const baseSha = this.refs.get(`heads/${pr.base.ref}`)!;
    const head = this.commits.get(headSha)!;
    // File-level merge: the head's changes against its parent, applied onto the base tip.
    const parentTree = this.trees.get(this.commits.get(head.parents[0]!)!.tree)!;
    const headTree = this.trees.get(head.tree)!;
    const merged = new Map(this.trees.get(this.commits.get(baseSha)!.tree)!);
    for (const path of new Set([...parentTree.keys(), ...headTree.keys()])) {
      const after = headTree.get(path);
      if (parentTree.get(path)?.sha === after?.sha) continue;
      if (after) merged.set(path, after);
      else merged.delete(path);
    }
    const parents = b.merge_method === 'squash' ? [baseSha] : [baseSha, headSha];
    const sha = this.putCommit(this.putTree(merged), parents, String(b.commit_title ?? 'merge'));
    this.refs.set(`heads/${pr.base.ref}`, sha);
    pr.merged_at = '2026-01-01T00:00:00Z';
    pr.merge_commit_sha = sha;
    pr.state = 'closed';
    send(200, { sha, merged: true, message: 'Pull Request successfully merged' });
  }
}
