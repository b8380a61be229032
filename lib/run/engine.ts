/**
 * What an agent is to its runs: the compiled hooks, the composed chain and the services a run uses. The `Agent`
 * builds one and keeps it private; `lib/run/` reads it. The chain is composed lazily and again after each `use()`,
 * as Koa composes on `callback()`.
 */
import { backgroundJobs } from '../background/hold.ts';
import type { Context } from '../context.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import { buildChain, type Layer } from '../hooks/layers.ts';
import { seal } from './settle.ts';
import { runStateOf, type RunEngine } from './state.ts';
import { modelTerminal } from './terminal.ts';
import type { BackgroundExecutor, BackgroundReporter } from '../background/executor.ts';
import type { SafeEmitter } from '../events/emitter.ts';
import type { AgentEvents } from '../events/types.ts';
import type { Model } from '../models/model.ts';
import type { SessionStore } from '../sessions/store.ts';
import type { AgentRef, Logger, Metadata } from '../types.ts';

/** What the agent hands its engine: everything but what the engine derives. */
export type EngineConfig = Omit<RunEngine, 'postBackground' | 'chain' | 'sessionStateEmpty'>;

export class Engine implements RunEngine {
  readonly agent: AgentRef;
  readonly emitter: SafeEmitter<AgentEvents>;
  readonly model: Model;
  readonly instructions: string | undefined;
  readonly store: SessionStore;
  readonly queue: BackgroundExecutor;
  readonly reporter: BackgroundReporter;
  readonly logger: Logger;
  readonly debugMode: boolean;
  readonly sessionState: object;
  readonly sessionStateEmpty: boolean;
  readonly dependencies: object;
  readonly metadata: Metadata;
  readonly historyRuns: number | undefined;
  readonly preHooks: readonly CompiledHook[];
  readonly postHooks: readonly CompiledHook[];
  readonly postBackground: readonly CompiledHook[];
  private readonly outer: Layer[] = [];
  private readonly inner: Layer[] = [];
  private composed: ((ctx: Context) => Promise<void>) | undefined;

  constructor(config: EngineConfig) {
    this.agent = config.agent;
    this.emitter = config.emitter;
    this.model = config.model;
    this.instructions = config.instructions;
    this.store = config.store;
    this.queue = config.queue;
    this.reporter = config.reporter;
    this.logger = config.logger;
    this.debugMode = config.debugMode;
    this.sessionState = config.sessionState;
    this.sessionStateEmpty = Object.keys(config.sessionState).length === 0;
    this.dependencies = config.dependencies;
    this.metadata = config.metadata;
    this.historyRuns = config.historyRuns;
    this.preHooks = config.preHooks;
    this.postHooks = config.postHooks;
    this.postBackground = config.postHooks.filter((h) => h.kind === 'background');
  }

  /** Adds a (guarded) middleware layer: outer ones run before the pre-hooks, inner ones between them and the model. */
  use(layer: Layer, outer: boolean): void {
    (outer ? this.outer : this.inner).push(layer);
    this.composed = undefined;
  }

  get innerCount(): number {
    return this.inner.length;
  }

  get outerCount(): number {
    return this.outer.length;
  }

  /** The composed chain, built on first use after a change. */
  chain(): (ctx: Context) => Promise<void> {
    return (this.composed ??= this.compose());
  }

  private compose(): (ctx: Context) => Promise<void> {
    const preBackground = this.preHooks.filter((h) => h.kind === 'background');
    const reporter = this.reporter;
    return buildChain({
      outer: this.outer,
      // With outer middleware, the output is sealed (completed, frozen) before their after-parts see it.
      seal: this.outer.length > 0 ? sealLayer : undefined,
      pre: this.preHooks,
      post: this.postHooks,
      // Snapshot after the last pre-hook, so a background pre-hook sees what every guardrail left (masked input).
      holdPre:
        preBackground.length === 0
          ? undefined
          : function background_pre_hooks(ctx) {
              const run = runStateOf(ctx);
              run.holdJobs(backgroundJobs(preBackground, run.preArgs(), run.runId, reporter));
            },
      inner: this.inner,
      terminal: modelTerminal(this.model, this.instructions),
    });
  }
}

function sealLayer(ctx: Context, next: () => Promise<void>): Promise<void> {
  return next().then(() => seal(runStateOf(ctx)));
}
