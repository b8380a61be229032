/**
 * Chat Completions through the official `openai` client. `baseURL` points the same code at OpenAI, Ollama, vLLM,
 * LM Studio or any OpenAI-compatible server. The client comes from `openAIClient`, so `openai` (an optional peer
 * dependency) is loaded on the first request, not when hookchain is imported.
 */
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions/completions';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, isPlainObject, type Rule } from '../options.ts';
import type { ChatMessage } from '../types.ts';
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk } from './model.ts';
import { OPENAI_CLIENT_RULES, openAIClient, type LazyOpenAIClient, type OpenAIClientOptions } from './openai-client.ts';

/** Extra Chat Completions parameters (temperature, max_tokens, …) passed through as they are. */
export type OpenAIChatParams = Omit<Partial<ChatCompletionCreateParamsBase>, 'model' | 'messages' | 'stream' | 'stream_options'>;

/**
 * Options of `new OpenAIChat(options)`: the model `id`, the client options (`client` or `apiKey`/`baseURL`,
 * `timeoutMs`, `maxRetries`) and any Chat Completions parameter (`temperature`, `max_tokens`…), passed through
 * unchecked. `model`, `messages`, `stream` and `stream_options` are set by `OpenAIChat` and refused.
 */
export interface OpenAIChatOptions extends OpenAIChatParams, OpenAIClientOptions {
  /** Model id, e.g. 'gpt-4o-mini' (or the local server's model name). */
  id: string;
}

const OWNER = 'OpenAIChat';

// Only OpenAIChat's own options are checked here. The Chat Completions parameters pass through unchecked: the
// installed openai version defines them (a newer one may add some) and the server rejects a misspelt one.
const RULES = {
  id: ((v) => (typeof v === 'string' && v.trim() !== '' ? undefined : "the model name, a non-empty string such as 'gpt-4o-mini'")) as Rule,
  ...OPENAI_CLIENT_RULES,
  client: ((v) =>
    typeof (v as OpenAI | null)?.chat?.completions?.create === 'function'
      ? undefined
      : 'an OpenAI client (new OpenAI({ ... })) with chat.completions.create') as Rule,
};

/** Parameters OpenAIChat sets itself; passing them would be silently overridden, so they are refused. */
const RESERVED: Readonly<Record<string, string>> = {
  model: 'the model is the "id" option',
  messages: 'messages are built from the instructions, the history and the input',
  stream: 'agent.stream() streams, agent.run() does not',
  stream_options: 'streaming runs always ask for usage',
};

/**
 * A model over OpenAI's Chat Completions, through the official `openai` client (an optional peer dependency,
 * loaded on the first request). `agent.run()` makes one request; `agent.stream()` streams it and asks for usage.
 * Point `baseURL` at Ollama, vLLM, LM Studio or any OpenAI-compatible server.
 *
 * @example
 * const model = new OpenAIChat({ id: 'gpt-4o-mini', temperature: 0.2 }); // key from OPENAI_API_KEY
 * const local = new OpenAIChat({ id: 'llama3.2', baseURL: 'http://127.0.0.1:11434/v1' }); // no key needed
 * const agent = new Agent({ name: 'support', model });
 */
export class OpenAIChat implements Model {
  /** The model id sent to the API, such as `'gpt-4o-mini'`; reported in `RunOutput.model`. */
  readonly id: string;
  private readonly openai: LazyOpenAIClient;
  private readonly params: OpenAIChatParams;

  /**
   * Checks the options at once (a missing `id`, a `client` together with `apiKey`, no API key for OpenAI itself);
   * `openai` is loaded on the first request.
   *
   * @param options `id` is required; the rest is optional.
   */
  constructor(options: OpenAIChatOptions) {
    // checkOptions says what was passed instead of an object; below it checks the own options only.
    if (!isPlainObject(options)) checkOptions(OWNER, options, RULES, ['id']);
    const { id, apiKey, baseURL, client, timeoutMs, maxRetries, ...params } = options;
    checkOptions(OWNER, { id, apiKey, baseURL, client, timeoutMs, maxRetries }, RULES, ['id']);
    for (const key of Object.keys(params)) {
      if (Object.hasOwn(RESERVED, key)) {
        throw new HookchainConfigError('INVALID_OPTION', `${OWNER}: option "${key}" is set by OpenAIChat (${RESERVED[key]}); remove it`);
      }
    }
    this.id = id;
    this.params = params;
    this.openai = openAIClient({ client, apiKey, baseURL, timeoutMs, maxRetries }, OWNER);
  }

  /** The `openai` client this model calls: the one passed as `client`, or the one it created (loading `openai`). */
  getClient(): Promise<OpenAI> {
    return this.openai.get();
  }

  /** One Chat Completions request (`stream: false`); rejects with the client's error. */
  async invoke(request: ModelRequest): Promise<ModelResponse> {
    const client = await this.openai.get();
    const completion = await client.chat.completions.create(
      { ...this.params, model: this.id, messages: toOpenAIMessages(request.messages), stream: false },
      { signal: request.signal },
    );
    const choice = completion.choices[0];
    return {
      content: choice?.message?.content ?? '',
      usage: completion.usage
        ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens }
        : undefined,
    };
  }

  /**
   * One streamed Chat Completions request, read as fast as the run consumes it; usage comes with the last chunk.
   * A plain iterator over the client's stream rather than an async generator: one `then` per chunk instead of a
   * generator's resumption machinery, which was most of the per-chunk cost over the bare client.
   */
  stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const open = async () => {
      const client = await this.openai.get();
      const stream = await client.chat.completions.create(
        {
          ...this.params,
          model: this.id,
          messages: toOpenAIMessages(request.messages),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: request.signal },
      );
      return stream[Symbol.asyncIterator]();
    };
    return { [Symbol.asyncIterator]: () => new ChunkIterator(open(), request.signal) };
  }
}

type CompletionChunks = AsyncIterator<OpenAI.Chat.Completions.ChatCompletionChunk>;

/** Maps the client's chunks to `ModelStreamChunk`s, skipping the empty ones; pulled lazily, one chunk per `next()`. */
class ChunkIterator implements AsyncIterator<ModelStreamChunk> {
  private inner: CompletionChunks | undefined;
  private readonly opening: Promise<CompletionChunks>;
  private readonly signal: AbortSignal;
  private readonly step = (
    result: IteratorResult<OpenAI.Chat.Completions.ChatCompletionChunk>,
  ): IteratorResult<ModelStreamChunk> | Promise<IteratorResult<ModelStreamChunk>> => {
    if (result.done) {
      // The client ends an aborted SSE stream silently instead of throwing; make the cancellation visible.
      if (this.signal.aborted) throw this.signal.reason ?? new Error('aborted');
      return DONE;
    }
    const chunk = result.value;
    const delta = chunk.choices[0]?.delta?.content;
    const usage = chunk.usage ? { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens } : undefined;
    if (!delta && !usage) return this.inner!.next().then(this.step);
    return { done: false, value: usage ? { delta: delta ?? '', usage } : { delta: delta! } };
  };

  constructor(opening: Promise<CompletionChunks>, signal: AbortSignal) {
    this.opening = opening;
    this.signal = signal;
  }

  next(): Promise<IteratorResult<ModelStreamChunk>> {
    if (this.inner !== undefined) return this.inner.next().then(this.step);
    return this.opening.then((inner) => {
      this.inner = inner;
      return inner.next().then(this.step);
    });
  }

  /** The run stopped reading (cancelled, or a chunk check blocked): close the HTTP stream. */
  async return(): Promise<IteratorResult<ModelStreamChunk>> {
    const inner = this.inner ?? (await this.opening.catch(() => undefined));
    await inner?.return?.();
    return DONE;
  }
}

const DONE: IteratorResult<ModelStreamChunk> = Object.freeze({ done: true, value: undefined });

function toOpenAIMessages(messages: ChatMessage[]): OpenAI.Chat.ChatCompletionMessageParam[] {
  // Our ChatMessage is a subset of the client's shape; the cast only widens the content-part union.
  return messages as OpenAI.Chat.ChatCompletionMessageParam[];
}
