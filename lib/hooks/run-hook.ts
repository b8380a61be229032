/**
 * Calls one compiled hook with its events, its time limit and its failure policy. Sync hooks cost no promise:
 * only a returned thenable is awaited.
 */
import type { RunContextImpl } from '../context.ts';
import { HookTimeoutError, errorSummary, isCheckError } from '../errors.ts';
import type { HookArgs } from '../types.ts';
import type { CompiledHook } from './compile.ts';

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs `hook.call(args)`, then `next` if given. Returns undefined only when the hook finished synchronously and
 * there is no `next`. An async hook costs one promise hop: completion and `next` ride on the same `then`.
 */
export function runHook(ctx: RunContextImpl, hook: CompiledHook, args: HookArgs, next?: () => Promise<void>): Promise<void> | undefined {
  return runStep(ctx, hook, hook.call!, args, next);
}

/** The same policy for any step of a hook (its whole check, or one chunk check). */
export function runStep<A>(
  ctx: RunContextImpl,
  hook: CompiledHook,
  step: (args: A) => unknown,
  args: A,
  next?: () => Promise<void>,
): Promise<void> | undefined {
  const started = hook.phase === 'pre' ? 'pre_hook_started' : 'post_hook_started';
  if (ctx.wants(started)) ctx.emit(started, { runId: ctx.runId, hookName: hook.name });
  let result: unknown;
  try {
    result = step(args);
  } catch (error) {
    failed(ctx, hook, error);
    return next === undefined ? undefined : next();
  }
  if (isThenable(result)) {
    const settled = hook.timeoutMs === undefined ? result : withTimeout(result, hook.name, hook.timeoutMs);
    return Promise.resolve(settled).then(
      () => {
        completed(ctx, hook);
        return next === undefined ? undefined : next();
      },
      (error: unknown) => {
        failed(ctx, hook, error);
        return next === undefined ? undefined : next();
      },
    );
  }
  completed(ctx, hook);
  return next === undefined ? undefined : next();
}

function completed(ctx: RunContextImpl, hook: CompiledHook): void {
  const name = hook.phase === 'pre' ? 'pre_hook_completed' : 'post_hook_completed';
  if (ctx.wants(name)) ctx.emit(name, { runId: ctx.runId, hookName: hook.name });
}

/** Fail closed: rethrow, unless the hook is failOpen and the error is a malfunction rather than a verdict. */
function failed(ctx: RunContextImpl, hook: CompiledHook, error: unknown): undefined {
  if (!hook.failOpen || isCheckError(error) || ctx.signal.aborted) {
    ctx._failedHook ??= hook.name;
    throw error;
  }
  ctx.emit('hook_failed', {
    runId: ctx.runId,
    hookName: hook.name,
    phase: hook.phase,
    error: errorSummary(error),
  });
  return undefined;
}


/** Rejects with HookTimeoutError after `ms`; a late rejection of the hook is absorbed, never unhandled. */
export function withTimeout(work: PromiseLike<unknown>, hookName: string, ms: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new HookTimeoutError(hookName, ms)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
