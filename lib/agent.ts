/**
 * The agent (Koa's `Application`): configuration plus the public methods. Every run goes through `lib/run/`,
 * which owns its path; the chain is composed once and reused by every run, and each run gets its own context.
 * docs/hooks.md describes the order and the failure rules.
 */
import { DrainQueue } from './background/drain-queue.ts';
import { isBackgroundExecutor, type BackgroundExecutor, type BackgroundHookRef, type BackgroundReporter } from './background/executor.ts';
import { HookchainConfigError, errorSummary } from './errors.ts';
import { SafeEmitter } from './events/emitter.ts';
import type { AgentEvents } from './events/types.ts';
import { compileHooks } from './hooks/compile.ts';
import { guardNext } from './hooks/guard-next.ts';
import type { Layer } from './hooks/layers.ts';
import { isModel, type Model } from './models/model.ts';
import { checkOptions, describe, invalidOption, is } from './options.ts';
import type { ModelMiddleware } from './models/middleware.ts';
import { createEngine, type Engine } from './run/engine.ts';
import { compileOutputSchema } from './run/output-schema.ts';
import { resumeRun, type ContinueOptions } from './run/resume.ts';
import { toolSetup } from './run/tools.ts';
import { checkToolList, type JsonObjectSchema, type Tool, type ZodSchemaLike } from './tools/tool.ts';
import type { RunOptions } from './run/prepare.ts';
import { startRun } from './run/run.ts';
import { openRunStream, type RunStream } from './run/stream.ts';
import { MemorySessionStore } from './sessions/memory.ts';
import { assertStorable } from './sessions/storable.ts';
import { isSessionStore, type SessionStore } from './sessions/store.ts';
import type { BaseGuardrail } from './guardrails/base.ts';
import { tracedReporter } from './tracing/background.ts';
import { createTracing } from './tracing/tracing.ts';
import type { TracingOptions } from './tracing/types.ts';
import type {
  AgentRef,
  ChatMessage,
  DefaultDependencies,
  DefaultState,
  Logger,
  Metadata,
  Middleware,
  PostHookArgs,
  PreHookArgs,
  RunOutput,
  ToolHook,
} from './types.ts';

/** What `new Agent(options)` takes. Only `model` is required; an unknown option is an error, as is a wrong type. */
export interface AgentOptions<
  State extends object = DefaultState,
  Deps extends object = DefaultDependencies,
  Vars extends object = object,
  Out = unknown,
> {
  /** Shown in outputs and events; the default `id` is derived from it. */
  name?: string;
  /** Stable id under which sessions are stored (default: derived from `name`, so two agents of one name share sessions). */
  id?: string;
  /** The model every run calls, such as `new OpenAIChat({ id: 'gpt-4o-mini' })`. Required. */
  model: Model;
  /** The system message. */
  instructions?: string;
  /** Functions or guardrails run before the model, in order. */
  preHooks?: PreHook<State, Deps, Vars>[];
  /** Functions or guardrails run after the model, in order. */
  postHooks?: PostHook<State, Deps, Vars>[];
  /**
   * Middleware that runs before everything else (auth, tenant resolution, tracing), so that every hook can rely on
   * what it sets; its after-part sees the final output read-only. Same as `agent.use(mw, { outer: true })`.
   */
  outerMiddleware?: Middleware<State, Deps, Vars>[];
  /** Koa-style middleware, between the pre-hooks and the model (same as calling `agent.use()` for each). */
  middleware?: Middleware<State, Deps, Vars>[];
  /** Where sessions live (default: a `MemorySessionStore` of this agent's own). */
  sessionStore?: SessionStore;
  /** Initial state of a new session. */
  sessionState?: State;
  /** Send the session's earlier user and assistant messages to the model before the new input (default false). */
  addHistoryToContext?: boolean;
  /** How many earlier runs the history holds, newest kept (default 3; needs addHistoryToContext). */
  numHistoryRuns?: number;
  /** Services passed to hooks by reference (clients, loggers…); a run's `dependencies` are merged over them. */
  dependencies?: Deps;
  /** Metadata copied into each run; a run's `metadata` is merged over it. */
  metadata?: Metadata;
  /** Log each run's hooks with their duration and outcome, the model call and the verdict (default false). */
  debugMode?: boolean;
  /** Every non-guardrail hook runs in background. */
  runHooksInBackground?: boolean;
  /** Where background hooks run (default: a `DrainQueue` of this agent's own). */
  backgroundQueue?: BackgroundExecutor;
  /** Where debug lines and listener errors go (default: console). */
  logger?: Logger;
  /** Functions the model may call, built with `tool({ … })`; names unique per agent (docs/tools.md). */
  tools?: Tool[];
  /**
   * Koa middleware around every tool call, in order: `(call, next) => …` over a `ToolCall`. A verdict or crash fails
   * the run closed, unless the hook is `hook({ failOpen: true })(fn)`.
   */
  toolHooks?: ToolHook<State, Deps>[];
  /** The most model calls one run may make; past it the run fails with `MaxStepsExceededError` (default 10). */
  maxSteps?: number;
  /**
   * What a tool's own failure (bad arguments, a throw, a timeout) does: `'model'` (default) answers the model with
   * `{ "error": … }` so it can recover; `'fail'` fails the run with a `ToolCallError`.
   */
  toolErrors?: 'model' | 'fail';
  /** How many tool calls of one model answer run at once (default 4). */
  toolConcurrency?: number;
  /** Middleware around each model call, in order, outermost first: `retry()`, `fallback()`, `limits()`, your own. */
  modelMiddleware?: ModelMiddleware<State, Deps>[];
  /**
   * How many times an `OutputCheckError({ retry: true })` (or an answer that fails `outputSchema`) may ask the model
   * for another answer before the run fails closed (default 0).
   */
  maxOutputRetries?: number;
  /**
   * Structured output: a zod object schema or a JSON Schema with `type: 'object'`. Sent as the provider's
   * structured-output format; the answer is parsed and validated into `output.parsed` (typed from zod).
   */
  outputSchema?: OutputSchema<Out>;
  /**
   * Start the model request while the parallel input checks (`parallel: true` pre-hooks at the end of the
   * pre-hooks) still run. Nothing of the answer (text, tool calls, output, events, session writes) goes on before
   * every check has passed; on a verdict the request is aborted. Default false. See docs/guardrails.md, "Latency".
   */
  speculative?: boolean;
  /**
   * OpenTelemetry spans for every run: `true`, or `{ tracer?, captureContent? }` (docs/observability.md). Needs the
   * optional peer `@opentelemetry/api`, loaded only here. The default tracer is the global API's
   * `trace.getTracer('hookchain', version)`, so whichever provider the app registers receives the spans; with none
   * registered, runs cost about what they cost without tracing. Message content is recorded only with
   * `captureContent: true`, and blocked content never. Default off.
   */
  tracing?: boolean | TracingOptions;
}

/** A structured-output schema (`outputSchema`): a zod 4 object schema, or a JSON Schema with `type: 'object'`. */
export type OutputSchema<Out = unknown> = ZodSchemaLike<Out> | JsonObjectSchema;

/** A pre-hook: a function of the pre-hook arguments, or a guardrail. */
export type PreHook<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = object> =
  ((args: PreHookArgs<State, Deps, Vars>) => unknown) | BaseGuardrail;
/** A post-hook: a function of the post-hook arguments (or a `hook({ everyChunk: true })` chunk check), or a guardrail. */
export type PostHook<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = object> =
  ((args: PostHookArgs<State, Deps, Vars>) => unknown) | BaseGuardrail;

/** Where `agent.use()` puts a middleware. */
export interface UseOptions {
  /** Before the pre-hooks (and everything else), instead of between the pre-hooks and the model. */
  outer?: boolean;
}

const isLogger = is.withMethods('an object with debug() and warn() methods, such as console', 'debug', 'warn');
const AGENT_OPTIONS = {
  name: is.nonEmptyString,
  id: is.nonEmptyString,
  model: is.withMethods("a model such as new OpenAIChat({ id: 'gpt-4o-mini' }) (an object with id and invoke())", 'invoke'),
  instructions: is.string,
  preHooks: is.arrayOf(() => undefined, 'hook functions and guardrails'),
  postHooks: is.arrayOf(() => undefined, 'hook functions and guardrails'),
  outerMiddleware: is.arrayOf(is.function, '(ctx, next) => … functions'),
  middleware: is.arrayOf(is.function, '(ctx, next) => … functions'),
  sessionStore: (v: unknown) => (isSessionStore(v) ? undefined : 'a SessionStore (get, save, delete, listSessions)'),
  sessionState: is.object,
  addHistoryToContext: is.boolean,
  numHistoryRuns: is.positiveInt,
  dependencies: is.object,
  metadata: is.object,
  debugMode: is.boolean,
  runHooksInBackground: is.boolean,
  backgroundQueue: (v: unknown) => (isBackgroundExecutor(v) ? undefined : 'a DrainQueue or another executor with enqueue, drain and close'),
  logger: isLogger,
  tools: () => undefined, // checkToolList names the bad entry
  toolHooks: () => undefined, // toolSetup names the bad entry
  maxSteps: is.positiveInt,
  toolErrors: is.oneOf('model', 'fail'),
  toolConcurrency: is.positiveInt,
  modelMiddleware: is.arrayOf(is.function, '(call, next) => … functions such as retry()'),
  maxOutputRetries: is.nonNegativeInt,
  outputSchema: () => undefined, // compileObjectSchema says what is wrong
  speculative: is.boolean,
  tracing: () => undefined, // createTracing says what is wrong
};

/**
 * An agent: a model, the hooks around it and where its sessions live. Each `run()` or `stream()` goes through one
 * Koa-style onion: outer middleware → pre-hooks → `use()` middleware → model → post-hooks.
 *
 * `Vars` are the context fields that middleware sets: `use(mw, { outer: true })` returns the agent typed with
 * them, so a field is typed only where it is already set.
 *
 * @example
 * const agent = new Agent({
 *   name: 'support',
 *   model: new OpenAIChat({ id: 'gpt-4o-mini' }),
 *   preHooks: [new PromptInjectionGuardrail(), new PIIDetectionGuardrail({ maskPii: true })],
 * });
 * const output = await agent.run('Where is my order?', { sessionId: 's1' });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export class Agent<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}, Out = unknown>
  extends SafeEmitter<AgentEvents>
  implements AgentRef
{
  /** Shown in outputs and events (default `'agent'`). */
  readonly name: string;
  /** Where this agent's sessions are stored: the `id` option, else derived from `name` (`'Support Bot'` → `'support-bot'`). */
  readonly id: string;
  /** The model every run calls. */
  readonly model: Model;
  /** The system message sent first to the model; undefined when the agent has none. */
  readonly instructions: string | undefined;
  /** Where sessions live: the `sessionStore` option, else a `MemorySessionStore`. */
  readonly sessionStore: SessionStore;
  /** Whether runs log debug lines to `logger` by default (a run's `debugMode` option wins); default false. */
  readonly debugMode: boolean;
  /** Where background hooks run: the `backgroundQueue` option, else a `DrainQueue` of this agent's own. */
  readonly backgroundQueue: BackgroundExecutor;
  /** Where debug lines and warnings go: the `logger` option, else `console`. */
  readonly logger: Logger;
  /**
   * The agent's background hooks (pre-hooks first, in declared order), read-only: for executors that run them in
   * another process, such as the worker of `hookchain/bullmq`, which finds a hook here by phase and name.
   */
  readonly backgroundHooks: readonly BackgroundHookRef[];
  /** The `dependencies` option (default `{}`), which a run's own `dependencies` are merged over. */
  readonly dependencies: Deps;
  readonly #engine: Engine;

  /**
   * Builds the agent and its chain: hooks are classified and validated here, once, so a mistake (a hook that is
   * neither a function nor a guardrail, a guardrail marked background, an unknown option) throws a
   * `HookchainConfigError` now rather than at the first run.
   *
   * @param options The model, hooks, middleware, store and defaults; only `model` is required.
   */
  constructor(options: AgentOptions<State, Deps, Vars, Out>) {
    super();
    if (options === undefined || options === null || typeof options !== 'object') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `Agent: pass an options object, e.g. new Agent({ name, model }), got ${describe(options)}`,
      );
    }
    checkOptions('Agent', options, AGENT_OPTIONS, ['model']);
    if (!isModel(options.model)) throw invalidOption('Agent', 'model', AGENT_OPTIONS.model(undefined)!, options.model);
    if (options.numHistoryRuns !== undefined && options.addHistoryToContext !== true) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        'Agent: option "numHistoryRuns" has no effect without addHistoryToContext: true; add that option or remove numHistoryRuns',
      );
    }
    // Every new session starts from a copy of it, and sessions are stored as JSON: refuse what could not be.
    if (options.sessionState !== undefined) assertStorable(options.sessionState, 'Agent option sessionState');
    const name = options.name ?? 'agent';
    this.name = name;
    this.id = options.id ?? agentIdFromName(name);
    this.model = options.model;
    this.instructions = options.instructions;
    this.sessionStore = options.sessionStore ?? new MemorySessionStore();
    this.debugMode = options.debugMode === true;
    this.backgroundQueue = options.backgroundQueue ?? new DrainQueue();
    this.logger = options.logger ?? console;
    this.onListenerError = (error, event) => this.logger.warn(`hookchain: a "${event}" listener threw; the run went on.`, error);

    const compileOptions = { allInBackground: options.runHooksInBackground === true };
    const where = `Agent "${name}"`;
    const tracing = createTracing(options.tracing, where, this);
    const reporter = backgroundReporterFor(this);
    const tools = toolSetup(
      checkToolList(options.tools, where),
      options.toolHooks,
      options.toolErrors ?? 'model',
      options.toolConcurrency ?? 4,
    );
    this.#engine = createEngine({
      agent: this,
      emitter: this,
      model: this.model,
      instructions: this.instructions,
      store: this.sessionStore,
      queue: this.backgroundQueue,
      reporter: tracing === undefined ? reporter : tracedReporter(reporter, tracing),
      logger: this.logger,
      debugMode: this.debugMode,
      tracing,
      sessionState: options.sessionState ?? {},
      dependencies: options.dependencies ?? {},
      metadata: options.metadata ?? {},
      historyRuns: options.addHistoryToContext === true ? (options.numHistoryRuns ?? 3) : undefined,
      preHooks: Object.freeze(compileHooks(options.preHooks, 'pre', compileOptions)),
      postHooks: Object.freeze(compileHooks(options.postHooks, 'post', compileOptions)),
      tools,
      maxSteps: options.maxSteps ?? 10,
      speculative: options.speculative === true,
      maxOutputRetries: options.maxOutputRetries ?? 0,
      outputSchema: options.outputSchema === undefined ? undefined : compileOutputSchema(where, options.outputSchema),
      modelMiddleware: Object.freeze([...((options.modelMiddleware ?? []) as ModelMiddleware<object, object>[])]),
    });
    this.dependencies = (options.dependencies ?? {}) as Deps;
    this.backgroundHooks = Object.freeze(
      [...this.#engine.preHooks, ...this.#engine.postHooks]
        .filter((h) => h.kind === 'background')
        .map((h) => Object.freeze({ phase: h.phase, name: h.name, timeoutMs: h.timeoutMs, run: h.call! })),
    );
    this.backgroundQueue.attach?.(this);
    options.outerMiddleware?.forEach((mw, i) => this.#add(mw as Middleware, true, `Agent option outerMiddleware[${i}]`));
    options.middleware?.forEach((mw, i) => this.#add(mw as Middleware, false, `Agent option middleware[${i}]`));
  }

  /**
   * Adds Koa-style middleware. By default it runs between the pre-hooks and the model, in registration order;
   * with `{ outer: true }` it runs before everything (so pre-hooks can rely on what it sets) and its after-part sees
   * the final output frozen. `await next()` runs the rest of the chain, at most once.
   *
   * Returns the agent, typed with the fields `Adds` that the middleware sets.
   *
   * @example
   * const tenanted = agent.use<{ tenant: string }>(async (ctx, next) => {
   *   ctx.tenant = lookupTenant(ctx.userId);
   *   await next();
   * }, { outer: true });
   * tenanted.use(async (ctx, next) => { console.log(ctx.tenant); await next(); });
   */
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  use<Adds extends object = {}>(
    middleware: Middleware<State, Deps, Vars & Adds>,
    options?: UseOptions,
  ): Agent<State, Deps, Vars & Adds, Out> {
    const { outer = false } = checkOptions<UseOptions>('agent.use()', options, { outer: is.boolean });
    this.#add(middleware as Middleware, outer, outer ? 'agent.use(…, { outer: true })' : 'agent.use()');
    return this as unknown as Agent<State, Deps, Vars & Adds, Out>;
  }

  #add(middleware: Middleware, outer: boolean, where: string): void {
    if (typeof middleware !== 'function') {
      throw new HookchainConfigError(
        'INVALID_MIDDLEWARE',
        `${where}: middleware must be a function (ctx, next) => …, got ${describe(middleware)}`,
      );
    }
    const engine = this.#engine;
    const count = engine.count(outer);
    const name = middleware.name ? `${where} middleware "${middleware.name}"` : `${where} middleware #${count + 1}`;
    engine.use(guardNext(middleware as unknown as Layer, name) as Layer, outer);
  }

  /**
   * Runs the chain once. Resolves with the output, or rejects with the error that stopped the run: a verdict
   * (`InputCheckError`, `OutputCheckError`), a `RunAbortedError`, or a hook's, model's or middleware's error — each
   * with `error.runOutput` set.
   *
   * @example
   * const output = await agent.run('Hello', { sessionId: 's1', userId: 'u1' });
   * console.log(output.content);
   */
  run<O = Out>(input: string | ChatMessage[], options?: RunOptions<State, Deps, O>): Promise<RunOutput<O>> {
    return startRun(this.#engine, input, options as RunOptions<object, object>) as Promise<RunOutput<O>>;
  }

  /**
   * Streams the run's events (same chain, same hooks). Text reaches the consumer only after every chunk check has
   * cleared it. `finalOutput` resolves with the output; stopping the iteration cancels the run.
   *
   * @example
   * for await (const event of agent.stream('Hello')) {
   *   if (event.type === 'content') process.stdout.write(event.delta);
   * }
   */
  stream<O = Out>(input: string | ChatMessage[], options?: RunOptions<State, Deps, O>): RunStream<O> {
    return openRunStream(
      this.#engine,
      (state) => startRun(this.#engine, input, options as RunOptions<object, object>, state),
      options?.signal,
    ) as RunStream<O>;
  }

  /**
   * Resumes a paused run (status `'paused'`, see `RunOutput.pendingApprovals`) with a decision for every pending
   * call: approved calls run through the tool hooks and the tool, denied ones answer the model
   * `{ "error": "denied: <reason>" }`; then the loop goes on, and the post-hooks and background hooks run as
   * usual. The pre-hooks do not run again. Works from any process whose agent shares the session store; a run
   * resumes at most once (a second resume rejects with `RunNotPausedError`).
   *
   * @example
   * const paused = await agent.run('Refund order 42', { sessionId: 's1' });
   * if (paused.status === 'paused') {
   *   const approvals = paused.pendingApprovals!.map(({ callId }) => ({ callId, approved: true }));
   *   const output = await agent.continueRun({ sessionId: 's1', runId: paused.runId, approvals });
   * }
   */
  continueRun(options: ContinueOptions<Deps>): Promise<RunOutput<Out>> {
    return resumeRun(this.#engine, options as ContinueOptions<object>) as Promise<RunOutput<Out>>;
  }

  /** The streaming twin of `continueRun`: the resumed run's events, ending with `run_completed`, `run_paused` or `run_error`. */
  continueStream(options: ContinueOptions<Deps>): RunStream<Out> {
    return openRunStream(
      this.#engine,
      (state) => resumeRun(this.#engine, options as ContinueOptions<object>, state),
      options?.signal,
    ) as RunStream<Out>;
  }

  /**
   * What this agent is, by name only: its id, name, model id and the names of its hooks and tools, in order (no
   * code, no configuration). A server lists it (`GET /agents`); a dashboard can show it.
   *
   * @example
   * agent.describe(); // { id: 'support', name: 'support', model: 'gpt-4o-mini', preHooks: ['PIIDetectionGuardrail'], postHooks: [], tools: ['get_order'] }
   */
  describe(): AgentDescription {
    const engine = this.#engine;
    return {
      id: this.id,
      name: this.name,
      model: this.model.id,
      preHooks: engine.preHooks.map((h) => h.name),
      postHooks: engine.postHooks.map((h) => h.name),
      tools: [...engine.tools.byName.keys()],
    };
  }

  /** Resolves when every background hook queued so far has finished. */
  drain(): Promise<void> {
    return this.backgroundQueue.drain();
  }
}

/** What `agent.describe()` returns: the agent by name only. */
export interface AgentDescription {
  /** The agent's `id`. */
  id: string;
  /** The agent's `name`. */
  name: string;
  /** The model's id. */
  model: string;
  /** The pre-hooks' names, in order. */
  preHooks: string[];
  /** The post-hooks' names, in order. */
  postHooks: string[];
  /** The tools' names. */
  tools: string[];
}

/** 'Support Bot' → 'support-bot': readable, and the same for every agent built with that name. */
export function agentIdFromName(name: string): string {
  const slug = name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'agent' : slug;
}

function backgroundReporterFor(agent: Agent<object, object, object>): BackgroundReporter {
  return {
    // Lets the queue skip progress calls and clock reads when nobody listens (most production agents).
    wantsProgress: () => agent.hasListeners('background_hook_started') || agent.hasListeners('background_hook_completed'),
    started(job, jobId) {
      agent.emit('background_hook_started', { runId: job.runId, hookName: job.hookName, jobId });
    },
    completed(job, jobId, durationMs) {
      agent.emit('background_hook_completed', { runId: job.runId, hookName: job.hookName, jobId, durationMs });
    },
    failed(job, jobId, error, reason) {
      if (!agent.hasListeners('background_hook_failed')) {
        // Never a silent loss: with no listener, the failure still reaches the agent's logger.
        agent.logger.warn(
          `hookchain: background hook "${job.hookName}" of run ${job.runId} failed (${reason}); listen to "background_hook_failed" to handle it.`,
          error,
        );
        return;
      }
      agent.emit('background_hook_failed', { runId: job.runId, hookName: job.hookName, jobId, error: errorSummary(error), reason });
    },
  };
}
