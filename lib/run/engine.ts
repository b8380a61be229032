/**
 * What an agent is to its runs: the compiled hooks, the composed chain and the services a run uses. The `Agent`
 * builds one and keeps it private; `lib/run/` reads it. The chain is composed lazily and again after each `use()`,
 * as Koa composes on `callback()`.
 */
import { backgroundJobs } from '../background/hold.ts';
import type { Context } from '../context.ts';
import { buildChain, type Layer } from '../hooks/layers.ts';
import { composeModelMiddleware, type ModelMiddleware } from '../models/middleware.ts';
import type { ModelToolDefinition } from '../models/model.ts';
import { callModel, model_terminal, retryOutput } from './loop.ts';
import { seal } from './settle.ts';
import { runStateOf, type RunEngine } from './state.ts';

/** What the agent hands its engine: everything but what the engine derives. */
export type EngineConfig = Omit<
  RunEngine,
  'postBackground' | 'chain' | 'resumeChain' | 'sessionStateEmpty' | 'callModel' | 'hookFingerprint' | 'toolDefinitions' | 'retryOutput'
> & {
  readonly modelMiddleware: readonly ModelMiddleware<object, object>[];
};

/** The engine as its agent sees it: a `RunEngine` that also takes middleware. */
export interface Engine extends RunEngine {
  /** Adds a (guarded) middleware layer: outer ones run before the pre-hooks, inner ones between them and the model. */
  use(layer: Layer, outer: boolean): void;
  /** How many middleware layers each position has (for naming anonymous middleware). */
  count(outer: boolean): number;
}

export function createEngine(config: EngineConfig): Engine {
  const outer: Layer[] = [];
  const inner: Layer[] = [];
  let composed: ((ctx: Context) => Promise<void>) | undefined;
  let resumed: ((ctx: Context) => Promise<void>) | undefined;
  const preBackground = config.preHooks.filter((h) => h.kind === 'background');
  const compose = (withPreHooks: boolean) =>
    buildChain({
      outer,
      // With outer middleware, the output is sealed (completed, frozen) before their after-parts see it.
      seal: outer.length > 0 ? sealLayer : undefined,
      // A resumed run's pre-hooks ran before its pause. Its background pre-hooks are snapshotted again (holdPre):
      // a paused run flushes nothing, and the input they see is the one the pre-hooks left, saved with the run.
      pre: withPreHooks ? config.preHooks : [],
      post: config.postHooks,
      // Snapshot after the last pre-hook, so a background pre-hook sees what every guardrail left (masked input).
      holdPre:
        preBackground.length === 0
          ? undefined
          : function background_pre_hooks(ctx) {
              const run = runStateOf(ctx);
              run.holdJobs(backgroundJobs(preBackground, run.preArgs(), run.runId, config.reporter, run.span?.link()));
            },
      inner,
      terminal: model_terminal,
    });
  const { modelMiddleware, ...rest } = config;
  const tools = [...config.tools.byName.values()];
  return {
    ...rest,
    sessionStateEmpty: Object.keys(config.sessionState).length === 0,
    postBackground: config.postHooks.filter((h) => h.kind === 'background'),
    toolDefinitions:
      tools.length === 0
        ? undefined
        : // Shared by every request (frozen, so a middleware that wants other tools passes a copy to next()).
          (Object.freeze(
            tools.map((t) =>
              Object.freeze({ name: t.name, description: t.description, parameters: t.jsonSchema as Record<string, unknown> }),
            ),
          ) as ModelToolDefinition[]),
    callModel: composeModelMiddleware(modelMiddleware, callModel),
    hookFingerprint: Object.freeze([
      ...config.preHooks.map((h) => `pre:${h.name}`),
      ...config.postHooks.map((h) => `post:${h.name}`),
      ...config.tools.hookNames.map((name) => `tool:${name}`),
    ]),
    retryOutput,
    chain: () => (composed ??= compose(true)),
    resumeChain: () => (resumed ??= compose(false)),
    use(layer, isOuter) {
      (isOuter ? outer : inner).push(layer);
      composed = undefined;
      resumed = undefined;
    },
    count: (isOuter) => (isOuter ? outer : inner).length,
  };
}

function sealLayer(ctx: Context, next: () => Promise<void>): Promise<void> {
  return next().then(() => seal(runStateOf(ctx)));
}
