import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GuardStrategy } from '../../../src/heal/fix/guard.js';
import { ChatCompletionError, OpenAiChatClient, type ChatClient } from '../../../src/heal/fix/llm-client.js';
import { buildPrompt, extractDiff, LlmStrategy } from '../../../src/heal/fix/llm.js';
import { SyntaxCheckError } from '../../../src/heal/fix/syntax-check.js';
import { createFixtureRepo, type FixtureRepo } from '../../fixtures/app-repo.js';
import { gitStatus, nullAccessContext } from './fix-context.js';

interface Seen {
  url: string | undefined;
  authorization: string | undefined;
  body: { model: string; messages: Array<{ role: string; content: string }> };
}

/** A local stand-in for an OpenAI-compatible endpoint. */
async function chatServer(reply: (seen: Seen) => { status: number; body: string }): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      const entry = { url: req.url, authorization: req.headers.authorization, body: JSON.parse(data) as Seen['body'] };
      seen.push(entry);
      const { status, body } = reply(entry);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/v1/`, seen, server };
}

const answer = (content: string) => ({ status: 200, body: JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }) });

describe('OpenAiChatClient', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('posts to /chat/completions with the model and the key from the named env var', async () => {
    const s = await chatServer(() => answer('hello'));
    server = s.server;
    const client = new OpenAiChatClient({ baseUrl: s.url, model: 'tiny', apiKeyEnv: 'HEAL_TEST_KEY' }, { HEAL_TEST_KEY: 'sekret' });
    expect(await client.complete([{ role: 'user', content: 'hi' }])).toBe('hello');
    expect(s.seen[0]).toMatchObject({ url: '/v1/chat/completions', authorization: 'Bearer sekret', body: { model: 'tiny', messages: [{ role: 'user', content: 'hi' }] } });
    await new OpenAiChatClient({ baseUrl: s.url, model: 'tiny', apiKeyEnv: 'UNSET_VAR' }, {}).complete([]);
    expect(s.seen[1]?.authorization).toBeUndefined();
  });

  it('reports HTTP errors and malformed answers without leaking the key', async () => {
    let next = { status: 401, body: '{"error":"bad key"}' };
    const s = await chatServer(() => next);
    server = s.server;
    const client = new OpenAiChatClient({ baseUrl: s.url, model: 'tiny', apiKeyEnv: 'K' }, { K: 'sekret' });
    const err = await client.complete([]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatCompletionError);
    expect((err as ChatCompletionError).status).toBe(401);
    expect((err as Error).message).toContain('bad key');
    expect((err as Error).message).not.toContain('sekret');
    next = { status: 200, body: '{"nope":1}' };
    await expect(client.complete([])).rejects.toThrow('not a chat completion');
    next = { status: 200, body: JSON.stringify({ choices: [{ message: { content: null } }] }) };
    expect(await client.complete([])).toBe('');
  });

  it('reports an unreachable endpoint', async () => {
    const s = await chatServer(() => answer(''));
    await new Promise((resolve) => s.server.close(resolve));
    await expect(new OpenAiChatClient({ baseUrl: s.url, model: 'm', timeoutMs: 5_000 }).complete([])).rejects.toThrow('request failed');
  });
});

describe('extractDiff', () => {
  it('finds the diff in a fenced block or the bare answer', () => {
    expect(extractDiff('Here:\n```diff\n--- a/x\n+++ b/x\n```\nbye')).toBe('--- a/x\n+++ b/x\n');
    expect(extractDiff('```\nnot a diff\n```\n```patch\ndiff --git a/x b/x\n```')).toBe('diff --git a/x b/x\n');
    expect(extractDiff('intro\ndiff --git a/x b/x\n@@')).toBe('diff --git a/x b/x\n@@\n');
    expect(extractDiff('no patch here')).toBeUndefined();
  });
});

describe('LlmStrategy', () => {
  let repo: FixtureRepo | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await repo?.cleanup();
    repo = undefined;
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('accepts a model diff that applies and parses, with the error and source in the prompt', async () => {
    repo = await createFixtureRepo();
    const ctx = nullAccessContext(repo.dir);
    const good = (await new GuardStrategy().generate(ctx))!.diff;
    const s = await chatServer(() => answer('Sure.\n```diff\n' + good + '```\n'));
    server = s.server;
    const strategy = new LlmStrategy(new OpenAiChatClient({ baseUrl: s.url, model: 'tiny' }));
    expect(strategy.applicable(ctx)).toBe(true);
    const fix = await strategy.generate(ctx);
    expect(fix?.kind).toBe('llm');
    expect(fix?.files).toEqual(['src/handlers/createComponent.ts']);
    expect(fix?.diff).toContain('+  const name = payload?.component?.name;');
    const prompt = s.seen[0]!.body.messages[1]!.content;
    expect(prompt).toContain("Cannot read properties of undefined (reading 'name')");
    expect(prompt).toContain('File src/handlers/createComponent.ts:');
    expect(prompt).toContain('const name = payload.component.name;');
    expect(await gitStatus(repo.dir)).toBe('');
  });

  it('rejects answers that do not apply or do not parse, leaving the worktree clean', async () => {
    repo = await createFixtureRepo();
    const ctx = nullAccessContext(repo.dir);
    const good = (await new GuardStrategy().generate(ctx))!.diff;
    const reply = (text: string): ChatClient => ({ complete: () => Promise.resolve(text) });
    await expect(new LlmStrategy(reply(good.replace('+  const name = payload?.component?.name;', '+  const name = payload?.component?.;'))).generate(ctx)).rejects.toBeInstanceOf(
      SyntaxCheckError,
    );
    expect(await gitStatus(repo.dir)).toBe('');
    await expect(new LlmStrategy(reply(good.replace('-  const name = payload.component.name;', '-  const nom = payload.thing;'))).generate(ctx)).rejects.toThrow('git apply');
    expect(await new LlmStrategy(reply('I cannot help.')).generate(ctx)).toBeUndefined();
    expect(await gitStatus(repo.dir)).toBe('');
  });

  it('builds a prompt without file sections when nothing is located', async () => {
    repo = await createFixtureRepo();
    const base = nullAccessContext(repo.dir);
    const ctx = { ...base, diagnosis: { ...base.diagnosis, handler: undefined, recommendedFixes: ['llm' as const], context: {} }, anomaly: { ...base.anomaly, handler: undefined } };
    const [system, user] = await buildPrompt(ctx);
    expect(system?.content).toContain('unified diff');
    expect(user?.content).not.toContain('File ');
    expect(new LlmStrategy({ complete: () => Promise.resolve('') }).applicable(ctx)).toBe(true);
  });
});
