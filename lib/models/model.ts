/**
 * The model seam. The terminal middleware builds the messages and calls `invoke` (or `stream` when the run streams);
 * any provider plugs in by implementing this interface.
 */
import type { ChatMessage } from '../types.ts';

export interface ModelRequest {
  messages: ChatMessage[];
  /** Aborted when the run is cancelled; pass it to the HTTP client. */
  signal: AbortSignal;
  runId: string;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelResponse {
  content: string;
  usage?: ModelUsage;
}

/** One streamed piece: text, usage (usually last), or both. */
export interface ModelStreamChunk {
  delta?: string;
  usage?: ModelUsage;
}

export interface Model {
  /** The model's id, reported in `RunOutput.model`. */
  readonly id: string;
  invoke(request: ModelRequest): Promise<ModelResponse>;
  /** Optional streaming; without it a streaming run gets the whole answer as one chunk. */
  stream?(request: ModelRequest): AsyncIterable<ModelStreamChunk>;
}

export function isModel(value: unknown): value is Model {
  return (
    value !== null && typeof value === 'object' && typeof (value as Model).id === 'string' && typeof (value as Model).invoke === 'function'
  );
}
