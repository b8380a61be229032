/**
 * The one place hookchain makes an `openai` client, for every part that talks to OpenAI or a compatible server.
 *
 * `openai` is an optional peer dependency: an app that brings its own model never installs it. So it is loaded
 * with a dynamic `import()` on first use (and cached), never at `import('hookchain')`, and an app that uses an
 * OpenAI-backed part without it gets an error that says `npm install openai`, not ERR_MODULE_NOT_FOUND from deep
 * inside the package. Only types are imported statically; they vanish from the emitted JavaScript.
 */
import type OpenAI from 'openai';
import type { ClientOptions } from 'openai';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, is, type Rule } from '../options.ts';

/** The peer range in package.json, repeated in the install hint (spec/models/openai-client.spec.ts keeps them equal). */
export const OPENAI_PEER_RANGE = '^7.55.0';

export interface OpenAIClientOptions {
  /** A ready client (shared connection pool, custom fetch, Azure…); `apiKey`/`baseURL` are then not allowed. */
  client?: OpenAI;
  /** Defaults to `OPENAI_API_KEY`; not needed when `baseURL` (or `OPENAI_BASE_URL`) points at a local server. */
  apiKey?: string;
  /** An OpenAI-compatible endpoint (Ollama, vLLM, LM Studio…). Defaults to `OPENAI_BASE_URL`, then OpenAI. */
  baseURL?: string;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /** Retries on connection errors and 429/5xx (openai's default is 2). */
  maxRetries?: number;
}

const absoluteUrl: Rule = (v) =>
  typeof v === 'string' && URL.canParse(v) ? undefined : "an absolute URL such as 'http://127.0.0.1:11434/v1'";

/** The rules for `OpenAIClientOptions`, for owners that validate a larger option bag with `checkOptions`. */
export const OPENAI_CLIENT_RULES = {
  client: ((v) => (v !== null && typeof v === 'object' ? undefined : 'an OpenAI client (new OpenAI({ ... }))')) as Rule,
  apiKey: is.nonEmptyString,
  baseURL: absoluteUrl,
  timeoutMs: is.timeoutMs,
  maxRetries: is.nonNegativeInt,
} as const;

/**
 * A client that exists before `openai` is loaded. `get()` resolves to the real client: the one passed in, or one
 * created on first call. `moderations.create` forwards to it, so the handle can stand where a moderation client is
 * expected.
 */
export interface LazyOpenAIClient {
  get(): Promise<OpenAI>;
  readonly moderations: {
    create(...args: Parameters<OpenAI['moderations']['create']>): Promise<Awaited<ReturnType<OpenAI['moderations']['create']>>>;
  };
}

/**
 * Validates the options at once (a wrong option, a client together with a key, no API key at all) and returns a
 * handle that loads `openai` only when the client is first needed. `owner` names the caller in error messages.
 *
 * @example
 * const openai = openAIClient({ baseURL: 'http://127.0.0.1:11434/v1' }, 'MyModel');
 * const completion = await (await openai.get()).chat.completions.create({ model: 'llama3.2', messages });
 */
export function openAIClient(options: OpenAIClientOptions, owner: string): LazyOpenAIClient {
  const { client, apiKey, baseURL, timeoutMs, maxRetries } = checkOptions<OpenAIClientOptions>(owner, options, OPENAI_CLIENT_RULES);
  const tuning: Partial<ClientOptions> = {};
  if (timeoutMs !== undefined) tuning.timeout = timeoutMs;
  if (maxRetries !== undefined) tuning.maxRetries = maxRetries;

  let ready: Promise<OpenAI>;
  if (client !== undefined) {
    if (apiKey !== undefined || baseURL !== undefined) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${owner}: give either "client" or "apiKey"/"baseURL", not both (configure the client you pass)`,
      );
    }
    ready = Promise.resolve(withTuning(client, tuning, owner));
  } else {
    const url = baseURL ?? nonEmpty(process.env['OPENAI_BASE_URL']);
    // Local OpenAI-compatible servers need no key, but the client insists on one.
    const key = apiKey ?? nonEmpty(process.env['OPENAI_API_KEY']) ?? (url !== undefined ? 'not-needed' : undefined);
    if (key === undefined) {
      throw new HookchainConfigError(
        'MISSING_API_KEY',
        `${owner}: no API key. Set OPENAI_API_KEY, pass { apiKey }, or point { baseURL } (or OPENAI_BASE_URL) at an OpenAI-compatible server`,
      );
    }
    assertOpenAIInstalled(owner);
    let created: Promise<OpenAI> | undefined;
    // Created on first use, once; a failed load is not cached, so installing openai and retrying works.
    const create = () =>
      (created ??= loadOpenAI(owner).then(
        (OpenAIClass) => new OpenAIClass({ apiKey: key, ...(url !== undefined ? { baseURL: url } : {}), ...tuning }),
        (error: unknown) => {
          created = undefined;
          throw error;
        },
      ));
    return { get: create, moderations: { create: (...args) => create().then((c) => c.moderations.create(...args)) } };
  }
  return { get: () => ready, moderations: { create: (...args) => ready.then((c) => c.moderations.create(...args)) } };
}

/** A passed client keeps its own settings; `timeoutMs`/`maxRetries` make a tuned copy that shares its configuration. */
function withTuning(client: OpenAI, tuning: Partial<ClientOptions>, owner: string): OpenAI {
  if (Object.keys(tuning).length === 0) return client;
  if (typeof client.withOptions !== 'function') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: "timeoutMs"/"maxRetries" need an openai client with withOptions(); set timeout and maxRetries on the client you pass instead`,
    );
  }
  return client.withOptions(tuning);
}

let loading: Promise<typeof OpenAI> | undefined;

/** The `OpenAI` class, imported on first call and cached. Rejects with an install hint when `openai` is missing. */
export function loadOpenAI(owner: string): Promise<typeof OpenAI> {
  loading ??= import('openai').then(
    (module) => module.default,
    (error: unknown) => {
      loading = undefined;
      throw isMissingOpenAI(error)
        ? missingOpenAI(owner, error)
        : new HookchainConfigError(
            'MISSING_DEPENDENCY',
            `${owner}: the openai package failed to load (${(error as Error)?.message}); reinstall it with npm install openai@"${OPENAI_PEER_RANGE}"`,
            { cause: error },
          );
    },
  );
  return loading;
}

let installed: boolean | undefined;

/**
 * Fails at construction, not at the first request, when `openai` cannot be found. `import.meta.resolve` only
 * resolves the path (no code runs); where it is missing (some bundlers, test runners) the check waits for the load.
 */
function assertOpenAIInstalled(owner: string): void {
  if (installed === true || typeof import.meta.resolve !== 'function') return;
  try {
    import.meta.resolve('openai');
    installed = true;
  } catch (error) {
    if (isMissingOpenAI(error)) throw missingOpenAI(owner, error);
  }
}

function isMissingOpenAI(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    /['"]openai['"/]/.test(e.message)
  );
}

function missingOpenAI(owner: string, cause: unknown): HookchainConfigError {
  return new HookchainConfigError(
    'MISSING_DEPENDENCY',
    `${owner} needs the openai package, an optional peer dependency of hookchain: npm install openai@"${OPENAI_PEER_RANGE}"`,
    { cause },
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
