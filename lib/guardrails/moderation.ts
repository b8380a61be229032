/**
 * `OpenAIModerationGuardrail`: sends input (pre-hook), output (post-hook) and streamed output (in sentence
 * batches) to OpenAI's Moderations endpoint and blocks what it flags. Text and images are both sent. The client is
 * created once, on the first request (so `openai` is only loaded by apps that moderate); an endpoint failure, a
 * timeout or an unreadable answer blocks the run (fail closed) unless the guardrail is built with `failOpen: true`.
 */
import { openAIClient } from '../models/openai-client.ts';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, is, type Rules } from '../options.ts';
import type { HookArgs } from '../types.ts';
import { BaseGuardrail, GUARDRAIL_OPTION_RULES, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './base.ts';
import { batchEnd } from './moderation/batch.ts';
import {
  MODERATION_CATEGORIES,
  ModerationUnavailableError,
  blockingCategories,
  readVerdict,
  type ModerationCategory,
} from './moderation/verdict.ts';
import { imageUrls, readTarget, textSegments } from './text.ts';

export { MODERATION_CATEGORIES, ModerationUnavailableError, type ModerationCategory } from './moderation/verdict.ts';

/** What is sent to the Moderations endpoint: the text, or text and image parts. */
type ModerationInput = string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[];

/** What the guardrail needs of a client: `openai`'s `OpenAI`, or anything shaped like its `moderations`. */
export interface ModerationClient {
  /** OpenAI's Moderations resource. */
  moderations: {
    /** Classifies `input` with `model`; resolves with the API's answer (`{ results: [...] }`). */
    create(body: { model: string; input: ModerationInput }, options?: { signal?: AbortSignal; timeout?: number }): PromiseLike<unknown>;
  };
}

/**
 * Options of `new OpenAIModerationGuardrail(options)`: the common guardrail options (its `timeoutMs` also bounds
 * each request) plus the model, categories and client.
 */
export interface OpenAIModerationGuardrailOptions extends GuardrailOptions {
  /** Default `'omni-moderation-latest'` (text and images). */
  model?: string;
  /** Block only when one of these categories (API names, e.g. `'self-harm/intent'`) is flagged. Default: any flag. */
  raiseForCategories?: ModerationCategory[];
  /** A ready client (an `OpenAI` instance or a compatible object). Otherwise one is created from `apiKey`/`baseURL`. */
  client?: ModerationClient;
  /** Defaults to `OPENAI_API_KEY`. */
  apiKey?: string;
  /** An OpenAI-compatible endpoint. Defaults to `OPENAI_BASE_URL`, then OpenAI. */
  baseURL?: string;
  /** Retries of the created client on 5xx and connection errors (openai's default: 2). */
  maxRetries?: number;
  /** Streams: characters gathered before a batch is checked at a sentence end. Default 400. */
  streamBatchChars?: number;
}

const OWNER = 'OpenAIModerationGuardrail';
const RULES: Rules = {
  ...GUARDRAIL_OPTION_RULES,
  model: is.nonEmptyString,
  // Category names are checked by `categoriesOption`, which can suggest the API spelling.
  raiseForCategories: (v) =>
    Array.isArray(v) && v.length > 0 ? undefined : 'a non-empty array of category names such as "self-harm/intent"',
  client: (v) =>
    typeof (v as ModerationClient | null)?.moderations?.create === 'function'
      ? undefined
      : 'an OpenAI client (an object with moderations.create)',
  apiKey: is.nonEmptyString,
  baseURL: is.nonEmptyString,
  maxRetries: is.nonNegativeInt,
  streamBatchChars: is.positiveInt,
};

/**
 * Sends input (as a pre-hook), output (as a post-hook) and streamed output (in sentence batches) to OpenAI's
 * Moderations endpoint, text and images, and blocks what it flags (`INPUT_NOT_ALLOWED` / `OUTPUT_NOT_ALLOWED`, with
 * the flagged `categories` and `categoryScores` in `additionalData`). An endpoint failure, a timeout or an
 * unreadable answer fails the run with `ModerationUnavailableError` (fail closed) unless built with
 * `failOpen: true`. `openai` is loaded on the first request.
 *
 * @example
 * const agent = new Agent({
 *   model,
 *   preHooks: [new OpenAIModerationGuardrail({ raiseForCategories: ['self-harm/intent', 'violence'] })],
 *   postHooks: [new OpenAIModerationGuardrail({ timeoutMs: 2_000 })],
 * });
 */
export class OpenAIModerationGuardrail extends BaseGuardrail {
  /** The moderation model (default `'omni-moderation-latest'`). */
  readonly model: string;
  /** The categories that block; undefined (default): any flag blocks. */
  readonly raiseForCategories: readonly ModerationCategory[] | undefined;
  private readonly raiseFor: ReadonlySet<string> | undefined;
  private readonly client: ModerationClient;
  private readonly batchChars: number;

  /**
   * Validates the options at once; the client is created (and `openai` loaded) on the first request. Without `client`,
   * an API key must be available (`apiKey` or `OPENAI_API_KEY`) unless `baseURL` points at a local server.
   *
   * @param options Every option is optional.
   */
  constructor(options: OpenAIModerationGuardrailOptions = {}) {
    super(options);
    const {
      model = 'omni-moderation-latest',
      raiseForCategories,
      client,
      apiKey,
      baseURL,
      maxRetries,
      streamBatchChars = 400,
    } = checkOptions<OpenAIModerationGuardrailOptions>(OWNER, options, RULES);
    this.model = model;
    this.raiseForCategories = raiseForCategories === undefined ? undefined : Object.freeze(categoriesOption(raiseForCategories));
    this.raiseFor = this.raiseForCategories && new Set(this.raiseForCategories);
    this.client = clientOption(client, apiKey, baseURL, maxRetries);
    this.batchChars = streamBatchChars;
  }

  async check(args: HookArgs): Promise<void> {
    const content = readTarget(args);
    const text = textSegments(content)
      .map((s) => s.text)
      .filter((t) => t.trim() !== '')
      .join('\n\n');
    const images = imageUrls(content);
    if (text === '' && images.length === 0) return;
    const input: ModerationInput =
      images.length === 0
        ? text
        : [
            ...(text === '' ? [] : [{ type: 'text' as const, text }]),
            ...images.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
          ];
    await this.moderate(input, args, args.runContext?.signal);
  }

  /** Streams: holds text until a batch ends at a sentence, then one call per batch; the rest goes at the end. */
  override async checkChunk(args: ChunkCheckArgs): Promise<ChunkCheckResult> {
    const end = args.final ? args.text.length : batchEnd(args.text, this.batchChars, this.batchChars * 4);
    if (end === 0) return { hold: args.text.length };
    const batch = args.text.slice(0, end);
    if (batch.trim() !== '') await this.moderate(batch, { phase: 'post' }, args.runContext?.signal);
    return { hold: args.text.length - end };
  }

  private async moderate(input: ModerationInput, args: Pick<HookArgs, 'phase'>, signal: AbortSignal | undefined): Promise<void> {
    let answer: unknown;
    try {
      const options: { signal?: AbortSignal; timeout?: number } = {};
      if (signal) options.signal = signal;
      if (this.timeoutMs !== undefined) options.timeout = this.timeoutMs;
      answer = await this.client.moderations.create({ model: this.model, input }, options);
    } catch (error) {
      if (signal?.aborted) throw error;
      const why = error instanceof Error ? error.message : String(error);
      throw new ModerationUnavailableError(
        `${this.name}: the moderation request failed (${why}); the check fails closed. Check the API key and base URL, or build the guardrail with failOpen: true to let runs through while moderation is down`,
        { cause: error },
      );
    }
    const verdict = readVerdict(answer, this.name);
    const categories = blockingCategories(verdict, this.raiseFor);
    if (categories === undefined) return;
    const listed = categories.length > 0 ? categories.join(', ') : 'no category named';
    this.reject(args, `OpenAI moderation flagged the ${args.phase === 'pre' ? 'input' : 'output'}: ${listed}`, {
      additionalData: { categories, categoryScores: verdict.categoryScores, model: this.model },
    });
  }
}

function categoriesOption(value: readonly unknown[]): ModerationCategory[] {
  for (const name of value) {
    if (!(MODERATION_CATEGORIES as readonly unknown[]).includes(name)) {
      const close = MODERATION_CATEGORIES.find((c) => typeof name === 'string' && c.replace(/[/-]/g, '_') === name.toLowerCase());
      const hint = close ? ` (did you mean "${close}"? categories use the API's spelling)` : '';
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: unknown category ${JSON.stringify(name)} in "raiseForCategories"${hint}; the categories are ${MODERATION_CATEGORIES.join(', ')}`,
      );
    }
  }
  return [...value] as ModerationCategory[];
}

function clientOption(
  client: ModerationClient | undefined,
  apiKey: string | undefined,
  baseURL: string | undefined,
  maxRetries: number | undefined,
): ModerationClient {
  if (client !== undefined) {
    if (apiKey !== undefined || baseURL !== undefined || maxRetries !== undefined) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: pass either "client" or "apiKey"/"baseURL"/"maxRetries", not both; configure the client you pass instead`,
      );
    }
    return client;
  }
  // One factory for every OpenAI client: options and the key are checked now, `openai` is loaded on the first request.
  return openAIClient({ apiKey, baseURL, maxRetries }, OWNER);
}
