/**
 * What every hook call shares, wherever it runs (the phase loops, the stream's chunk checks): its events, its time
 * limit, its debug line and the one fail-closed rule.
 */
import { HookTimeoutError, errorSummary, isCheckError } from '../errors.ts';
import type { AgentEventName, AgentEvents } from '../events/types.ts';
import type { PostHookArgs, PreHookArgs } from '../types.ts';
import type { CompiledHook } from './compile.ts';

/**
 * What a hook call needs of its run. The run engine's `RunState` implements it; hooks and the stream's release
 * buffer see only this, so they never import the engine.
 */
export interface HookRun {
  readonly runId: string;
  readonly signal: AbortSignal;
  /** The hook whose failure ended the run, for `RunErrorInfo.hookName`. */
  failedHook: string | undefined;
  /** The first verdict raised in this run. Final: the run fails with it however the chain returns. */
  verdict: unknown;
  /** The text the stream's chunk checks cleared, when the run streams. */
  readonly checkedText: string | undefined;
  /** The run stopped for approvals: no post-hook runs. */
  readonly paused: boolean;
  /**
   * A post-hook rejected the answer with `OutputCheckError({ retry: true })`: asks the model again with the verdict's
   * message as feedback. Undefined when no retry is left (or the rejected text already left in a stream); then the
   * verdict is final.
   */
  retryOutput(verdict: unknown): Promise<void> | undefined;
  /** The run's debugMode: log each hook's duration and outcome. */
  readonly debug: boolean;
  log(line: string): void;
  wants(event: AgentEventName): boolean;
  emit<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void;
  preArgs(): PreHookArgs<object, object>;
  postArgs(): PostHookArgs<object, object>;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Reports a hook's start; returns its start time in debug mode (else 0). */
export function started(run: HookRun, hook: CompiledHook): number {
  const event = hook.phase === 'pre' ? 'pre_hook_started' : 'post_hook_started';
  if (run.wants(event)) run.emit(event, { runId: run.runId, hookName: hook.name });
  return run.debug ? performance.now() : 0;
}

export function completed(run: HookRun, hook: CompiledHook, t0: number): void {
  if (run.debug) debugLine(run, hook, hook.phase, 'passed', t0);
  const name = hook.phase === 'pre' ? 'pre_hook_completed' : 'post_hook_completed';
  if (run.wants(name)) run.emit(name, { runId: run.runId, hookName: hook.name });
}

/**
 * The one fail-closed rule, for whole hooks, chunk checks and (next) tool hooks: a verdict, a crash of a hook that
 * is not `failOpen`, or any failure of an aborted run is recorded and rethrown; a verdict is also recorded as the
 * run's verdict, so no middleware can swallow it. A `failOpen` hook's crash is reported and the run goes on.
 */
export function failClosed(
  run: HookRun,
  hook: Pick<CompiledHook, 'name' | 'failOpen'>,
  error: unknown,
  phase: 'pre' | 'post' | 'chunk' | 'tool',
  t0?: number,
): undefined {
  const verdict = isCheckError(error);
  if (verdict || !hook.failOpen || run.signal.aborted) {
    run.failedHook ??= hook.name;
    if (verdict) run.verdict ??= error;
    if (run.debug) debugLine(run, hook, phase, verdict ? `blocked (${error.checkTrigger})` : `failed: ${errorSummary(error).name}`, t0);
    throw error;
  }
  if (run.debug) debugLine(run, hook, phase, `failed open: ${errorSummary(error).name}`, t0);
  run.emit('hook_failed', { runId: run.runId, hookName: hook.name, phase, error: errorSummary(error) });
  return undefined;
}

function debugLine(run: HookRun, hook: Pick<CompiledHook, 'name'>, phase: string, outcome: string, t0: number | undefined): void {
  const took = t0 === undefined || t0 === 0 ? '' : ` in ${(performance.now() - t0).toFixed(2)} ms`;
  run.log(`hookchain: run ${run.runId} ${phase}-hook "${hook.name}" ${outcome}${took}`);
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
