import { z } from 'zod';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Anything that answers a chat conversation with text. */
export interface ChatClient {
  complete(messages: ChatMessage[]): Promise<string>;
}

export const LlmConfigSchema = z.object({
  /** e.g. http://127.0.0.1:11434/v1 or https://api.openai.com/v1 */
  baseUrl: z.string().min(1),
  model: z.string().min(1),
  /** Name of the environment variable holding the API key; the key itself never appears in config. */
  apiKeyEnv: z.string().optional(),
  timeoutMs: z.number().int().positive().default(60_000),
  maxTokens: z.number().int().positive().default(2_000),
  temperature: z.number().min(0).max(2).default(0),
});
export type LlmConfig = z.input<typeof LlmConfigSchema>;

const ChatResponseSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});

export class ChatCompletionError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'ChatCompletionError';
  }
}

/**
 * OpenAI-compatible chat completions client (POST {baseUrl}/chat/completions). The API key is read
 * from the named environment variable at call time and only ever sent in the Authorization header;
 * error messages carry the status and a short piece of the response body, never the request.
 */
export class OpenAiChatClient implements ChatClient {
  private readonly config: z.output<typeof LlmConfigSchema>;

  constructor(
    config: LlmConfig,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.config = LlmConfigSchema.parse(config);
  }

  async complete(messages: ChatMessage[]): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const key = this.config.apiKeyEnv === undefined ? undefined : this.env[this.config.apiKeyEnv];
    if (key !== undefined && key !== '') headers['authorization'] = `Bearer ${key}`;
    const url = this.config.baseUrl.replace(/\/+$/, '') + '/chat/completions';
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: this.config.model,
          messages,
          temperature: this.config.temperature,
          max_tokens: this.config.maxTokens,
        }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      });
    } catch (err) {
      throw new ChatCompletionError(`chat completion request failed: ${(err as Error).message}`, undefined);
    }
    const body = await res.text();
    if (!res.ok) throw new ChatCompletionError(`chat completion returned ${String(res.status)}: ${body.slice(0, 200)}`, res.status);
    let parsed: z.infer<typeof ChatResponseSchema>;
    try {
      parsed = ChatResponseSchema.parse(JSON.parse(body));
    } catch {
      throw new ChatCompletionError('chat completion response is not a chat completion', res.status);
    }
    return parsed.choices[0]!.message.content ?? '';
  }
}
