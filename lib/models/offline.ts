/**
 * A deterministic, network-free model for examples, tests and benchmarks. It is never picked silently: you
 * construct it yourself, and the example announces when it falls back to it.
 */
import type { ChatMessage } from '../types.ts';
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk } from './model.ts';

export interface OfflineModelOptions {
  id?: string;
  /** Builds the answer from the messages; the default echoes the last user message in a polite sentence. */
  reply?: string | ((messages: ChatMessage[]) => string);
  /** Characters per streamed chunk (default 8). */
  chunkSize?: number;
  /** Delay before each streamed chunk, in ms (default 0: no timer at all). */
  chunkDelayMs?: number;
}

export class OfflineModel implements Model {
  readonly id: string;
  private readonly reply: (messages: ChatMessage[]) => string;
  private readonly chunkSize: number;
  private readonly chunkDelayMs: number;

  constructor(options: OfflineModelOptions = {}) {
    this.id = options.id ?? 'offline';
    const reply = options.reply ?? defaultReply;
    this.reply = typeof reply === 'string' ? () => reply : reply;
    this.chunkSize = Math.max(1, options.chunkSize ?? 8);
    this.chunkDelayMs = options.chunkDelayMs ?? 0;
  }

  invoke(request: ModelRequest): Promise<ModelResponse> {
    if (request.signal.aborted) return Promise.reject(request.signal.reason);
    const content = this.reply(request.messages);
    return Promise.resolve({ content, usage: usageOf(request.messages, content) });
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const content = this.reply(request.messages);
    for (let i = 0; i < content.length; i += this.chunkSize) {
      if (this.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.chunkDelayMs));
      if (request.signal.aborted) throw request.signal.reason;
      yield { delta: content.slice(i, i + this.chunkSize) };
    }
    yield { usage: usageOf(request.messages, content) };
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
