/**
 * The model seam. The terminal middleware builds the messages and calls `invoke` (or `stream` when the run streams);
 * any provider plugs in by implementing this interface.
 */
import type { ChatMessage } from '../types.ts';

/** What the agent passes to `Model.invoke` and `Model.stream`: one request per run. */
export interface ModelRequest {
  /** The instructions (as a system message), then the history (when on), then the input as the pre-hooks left it. */
  messages: ChatMessage[];
  /** Aborted when the run is cancelled; pass it to the HTTP client. */
  signal: AbortSignal;
  /** The run's id, for the provider's logs and tracing. */
  runId: string;
}

/** Token counts a model reports for one request; they add up in `RunOutput.metrics`. */
export interface ModelUsage {
  /** Prompt tokens. */
  inputTokens: number;
  /** Completion tokens. */
  outputTokens: number;
}

/** A whole answer, as `Model.invoke` resolves it. */
export interface ModelResponse {
  /** The answer's text (`''` when the model gave none). */
  content: string;
  /** Token counts; undefined when the provider reports none (the run's counts then stay 0). */
  usage?: ModelUsage;
}

/** One streamed piece: text, usage (usually last), or both. */
export interface ModelStreamChunk {
  /** The next piece of text; undefined or empty in a usage-only chunk. */
  delta?: string;
  /** Token counts for the whole request, usually on the last chunk; the last one given wins. */
  usage?: ModelUsage;
}

/**
 * The model seam: implement it to plug in any provider. `OpenAIChat` is the built-in; `OfflineModel` (in
 * `hookchain/testing`) answers without a network.
 *
 * @example
 * const echo: Model = {
 *   id: 'echo',
 *   async invoke({ messages }) {
 *     return { content: String(messages.at(-1)?.content ?? '') };
 *   },
 * };
 */
export interface Model {
  /** The model's id, reported in `RunOutput.model`. */
  readonly id: string;
  /**
   * Answers the messages at once. Reject on failure (the run fails with that error); honour `request.signal` so a
   * cancelled run stops paying.
   */
  invoke(request: ModelRequest): Promise<ModelResponse>;
  /** Optional streaming; without it a streaming run gets the whole answer as one chunk. */
  stream?(request: ModelRequest): AsyncIterable<ModelStreamChunk>;
}

export function isModel(value: unknown): value is Model {
  return (
    value !== null && typeof value === 'object' && typeof (value as Model).id === 'string' && typeof (value as Model).invoke === 'function'
  );
}
