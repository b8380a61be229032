/**
 * The run engine (Koa's `Application`). The chain is composed once, lazily, and reused by every run; each run
 * gets its own `RunContext`. See DESIGN §2 (order) and §3 (failure semantics).
 */
import compose from 'koa-compose';
import { DrainQueue } from './background/drain-queue.ts';
import { isBackgroundExecutor, type BackgroundExecutor, type BackgroundReporter } from './background/executor.ts';
import type { RunContextImpl } from './context.ts';
import { HookchainConfigError, errorSummary } from './errors.ts';
import { SafeEmitter } from './events/emitter.ts';
import type { AgentEvents } from './events/types.ts';
import { compileHooks, type CompiledHook } from './hooks/compile.ts';
import { describe } from './options.ts';
import { guardNext } from './hooks/guard-next.ts';
import { buildLayers, type Layer } from './hooks/layers.ts';
import { isModel, type Model } from './models/model.ts';
import { modelTerminal } from './models/terminal.ts';
import { prepareRun, releaseSession, type RunOptions } from './run/prepare.ts';
import { finishFailedRun, finishRun, raceAbort } from './run/settle.ts';
import { MemorySessionStore } from './sessions/memory.ts';
import { isSessionStore, type SessionStore } from './sessions/store.ts';
import type { BaseGuardrail } from './guardrails/base.ts';
import type { DefaultDependencies, DefaultState, Metadata, Middleware, PostHookArgs, PreHookArgs, RunOutput } from './types.ts';
import { openRunStream, type RunStream } from './streaming/run-stream.ts';

export interface Logger {
  debug(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
}

export interface AgentOptions<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** Shown in outputs and events; the default `id` is derived from it. */
  name?: string;
  /** Stable id under which sessions are stored (default: derived from `name`, so two agents of one name share sessions). */
  id?: string;
  model: Model;
  /** The system message. */
  instructions?: string;
  /** Functions or guardrails run before the model, in order. */
  preHooks?: PreHook<State, Deps>[];
  /** Functions or guardrails run after the model, in order. */
  postHooks?: PostHook<State, Deps>[];
  /** Koa-style middleware, between the pre-hooks and the model (same as calling `agent.use()` for each). */
  middleware?: Middleware<State, Deps>[];
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
  debugMode?: boolean;
  /** Every non-guardrail hook runs in background. */
  runHooksInBackground?: boolean;
  /** Where background hooks run (default: a `DrainQueue` of this agent's own). */
  backgroundQueue?: BackgroundExecutor;
  /** Where debug lines and listener errors go (default: console). */
  logger?: Logger;
}

/** A pre-hook: a function of the pre-hook arguments, or a guardrail. */
export type PreHook<State extends object = DefaultState, Deps extends object = DefaultDependencies> =
  | ((args: PreHookArgs<State, Deps>) => unknown)
  | BaseGuardrail;
/** A post-hook: a function of the post-hook arguments (or a `hook({ everyChunk: true })` chunk check), or a guardrail. */
export type PostHook<State extends object = DefaultState, Deps extends object = DefaultDependencies> =
  | ((args: PostHookArgs<State, Deps>) => unknown)
  | BaseGuardrail;

const AGENT_OPTIONS = new Set([
  'name', 'id', 'model', 'instructions', 'preHooks', 'postHooks', 'middleware', 'sessionStore', 'sessionState',
  'addHistoryToContext', 'numHistoryRuns', 'dependencies', 'metadata', 'debugMode', 'runHooksInBackground', 'backgroundQueue', 'logger',
]);

export class Agent<State extends object = DefaultState, Deps extends object = DefaultDependencies> extends SafeEmitter<AgentEvents> {
  readonly name: string;
  readonly id: string;
  readonly model: Model;
  readonly instructions: string | undefined;
  readonly sessionStore: SessionStore;
  readonly sessionState: State;
  readonly addHistoryToContext: boolean;
  readonly numHistoryRuns: number;
  readonly dependencies: Deps;
  readonly metadata: Metadata;
  readonly debugMode: boolean;
  readonly backgroundQueue: BackgroundExecutor;
  readonly logger: Logger;
  /** Turns queue callbacks into this agent's `background_hook_*` events. */
  readonly backgroundReporter: BackgroundReporter;

  /** @internal */ readonly _preHooks: readonly CompiledHook[];
  /** @internal */ readonly _postHooks: readonly CompiledHook[];
  /** @internal */ readonly _postBackground: readonly CompiledHook[];
  private readonly middleware: Layer[] = [];
  private composed: ((ctx: RunContextImpl) => Promise<void>) | undefined;

  constructor(options: AgentOptions<State, Deps>) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new HookchainConfigError('INVALID_OPTION', 'Agent: pass an options object, e.g. new Agent({ name, model })');
    }
    for (const key of Object.keys(options)) {
      if (!AGENT_OPTIONS.has(key)) {
        throw new HookchainConfigError('UNKNOWN_OPTION', `Agent: unknown option "${key}"; known options are ${[...AGENT_OPTIONS].join(', ')}`);
      }
    }
    const name = options.name ?? 'agent';
    if (typeof name !== 'string' || name.trim() === '') throw invalid('name', 'a non-empty string', name);
    if (!isModel(options.model)) {
      throw invalid('model', "a model such as new OpenAIChat({ id: 'gpt-4o-mini' }) (an object with id and invoke())", options.model);
    }
    if (options.id !== undefined && (typeof options.id !== 'string' || options.id === '')) throw invalid('id', 'a non-empty string', options.id);
    if (options.instructions !== undefined && typeof options.instructions !== 'string') throw invalid('instructions', 'a string', options.instructions);
    if (options.sessionStore !== undefined && !isSessionStore(options.sessionStore)) {
      throw invalid('sessionStore', 'a SessionStore (get, save, delete, listSessions)', options.sessionStore);
    }
    if (options.backgroundQueue !== undefined && !isBackgroundExecutor(options.backgroundQueue)) {
      throw invalid('backgroundQueue', 'a DrainQueue or another executor with enqueue, drain and close', options.backgroundQueue);
    }
    for (const key of ['sessionState', 'dependencies', 'metadata'] as const) {
      const value = options[key];
      if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) throw invalid(key, 'a plain object', value);
    }
    for (const key of ['debugMode', 'runHooksInBackground', 'addHistoryToContext'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'boolean') throw invalid(key, 'true or false', options[key]);
    }

    checkHistoryOptions(options);

    this.name = name;
    this.id = options.id ?? agentIdFromName(name);
    this.model = options.model;
    this.instructions = options.instructions;
    this.sessionStore = options.sessionStore ?? new MemorySessionStore();
    this.sessionState = (options.sessionState ?? {}) as State;
    this.addHistoryToContext = options.addHistoryToContext === true;
    this.numHistoryRuns = options.numHistoryRuns ?? 3;
    this.dependencies = (options.dependencies ?? {}) as Deps;
    this.metadata = options.metadata ?? {};
    this.debugMode = options.debugMode === true;
    this.backgroundQueue = options.backgroundQueue ?? new DrainQueue();
    this.logger = options.logger ?? console;
    this.onListenerError = (error, event) => this.logger.warn(`hookchain: a "${event}" listener threw; the run went on.`, error);
    this.backgroundReporter = backgroundReporterFor(this);

    const compileOptions = { allInBackground: options.runHooksInBackground === true };
    this._preHooks = Object.freeze(compileHooks(options.preHooks, 'pre', compileOptions));
    const post = compileHooks(options.postHooks, 'post', compileOptions);
    this._postHooks = Object.freeze(post);
    this._postBackground = Object.freeze(post.filter((h) => h.kind === 'background'));
    if (options.middleware !== undefined) {
      if (!Array.isArray(options.middleware)) throw invalid('middleware', 'an array of (ctx, next) functions', options.middleware);
      options.middleware.forEach((mw, i) => this.use(mw, `middleware[${i}]`));
    }
  }

  /** Adds Koa-style middleware between the pre-hooks and the model, in registration order. */
  use(middleware: Middleware<State, Deps>, where = 'agent.use()'): this {
    if (typeof middleware !== 'function') {
      throw new HookchainConfigError('INVALID_MIDDLEWARE', `${where}: middleware must be a function (ctx, next) => …, got ${describe(middleware)}`);
    }
    const name = middleware.name ? `${where} middleware "${middleware.name}"` : `${where} middleware #${this.middleware.length + 1}`;
    this.middleware.push(guardNext(middleware as unknown as Layer, name) as Layer);
    this.composed = undefined; // rebuilt on the next run, as Koa rebuilds on callback()
    return this;
  }

  /** Runs the chain once; resolves with the output or rejects with the error that stopped the run. */
  async run(input: unknown, options?: RunOptions<State, Deps>): Promise<RunOutput> {
    const ctx = await prepareRun(this as unknown as Agent, input, options as RunOptions, undefined);
    return this.execute(ctx as unknown as RunContextImpl<State, Deps>);
  }

  /** Streams the run's events (same chain, same hooks). `finalOutput` resolves with the output. */
  stream(input: unknown, options?: RunOptions<State, Deps>): RunStream {
    return openRunStream(this as unknown as Agent, input, options as RunOptions);
  }

  /** Resolves when every background hook queued so far has finished. */
  drain(): Promise<void> {
    return this.backgroundQueue.drain();
  }

  /** @internal Runs a prepared context through the chain and settles it. */
  async execute(ctx: RunContextImpl<State, Deps>): Promise<RunOutput> {
    if (ctx.wants('run_started')) {
      ctx.emit('run_started', { runId: ctx.runId, agentId: this.id, agentName: this.name, sessionId: ctx.session.sessionId, userId: ctx.userId });
    }
    if (ctx.debugMode) this.logger.debug(`hookchain: run ${ctx.runId} started (agent ${this.name})`);
    try {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const chain = (this.composed ??= this.compose());
      await raceAbort(chain(ctx as unknown as RunContextImpl), ctx.signal);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return await finishRun(ctx as unknown as RunContextImpl);
    } catch (error) {
      return await finishFailedRun(ctx as unknown as RunContextImpl, error);
    } finally {
      releaseSession(ctx as unknown as RunContextImpl); // after the save, on every path: success, failure, abort, stream
    }
  }

  private compose(): (ctx: RunContextImpl) => Promise<void> {
    const layers = buildLayers([...this._preHooks], [...this._postHooks], this.middleware, modelTerminal(this.model, this.instructions) as Layer);
    return compose(layers) as (ctx: RunContextImpl) => Promise<void>;
  }
}

function checkHistoryOptions(options: { addHistoryToContext?: boolean; numHistoryRuns?: number }): void {
  const n = options.numHistoryRuns;
  if (n === undefined) return;
  if (!Number.isInteger(n) || n < 1) throw invalid('numHistoryRuns', 'a positive integer (the number of earlier runs sent to the model)', n);
  if (options.addHistoryToContext !== true) {
    throw new HookchainConfigError('INVALID_OPTION', 'Agent: option "numHistoryRuns" has no effect without addHistoryToContext: true; add that option or remove numHistoryRuns');
  }
}

function invalid(option: string, expected: string, got: unknown): HookchainConfigError {
  return new HookchainConfigError('INVALID_OPTION', `Agent: option "${option}" must be ${expected}, got ${describe(got)}`);
}

/** 'Support Bot' → 'support-bot': readable, and the same for every agent built with that name. */
export function agentIdFromName(name: string): string {
  const slug = name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return slug === '' ? 'agent' : slug;
}

function backgroundReporterFor(agent: Agent<object, object>): BackgroundReporter {
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
        agent.logger.warn(`hookchain: background hook "${job.hookName}" of run ${job.runId} failed (${reason}); listen to "background_hook_failed" to handle it.`, error);
        return;
      }
      agent.emit('background_hook_failed', { runId: job.runId, hookName: job.hookName, jobId, error: errorSummary(error), reason });
    },
  };
}
