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
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk, ModelToolCall } from './model.ts';
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
 * Point `baseURL` at Ollama, vLLM, LM Studio or any OpenAI-compatible server. A request's `tools` are sent as
 * function tools (replacing a `tools` parameter given here) and the answer's function calls come back as
 * `toolCalls`; streamed call fragments are assembled here and delivered whole when the stream ends. A request's
 * `responseFormat` is sent as `response_format: { type: 'json_schema' }` (not strict).
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
    const messages = toOpenAIMessages(request.messages);
    const client = await this.openai.get();
    const completion = await client.chat.completions.create(
      { ...this.params, ...toolsParam(request), ...formatParam(request), model: this.id, messages, stream: false },
      { signal: request.signal },
    );
    const message = completion.choices[0]?.message;
    const response: ModelResponse = {
      content: message?.content ?? '',
      usage: completion.usage
        ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens }
        : undefined,
    };
    const toolCalls = message?.tool_calls;
    if (toolCalls !== undefined && toolCalls.length > 0) {
      // Custom (free-text) tools are never sent by hookchain, so only function calls can answer its requests.
      response.toolCalls = toolCalls.flatMap((c) =>
        c.type === 'function' ? [{ callId: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
      );
    }
    return response;
  }

  /**
   * One streamed Chat Completions request, read as fast as the run consumes it; usage comes with the last chunk.
   * A plain iterator over the client's stream rather than an async generator: one `then` per chunk instead of a
   * generator's resumption machinery, which was most of the per-chunk cost over the bare client.
   */
  stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const open = async () => {
      const messages = toOpenAIMessages(request.messages);
      const client = await this.openai.get();
      const stream = await client.chat.completions.create(
        {
          ...this.params,
          ...toolsParam(request),
          ...formatParam(request),
          model: this.id,
          messages,
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

/** One tool call being streamed: its id and name come first, its arguments in pieces after. */
interface PartialToolCall {
  callId: string;
  name: string;
  arguments: string;
}

/**
 * Maps the client's chunks to `ModelStreamChunk`s, skipping the empty ones; pulled lazily, one chunk per `next()`.
 * Tool-call fragments are collected by their `index` (parallel calls may interleave) and yielded, complete, in one
 * chunk after the last one: a consumer must never act on half an arguments string.
 */
class ChunkIterator implements AsyncIterator<ModelStreamChunk> {
  private inner: CompletionChunks | undefined;
  private readonly opening: Promise<CompletionChunks>;
  private readonly signal: AbortSignal;
  /** Sparse by the provider's `index`; created on the first fragment, so a text-only stream never allocates it. */
  private calls: PartialToolCall[] | undefined;
  private readonly step = (
    result: IteratorResult<OpenAI.Chat.Completions.ChatCompletionChunk>,
  ): IteratorResult<ModelStreamChunk> | Promise<IteratorResult<ModelStreamChunk>> => {
    if (result.done) {
      // The client ends an aborted SSE stream silently instead of throwing; make the cancellation visible.
      if (this.signal.aborted) throw this.signal.reason ?? new Error('aborted');
      if (this.calls === undefined) return DONE;
      // Index order is the model's order; `flat()` drops the holes an index the provider skipped would leave.
      const toolCalls: ModelToolCall[] = this.calls.flat();
      this.calls = undefined;
      return { done: false, value: { toolCalls } };
    }
    const chunk = result.value;
    const fragments = chunk.choices[0]?.delta?.tool_calls;
    if (fragments !== undefined && fragments !== null) this.collect(fragments);
    const delta = chunk.choices[0]?.delta?.content;
    const usage = chunk.usage ? { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens } : undefined;
    if (!delta && !usage) return this.inner!.next().then(this.step);
    return { done: false, value: usage ? { delta: delta ?? '', usage } : { delta: delta! } };
  };

  constructor(opening: Promise<CompletionChunks>, signal: AbortSignal) {
    this.opening = opening;
    this.signal = signal;
  }

  /** The first fragment of a call carries its id and name; later ones append to its arguments. */
  private collect(fragments: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[]): void {
    const calls = (this.calls ??= []);
    for (const fragment of fragments) {
      const call = (calls[fragment.index] ??= { callId: '', name: '', arguments: '' });
      if (fragment.id) call.callId = fragment.id;
      if (fragment.function?.name) call.name += fragment.function.name;
      if (fragment.function?.arguments) call.arguments += fragment.function.arguments;
    }
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

type WireMessage = OpenAI.Chat.ChatCompletionMessageParam;

/** `{ tools }` for the request body when the request has tools, else nothing (so `params.tools`, if any, stays). */
function toolsParam(request: ModelRequest): { tools?: OpenAI.Chat.ChatCompletionFunctionTool[] } {
  const tools = request.tools;
  if (tools === undefined || tools.length === 0) return {};
  return {
    tools: tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } })),
  };
}

/**
 * `{ response_format }` for a request with structured output, else nothing (so `params.response_format`, if any,
 * stays). Not `strict: true`: strict mode rejects many ordinary schemas (optional properties, `additionalProperties`
 * left open, some formats), and the agent validates the answer against the schema anyway.
 */
function formatParam(request: ModelRequest): { response_format?: OpenAI.ResponseFormatJSONSchema } {
  const format = request.responseFormat;
  if (format === undefined) return {};
  return { response_format: { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } } };
}

/**
 * Our messages in the client's shape. Plain messages already have it (the cast only widens the content-part
 * union), so the array is passed as it is unless a message carries tool calls or answers one; only then is a copy
 * made, with those messages rewritten to the wire's `tool_calls` / `tool_call_id`.
 */
function toOpenAIMessages(messages: ChatMessage[]): WireMessage[] {
  let out: WireMessage[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.role === 'tool' || message.toolCalls !== undefined || message.toolCallId !== undefined) {
      out ??= messages.slice(0, i) as WireMessage[];
      out.push(toWire(message, i));
    } else if (out !== undefined) {
      out.push(message as WireMessage);
    }
  }
  return out ?? (messages as WireMessage[]);
}

function toWire(message: ChatMessage, index: number): WireMessage {
  if (message.role === 'tool') {
    if (typeof message.toolCallId !== 'string' || message.toolCallId === '') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: messages[${index}] has role 'tool' but no toolCallId; set it to the callId of the tool call it answers`,
      );
    }
    const content = message.content;
    if (typeof content !== 'string' && content.some((p) => p.type !== 'text')) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: messages[${index}] (role 'tool') has a non-text part; Chat Completions takes only text in tool results, so send a string`,
      );
    }
    return { role: 'tool', tool_call_id: message.toolCallId, content: content as string };
  }
  if (message.role === 'assistant') {
    const { toolCalls, toolCallId: _unused, content, ...rest } = message;
    const wire: OpenAI.Chat.ChatCompletionAssistantMessageParam = {
      ...(rest as { name?: string }),
      role: 'assistant',
      // The API wants null, not '', beside tool calls when the model said nothing.
      content: content === '' && toolCalls !== undefined && toolCalls.length > 0 ? null : (content as string),
    };
    if (toolCalls !== undefined && toolCalls.length > 0) {
      wire.tool_calls = toolCalls.map((c) => ({ id: c.callId, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
    return wire;
  }
  // toolCalls / toolCallId on another role mean nothing to the API (which rejects unknown fields): drop them.
  const { toolCalls: _calls, toolCallId: _id, ...rest } = message;
  return rest as WireMessage;
}
