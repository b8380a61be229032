/**
 * The run's data: what hooks read and edit, what the caller gets back, what the store keeps.
 * Everything a run returns or emits is plain JSON-safe data (no functions, agents or contexts).
 */

/** The values of `CheckTrigger` (defined here so that this file imports nothing). */
export type CheckTrigger =
  'off_topic' | 'input_not_allowed' | 'output_not_allowed' | 'validation_failed' | 'prompt_injection' | 'pii_detected';

/** One part of a multimodal chat message (the OpenAI Chat Completions shape). */
export type ContentPart =
  | {
      /** A text part. */
      type: 'text';
      /** The text. Guardrails read and rewrite it (any part with a string `text` counts as text). */
      text: string;
    }
  | {
      /** An image part. Guardrails do not read images, except `OpenAIModerationGuardrail`, which sends them. */
      type: 'image_url';
      /** Where the image is. */
      image_url: {
        /** An `https:` URL or a `data:` URL. */
        url: string;
        /** How closely the model looks at it; the provider's default when undefined. */
        detail?: 'auto' | 'low' | 'high';
      };
    };

/**
 * One chat message (the OpenAI Chat Completions shape), as input (`RunInput.inputContent`) and in
 * `RunOutput.messages`.
 */
export interface ChatMessage {
  /**
   * Who speaks: `'system'`/`'developer'` (instructions), `'user'`, `'assistant'`, or `'tool'` (a tool's result,
   * with `toolCallId`). Guardrails check every role.
   */
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  /** The text, or parts (text and images); `''` for an assistant message that only calls tools. */
  content: string | ContentPart[];
  /** An optional participant name, passed to the model as it is. */
  name?: string;
  /** On an assistant message: the tools the model asked to call, in its order. */
  toolCalls?: MessageToolCall[];
  /** On a `'tool'` message: the `callId` of the call this message answers. */
  toolCallId?: string;
}

/** One tool call the model asked for, as an assistant message (and `ModelResponse.toolCalls`) carries it. */
export interface MessageToolCall {
  /** The provider's id for the call; the `'tool'` message that answers it repeats it as `toolCallId`. */
  callId: string;
  /** The tool's name. */
  name: string;
  /** The arguments as the model wrote them: a JSON string, not yet parsed or validated. */
  arguments: string;
}

/** The run's input, as `PreHookArgs.runInput` and `RunContext.input`; recorded in `RunOutput.input`. */
export interface RunInput {
  /** What the user sent. Pre-hooks may edit it in place or replace it; the model sees the value after all pre-hooks. */
  inputContent: string | ChatMessage[];
}

/**
 * Where a run stands: `'running'` until it ends, then `'completed'`, `'paused'` (a tool waits for approval; see
 * `Agent.continueRun`), `'error'` (a verdict or a crash) or `'cancelled'` (aborted through its signal, or a stream
 * consumer stopped reading).
 */
export type RunStatus = 'running' | 'completed' | 'paused' | 'error' | 'cancelled';

/** Token counts and timings of one run (`RunOutput.metrics`). */
export interface RunMetrics {
  /** Prompt tokens, as the model reported them; 0 when it reported no usage. */
  inputTokens: number;
  /** Completion tokens, as the model reported them; 0 when it reported no usage. */
  outputTokens: number;
  /** `inputTokens + outputTokens`. */
  totalTokens: number;
  /** Wall time of the whole run, hooks included, in milliseconds. */
  durationMs: number;
  /** Wall time of the model requests, in milliseconds; undefined when the run ended before the model answered. */
  modelDurationMs?: number;
  /** How many model calls the run's loop made (a step is one call; retries of a call count once). */
  steps: number;
}

/** JSON-safe description of why a run failed. Never contains blocked content. */
export interface RunErrorInfo {
  /** A verdict (`*_check_error`), a cancellation, or a crash in a hook, the model or other middleware. */
  type:
    | 'input_check_error'
    | 'output_check_error'
    | 'abort_error'
    | 'hook_error'
    | 'model_error'
    | 'middleware_error'
    | 'tool_error'
    | 'max_steps_error'
    | 'limit_error';
  /** The error's class name (`'InputCheckError'`, `'AbortError'`, `'TypeError'`…). */
  name: string;
  /** The error's message (a verdict's message is the guardrail's; it never quotes blocked content). */
  message: string;
  /** The verdict's trigger; only on `*_check_error`. */
  checkTrigger?: CheckTrigger;
  /** The verdict's JSON-safe details (what was found and where, never the value); only on `*_check_error`. */
  additionalData?: Record<string, unknown>;
  /** The hook that raised it, when a hook did. */
  hookName?: string;
}

/**
 * The record of one run: what `agent.run()` resolves with, what `run_completed` and `run_error` carry, and what the
 * session keeps in `runs`. Post-hooks may edit `content`; once the run has ended it is frozen. JSON-safe.
 */
export interface RunOutput<Parsed = unknown> {
  /** A random UUID, new for every run; every event of the run carries it. */
  runId: string;
  /** The run's session: `RunOptions.sessionId`, or the `runId` for a one-off run (never stored). */
  sessionId: string;
  /** The agent's `id`. */
  agentId: string;
  /** The agent's `name`. */
  agentName: string;
  /** `RunOptions.userId`; undefined when the run was given none. */
  userId: string | undefined;
  /** The answer. Post-hooks may edit it. Absent on a failed run. */
  content: string | undefined;
  /** `'running'` while hooks see it; `'completed'`, `'error'` or `'cancelled'` once the run has ended. */
  status: RunStatus;
  /** The id of the model that answered last: the agent's, or a `fallback()` model that answered instead. */
  model: string;
  /** The input as the model saw it (after pre-hooks). */
  input: RunInput;
  /** Messages sent to the model, plus the assistant's answer once the run has completed. */
  messages: ChatMessage[];
  /** Token counts and durations. */
  metrics: RunMetrics;
  /** Why the run failed (status `'error'` or `'cancelled'`); undefined otherwise. */
  error: RunErrorInfo | undefined;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Every tool call of the run, in the model's order, each recorded once. Empty when the model called no tool. */
  toolCalls: ToolCallRecord[];
  /** With `outputSchema`: the answer parsed and validated (typed from a zod schema). Absent otherwise. */
  parsed?: Parsed;
  /** Status `'paused'`: the tool calls waiting for a human's decision (`agent.continueRun({ approvals })`). */
  pendingApprovals?: PendingApproval[];
  /**
   * Status `'paused'`: the names of the hooks and tools of the agent that paused the run. A resume by an agent that
   * lacks any of them is refused, so no guardrail is skipped because the resuming process built its agent differently.
   */
  pausedWith?: {
    /** The pre-hooks, post-hooks and tool hooks, as `'pre:name'`, `'post:name'`, `'tool:name'`. */
    hooks: string[];
    /** The tools' names. */
    tools: string[];
  };
}

/** A tool call waiting for approval (`RunOutput.pendingApprovals`, the `run_paused` event). */
export interface PendingApproval {
  /** The call's id: answer it in `continueRun({ approvals: [{ callId, approved }] })`. */
  callId: string;
  /** The tool. */
  toolName: string;
  /** The validated arguments the tool would run with. */
  args: unknown;
}

/** One tool call of a run (`RunOutput.toolCalls`). JSON-safe. */
export interface ToolCallRecord {
  /** The provider's id for the call. */
  callId: string;
  /** The tool the model called. */
  toolName: string;
  /** The arguments: parsed (and, once validated, as the tool received them); the raw string when they were not JSON. */
  args: unknown;
  /** What the tool (or a tool hook) returned; absent unless completed. */
  result?: unknown;
  /** The error the model read, for a failed or denied call. */
  error?: string;
  /** `'completed'`, `'failed'` (bad arguments, a throw, a timeout), `'denied'` (by a human) or `'pending_approval'`. */
  status: 'completed' | 'failed' | 'denied' | 'pending_approval';
}

/**
 * A conversation as a `SessionStore` keeps it: the persisted state and the runs so far. Loaded before the pre-hooks
 * (or started fresh) and saved after the run, failed runs included. JSON-safe.
 */
export interface AgentSession<State extends object = DefaultState> {
  /** The id given as `RunOptions.sessionId`. */
  sessionId: string;
  /** The `id` of the agent that owns the session; another agent's session is refused. */
  agentId: string;
  /** The user of the run that started the session; undefined when it was given none. */
  userId: string | undefined;
  /** State persisted with the session (hooks see it as `sessionState`); plain JSON data. */
  sessionState: State;
  /** Earlier runs of this session, oldest first. */
  runs: RunOutput[];
  /** When the session was started, in epoch milliseconds. */
  createdAt: number;
  /** When the session was last saved, in epoch milliseconds. */
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
/**
 * The shape of every agent's `dependencies` (services passed to hooks by reference), widened by declaration merging
 * like `DefaultState`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DefaultDependencies {}
/**
 * Fields added to every `RunContext` of every agent, by declaration merging (as Koa's `DefaultContext`); see
 * `DefaultState`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DefaultContext {}

/** Free-form run metadata: the agent's `metadata` with the run's merged over it; saved in no session, passed to hooks. */
export type Metadata = Record<string, unknown>;

/** Where an agent writes debug lines and warnings (default: `console`). */
export interface Logger {
  /** A debug line (with `debugMode` on): a hook's duration and outcome, the model call, the verdict. */
  debug(message: string, ...rest: unknown[]): void;
  /** Something went wrong that does not fail the run: a listener threw, a background hook failed unobserved. */
  warn(message: string, ...rest: unknown[]): void;
}

/** What a run knows of its agent: hooks read these (the `Agent` itself is passed, and has more). */
export interface AgentRef {
  /** The agent's `id`: where its sessions are stored. */
  readonly id: string;
  /** The agent's `name`, as shown in outputs and events. */
  readonly name: string;
  /** The system message; undefined when the agent has none. */
  readonly instructions: string | undefined;
  /** The agent's model. */
  readonly model: {
    /** The model's id, as in `RunOutput.model`. */
    readonly id: string;
  };
}

/** Koa's `ctx`: one per run, shared by every hook and middleware of that run. */
export interface BaseRunContext<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** The run's id, as in `RunOutput.runId` and every event. */
  readonly runId: string;
  /** The agent running this run. */
  readonly agent: AgentRef;
  /** The run's input; pre-hooks edit it, the model sees what they left. */
  input: RunInput;
  /** The run's record; the model and post-hooks fill it. */
  readonly output: RunOutput;
  /** The run's session, loaded (or started) before the pre-hooks; saved after the run. */
  readonly session: AgentSession<State>;
  /** The session state: persisted with the session (the same object as the hooks' `sessionState`). */
  sessionState: State;
  /** Per-run scratch space for middleware and hooks, as Koa's `ctx.state`: never persisted, never sent anywhere. */
  state: Record<string, unknown>;
  /** Services by reference: the agent's `dependencies` with the run's merged over them. */
  dependencies: Deps;
  /** The agent's `metadata` with the run's merged over it. */
  metadata: Metadata;
  /** `RunOptions.userId`; undefined when the run was given none. */
  readonly userId: string | undefined;
  /** Whether debug lines are logged for this run: `RunOptions.debugMode`, else the agent's (default false). */
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

/** Runs the rest of the chain; resolves when it is done (in a streaming run, when the model's stream has ended). */
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

/**
 * The context of one tool call, shared by the tool hooks of that call (Koa's `ctx` for the tool onion).
 * `args` and `result` are the hooks' to read and replace.
 */
export interface ToolCall<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** The run's context. */
  readonly runContext: RunContext<State, Deps>;
  /** The tool the model called. */
  readonly toolName: string;
  /** The provider's id for the call. */
  readonly callId: string;
  /** The parsed arguments. Edit them before `next()`: the tool receives them after they pass its schema. */
  args: unknown;
  /** The tool's result after `next()`; set it yourself (without calling `next()`) to answer for the tool. */
  result: unknown;
  /** After `next()`: the tool's own failure (bad arguments, a throw, a timeout) as the model will read it; else undefined. */
  error: string | undefined;
}

/**
 * A tool hook: Koa middleware over one `ToolCall`. `await next()` runs the remaining tool hooks and then the tool,
 * at most once. Throw `InputCheckError` / `OutputCheckError` to stop the run (fail closed).
 *
 * @example
 * const audit: ToolHook = async (call, next) => {
 *   if (call.toolName === 'refund' && Number((call.args as { amount: number }).amount) > 500) {
 *     throw new InputCheckError('Refunds over 500 need a human');
 *   }
 *   await next();
 * };
 */
export type ToolHook<State extends object = DefaultState, Deps extends object = DefaultDependencies> = (
  call: ToolCall<State, Deps>,
  next: Next,
) => Promise<void> | void;

/** The one argument object a pre-hook receives. Destructure what you need. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface PreHookArgs<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}> {
  /** `'pre'`: this is a pre-hook call (guardrails branch on it). */
  readonly phase: 'pre';
  /** The input. Edit `runInput.inputContent` (or assign a new `runInput`): the model sees what the pre-hooks left. */
  runInput: RunInput;
  /** The agent running the hook (the `Agent` itself, typed as what a hook needs). */
  agent: AgentRef;
  /** The run's session (as `RunContext.session`). */
  session: AgentSession<State>;
  /** The session state, persisted with the session; edit it in place. The same object as `runContext.sessionState`. */
  sessionState: State;
  /** Services by reference (as `RunContext.dependencies`). */
  dependencies: Deps;
  /** The run's metadata (as `RunContext.metadata`). */
  metadata: Metadata;
  /** The run's user; undefined when it was given none. */
  userId: string | undefined;
  /** Whether this run logs debug lines (as `RunContext.debugMode`). */
  debugMode: boolean;
  /**
   * Aborted when the run is cancelled; for a `parallel` hook, also when another hook of its group gave a verdict.
   * Pass it to any request the hook makes.
   */
  signal: AbortSignal;
  /** The run's whole context (Koa's `ctx`), for what the named arguments do not cover, such as `state`. */
  runContext: RunContext<State, Deps, Vars>;
}

/** The one argument object a post-hook receives: a pre-hook's plus `runOutput`. */
export interface PostHookArgs<
  State extends object = DefaultState,
  Deps extends object = DefaultDependencies,
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  Vars extends object = {},
> extends Omit<PreHookArgs<State, Deps, Vars>, 'phase'> {
  /** `'post'`: this is a post-hook call (guardrails branch on it). */
  readonly phase: 'post';
  /** The run's output. Edit `runOutput.content` to change the answer; the caller and the session get what the post-hooks left. */
  runOutput: RunOutput;
}

/** What a guardrail's `check` receives: pre-hook or post-hook arguments; `phase` tells which. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type HookArgs<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}> =
  PreHookArgs<State, Deps, Vars> | PostHookArgs<State, Deps, Vars>;
