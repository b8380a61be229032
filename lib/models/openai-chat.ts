/**
 * Chat Completions through the official `openai` client. `baseURL` points the same code at OpenAI, Ollama, vLLM,
 * LM Studio or any OpenAI-compatible server.
 */
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions/completions';
import { HookchainConfigError } from '../errors.ts';
import type { ChatMessage } from '../types.ts';
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk } from './model.ts';

/** Extra Chat Completions parameters (temperature, max_tokens, …) passed through as they are. */
export type OpenAIChatParams = Omit<Partial<ChatCompletionCreateParamsBase>, 'model' | 'messages' | 'stream' | 'stream_options'>;

export interface OpenAIChatOptions extends OpenAIChatParams {
  /** Model id, e.g. 'gpt-4o-mini' (or the local server's model name). */
  id: string;
  apiKey?: string;
  baseURL?: string;
  /** A ready client (shared connection pool, custom fetch, Azure…); `apiKey`/`baseURL` are then not allowed. */
  client?: OpenAI;
  /** Per-request timeout in ms, passed to the client. */
  timeoutMs?: number;
  /** Retries the client makes on connection errors and 429/5xx (its default is 2). */
  maxRetries?: number;
}

export class OpenAIChat implements Model {
  readonly id: string;
  readonly client: OpenAI;
  private readonly params: OpenAIChatParams;
  private readonly requestOptions: { timeout?: number; maxRetries?: number };

  constructor(options: OpenAIChatOptions) {
    if (options === null || typeof options !== 'object') {
      throw new HookchainConfigError('INVALID_OPTION', "OpenAIChat: pass options like { id: 'gpt-4o-mini' }");
    }
    const { id, apiKey, baseURL, client, timeoutMs, maxRetries, ...params } = options;
    if (typeof id !== 'string' || id === '') {
      throw new HookchainConfigError('INVALID_OPTION', "OpenAIChat: option \"id\" (the model name, e.g. 'gpt-4o-mini') is required");
    }
    if (client !== undefined && (apiKey !== undefined || baseURL !== undefined)) {
      throw new HookchainConfigError('INVALID_OPTION', 'OpenAIChat: give either "client" or "apiKey"/"baseURL", not both (configure the client you pass)');
    }
    this.id = id;
    this.params = params;
    this.requestOptions = {};
    if (timeoutMs !== undefined) this.requestOptions.timeout = timeoutMs;
    if (maxRetries !== undefined) this.requestOptions.maxRetries = maxRetries;
    this.client = client ?? createClient(apiKey, baseURL);
  }

  async invoke(request: ModelRequest): Promise<ModelResponse> {
    const completion = await this.client.chat.completions.create(
      { ...this.params, model: this.id, messages: toOpenAIMessages(request.messages), stream: false },
      { ...this.requestOptions, signal: request.signal },
    );
    const choice = completion.choices[0];
    return {
      content: choice?.message?.content ?? '',
      usage: completion.usage
        ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens }
        : undefined,
    };
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const stream = await this.client.chat.completions.create(
      {
        ...this.params,
        model: this.id,
        messages: toOpenAIMessages(request.messages),
        stream: true,
        stream_options: { include_usage: true },
      },
      { ...this.requestOptions, signal: request.signal },
    );
    // Pulled lazily: the SSE body is read only as fast as the consumer asks for chunks.
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      const usage = chunk.usage
        ? { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens }
        : undefined;
      if (delta || usage) yield usage ? { delta: delta ?? '', usage } : { delta: delta! };
    }
    // The client ends an aborted SSE stream silently instead of throwing; make the cancellation visible.
    if (request.signal.aborted) throw request.signal.reason ?? new Error('aborted');
  }
}

function createClient(apiKey: string | undefined, baseURL: string | undefined): OpenAI {
  const url = baseURL ?? process.env['OPENAI_BASE_URL'];
  // Local OpenAI-compatible servers need no key, but the client insists on one.
  const key = apiKey ?? process.env['OPENAI_API_KEY'] ?? (url ? 'not-needed' : undefined);
  if (key === undefined) {
    throw new HookchainConfigError(
      'MISSING_API_KEY',
      'OpenAIChat: no API key. Set OPENAI_API_KEY, pass { apiKey }, or point { baseURL } (or OPENAI_BASE_URL) at an OpenAI-compatible server',
    );
  }
  return new OpenAI({ apiKey: key, ...(url !== undefined ? { baseURL: url } : {}) });
}

function toOpenAIMessages(messages: ChatMessage[]): OpenAI.Chat.ChatCompletionMessageParam[] {
  // Our ChatMessage is a subset of the client's shape; the cast only widens the content-part union.
  return messages as OpenAI.Chat.ChatCompletionMessageParam[];
}
