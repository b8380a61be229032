/**
 * The per-run context (Koa's `ctx`): a leaf that holds the run's data and nothing of the engine. The engine's own
 * per-run state (held jobs, the stream, the session lock…) lives in a `RunState` behind the `RUN` symbol, owned by
 * `lib/run/`. A class rather than an object literal, so that every run has the same shape (one hidden class).
 */
import type { AgentRef, AgentSession, BaseRunContext, Metadata, RunInput, RunOutput } from './types.ts';

/** Where the engine keeps its per-run state on a context. Not enumerable in practice: nobody outside lib/run reads it. */
export const RUN: unique symbol = Symbol('hookchain.run');

/** The context class; the public type is `RunContext` (types.ts). */
export class Context implements BaseRunContext<object, object> {
  readonly runId: string;
  readonly agent: AgentRef;
  input: RunInput;
  readonly output: RunOutput;
  readonly session: AgentSession<object>;
  sessionState: object;
  #state: Record<string, unknown> | undefined = undefined;
  dependencies: object;
  metadata: Metadata;
  readonly userId: string | undefined;
  readonly debugMode: boolean;
  readonly signal: AbortSignal;
  /** The engine's per-run state (a `RunState`); typed there, opaque here so that this file stays a leaf. */
  [RUN]: unknown;

  constructor(
    agent: AgentRef,
    runId: string,
    input: RunInput,
    output: RunOutput,
    session: AgentSession<object>,
    dependencies: object,
    metadata: Metadata,
    userId: string | undefined,
    debugMode: boolean,
    signal: AbortSignal,
  ) {
    this.agent = agent;
    this.runId = runId;
    this.input = input;
    this.output = output;
    this.session = session;
    this.sessionState = session.sessionState;
    this.dependencies = dependencies;
    this.metadata = metadata;
    this.userId = userId;
    this.debugMode = debugMode;
    this.signal = signal;
    this[RUN] = undefined;
  }

  /** Per-run scratch space, as Koa's `ctx.state`: created on first use, never persisted. */
  get state(): Record<string, unknown> {
    return (this.#state ??= {});
  }

  set state(value: Record<string, unknown>) {
    this.#state = value;
  }
}
