import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import { markdownInline } from '../text/markdown.js';
import { replaceScalars, type ScalarEdit } from '../text/yaml-scalar.js';
import { checkApplies, EditSession, finishEdits } from './edit-session.js';
import { readFixFacts } from './facts.js';
import { git, GitCommandError } from './git-run.js';
import { assertSyntax } from './syntax-check.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';

export const MANIFEST_GLOBS = ['deploy/**/*.{yaml,yml}', 'k8s/**/*.{yaml,yml}'];

/** The tag naming a version: `v1.2.0` or `1.2.0`, whichever exists. */
export async function findVersionTag(repoDir: string, version: string): Promise<string | undefined> {
  const bare = version.replace(/^v/, '');
  for (const tag of [`v${bare}`, bare]) {
    try {
      await git(repoDir, ['rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`]);
      return tag;
    } catch {
      // not this spelling
    }
  }
  return undefined;
}

/**
 * Reverts every commit in previousTag..newTag on a scratch worktree at HEAD (newest first, no
 * commit) and returns the resulting diff; undefined when the revert conflicts or changes nothing.
 */
export async function revertRange(repoDir: string, previousTag: string, newTag: string): Promise<{ diff: string; files: string[] } | undefined> {
  const scratch = await mkdtemp(join(tmpdir(), 'heal-revert-'));
  const worktree = join(scratch, 'wt');
  try {
    // Inside the try: a failed add must not leave the scratch directory behind.
    await git(repoDir, ['worktree', 'add', '--detach', '--quiet', worktree, 'HEAD']);
    try {
      await git(worktree, ['revert', '--no-commit', `${previousTag}..${newTag}`]);
    } catch (err) {
      if (err instanceof GitCommandError) return undefined;
      throw err;
    }
    const diff = await git(worktree, ['diff', '--cached', '--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', '--full-index', '--binary', 'HEAD']);
    const files = (await git(worktree, ['diff', '--cached', '--name-only', 'HEAD'])).split('\n').filter((f) => f.length > 0);
    const texts = await Promise.all(
      files.map(async (file) => ({ file, text: await readFile(join(worktree, file), 'utf8').catch(() => '') })),
    );
    assertSyntax(texts);
    return diff.trim() === '' ? undefined : { diff, files };
  } finally {
    await git(repoDir, ['worktree', 'remove', '--force', worktree]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    await git(repoDir, ['worktree', 'prune']).catch(() => undefined);
  }
}

/** Paths (within one YAML document) of container lists in Pods, workload templates and CronJobs. */
const CONTAINER_PATHS = [
  ['spec', 'containers'],
  ['spec', 'template', 'spec', 'containers'],
  ['spec', 'template', 'spec', 'initContainers'],
  ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers'],
];

export interface ImageEdit {
  text: string;
  changes: Array<{ container: string; from: string; to: string }>;
}

function splitImage(image: string): { name: string; tag: string | undefined } {
  const at = image.indexOf('@');
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: undefined };
}

/**
 * A release version usable as an image tag and a git tag name: the OCI distribution grammar for
 * tags (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`) without `..`. Versions come from telemetry
 * (service.version), so anything else is refused rather than written into a manifest.
 */
export function isSafeVersion(version: string): boolean {
  return /^v?[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(version) && !version.includes('..');
}

function sameVersion(tag: string, version: string): boolean {
  return tag.replace(/^v/, '') === version.replace(/^v/, '');
}

/**
 * Moves the image tag of containers running `newVersion` back to `previousVersion`. Only the
 * scalar's own source range is replaced, so comments, quoting style and layout stay as they were.
 * `service` narrows the match to containers named after it (or whose image name ends with it)
 * when any such container exists.
 */
export function rollbackImageTags(text: string, previousVersion: string, newVersion: string, service: string | undefined): ImageEdit {
  if (!isSafeVersion(previousVersion) || !isSafeVersion(newVersion)) return { text, changes: [] };
  const edits: Array<ScalarEdit & { container: string; from: string }> = [];
  const docs = parseAllDocuments(text) as Document[];
  docs.forEach((doc, docIndex) => {
    if (doc.errors.length > 0) return;
    for (const path of CONTAINER_PATHS) {
      const list = doc.getIn(path, true);
      if (!isSeq(list)) continue;
      const matching: typeof edits = [];
      const preferred: typeof edits = [];
      list.items.forEach((item, index) => {
        if (!isMap(item)) return;
        const image = item.get('image', true);
        const name = item.get('name');
        if (!isScalar(image) || typeof image.value !== 'string') return;
        const { name: imageName, tag } = splitImage(image.value);
        if (tag === undefined || !sameVersion(tag, newVersion)) return;
        const prefix = tag.startsWith('v') ? 'v' : '';
        const edit = {
          doc: docIndex,
          path: [...path, index, 'image'],
          value: `${imageName}:${prefix}${previousVersion.replace(/^v/, '')}`,
          container: typeof name === 'string' ? name : imageName,
          from: image.value,
        };
        matching.push(edit);
        if (service !== undefined && (edit.container === service || imageName.endsWith('/' + service) || imageName === service)) preferred.push(edit);
      });
      edits.push(...(preferred.length > 0 ? preferred : matching));
    }
  });
  if (edits.length === 0) return { text, changes: [] };
  // The yaml serializer writes each new value and the result is re-parsed and compared, so the
  // manifest changes in exactly these image fields.
  return { text: replaceScalars(text, edits), changes: edits.map((e) => ({ container: e.container, from: e.from, to: e.value })) };
}

/**
 * Undo a bad release: revert the commits between the previous and the new version's tags when both
 * exist; otherwise point the deployment manifests back at the previous image tag.
 */
export class RollbackStrategy implements FixStrategy {
  readonly kind = 'rollback' as const;

  applicable(ctx: FixContext): boolean {
    if (!ctx.diagnosis.recommendedFixes.includes('rollback')) return false;
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    const { previousVersion, newVersion } = facts;
    return previousVersion !== undefined && newVersion !== undefined && previousVersion !== newVersion && isSafeVersion(previousVersion) && isSafeVersion(newVersion);
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
    const { previousVersion, newVersion } = facts;
    if (previousVersion === undefined || newVersion === undefined || !isSafeVersion(previousVersion) || !isSafeVersion(newVersion)) return undefined;
    const previousTag = await findVersionTag(ctx.repoDir, previousVersion);
    const newTag = await findVersionTag(ctx.repoDir, newVersion);
    if (previousTag !== undefined && newTag !== undefined) {
      const reverted = await revertRange(ctx.repoDir, previousTag, newTag);
      if (reverted !== undefined) {
        await checkApplies(ctx.repoDir, reverted.diff);
        return {
          kind: this.kind,
          title: `Roll back ${markdownInline(facts.service)} from ${newVersion} to ${previousVersion}`,
          description: `Reverts the commits in ${previousTag}..${newTag}, the release the diagnosis blames.`,
          diff: reverted.diff,
          files: reverted.files,
          claims: {},
        };
      }
    }
    const session = new EditSession(ctx.repoDir);
    const changes: string[] = [];
    for (const file of (await glob(MANIFEST_GLOBS, { cwd: ctx.repoDir, onlyFiles: true })).sort()) {
      const edit = rollbackImageTags(await session.read(file), previousVersion, newVersion, facts.service);
      if (edit.changes.length === 0) continue;
      await session.write(file, edit.text);
      for (const c of edit.changes) changes.push(`${markdownInline(file)}: ${markdownInline(c.container)} ${markdownInline(c.from)} -> ${markdownInline(c.to)}`);
    }
    if (changes.length === 0) return undefined;
    return finishEdits(session, {
      kind: this.kind,
      title: `Roll back ${markdownInline(facts.service)} image to ${previousVersion}`,
      description: ['No release tags for both versions, so the deployment image is pinned back:', ...changes.map((c) => `- ${c}`)].join('\n'),
      claims: {},
    });
  }
}
