/**
 * The engine's per-run state, kept on the context behind the `RUN` symbol: what the chain's layers, the stream
 * and the settle step share about one run, none of which a hook or middleware may read or write.
 */
import type { BackgroundJob } from '../background/executor.ts';
import { RUN, type Context } from '../context.ts';
import type { AgentEventName, AgentEvents } from '../events/types.ts';
import type { HookRun } from '../hooks/run-hook.ts';
import type { SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { ChatMessage, PostHookArgs, PreHookArgs, RunContext } from '../types.ts';
import type { BackgroundExecutor, BackgroundReporter } from '../background/executor.ts';
import type { SafeEmitter } from '../events/emitter.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import type { Model } from '../models/model.ts';
import type { SessionStore } from '../sessions/store.ts';
import type { AgentRef, Logger, Metadata } from '../types.ts';

/** What a run reads of its agent's engine (implemented by `Engine` in engine.ts). */
export interface RunEngine {
  /** The agent, as hooks see it (`args.agent`, `ctx.agent`). */
  readonly agent: AgentRef;
  /** Where the run's events go (the agent itself). */
  readonly emitter: SafeEmitter<AgentEvents>;
  readonly model: Model;
  readonly instructions: string | undefined;
  readonly store: SessionStore;
  readonly queue: BackgroundExecutor;
  readonly reporter: BackgroundReporter;
  readonly logger: Logger;
  readonly debugMode: boolean;
  readonly sessionState: object;
  /** `sessionState` has no keys: a new session starts from a fresh `{}` without cloning. */
  readonly sessionStateEmpty: boolean;
  readonly dependencies: object;
  readonly metadata: Metadata;
  /** How many earlier runs go to the model as history; undefined when history is off. */
  readonly historyRuns: number | undefined;
  readonly preHooks: readonly CompiledHook[];
  readonly postHooks: readonly CompiledHook[];
  readonly postBackground: readonly CompiledHook[];
  chain(): (ctx: Context) => Promise<void>;
}

export class RunState implements HookRun {
  readonly engine: RunEngine;
  readonly ctx: Context;
  readonly runId: string;
  readonly signal: AbortSignal;
  /** Wall-clock start (performance.now()). */
  readonly startedAt: number;
  readonly debug: boolean;
  /** Set when the run streams. */
  readonly stream: StreamState | undefined;
  /** Whether the session is loaded from and saved to the store (a sessionId was given). */
  readonly persist: boolean;
  /** The lock this run holds on its session until it settles (see sessions/lock.ts). */
  locks: SessionLocks | undefined;
  /** Earlier turns of the session sent before the input (history on). */
  history: ChatMessage[] | undefined = undefined;
  /** Cached argument objects: one per phase, shared by the hooks of that phase. */
  private pre: PreHookArgs<object, object> | undefined = undefined;
  private post: PostHookArgs<object, object> | undefined = undefined;
  /** Background jobs held until the run ends: flushed on success, dropped on failure. */
  jobs: BackgroundJob[] | undefined = undefined;
  failedHook: string | undefined = undefined;
  verdict: unknown = undefined;
  /** The model call itself failed (for `RunErrorInfo.type`). */
  modelFailed = false;
  /** The output was completed and frozen (after the post-hooks); outer middleware sees it read-only. */
  sealed = false;

  constructor(
    engine: RunEngine,
    ctx: Context,
    stream: StreamState | undefined,
    persist: boolean,
    locks: SessionLocks | undefined,
    startedAt: number,
  ) {
    this.engine = engine;
    this.ctx = ctx;
    this.runId = ctx.runId;
    this.signal = ctx.signal;
    this.stream = stream;
    this.persist = persist;
    this.locks = locks;
    this.startedAt = startedAt;
    this.debug = ctx.debugMode;
    ctx[RUN] = this;
  }

  log(line: string): void {
    this.engine.logger.debug(line);
  }

  get checkedText(): string | undefined {
    return this.stream?.checkedText;
  }

  /** True when someone listens for `event` on the agent or the run streams (then it goes to the consumer too). */
  wants(event: AgentEventName): boolean {
    return this.stream !== undefined || this.engine.emitter.hasListeners(event);
  }

  /** Emit to the agent's listeners and, when streaming, to the stream's consumer. Build the payload only if `wants()`. */
  emit<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void {
    if (this.stream !== undefined) this.stream.push(event, payload);
    this.engine.emitter.emit(event, payload);
  }

  preArgs(): PreHookArgs<object, object> {
    const ctx = this.ctx;
    return (this.pre ??= {
      phase: 'pre',
      runInput: ctx.input,
      agent: ctx.agent,
      session: ctx.session,
      sessionState: ctx.sessionState,
      dependencies: ctx.dependencies,
      metadata: ctx.metadata,
      userId: ctx.userId,
      debugMode: ctx.debugMode,
      runContext: ctx as unknown as RunContext<object, object>,
    });
  }

  postArgs(): PostHookArgs<object, object> {
    const ctx = this.ctx;
    return (this.post ??= {
      phase: 'post',
      runInput: ctx.input,
      runOutput: ctx.output,
      agent: ctx.agent,
      session: ctx.session,
      sessionState: ctx.sessionState,
      dependencies: ctx.dependencies,
      metadata: ctx.metadata,
      userId: ctx.userId,
      debugMode: ctx.debugMode,
      runContext: ctx as unknown as RunContext<object, object>,
    });
  }

  holdJobs(jobs: readonly BackgroundJob[]): void {
    (this.jobs ??= []).push(...jobs);
  }
}

/** The engine's state of a run, from its context. */
export function runStateOf(ctx: Context): RunState {
  return ctx[RUN] as RunState;
}
