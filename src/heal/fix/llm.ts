import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffAgainstHead } from './edit-session.js';
import { handlerIdentifier, readFixFacts } from './facts.js';
import { markdownInline } from '../text/markdown.js';
import { git } from './git-run.js';
import { findHandlerSource } from './handler-source.js';
import type { ChatClient, ChatMessage } from './llm-client.js';
import { parseFrameLocations, resolveInRepo } from './stack-location.js';
import type { FixContext, FixStrategy, GeneratedFix } from './strategy.js';
import { assertSyntax } from './syntax-check.js';

const MAX_FILE_CHARS = 20_000;

/** The diff in a model answer: a ```diff (or ```patch) block, a bare fenced diff, or the whole answer. */
export function extractDiff(answer: string): string | undefined {
  const fenced = /```(?:diff|patch)?[^\n]*\n([\s\S]*?)```/g;
  for (const m of answer.matchAll(fenced)) {
    const body = m[1]!;
    if (/^(?:diff --git |--- )/m.test(body)) return body.endsWith('\n') ? body : body + '\n';
  }
  const start = answer.search(/^(?:diff --git |--- )/m);
  if (start < 0) return undefined;
  const body = answer.slice(start);
  return body.endsWith('\n') ? body : body + '\n';
}

export const SYSTEM_PROMPT = [
  'You repair application code. Answer with exactly one unified diff in a ```diff block,',
  'with a/ and b/ path prefixes relative to the repository root, against the files shown.',
  'Change as little as possible; do not explain.',
].join(' ');

/** Files the model sees: the error location and the handler source. */
async function relevantFiles(ctx: FixContext): Promise<string[]> {
  const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
  const files = new Set<string>();
  const frames = parseFrameLocations([facts.error?.topFrame ?? '', facts.error?.stacktrace ?? ''].join('\n'));
  for (const frame of frames) {
    const loc = resolveInRepo(ctx.repoDir, frame);
    if (loc !== undefined) files.add(loc.file);
  }
  const identifier = facts.handler === undefined ? undefined : handlerIdentifier(facts.handler);
  if (identifier !== undefined) {
    const source = await findHandlerSource(ctx.repoDir, ctx.heal.repository.handlerGlobs, identifier);
    if (source !== undefined) files.add(source.file);
  }
  return [...files].slice(0, 3);
}

export async function buildPrompt(ctx: FixContext): Promise<ChatMessage[]> {
  const facts = readFixFacts(ctx.diagnosis, ctx.anomaly);
  const parts = [
    `Anomaly: ${ctx.anomaly.summary}`,
    `Root cause: ${ctx.diagnosis.rootCause.description}`,
    facts.handler === undefined ? '' : `Handler: ${facts.handler}`,
    facts.error?.message === undefined ? '' : `Error: ${facts.error.type ?? 'Error'}: ${facts.error.message}`,
    facts.error?.stacktrace === undefined ? '' : `Stack trace:\n${facts.error.stacktrace}`,
  ].filter((p) => p !== '');
  for (const file of await relevantFiles(ctx)) {
    const text = await readFile(join(ctx.repoDir, file), 'utf8');
    parts.push(`File ${file}:\n\`\`\`\n${text.slice(0, MAX_FILE_CHARS)}\n\`\`\``);
  }
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

/**
 * Asks a chat model for a patch. Opt-in: only present when the pipeline passes it in `strategies`.
 * The answer must pass the same gates as every other fix: `git apply --check`, then the changed
 * files are applied, syntax-checked, re-diffed by git (so the returned diff is canonical) and the
 * worktree is reverted.
 */
export class LlmStrategy implements FixStrategy {
  readonly kind = 'llm' as const;

  constructor(private readonly client: ChatClient) {}

  applicable(ctx: FixContext): boolean {
    return ctx.diagnosis.recommendedFixes.includes('llm') || readFixFacts(ctx.diagnosis, ctx.anomaly).handler !== undefined;
  }

  async generate(ctx: FixContext): Promise<GeneratedFix | undefined> {
    const answer = await this.client.complete(await buildPrompt(ctx));
    const proposed = extractDiff(answer);
    if (proposed === undefined) return undefined;
    await git(ctx.repoDir, ['apply', '--check', '--whitespace=nowarn', '-'], { input: proposed });
    const files = (await git(ctx.repoDir, ['apply', '--numstat', '-'], { input: proposed }))
      .split('\n')
      .map((l) => l.split('\t')[2])
      .filter((f): f is string => f !== undefined && f.length > 0);
    await git(ctx.repoDir, ['apply', '--whitespace=nowarn', '-'], { input: proposed });
    let produced: { diff: string; files: string[] };
    try {
      const texts = await Promise.all(files.map(async (file) => ({ file, text: await readFile(join(ctx.repoDir, file), 'utf8').catch(() => '') })));
      assertSyntax(texts);
      produced = await diffAgainstHead(ctx.repoDir, files);
    } finally {
      await git(ctx.repoDir, ['apply', '-R', '--whitespace=nowarn', '-'], { input: proposed });
    }
    return {
      kind: this.kind,
      title: `Model-proposed fix for ${markdownInline(ctx.diagnosis.handler ?? ctx.diagnosis.service)}`,
      description: `Patch proposed by a language model for: ${markdownInline(ctx.diagnosis.rootCause.description)}`,
      diff: produced.diff,
      files: produced.files,
      claims: {},
    };
  }
}
