/**
 * `fallback()`: model middleware that asks the next model of a list when the current one fails in a way `retry()`
 * would retry.
 */
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, type Rule } from '../options.ts';
import type { DefaultDependencies, DefaultState } from '../types.ts';
import type { ModelMiddleware } from './middleware.ts';
import { isModel, type Model } from './model.ts';
import { isRetryableError, neverRetry, type RetryPredicate } from './retryable.ts';

/** Options of `fallback(models, options)`. */
export interface FallbackOptions {
  /**
   * Which failures move on to the next model. Default: the same as `retry()`'s (HTTP 408, 409, 429 and 5xx, and
   * network errors). Whatever it says, a cancelled run, a guardrail verdict, a `HookchainConfigError`, a
   * `LimitExceededError` and a streamed call whose text was already released are passed on.
   */
  retryOn?: (error: unknown) => boolean;
}

const OWNER = 'fallback()';
const RULES = { retryOn: ((v) => (typeof v === 'function' ? undefined : 'a function (error) => boolean')) as Rule };

/**
 * Model middleware that falls back to other models: it calls `next()` with the current model (the agent's, unless
 * a middleware before it chose another) and, when that fails in a way `retry()` would retry (a 429, a 5xx, a
 * network error), calls `next(undefined, model)` with each of `models` in turn until one answers. When all fail,
 * it rejects with the last error. The request is the same for every model; `RunOutput.model` reports the model
 * that answered.
 *
 * Never falls back on a cancelled run or any abort, a guardrail verdict, a `HookchainConfigError`, a
 * `LimitExceededError`, or a streamed call that already released some of its text.
 *
 * With `retry()`: `[fallback([backup]), retry()]` retries each model before moving on to the next;
 * `[retry(), fallback([backup])]` repeats the whole list on each try.
 *
 * @param models The models to try after the current one, in order; at least one.
 * @param options `retryOn`: which failures move on (default: `retry()`'s).
 *
 * @example
 * const primary = new OpenAIChat({ id: 'gpt-4o-mini', maxRetries: 0 });
 * const backup = new OpenAIChat({ id: 'llama3.2', baseURL: 'http://127.0.0.1:11434/v1' });
 * const agent = new Agent({ model: primary, modelMiddleware: [fallback([backup]), retry()] });
 */
export function fallback<State extends object = DefaultState, Deps extends object = DefaultDependencies>(
  models: readonly Model[],
  options?: FallbackOptions,
): ModelMiddleware<State, Deps> {
  if (!Array.isArray(models) || models.length === 0) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: models must be a non-empty array of models, such as fallback([new OpenAIChat({ id: 'gpt-4o-mini' })]), got ${Array.isArray(models) ? 'an empty array' : describe(models)}`,
    );
  }
  models.forEach((model: unknown, i) => {
    if (!isModel(model)) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: models[${i}] must be a model (an object with an id string and an invoke() method, such as new OpenAIChat({ id })), got ${describe(model)}`,
      );
    }
  });
  const list = [...models];
  const retryOn: RetryPredicate = checkOptions<FallbackOptions>(OWNER, options, RULES).retryOn ?? isRetryableError;

  const middleware: ModelMiddleware<State, Deps> = async (call, next) => {
    let failure: unknown;
    for (let i = -1; i < list.length; i++) {
      try {
        return await (i < 0 ? next() : next(undefined, list[i]));
      } catch (error) {
        if (neverRetry(error, call) || !retryOn(error)) throw error;
        failure = error;
      }
    }
    throw failure;
  };
  Object.defineProperty(middleware, 'name', { value: 'fallback' });
  return middleware;
}
