/**
 * A deterministic, network-free model for examples, tests and benchmarks. It is never picked silently: you
 * construct it yourself, and the example announces when it falls back to it.
 */
import type { ChatMessage } from '../types.ts';
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk, ModelToolCall } from './model.ts';

/** An answer of `OfflineModel` that calls tools: text (optional) and the calls, in order. */
export interface OfflineAnswer {
  /** Text before the calls (default `''`). */
  content?: string;
  /** The tools to call: `arguments` as an object (sent as JSON) or a raw string; `callId` defaults to `call_<step>_<n>`. */
  toolCalls?: {
    /** The tool's name. */
    name: string;
    /** The arguments: an object, sent as JSON, or a string sent as it is. */
    arguments: Record<string, unknown> | string;
    /** The call's id (default `call_<step>_<n>`). */
    callId?: string;
  }[];
}

/** Options of `new OfflineModel(options)`, all optional. */
export interface OfflineModelOptions {
  /** The model id reported in `RunOutput.model` (default `'offline'`). */
  id?: string;
  /**
   * Builds the answer from the messages: text, or an `OfflineAnswer` that calls tools (the messages then end with
   * the tools' results on the next call). The default echoes the last user message in a polite sentence.
   */
  reply?: string | ((messages: ChatMessage[]) => string | OfflineAnswer);
  /** Characters per streamed chunk (default 8). */
  chunkSize?: number;
  /** Delay before each streamed chunk, in ms (default 0: no timer at all). */
  chunkDelayMs?: number;
}

/**
 * A deterministic model with no network, for tests, examples and benchmarks: it answers with a fixed string or a
 * function of the messages (by default it echoes the last user message), streams it in `chunkSize` pieces and
 * reports a rough token count (about 4 characters a token). Never used unless you construct it.
 *
 * @example
 * const agent = new Agent({
 *   model: new OfflineModel({ reply: (messages) => `You said ${messages.length} things`, chunkSize: 4 }),
 *   postHooks: [new PIIDetectionGuardrail()],
 * });
 * const out = await agent.run('hi');
 */
export class OfflineModel implements Model {
  /** The model id (default `'offline'`). */
  readonly id: string;
  private readonly reply: (messages: ChatMessage[]) => string | OfflineAnswer;
  private readonly chunkSize: number;
  private readonly chunkDelayMs: number;

  /**
   * Builds the model; nothing is validated beyond a `chunkSize` of at least 1.
   *
   * @param options The reply, id and streaming pace; all optional.
   */
  constructor(options: OfflineModelOptions = {}) {
    this.id = options.id ?? 'offline';
    const reply = options.reply ?? defaultReply;
    this.reply = typeof reply === 'string' ? () => reply : reply;
    this.chunkSize = Math.max(1, options.chunkSize ?? 8);
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
  }

  /** Answers at once; rejects with the signal's reason when the run is already cancelled. */
  invoke(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal.aborted) return Promise.reject(request.signal.reason);
    const { content, toolCalls } = this.answer(request.messages);
    const response: ModelResponse = { content, usage: usageOf(request.messages, content) };
    if (toolCalls !== undefined) response.toolCalls = toolCalls;
    return Promise.resolve(response);
  }

  /** Yields the answer in `chunkSize` pieces (after `chunkDelayMs` each), then its tool calls and usage; stops when the run is cancelled. */
  async *stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const { content, toolCalls } = this.answer(request.messages);
    for (let i = 0; i < content.length; i += this.chunkSize) {
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
      if (request.signal.aborted) throw request.signal.reason;
      yield { delta: content.slice(i, i + this.chunkSize) };
    }
    if (toolCalls !== undefined) yield { toolCalls };
    yield { usage: usageOf(request.messages, content) };
  }

  private answer(messages: ChatMessage[]): { content: string; toolCalls?: ModelToolCall[] } {
    const reply = this.reply(messages);
    if (typeof reply === 'string') return { content: reply };
    const step = messages.filter((m) => m.role === 'assistant' && m.toolCalls !== undefined).length + 1;
    const calls = reply.toolCalls ?? [];
    if (calls.length === 0) return { content: reply.content ?? '' };
    return {
      content: reply.content ?? '',
      toolCalls: calls.map((c, n) => ({
        callId: c.callId ?? `call_${step}_${n + 1}`,
        name: c.name,
        arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
      })),
    };
  }
}

export function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
  }
  return '';
}

function defaultReply(messages: ChatMessage[]): string {
  return `Thanks for reaching out. You wrote: "${lastUserText(messages)}". How else can I help?`;
}

// A rough count (about 4 characters a token) so metrics are plausible without a tokenizer.
function usageOf(messages: ChatMessage[], content: string) {
  let chars = 0;
  for (const m of messages) chars += typeof m.content === 'string' ? m.content.length : 16;
  return { inputTokens: Math.ceil(chars / 4), outputTokens: Math.ceil(content.length / 4) };
}
