/**
 * The engine's per-run state, kept on the context behind the `RUN` symbol: what the chain's layers, the stream
 * and the settle step share about one run, none of which a hook or middleware may read or write.
 */
import type { BackgroundJob } from '../background/executor.ts';
import { RUN, type Context } from '../context.ts';
import type { AgentEventName, AgentEvents } from '../events/types.ts';
import { sampleFraction, type HookRun } from '../hooks/run-hook.ts';
import type { SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { ChatMessage, PostHookArgs, PreHookArgs, RunContext, ToolCall } from '../types.ts';
import type { ModelCall } from '../models/middleware.ts';
import type { ModelResponse, ModelResponseFormat, ModelToolDefinition } from '../models/model.ts';
import type { Tool, Validate } from '../tools/tool.ts';
import type { BackgroundExecutor, BackgroundReporter } from '../background/executor.ts';
import type { SafeEmitter } from '../events/emitter.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import type { Model } from '../models/model.ts';
import type { SessionStore } from '../sessions/store.ts';
import type { AgentRef, Logger, Metadata } from '../types.ts';
import type { RunTrace } from '../tracing/run-trace.ts';
import type { Tracing } from '../tracing/tracing.ts';

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
  /** `AgentOptions.tracing`, when it is on. */
  readonly tracing: Tracing | undefined;
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
  /** The tools, the composed tool onion and how calls run. */
  readonly tools: ToolSetup;
  /** What the model is told of the tools; undefined when the agent has none. */
  readonly toolDefinitions: ModelToolDefinition[] | undefined;
  readonly maxSteps: number;
  readonly maxOutputRetries: number;
  /** The agent's `outputSchema`, compiled; a run's own wins. */
  readonly outputSchema: OutputSchemaSetup | undefined;
  /** The model middleware composed around the model call, once. */
  callModel(call: ModelCall<object, object>): Promise<ModelResponse>;
  /** Start the model while the parallel input checks run (nothing of its answer goes on before they pass). */
  readonly speculative: boolean;
  /** `'pre:name'`, `'post:name'`, `'tool:name'` of every hook: saved with a paused run, checked on resume. */
  readonly hookFingerprint: readonly string[];
  chain(): (ctx: Context) => Promise<void>;
  /** The chain of a resumed run: everything but the pre-hooks, which ran before the pause. */
  resumeChain(): (ctx: Context) => Promise<void>;
  /** Runs the loop again for a post-hook's `{ retry: true }` verdict (run/loop.ts). */
  retryOutput(run: RunState, verdict: unknown): Promise<void> | undefined;
}

/** What the engine keeps for tools (built once per agent by `toolSetup` in tools.ts). */
export interface ToolSetup {
  readonly byName: ReadonlyMap<string, Tool>;
  /** The tool onion, composed once: tool hooks in declared order around the tool. */
  readonly onion: (call: ToolCall<object, object>) => Promise<void> | void;
  readonly hookNames: readonly string[];
  readonly toolErrors: 'model' | 'fail';
  readonly concurrency: number;
}

/** A human's answer to one pending call (`continueRun({ approvals })`). */
export interface Decision {
  readonly approved: boolean;
  readonly reason?: string;
}

/** A compiled `outputSchema`: what the model is sent and how its answer is checked. */
export interface OutputSchemaSetup {
  readonly format: ModelResponseFormat;
  readonly validate: Validate;
}

/** What a resumed run still has to settle before its loop goes on: the paused answer's calls and the decisions. */
export interface ResumePlan {
  readonly callIds: readonly string[];
  readonly decisions: ReadonlyMap<string, Decision>;
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
  /** `RunOptions.flushAfter`: a completed run's background jobs wait for it before they are queued. */
  flushAfter: PromiseLike<unknown> | undefined = undefined;
  /** Background jobs held until the run ends: flushed on success, dropped on failure. */
  jobs: BackgroundJob[] | undefined = undefined;
  failedHook: string | undefined = undefined;
  verdict: unknown = undefined;
  /** The model call itself failed (for `RunErrorInfo.type`). */
  modelFailed = false;
  /** The output was completed and frozen (after the post-hooks); outer middleware sees it read-only. */
  sealed = false;
  /** The loop stopped for approvals: no post-hooks, saved as paused, no background flush. */
  paused = false;
  /** A paused run, resumed: its chain has no pre-hooks. */
  resumed = false;
  /** Set by continueRun: the paused answer to settle before the loop goes on. */
  resume: ResumePlan | undefined = undefined;
  /**
   * What the next model call is sent. The same array as `output.messages` until an output retry adds feedback,
   * which goes to the model only; from then on the loop appends to both.
   */
  request: ChatMessage[] = [];
  /** The run's `outputSchema` (its own, else the agent's). */
  outputSchema: OutputSchemaSetup | undefined;
  /** The content that `output.parsed` was parsed from: seal parses again if a post-hook changed it. */
  parsedFrom: string | undefined = undefined;
  outputRetriesLeft: number;
  /** The id of the model that answered last (a fallback may answer instead of the agent's). */
  answeredBy: string;
  shadowReported: Set<string> | undefined = undefined;
  timings: string[] | undefined = undefined;
  /** The run's spans, when its agent traces and the run is recorded (tracing/run-trace.ts); else undefined. */
  span: RunTrace | undefined = undefined;
  private sample = -1;
  /**
   * Speculative runs: what the model is waiting for before anything of its answer may go on (every input check
   * passed); undefined when nothing is pending. `modelSignal` aborts the model request on a verdict.
   */
  gate: Promise<void> | undefined = undefined;
  modelSignal: AbortSignal;
  /** Streaming: this step's text has gone into the stream; where the step's text starts in `checkedText`. */
  streamed = false;
  private stepFrom = 0;
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
    this.outputSchema = engine.outputSchema;
    this.outputRetriesLeft = engine.maxOutputRetries;
    this.answeredBy = engine.model.id;
    this.modelSignal = ctx.signal;
    ctx[RUN] = this;
  }

  get speculative(): boolean {
    return this.engine.speculative;
  }

  sampled(rate: number): boolean {
    if (rate >= 1) return true;
    if (this.sample < 0) this.sample = sampleFraction(this.runId);
    return this.sample < rate;
  }

  /**
   * Starts speculation: the model may be called now, but waits at `gate` before anything of its answer goes on.
   * `open()` lets it through once every check passed; `abort(verdict)` aborts the model request.
   */
  speculate(): { open(): void; abort(reason: unknown): void } {
    const controller = new AbortController();
    this.modelSignal = AbortSignal.any([this.signal, controller.signal]);
    let open!: () => void;
    let fail!: (reason: unknown) => void;
    const gate = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    gate.catch(() => {}); // a model still waiting when the run fails must not surface as an unhandled rejection
    this.gate = gate;
    return {
      open: () => {
        this.gate = undefined;
        open();
      },
      abort: (reason) => {
        controller.abort(reason);
        fail(reason);
      },
    };
  }

  /** Appends a message of the loop (an assistant tool-call message, a tool result) to the output and the request. */
  record(message: ChatMessage): void {
    const messages = this.ctx.output.messages;
    messages.push(message);
    if (this.request !== messages) this.request.push(message);
  }

  /** An output retry's feedback: sent to the model, recorded nowhere. */
  feedback(message: ChatMessage): void {
    if (this.request === this.ctx.output.messages) this.request = this.request.slice();
    this.request.push(message);
  }

  startStep(): void {
    this.streamed = false;
    if (this.stream !== undefined) this.stepFrom = this.stream.checkedText.length;
  }

  /** The text of the step that just ended: in a stream, what the chunk checks cleared of it; else the model's. */
  stepText(content: string | undefined): string {
    return this.stream === undefined ? (content ?? '') : this.stream.checkedText.slice(this.stepFrom);
  }

  retryOutput(verdict: unknown): Promise<void> | undefined {
    return this.engine.retryOutput(this, verdict);
  }

  log(line: string): void {
    this.engine.logger.debug(line);
  }

  /** The cleared text of the final step (the answer the post-hooks check), when streaming. */
  get checkedText(): string | undefined {
    return this.stream === undefined ? undefined : this.stream.checkedText.slice(this.stepFrom);
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
      signal: ctx.signal,
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
      signal: ctx.signal,
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
