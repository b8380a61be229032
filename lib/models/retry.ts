/**
 * `retry()`: model middleware that calls the rest of the model chain again after a transient failure, with
 * exponential backoff and jitter, honouring the server's `Retry-After`.
 */
import { HookchainConfigError } from '../errors.ts';
import { MAX_TIMEOUT_MS, checkOptions, is, type Rule } from '../options.ts';
import type { DefaultDependencies, DefaultState } from '../types.ts';
import type { ModelMiddleware } from './middleware.ts';
import { isRetryableError, neverRetry, retryAfterMs, signalsOf, type CallSignals, type RetryPredicate } from './retryable.ts';

/** Options of `retry(options)`; all optional. */
export interface RetryOptions {
  /** How many tries in all, the first included: 1 means no retry. A positive integer; default 3. */
  attempts?: number;
  /** The shortest wait before a retry, in ms (the first retry waits between this and twice this). Default 500. */
  minDelayMs?: number;
  /** The longest wait before a retry, in ms, a `Retry-After` included. Default 30 000. */
  maxDelayMs?: number;
  /**
   * Which failures are worth another try. Default: HTTP 408, 409, 429 and 5xx, and network errors (connection
   * refused or reset, timeouts, a socket closed mid-answer). Whatever it says, a cancelled run, a guardrail
   * verdict, a `HookchainConfigError`, a `LimitExceededError` and a streamed call whose text was already released
   * are never retried.
   */
  retryOn?: (error: unknown) => boolean;
}

const OWNER = 'retry()';
/** A wait Node's timers honour exactly (a longer one would fire after 1 ms). */
const delayMs: Rule = (v) =>
  is.nonNegativeInt(v) === undefined && (v as number) <= MAX_TIMEOUT_MS
    ? undefined
    : `a whole number of milliseconds from 0 to ${MAX_TIMEOUT_MS} (about 24.8 days)`;
const RULES = {
  attempts: is.positiveInt,
  minDelayMs: delayMs,
  maxDelayMs: delayMs,
  retryOn: ((v) => (typeof v === 'function' ? undefined : 'a function (error) => boolean')) as Rule,
};

/**
 * Model middleware that retries a failed model call: each retry calls `next()` again, so the middleware after it
 * and the model run afresh. Between tries it waits with exponential backoff and full jitter (try n waits a random
 * time between `minDelayMs` and `minDelayMs·2ⁿ`, at most `maxDelayMs`), or as long as the server's `Retry-After`
 * / `retry-after-ms` asks (at most `maxDelayMs`). A cancelled run ends the wait at once, and the call rejects
 * with the abort reason. When the tries run out, it rejects with the last error.
 *
 * Never retried, whatever `retryOn` says: a cancelled run or any abort, a guardrail verdict (`InputCheckError`,
 * `OutputCheckError`), a `HookchainConfigError`, a `LimitExceededError`, and a streamed call that already
 * released some of its text (retrying would show a second answer after part of the first).
 *
 * The `openai` client retries on its own (twice by default), so an `OpenAIChat` under `retry()` makes up to
 * three requests per try; give it `maxRetries: 0` to leave the retrying to this middleware.
 *
 * Order matters: middleware after `retry()` runs on every try (a `limits()` there counts each try), middleware
 * before it once per model call. `[retry(), fallback([backup])]` tries the backup within each try;
 * `[fallback([backup]), retry()]` retries the first model fully before falling back.
 *
 * @param options `attempts`, `minDelayMs`, `maxDelayMs`, `retryOn`; all optional.
 *
 * @example
 * const model = new OpenAIChat({ id: 'gpt-4o-mini', maxRetries: 0 });
 * const agent = new Agent({ model, modelMiddleware: [retry({ attempts: 4, minDelayMs: 250 })] });
 */
export function retry<State extends object = DefaultState, Deps extends object = DefaultDependencies>(
  options?: RetryOptions,
): ModelMiddleware<State, Deps> {
  const checked = checkOptions<RetryOptions>(OWNER, options, RULES);
  const attempts = checked.attempts ?? 3;
  const minDelayMs = checked.minDelayMs ?? 500;
  const maxDelayMs = checked.maxDelayMs ?? 30_000;
  const retryOn: RetryPredicate = checked.retryOn ?? isRetryableError;
  if (minDelayMs > maxDelayMs) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: option "minDelayMs" (${minDelayMs}) must not exceed "maxDelayMs" (${maxDelayMs}); lower minDelayMs or raise maxDelayMs`,
    );
  }

  const middleware: ModelMiddleware<State, Deps> = async (call, next) => {
    for (let tried = 1; ; tried++) {
      try {
        return await next();
      } catch (error) {
        if (tried >= attempts || neverRetry(error, call) || !retryOn(error)) throw error;
        const backoff = backoffMs(tried, minDelayMs, maxDelayMs);
        const asked = retryAfterMs(error);
        await sleep(asked === undefined ? backoff : Math.min(asked, maxDelayMs), call);
      }
    }
  };
  // The name error messages show for it ("model middleware "retry" resolved with…").
  Object.defineProperty(middleware, 'name', { value: 'retry' });
  return middleware;
}

/** Full jitter over an exponential window: retry n waits uniformly in [min, min·2ⁿ], capped at max. */
function backoffMs(retryNumber: number, min: number, max: number): number {
  const ceiling = Math.min(max, min * 2 ** retryNumber);
  return Math.round(min + Math.random() * (ceiling - min));
}

/** Waits `ms`, or rejects with the abort reason as soon as the run (or the request) is cancelled; leaves no timer. */
function sleep(ms: number, call: CallSignals): Promise<void> {
  const signals = signalsOf(call);
  const aborted = signals.find((s) => s.aborted);
  if (aborted !== undefined) return Promise.reject(aborted.reason);
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', onAbort);
    };
    const onAbort = (event: Event): void => {
      settle();
      reject((event.target as AbortSignal).reason);
    };
    const timer = setTimeout(() => {
      settle();
      resolve();
    }, ms);
    for (const s of signals) s.addEventListener('abort', onAbort);
  });
}
