/**
 * `limits()`: model middleware that stops a run before it spends more than its budget of model calls, tokens or
 * tool calls.
 */
import { HookchainConfigError, LimitExceededError } from '../errors.ts';
import { checkOptions, is } from '../options.ts';
import type { DefaultDependencies, DefaultState, RunContext } from '../types.ts';
import type { ModelMiddleware } from './middleware.ts';

/** Options of `limits(options)`: at least one budget, each a positive integer. */
export interface LimitsOptions {
  /**
   * The most model calls that pass through this middleware in one run. Placed before `retry()`, that is the
   * number of steps; after it, every try counts.
   */
  maxModelCalls?: number;
  /**
   * No model call is made once the run has used this many tokens (`metrics.totalTokens`). It bounds what is spent
   * before each call: the call that crosses the bound still answers, and the next one is refused.
   */
  maxTokensPerRun?: number;
  /**
   * The most tool calls in one run (`RunOutput.toolCalls`, whatever their status). An answer that asks for more
   * fails the run before any of its tools runs.
   */
  maxToolCalls?: number;
}

const OWNER = 'limits()';
const RULES = { maxModelCalls: is.positiveInt, maxTokensPerRun: is.positiveInt, maxToolCalls: is.positiveInt };

/**
 * Model middleware that keeps a run within budgets. The call that would exceed a budget is not made (for
 * `maxToolCalls`: the tools the answer asks for are not run) and the run fails with `LimitExceededError`
 * (`RunErrorInfo.type: 'limit_error'`), whose `limit` names the budget.
 *
 * - `maxModelCalls`: the call that would be number `maxModelCalls + 1` of the run is refused. A resumed run
 *   (`continueRun()`) counts the steps it already made.
 * - `maxTokensPerRun`: a call is refused once `metrics.totalTokens` has reached the bound. The bound is checked
 *   before each call, so the answer that crosses it is still returned; the run stops at the next call.
 * - `maxToolCalls`: an answer whose tool calls would take the run past the bound fails the run.
 *
 * @param options At least one of `maxModelCalls`, `maxTokensPerRun`, `maxToolCalls`.
 *
 * @example
 * const agent = new Agent({
 *   model,
 *   tools: [getOrder],
 *   modelMiddleware: [limits({ maxModelCalls: 6, maxTokensPerRun: 20_000, maxToolCalls: 10 }), retry()],
 * });
 */
export function limits<State extends object = DefaultState, Deps extends object = DefaultDependencies>(
  options: LimitsOptions,
): ModelMiddleware<State, Deps> {
  const { maxModelCalls, maxTokensPerRun, maxToolCalls } = checkOptions<LimitsOptions>(OWNER, options, RULES, []);
  if (maxModelCalls === undefined && maxTokensPerRun === undefined && maxToolCalls === undefined) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${OWNER}: give at least one budget: maxModelCalls, maxTokensPerRun or maxToolCalls (such as limits({ maxModelCalls: 10 }))`,
    );
  }
  // Calls made through this middleware, per run; a context is dropped with its run.
  const calls = new WeakMap<RunContext<State, Deps>, number>();

  const middleware: ModelMiddleware<State, Deps> = async (call, next) => {
    const { runContext } = call;
    const { metrics } = runContext.output;
    if (maxModelCalls !== undefined) {
      // The loop counts this step before the model chain runs; a resumed run starts with the steps it already made.
      const made = calls.get(runContext) ?? Math.max(0, metrics.steps - 1);
      if (made + 1 > maxModelCalls) {
        throw new LimitExceededError(
          'maxModelCalls',
          maxModelCalls,
          `the run already made ${made} model call${made === 1 ? '' : 's'}, so model call ${made + 1} was not made`,
        );
      }
      calls.set(runContext, made + 1);
    }
    if (maxTokensPerRun !== undefined && metrics.totalTokens >= maxTokensPerRun) {
      throw new LimitExceededError(
        'maxTokensPerRun',
        maxTokensPerRun,
        `the run already used ${metrics.totalTokens} tokens, so model call ${call.step} was not made`,
      );
    }
    const response = await next();
    if (maxToolCalls !== undefined) {
      const before = runContext.output.toolCalls.length;
      const asked = response.toolCalls?.length ?? 0;
      if (before + asked > maxToolCalls) {
        throw new LimitExceededError(
          'maxToolCalls',
          maxToolCalls,
          `the run already made ${before} tool call${before === 1 ? '' : 's'} and the model asked for ${asked} more (${before + asked} in all), so none of them was run`,
        );
      }
    }
    return response;
  };
  Object.defineProperty(middleware, 'name', { value: 'limits' });
  return middleware;
}
