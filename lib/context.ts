/**
 * The per-run context (Koa's `ctx`). A class rather than an object literal so every run has the same shape
 * (one hidden class on the hot path); internal fields start with `_` and are not part of the public type.
 */
import type { Agent } from './agent.ts';
import type { BackgroundJob } from './background/executor.ts';
import type { AgentEventName, AgentEvents } from './events/types.ts';
import type { SessionLocks } from './sessions/lock.ts';
import type { StreamState } from './streaming/stream-state.ts';
import type {
  AgentSession,
  BaseRunContext,
  ChatMessage,
  Metadata,
  PostHookArgs,
  PreHookArgs,
  RunContext,
  RunInput,
  RunOutput,
} from './types.ts';

export class RunContextImpl<State extends object = object, Deps extends object = object> implements BaseRunContext<State, Deps> {
  readonly runId: string;
  readonly agent: Agent<State, Deps>;
  input: RunInput;
  readonly output: RunOutput;
  readonly session: AgentSession<State>;
  state: State;
  dependencies: Deps;
  metadata: Metadata;
  readonly userId: string | undefined;
  readonly debugMode: boolean;
  readonly signal: AbortSignal;

  /** Cached argument objects: one per phase, shared by the hooks of that phase. */
  _preArgs: PreHookArgs<State, Deps> | undefined = undefined;
  _postArgs: PostHookArgs<State, Deps> | undefined = undefined;
  /** Background jobs held until the run ends: flushed on success, dropped on failure. */
  _jobs: BackgroundJob[] | undefined = undefined;
  /** The hook whose failure ended the run, for `RunErrorInfo.hookName`. */
  _failedHook: string | undefined = undefined;
  /** Whether the session is loaded from and saved to the store (a sessionId was given). */
  _persist = false;
  /** The model call itself failed (for `RunErrorInfo.type`). */
  _modelFailed = false;
  /** Set when the run streams. */
  _stream: StreamState | undefined = undefined;
  /** Earlier turns of the session sent before the input (history on). */
  _history: ChatMessage[] | undefined = undefined;
  /** The lock this run holds on its session until it settles (see sessions/lock.ts). */
  _sessionLocks: SessionLocks | undefined = undefined;
  /** Wall-clock start (performance.now()). */
  readonly _startedAt: number;

  constructor(
    agent: Agent<State, Deps>,
    runId: string,
    input: RunInput,
    output: RunOutput,
    session: AgentSession<State>,
    dependencies: Deps,
    metadata: Metadata,
    userId: string | undefined,
    debugMode: boolean,
    signal: AbortSignal,
    startedAt: number,
  ) {
    this.agent = agent;
    this.runId = runId;
    this.input = input;
    this.output = output;
    this.session = session;
    this.state = session.sessionState;
    this.dependencies = dependencies;
    this.metadata = metadata;
    this.userId = userId;
    this.debugMode = debugMode;
    this.signal = signal;
    this._startedAt = startedAt;
  }

  preArgs(): PreHookArgs<State, Deps> {
    return (this._preArgs ??= {
      phase: 'pre',
      runInput: this.input,
      agent: this.agent,
      session: this.session,
      sessionState: this.state,
      dependencies: this.dependencies,
      metadata: this.metadata,
      userId: this.userId,
      debugMode: this.debugMode,
      runContext: this as unknown as RunContext<State, Deps>,
    });
  }

  postArgs(): PostHookArgs<State, Deps> {
    return (this._postArgs ??= {
      phase: 'post',
      runInput: this.input,
      runOutput: this.output,
      agent: this.agent,
      session: this.session,
      sessionState: this.state,
      dependencies: this.dependencies,
      metadata: this.metadata,
      userId: this.userId,
      debugMode: this.debugMode,
      runContext: this as unknown as RunContext<State, Deps>,
    });
  }

  /** True when someone listens for `event` on the agent or the run streams (then it goes to the consumer too). */
  wants(event: AgentEventName): boolean {
    return this._stream !== undefined || this.agent.hasListeners(event);
  }

  /** Emit to the agent's listeners and, when streaming, to the stream's consumer. Build the payload only if `wants()`. */
  emit<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void {
    if (this._stream !== undefined) this._stream.push(event, payload);
    this.agent.emit(event, payload);
  }

  holdJob(job: BackgroundJob): void {
    (this._jobs ??= []).push(job);
  }
}
