/**
 * What every hook call shares, wherever it runs (the phase loops, the stream's chunk checks): its events, its time
 * limit, its debug line and the one fail-closed rule.
 */
import { HookTimeoutError, errorSummary, isCheckError } from '../errors.ts';
import type { AgentEventName, AgentEvents } from '../events/types.ts';
import type { RunTrace } from '../tracing/run-trace.ts';
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
  /** Shadow hooks whose verdict was reported in this run: each is reported once. */
  shadowReported: Set<string> | undefined;
  /** In debug mode: each hook's name, duration and outcome, for the run's summary line. */
  timings: string[] | undefined;
  /** The agent is `speculative` (and this run may speculate: it starts with its pre-hooks). */
  readonly speculative: boolean;
  /** Lets the model start before the input checks end; see `RunState.speculate`. */
  speculate(): { open(): void; abort(reason: unknown): void };
  /** Whether this run is among the `rate` share that sampled hooks run on (from the run id: the same for every hook). */
  sampled(rate: number): boolean;
  /** The run's debugMode: log each hook's duration and outcome. */
  readonly debug: boolean;
  /** The run's spans when it is traced (`AgentOptions.tracing`); undefined otherwise, and then nothing is traced. */
  readonly span: RunTrace | undefined;
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
  if (run.span !== undefined) run.span.hookStarted(hook, hook.phase);
  return run.debug ? performance.now() : 0;
}

export function completed(run: HookRun, hook: CompiledHook, t0: number): void {
  if (run.span !== undefined) run.span.hookPassed(hook);
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
  hook: Pick<CompiledHook, 'name' | 'failOpen'> & { readonly shadow?: boolean },
  error: unknown,
  phase: 'pre' | 'post' | 'chunk' | 'tool',
  t0?: number,
): undefined {
  const verdict = isCheckError(error);
  const span = run.span;
  if (hook.shadow === true && !run.signal.aborted) {
    // A shadow check never blocks: its verdict is reported (once per run), its crash is a fail-open one.
    // Its span says so: outcome passed (the run went on), with the verdict, its trigger and `hookchain.hook.shadow`.
    if (span !== undefined) span.hookFailed(hook, phase, verdict ? 'passed' : 'failed_open', error, verdict ? 'shadow' : undefined);
    if (verdict) {
      if (run.debug) debugLine(run, hook, phase, `shadow verdict (${error.checkTrigger})`, t0);
      const seen = (run.shadowReported ??= new Set());
      if (!seen.has(hook.name)) {
        seen.add(hook.name);
        run.emit('hook_shadow_verdict', { runId: run.runId, hookName: hook.name, checkTrigger: error.checkTrigger, phase });
      }
      return undefined;
    }
    if (run.debug) debugLine(run, hook, phase, `shadow check failed: ${errorSummary(error).name}`, t0);
    run.emit('hook_failed', { runId: run.runId, hookName: hook.name, phase, error: errorSummary(error) });
    return undefined;
  }
  if (verdict || !hook.failOpen || run.signal.aborted) {
    if (span !== undefined) span.hookFailed(hook, phase, verdict ? 'blocked' : 'error', error);
    run.failedHook ??= hook.name;
    if (verdict) run.verdict ??= error;
    if (run.debug) debugLine(run, hook, phase, verdict ? `blocked (${error.checkTrigger})` : `failed: ${errorSummary(error).name}`, t0);
    throw error;
  }
  if (span !== undefined) span.hookFailed(hook, phase, 'failed_open', error);
  if (run.debug) debugLine(run, hook, phase, `failed open: ${errorSummary(error).name}`, t0);
  run.emit('hook_failed', { runId: run.runId, hookName: hook.name, phase, error: errorSummary(error) });
  return undefined;
}

/** A post-hook's verdict asked for another answer: its span ends blocked (the answer was), marked as a retry. */
export function retrying(run: HookRun, hook: CompiledHook, error: unknown): void {
  if (run.span !== undefined) run.span.hookFailed(hook, hook.phase, 'blocked', error, 'retry');
}

function debugLine(run: HookRun, hook: Pick<CompiledHook, 'name'>, phase: string, outcome: string, t0: number | undefined): void {
  const ms = t0 === undefined || t0 === 0 ? undefined : performance.now() - t0;
  const took = ms === undefined ? '' : ` in ${ms.toFixed(2)} ms`;
  run.log(`hookchain: run ${run.runId} ${phase}-hook "${hook.name}" ${outcome}${took}`);
  if (ms !== undefined) (run.timings ??= []).push(`${phase}:${hook.name} ${ms.toFixed(2)} ms ${outcome}`);
}

/**
 * Whether a run id falls in the first `rate` share of runs: FNV-1a of the id, as a fraction of 2^32. Deterministic,
 * so one run has all of its sampled hooks or none of them, and the same run id always decides the same way.
 */
export function sampleFraction(runId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    h ^= runId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0x1_0000_0000;
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
