/**
 * The model seam. The terminal middleware builds the messages and calls `invoke` (or `stream` when the run streams);
 * any provider plugs in by implementing this interface.
 */
import type { ChatMessage, MessageToolCall } from '../types.ts';

/** What the agent passes to `Model.invoke` and `Model.stream`: one request per model call of the run's loop. */
export interface ModelRequest {
  /** The instructions (as a system message), then the history (when on), then the input as the pre-hooks left it. */
  messages: ChatMessage[];
  /** Aborted when the run is cancelled; pass it to the HTTP client. */
  signal: AbortSignal;
  /** The run's id, for the provider's logs and tracing. */
  runId: string;
  /** The tools the model may call; absent or empty means none (the request is sent without tools). */
  tools?: ModelToolDefinition[];
  /**
   * Structured output (`outputSchema`): answer with JSON matching this schema. Providers that support it send it as
   * their structured-output format (`response_format: json_schema` on Chat Completions); the agent validates the
   * answer either way.
   */
  responseFormat?: ModelResponseFormat;
}

/** The structured-output format of a request (`ModelRequest.responseFormat`). */
export interface ModelResponseFormat {
  /** A name for the schema, `^[a-zA-Z0-9_-]{1,64}$` (default `'output'`). */
  name: string;
  /** The JSON Schema the answer must match. */
  schema: Record<string, unknown>;
}

/** A tool as the model sees it (`ModelRequest.tools`): what a built `tool()` exposes, minus its code. */
export interface ModelToolDefinition {
  /** The tool's name, `^[a-zA-Z0-9_-]{1,64}$`. */
  name: string;
  /** What the tool does, for the model to decide when to call it. */
  description: string;
  /** The JSON Schema (an object schema) of the arguments. */
  parameters: Record<string, unknown>;
}

/** A tool call the model asked for: `{ callId, name, arguments }`, the arguments still a raw JSON string. */
export type ModelToolCall = MessageToolCall;

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
  /** The tools the model asked to call, in its order; absent or empty when it answered with text only. */
  toolCalls?: ModelToolCall[];
}

/** One streamed piece: text, usage (usually last), complete tool calls, or a mix. */
export interface ModelStreamChunk {
  /** The next piece of text; undefined or empty in a usage-only chunk. */
  delta?: string;
  /** Token counts for the whole request, usually on the last chunk; the last one given wins. */
  usage?: ModelUsage;
  /**
   * Complete tool calls, each delivered once: the adapter assembles the provider's fragments itself, so a consumer
   * never sees half an `arguments` string. `OpenAIChat` delivers them all in one chunk when the stream ends.
   */
  toolCalls?: ModelToolCall[];
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
