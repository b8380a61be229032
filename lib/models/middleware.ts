/**
 * Model middleware: a re-entrant onion around each model call of the run's loop. Unlike the run's Koa chain,
 * `next()` may be called more than once (a retry, a fallback), and each call runs the rest of the model chain
 * afresh, so koa-compose (which forbids a second `next()`) does not fit; the dispatcher below is ours.
 */
import { HookchainConfigError } from '../errors.ts';
import { describe } from '../options.ts';
import type { DefaultDependencies, DefaultState, RunContext } from '../types.ts';
import type { Model, ModelRequest, ModelResponse } from './model.ts';

/** One model call as model middleware sees it. A new object for every `next()`: it is never mutated. */
export interface ModelCall<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** The run's context. */
  readonly runContext: RunContext<State, Deps>;
  /** What will be sent: messages, tools, signal. Pass a changed copy to `next(request)`. */
  readonly request: ModelRequest;
  /** The model that will answer: the agent's, unless a middleware passed another to `next(request, model)`. */
  readonly model: Model;
  /** Which model call of the run's loop this is: 1 for the first. */
  readonly step: number;
  /** 1 for the first try of this step through this middleware; each further `next()` of an outer middleware adds 1. */
  readonly attempt: number;
}

/**
 * Runs the rest of the model chain and then the model. May be called more than once. `request` replaces the
 * request for this try; `model` answers instead of the current one (`fallback()` uses it).
 */
export type ModelNext = (request?: ModelRequest, model?: Model) => Promise<ModelResponse>;

/**
 * Middleware around each model call of a run (`new Agent({ modelMiddleware })`): retries, fallbacks, budgets,
 * caching, request rewriting. Resolve with the response (usually `return next()`).
 *
 * @example
 * const logCalls: ModelMiddleware = async (call, next) => {
 *   const started = performance.now();
 *   const response = await next();
 *   console.log(`step ${call.step} took ${performance.now() - started} ms`);
 *   return response;
 * };
 */
export type ModelMiddleware<State extends object = DefaultState, Deps extends object = DefaultDependencies> = (
  call: ModelCall<State, Deps>,
  next: ModelNext,
) => Promise<ModelResponse>;

/** Where the chain ends: the loop's own call of `call.model`. */
export type ModelTerminal = (call: ModelCall<object, object>) => Promise<ModelResponse>;

/** Composes the middleware once per agent; the result calls them in order around `terminal` for each model call. */
export function composeModelMiddleware(
  middleware: readonly ModelMiddleware<object, object>[],
  terminal: ModelTerminal,
): (call: ModelCall<object, object>) => Promise<ModelResponse> {
  if (middleware.length === 0) return terminal;
  const dispatch = (i: number, call: ModelCall<object, object>): Promise<ModelResponse> => {
    if (i === middleware.length) return terminal(call);
    const mw = middleware[i]!;
    let tries = 0;
    const next: ModelNext = (request, model) => {
      const nextCall: ModelCall<object, object> = {
        runContext: call.runContext,
        request: request ?? call.request,
        model: model ?? call.model,
        step: call.step,
        attempt: call.attempt + tries++,
      };
      try {
        return dispatch(i + 1, nextCall);
      } catch (error) {
        return Promise.reject(error);
      }
    };
    let answer: Promise<ModelResponse>;
    try {
      answer = Promise.resolve(mw(call, next));
    } catch (error) {
      return Promise.reject(error);
    }
    return answer.then((response) => checkResponse(response, mw, i));
  };
  return (call) => dispatch(0, call);
}

function checkResponse(response: unknown, mw: ModelMiddleware<object, object>, i: number): ModelResponse {
  if (response !== null && typeof response === 'object' && typeof (response as ModelResponse).content === 'string')
    return response as ModelResponse;
  const name = mw.name ? `"${mw.name}"` : `#${i + 1}`;
  throw new HookchainConfigError(
    'INVALID_MODEL_RESPONSE',
    `model middleware ${name} resolved with ${describe(response)} instead of a model response; return the result of next() (return next())`,
  );
}

const released = new WeakSet<object>();

/**
 * Marks the failure of a streamed model call whose text had already gone to the chunk checks: retrying it (or
 * falling back) would show the consumer a second answer after part of the first, so `retry()` and `fallback()`
 * pass such an error on.
 */
export function markReleased(error: unknown): void {
  if (error !== null && typeof error === 'object') released.add(error);
}

/** True for a model failure after some of its streamed text was released (see `markReleased`). */
export function isReleased(error: unknown): boolean {
  return error !== null && typeof error === 'object' && released.has(error);
}
