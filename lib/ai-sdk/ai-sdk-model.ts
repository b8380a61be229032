/**
 * Any Vercel AI SDK provider model as a hookchain `Model`. The adapter talks to the provider specification the
 * provider packages implement (`doGenerate` / `doStream` of a language model, specification v3 or v4), so it needs
 * no runtime import of `ai` or `@ai-sdk/provider`: the user's provider package brings the model, this file maps our
 * requests to its call options and its results back.
 *
 * The public types below are the minimal structural shape of that specification, declared here rather than imported
 * from `@ai-sdk/provider`, so that hookchain's `.d.ts` resolve whether or not the optional peer `ai` is installed.
 * They are deliberately loose where v3 and v4 differ (file data, tool results), so that models of both fit.
 */
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, is, isPlainObject, type Rule } from '../options.ts';
import type { ChatMessage, ContentPart } from '../types.ts';
import type { Model, ModelRequest, ModelResponse, ModelStreamChunk, ModelToolCall, ModelUsage } from '../models/model.ts';

/**
 * Provider-specific options, keyed by provider (`{ openai: { user: 'u1' } }`), passed to the model as they are.
 * What each provider reads is in its package's documentation.
 */
export type AISdkProviderOptions = Record<string, Record<string, unknown>>;

/**
 * A language model of the AI SDK provider specification, as `AISdkModel` uses it: what `openai('gpt-4o-mini')`,
 * `anthropic('claude-sonnet-4-5')` and the other provider packages of `ai` 6 and 7 return (`LanguageModelV3` and
 * `LanguageModelV4` in `@ai-sdk/provider`). Only the members the adapter calls are declared.
 */
export interface AISdkLanguageModel {
  /** The specification the model implements: `'v3'` (`ai` 6) or `'v4'` (`ai` 7). Older models are refused. */
  readonly specificationVersion: 'v3' | 'v4';
  /** The provider's id, such as `'openai.chat'`. */
  readonly provider: string;
  /** The provider's model id, such as `'gpt-4o-mini'`. */
  readonly modelId: string;
  /** One non-streaming call. */
  doGenerate(options: AISdkCallOptions): PromiseLike<AISdkGenerateResult>;
  /** One streaming call. */
  doStream(options: AISdkCallOptions): PromiseLike<AISdkStreamResult>;
}

/** The call options `AISdkModel` sends (a subset of the specification's; everything else is left to its defaults). */
export interface AISdkCallOptions {
  /** The conversation, in the specification's prompt shape. */
  prompt: AISdkPromptMessage[];
  /** The `maxOutputTokens` option of `AISdkModel`. */
  maxOutputTokens?: number;
  /** The `temperature` option of `AISdkModel`. */
  temperature?: number;
  /** The request's tools, as function tools. */
  tools?: AISdkTool[];
  /** `{ type: 'json', schema, name }` when the request asks for structured output. */
  responseFormat?:
    | {
        /** Plain text. */
        type: 'text';
      }
    | {
        /** JSON, guided by `schema` where the provider supports it. */
        type: 'json';
        /** The JSON Schema of the answer. */
        schema?: object;
        /** The schema's name. */
        name?: string;
      };
  /** The run's signal: aborting it cancels the provider's request. */
  abortSignal?: AbortSignal;
  /** The `providerOptions` option of `AISdkModel`. */
  providerOptions?: AISdkProviderOptions;
}

/** One prompt message: a system message's content is a string, the others' an array of parts. */
export interface AISdkPromptMessage {
  /** `'system'`, `'user'`, `'assistant'` or `'tool'`. */
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** A string (system) or parts: `text`, `file`, `tool-call`, `tool-result`. */
  content: string | readonly AISdkPromptPart[];
}

/** One part of a prompt message, by its `type` (its other fields depend on it and on the specification version). */
export interface AISdkPromptPart {
  /** `'text'`, `'file'`, `'tool-call'`, `'tool-result'`… */
  type: string;
}

/** A tool offered to the model; `AISdkModel` sends only function tools. */
export interface AISdkTool {
  /** `'function'` for the tools `AISdkModel` sends. */
  type: string;
  /** The tool's name. */
  name: string;
}

/** Token counts as the specification reports them: totals nested under `inputTokens` and `outputTokens`. */
export interface AISdkUsage {
  /** Prompt tokens. */
  inputTokens: {
    /** All prompt tokens; undefined when the provider did not say. */
    total?: number | undefined;
  };
  /** Completion tokens. */
  outputTokens: {
    /** All completion tokens; undefined when the provider did not say. */
    total?: number | undefined;
  };
}

/** One piece of a `doGenerate` answer: `text` and client-executed `tool-call` parts are read, the rest ignored. */
export interface AISdkContentPart {
  /** `'text'`, `'tool-call'`, `'reasoning'`, `'source'`… */
  type: string;
  /** A text part's text. */
  text?: string;
  /** A tool call's id. */
  toolCallId?: string;
  /** A tool call's tool. */
  toolName?: string;
  /** A tool call's arguments, a JSON string. */
  input?: string;
  /** True for a tool the provider ran itself (not one of the agent's). */
  providerExecuted?: boolean;
}

/** The result of `doGenerate`. */
export interface AISdkGenerateResult {
  /** The answer's parts, in order. */
  content: readonly AISdkContentPart[];
  /** The token counts. */
  usage?: AISdkUsage;
  /** (v4) The text to parse as the structured answer when it differs from the text parts joined. */
  structuredOutputText?: string;
}

/** One part of a `doStream` stream: `text-delta`, `tool-call`, `finish` and `error` are read, the rest ignored. */
export interface AISdkStreamPart {
  /** `'text-delta'`, `'tool-call'`, `'finish'`, `'error'`, `'tool-input-delta'`… */
  type: string;
  /** A text delta's text. */
  delta?: string;
  /** A tool call's id. */
  toolCallId?: string;
  /** A tool call's tool. */
  toolName?: string;
  /** A tool call's complete arguments, a JSON string. */
  input?: string;
  /** True for a tool the provider ran itself. */
  providerExecuted?: boolean;
  /** The `finish` part's token counts. */
  usage?: AISdkUsage;
  /** The `error` part's error. */
  error?: unknown;
}

/** The result of `doStream`: a `ReadableStream` of parts, declared by the members `AISdkModel` uses. */
export interface AISdkStreamResult {
  /** The parts. */
  stream: {
    /** Locks the stream to a reader. */
    getReader(): {
      /** The next part, or `done`. */
      read(): PromiseLike<{
        /** True once the stream has ended. */
        done: boolean;
        /** The part, when not done. */
        value?: AISdkStreamPart;
      }>;
      /** Stops the stream (the provider closes its request). */
      cancel(reason?: unknown): PromiseLike<void>;
      /** Releases the lock. */
      releaseLock(): void;
    };
  };
}

/** Options of `new AISdkModel(model, options)`, all optional. */
export interface AISdkModelOptions {
  /** The id reported in `RunOutput.model` (default: the model's `modelId`, such as `'gpt-4o-mini'`). */
  id?: string;
  /** The most tokens the model may write per call (the provider's default when unset). */
  maxOutputTokens?: number;
  /** Sampling temperature; its range depends on the provider (the provider's default when unset). */
  temperature?: number;
  /** Provider-specific options, keyed by provider: `{ openai: { user: 'u1' } }`. */
  providerOptions?: AISdkProviderOptions;
}

const OWNER = 'AISdkModel';

const RULES = {
  id: is.nonEmptyString,
  maxOutputTokens: is.positiveInt,
  temperature: ((v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'a finite number')) as Rule,
  providerOptions: ((v) =>
    isPlainObject(v) && Object.values(v).every(isPlainObject)
      ? undefined
      : 'an object of objects keyed by provider, such as { openai: { user: "u1" } }') as Rule,
};

/**
 * A hookchain `Model` over any Vercel AI SDK provider model: `openai(…)`, `anthropic(…)`, `google(…)`, a local
 * provider or a mock. Install `ai` and the provider package; hookchain calls the model's `doGenerate` /
 * `doStream` itself, so the AI SDK's own loop, retries and tool execution are not involved (the agent runs the
 * loop). A request's messages, tools, structured-output format and signal are mapped to the provider's call
 * options; the answer's text, tool calls and usage come back. Streamed tool calls are delivered complete, once each,
 * as the provider finishes them. Tools the provider runs itself (`providerExecuted`) are not reported as calls.
 *
 * Image parts are passed as URLs (`https:`) or inline data (`data:` URLs); the AI SDK's `generateText` would
 * download URLs a provider cannot fetch, this adapter does not, so use `data:` URLs for such providers. An image's
 * `detail` is passed as `providerOptions.openai.imageDetail` (where the OpenAI provider reads it). A message's
 * `name` is not sent.
 *
 * @example
 * import { anthropic } from '@ai-sdk/anthropic';
 * const agent = new Agent({ model: new AISdkModel(anthropic('claude-sonnet-4-5'), { maxOutputTokens: 1024 }) });
 */
export class AISdkModel implements Model {
  /** The id reported in `RunOutput.model`: the `id` option, else the model's `modelId`. */
  readonly id: string;
  /** The wrapped AI SDK model. */
  readonly model: AISdkLanguageModel;
  private readonly settings: Pick<AISdkCallOptions, 'maxOutputTokens' | 'temperature' | 'providerOptions'>;

  /**
   * Checks the model and the options at once: a model id string, a model of an older specification (v1, v2) or an
   * unknown option is refused with the fix.
   *
   * @param model A language model from an AI SDK provider package, such as `openai('gpt-4o-mini')`.
   * @param options `id`, `maxOutputTokens`, `temperature`, `providerOptions`; all optional.
   */
  constructor(model: AISdkLanguageModel, options?: AISdkModelOptions) {
    checkModel(model);
    const { id, maxOutputTokens, temperature, providerOptions } = checkOptions<AISdkModelOptions>(OWNER, options, RULES);
    this.model = model;
    this.id = id ?? model.modelId;
    this.settings = {};
    if (maxOutputTokens !== undefined) this.settings.maxOutputTokens = maxOutputTokens;
    if (temperature !== undefined) this.settings.temperature = temperature;
    if (providerOptions !== undefined) this.settings.providerOptions = providerOptions;
  }

  /** One `doGenerate` call; rejects with the provider's error. */
  async invoke(request: ModelRequest): Promise<ModelResponse> {
    const result = await this.model.doGenerate(this.callOptions(request));
    let content = '';
    let toolCalls: ModelToolCall[] | undefined;
    for (const part of result.content) {
      if (part.type === 'text') content += part.text ?? '';
      else if (part.type === 'tool-call' && part.providerExecuted !== true) (toolCalls ??= []).push(toolCallOf(part));
    }
    // A v4 provider may say which text is the structured answer (drafts before a final answer); '' counts.
    if (request.responseFormat !== undefined && typeof result.structuredOutputText === 'string') content = result.structuredOutputText;
    const response: ModelResponse = { content, usage: usageOf(result.usage) };
    if (toolCalls !== undefined) response.toolCalls = toolCalls;
    return response;
  }

  /**
   * One `doStream` call: text deltas as they come, each tool call once its `tool-call` part arrives (the provider
   * has assembled its input by then, so no half arguments string is ever seen), usage from the `finish` part. An
   * `error` part rejects the stream with its error.
   */
  async *stream(request: ModelRequest): AsyncIterable<ModelStreamChunk> {
    const { stream } = await this.model.doStream(this.callOptions(request));
    const reader = stream.getReader();
    let ended = false;
    try {
      for (;;) {
        const { done, value: part } = await reader.read();
        if (done || part === undefined) break;
        if (part.type === 'text-delta') {
          if (part.delta) yield { delta: part.delta };
        } else if (part.type === 'tool-call') {
          if (part.providerExecuted !== true) yield { toolCalls: [toolCallOf(part)] };
        } else if (part.type === 'finish') {
          const usage = usageOf(part.usage);
          if (usage !== undefined) yield { usage };
        } else if (part.type === 'error') {
          throw streamError(this.model, part.error);
        }
      }
      ended = true;
    } finally {
      // An error part, a consumer that stopped reading or a throw: stop the provider's request instead of leaving
      // it to run (and bill) to the end. The stream may already be errored, so a failed cancel is expected.
      if (!ended) await Promise.resolve(reader.cancel()).catch(() => undefined);
      reader.releaseLock();
    }
    // A provider may end an aborted stream quietly; make the cancellation visible, as an aborted HTTP call would.
    if (request.signal.aborted) throw request.signal.reason;
  }

  private callOptions(request: ModelRequest): AISdkCallOptions {
    const options: AISdkCallOptions = {
      ...this.settings,
      prompt: toPrompt(request.messages, this.model.specificationVersion),
      abortSignal: request.signal,
    };
    if (request.tools !== undefined && request.tools.length > 0) {
      options.tools = request.tools.map((t) => ({ type: 'function', name: t.name, description: t.description, inputSchema: t.parameters }));
    }
    if (request.responseFormat !== undefined) {
      options.responseFormat = { type: 'json', schema: request.responseFormat.schema, name: request.responseFormat.name };
    }
    return options;
  }
}

function checkModel(model: unknown): asserts model is AISdkLanguageModel {
  if (typeof model === 'string') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: model must be a language model object from an AI SDK provider package, such as anthropic('claude-sonnet-4-5') ` +
        `(from '@ai-sdk/anthropic') or openai(${JSON.stringify(model)}) (from '@ai-sdk/openai'), got ${describe(model)}; ` +
        `a model id string needs the AI SDK's gateway, which AISdkModel does not use`,
    );
  }
  const m = model as Partial<Record<keyof AISdkLanguageModel, unknown>> | null;
  const looksLikeModel =
    m !== null && typeof m === 'object' && typeof m.specificationVersion === 'string' && typeof m.doGenerate === 'function';
  if (!looksLikeModel) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: model must be a language model from an AI SDK provider package (an object with specificationVersion, ` +
        `doGenerate and doStream), such as anthropic('claude-sonnet-4-5'), got ${describe(model)}`,
    );
  }
  const version = m.specificationVersion;
  if (version !== 'v3' && version !== 'v4') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: model ${String(m.provider)}:${String(m.modelId)} implements the AI SDK provider specification ` +
        `${JSON.stringify(version)}, and AISdkModel needs "v3" or "v4" (the provider packages of ai 6 and 7); ` +
        `upgrade the provider package (npm install @ai-sdk/<provider>@latest) and pass its model, e.g. anthropic('claude-sonnet-4-5')`,
    );
  }
  if (typeof m.doStream !== 'function' || typeof m.modelId !== 'string' || typeof m.provider !== 'string') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: model must have a string provider and modelId and a doStream method, as every AI SDK provider model has; ` +
        `got ${describe(model)} without them (a hand-written model may implement hookchain's Model directly instead)`,
    );
  }
}

function toolCallOf(part: AISdkContentPart | AISdkStreamPart): ModelToolCall {
  // The specification's input is already a JSON string: passed on untouched, as the model wrote it.
  return { callId: part.toolCallId ?? '', name: part.toolName ?? '', arguments: part.input ?? '' };
}

function usageOf(usage: AISdkUsage | undefined): ModelUsage | undefined {
  const input = usage?.inputTokens?.total;
  const output = usage?.outputTokens?.total;
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

function streamError(model: AISdkLanguageModel, error: unknown): unknown {
  // The provider's own error (an APICallError with its status, say) is more useful than any wrapper.
  if (error instanceof Error) return error;
  let text: string;
  try {
    text = typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    text = String(error);
  }
  return new Error(`${model.provider}:${model.modelId} reported an error in its stream: ${text}`, { cause: error });
}

type Version = AISdkLanguageModel['specificationVersion'];

/**
 * Our messages as the specification's prompt. System and developer messages become system messages; a tool message
 * becomes a tool-result part, which must name its tool, so the names come from the earlier assistant messages'
 * `toolCalls`. Consecutive tool messages share one prompt message, as the results of one step.
 */
function toPrompt(messages: readonly ChatMessage[], version: Version): AISdkPromptMessage[] {
  const prompt: AISdkPromptMessage[] = [];
  const toolNames = new Map<string, string>();
  let toolResults: AISdkPromptPart[] | undefined;
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (message.role !== 'tool') toolResults = undefined;
    switch (message.role) {
      case 'system':
      case 'developer':
        prompt.push({ role: 'system', content: textOnly(message.content, `${at} (role '${message.role}')`) });
        break;
      case 'user':
        prompt.push({ role: 'user', content: contentParts(message.content, at, version) });
        break;
      case 'assistant': {
        const parts = contentParts(message.content, at, version);
        for (const call of message.toolCalls ?? []) {
          toolNames.set(call.callId, call.name);
          parts.push({
            type: 'tool-call',
            toolCallId: call.callId,
            toolName: call.name,
            input: parseArguments(call.arguments),
          } as AISdkPromptPart);
        }
        prompt.push({ role: 'assistant', content: parts });
        break;
      }
      case 'tool': {
        const part = toolResultPart(message, at, toolNames);
        if (toolResults === undefined) {
          toolResults = [part];
          prompt.push({ role: 'tool', content: toolResults });
        } else {
          toolResults.push(part);
        }
        break;
      }
      default:
        throw new HookchainConfigError(
          'INVALID_OPTION',
          `${OWNER}: ${at} has role ${JSON.stringify((message as ChatMessage).role)}; use 'system', 'developer', 'user', 'assistant' or 'tool'`,
        );
    }
  });
  return prompt;
}

function parseArguments(text: string): unknown {
  // The prompt wants the arguments as a value. Arguments the model wrote as broken JSON (the call then failed) are
  // kept as their raw string, so the model still sees what it wrote.
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toolResultPart(message: ChatMessage, at: string, toolNames: ReadonlyMap<string, string>): AISdkPromptPart {
  const callId = message.toolCallId;
  if (typeof callId !== 'string' || callId === '') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: ${at} has role 'tool' but no toolCallId; set it to the callId of the tool call it answers`,
    );
  }
  const toolName = toolNames.get(callId);
  if (toolName === undefined) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: ${at} answers tool call "${callId}", but no earlier assistant message has a tool call with that callId; ` +
        `the AI SDK needs the tool's name, so keep the assistant message with its toolCalls before the tool results`,
    );
  }
  const value = textOnly(message.content, `${at} (role 'tool')`);
  return { type: 'tool-result', toolCallId: callId, toolName, output: { type: 'text', value } } as AISdkPromptPart;
}

/** The text of a message that can only hold text (system, developer, tool). */
function textOnly(content: string | ContentPart[], what: string): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const part of content) {
    if (part.type !== 'text') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: ${what} has a ${JSON.stringify(part.type)} part; only text is allowed there, so send a string or text parts`,
      );
    }
    text += part.text;
  }
  return text;
}

function contentParts(content: string | ContentPart[], at: string, version: Version): AISdkPromptPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content } as AISdkPromptPart];
  return content.map((part, i) => {
    if (part.type === 'text') return { type: 'text', text: part.text } as AISdkPromptPart;
    if (part.type === 'image_url') return imagePart(part.image_url, `${at}.content[${i}]`, version);
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: ${at}.content[${i}] has type ${JSON.stringify((part as { type: unknown }).type)}; use 'text' or 'image_url'`,
    );
  });
}

/**
 * An image as a file part. A `data:` URL is sent as inline base64 data with its media type; any other URL as a URL.
 * v4 tags the data (`{ type: 'data' | 'url', … }`); v3 takes the base64 string or the `URL` itself.
 */
function imagePart(image: { url: string; detail?: 'auto' | 'low' | 'high' }, at: string, version: Version): AISdkPromptPart {
  const url = typeof image?.url === 'string' ? image.url : '';
  let mediaType = 'image/*';
  let data: unknown;
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
    if (match === null) throw badImage(at, url);
    if (match[1]) mediaType = match[1];
    // Without ;base64 the payload is percent-encoded text: send its bytes.
    const bytes = match[2]!.split(';').includes('base64') ? match[3]! : new TextEncoder().encode(decodeURIComponent(match[3]!));
    data = version === 'v4' ? { type: 'data', data: bytes } : bytes;
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw badImage(at, url);
    }
    data = version === 'v4' ? { type: 'url', url: parsed } : parsed;
  }
  const part: Record<string, unknown> = { type: 'file', mediaType, data };
  if (image.detail !== undefined) part['providerOptions'] = { openai: { imageDetail: image.detail } };
  return part as unknown as AISdkPromptPart;
}

function badImage(at: string, url: string): HookchainConfigError {
  return new HookchainConfigError(
    'INVALID_OPTION',
    `${OWNER}: ${at}.image_url.url must be an https: URL or a data: URL (data:image/png;base64,…), got ${describe(url)}`,
  );
}
