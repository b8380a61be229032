/**
 * The run's data: what hooks read and edit, what the caller gets back, what the store keeps.
 * Everything a run returns or emits is plain JSON-safe data (no functions, agents or contexts).
 */

/** The values of `CheckTrigger` (defined here so that this file imports nothing). */
export type CheckTrigger =
  'off_topic' | 'input_not_allowed' | 'output_not_allowed' | 'validation_failed' | 'prompt_injection' | 'pii_detected';

/** One part of a multimodal chat message (the OpenAI Chat Completions shape). */
export type ContentPart =
  { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant';
  content: string | ContentPart[];
  name?: string;
}

export interface RunInput {
  /** What the user sent. Pre-hooks may edit it in place or replace it; the model sees the value after all pre-hooks. */
  inputContent: string | ChatMessage[];
}

export type RunStatus = 'running' | 'completed' | 'error' | 'cancelled';

export interface RunMetrics {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Wall time of the whole run, hooks included. */
  durationMs: number;
  /** Wall time of the model request alone. */
  modelDurationMs?: number;
}

/** JSON-safe description of why a run failed. Never contains blocked content. */
export interface RunErrorInfo {
  /** A verdict (`*_check_error`), a cancellation, or a crash in a hook, the model or other middleware. */
  type: 'input_check_error' | 'output_check_error' | 'abort_error' | 'hook_error' | 'model_error' | 'middleware_error';
  name: string;
  message: string;
  checkTrigger?: CheckTrigger;
  additionalData?: Record<string, unknown>;
  /** The hook that raised it, when a hook did. */
  hookName?: string;
}

export interface RunOutput {
  runId: string;
  sessionId: string;
  agentId: string;
  agentName: string;
  userId: string | undefined;
  /** The answer. Post-hooks may edit it. Absent on a failed run. */
  content: string | undefined;
  status: RunStatus;
  /** The model's id. */
  model: string;
  /** The input as the model saw it (after pre-hooks). */
  input: RunInput;
  /** Messages sent to the model, plus the assistant's answer once the run has completed. */
  messages: ChatMessage[];
  metrics: RunMetrics;
  error: RunErrorInfo | undefined;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface AgentSession<State extends object = DefaultState> {
  sessionId: string;
  agentId: string;
  userId: string | undefined;
  sessionState: State;
  /** Earlier runs of this session, oldest first. */
  runs: RunOutput[];
  createdAt: number;
  updatedAt: number;
  /** Set by the store: how many times the session was saved. `save()` refuses a session read at an older version. */
  version?: number;
}

/**
 * Shapes that applications and middleware packages widen by declaration merging, as Koa's
 * `DefaultState`/`DefaultContext` are widened:
 *
 * ```ts
 * declare module 'hookchain' {
 *   interface DefaultContext { tenant: string }          // a typed field on every RunContext of every agent
 *   interface DefaultState { cart: string[] }            // the session state's shape
 * }
 * ```
 * For fields that one agent's middleware sets, prefer the agent's `Vars` generic (see `Agent.use`): it types a
 * field only where it is already set.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DefaultState {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DefaultDependencies {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DefaultContext {}

export type Metadata = Record<string, unknown>;

/** Where an agent writes debug lines and warnings (default: `console`). */
export interface Logger {
  debug(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
}

/** What a run knows of its agent: hooks read these (the `Agent` itself is passed, and has more). */
export interface AgentRef {
  readonly id: string;
  readonly name: string;
  readonly instructions: string | undefined;
  readonly model: { readonly id: string };
}

/** Koa's `ctx`: one per run, shared by every hook and middleware of that run. */
export interface BaseRunContext<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  readonly runId: string;
  readonly agent: AgentRef;
  /** The run's input; pre-hooks edit it, the model sees what they left. */
  input: RunInput;
  /** The run's record; the model and post-hooks fill it. */
  readonly output: RunOutput;
  readonly session: AgentSession<State>;
  /** The session state: persisted with the session (the same object as the hooks' `sessionState`). */
  sessionState: State;
  /** Per-run scratch space for middleware and hooks, as Koa's `ctx.state`: never persisted, never sent anywhere. */
  state: Record<string, unknown>;
  dependencies: Deps;
  metadata: Metadata;
  readonly userId: string | undefined;
  readonly debugMode: boolean;
  /** Aborted when the caller cancels the run. Pass it to your own I/O. */
  readonly signal: AbortSignal;
}

/**
 * The context a middleware or hook receives: the base fields, the globally merged `DefaultContext`, and `Vars`,
 * the fields that middleware running before it has set (the agent's `Vars` generic).
 */
export type RunContext<
  State extends object = DefaultState,
  Deps extends object = DefaultDependencies,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  Vars extends object = {},
> = BaseRunContext<State, Deps> & DefaultContext & Vars;

export type Next = () => Promise<void>;

/**
 * Koa-style middleware: `await next()` runs the rest of the chain (at most once).
 *
 * @example
 * const timing: Middleware = async (ctx, next) => {
 *   const t = performance.now();
 *   await next();
 *   ctx.metadata.ms = performance.now() - t;
 * };
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type Middleware<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}> = (
  ctx: RunContext<State, Deps, Vars>,
  next: Next,
) => Promise<void> | void;

/** The one argument object a pre-hook receives. Destructure what you need. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PreHookArgs<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}> {
  readonly phase: 'pre';
  /** The input. Edit `runInput.inputContent` (or assign a new `runInput`): the model sees what the pre-hooks left. */
  runInput: RunInput;
  agent: AgentRef;
  session: AgentSession<State>;
  sessionState: State;
  dependencies: Deps;
  metadata: Metadata;
  userId: string | undefined;
  debugMode: boolean;
  runContext: RunContext<State, Deps, Vars>;
}

/** The one argument object a post-hook receives: a pre-hook's plus `runOutput`. */
export interface PostHookArgs<
  State extends object = DefaultState,
  Deps extends object = DefaultDependencies,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  Vars extends object = {},
> extends Omit<PreHookArgs<State, Deps, Vars>, 'phase'> {
  readonly phase: 'post';
  runOutput: RunOutput;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type HookArgs<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}> =
  PreHookArgs<State, Deps, Vars> | PostHookArgs<State, Deps, Vars>;
